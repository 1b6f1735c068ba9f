// Before/after bars for the examples on screen: per-token perplexity of the base model and of the tuned one,
// side by side per example. Loaded on demand (React.lazy in EvaluatePage), so recharts stays out of the
// first page load, as for the run page's charts.
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { EvaluationExampleRow } from '../../../common/api/runs.ts';
import { formatMetric } from '../format.ts';
import { t } from '../i18n/t.ts';

const SERIES = [
  { key: 'base', label: 'evaluate.basePerplexity', colour: 'var(--chart-1)' },
  { key: 'tuned', label: 'evaluate.tunedPerplexity', colour: 'var(--chart-2)' },
] as const;

export function EvaluationChart({ examples, label }: { examples: EvaluationExampleRow[]; label: string }) {
  const data = examples.map((example) => ({
    name: `#${example.index + 1}`,
    base: example.basePerplexity,
    tuned: example.adapterPerplexity,
  }));
  return (
    <div className="metric-chart" role="img" aria-label={label}>
      <ResponsiveContainer width="100%" height={220}>
        <BarChart data={data} margin={{ top: 8, right: 16, bottom: 4, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="name" tickLine={false} interval="preserveStartEnd" />
          <YAxis width={56} tickLine={false} tickFormatter={formatTick} />
          <Tooltip
            formatter={(value) => (typeof value === 'number' ? formatMetric(value) : String(value))}
            cursor={{ fill: 'var(--color-border)', opacity: 0.4 }}
            itemStyle={{ color: 'var(--color-text)' }}
            contentStyle={{
              background: 'var(--color-surface)',
              border: '1px solid var(--color-border)',
              borderRadius: 'var(--radius-sm)',
              color: 'var(--color-text)',
            }}
          />
          {SERIES.map((series) => (
            <Bar
              key={series.key}
              dataKey={series.key}
              name={t(series.label)}
              fill={series.colour}
              isAnimationActive={false}
            />
          ))}
        </BarChart>
      </ResponsiveContainer>
      <ul className="chart-legend" aria-hidden="true">
        {SERIES.map((series, index) => (
          <li key={series.key}>
            <span className={`chart-swatch series-${index + 1}`} />
            {t(series.label)}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** Axis ticks in three significant digits, without trailing zeros (10000, 2500, 0). */
function formatTick(value: number): string {
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude < 0.001 || magnitude >= 1e6) return value.toExponential(1);
  return Number(value.toPrecision(3)).toString();
}
