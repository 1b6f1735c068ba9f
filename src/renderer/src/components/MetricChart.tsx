// A line chart of per-step metrics (recharts). Colours come from CSS classes (series-1…4 in
// components.css) rather than props, so the chart follows the theme's variables like everything else.
import type { MetricPoint } from '../metrics.ts';
import { t } from '../i18n/t.ts';
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';

export interface MetricSeries {
  /** Key in each point, e.g. 'loss'. */
  key: string;
  label: string;
}


export function MetricChart({ points, series, height = 240, label }: { points: MetricPoint[]; series: MetricSeries[]; height?: number; label: string }) {
  return (
    <div className="metric-chart" role="img" aria-label={label}>
      <ResponsiveContainer width="100%" height={height}>
        <LineChart data={points} margin={{ top: 8, right: 16, bottom: 4, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="step" type="number" domain={['dataMin', 'dataMax']} allowDecimals={false} tickLine={false} />
          <YAxis width={56} tickLine={false} domain={['auto', 'auto']} tickFormatter={formatTick} />
          <Tooltip
            formatter={(value) => (typeof value === 'number' ? formatTick(value) : String(value))}
            labelFormatter={(step) => t('run.stepLabel', { step: Number(step) })}
            itemStyle={{ color: 'var(--color-text)' }}
            contentStyle={{
              background: 'var(--color-surface)',
              border: '1px solid var(--color-border)',
              borderRadius: 'var(--radius-sm)',
              color: 'var(--color-text)',
            }}
          />
          {series.map((entry, index) => (
            <Line
              key={entry.key}
              className={`series-${(index % 4) + 1}`}
              dataKey={entry.key}
              name={entry.label}
              type="linear"
              // Dots render outside the line's group in recharts 3, so they carry the series class themselves.
              dot={series.length > 1 && entry.key.startsWith('eval') ? { r: 3, className: `chart-dot series-${(index % 4) + 1}` } : false}
              activeDot={{ r: 4, className: `chart-dot series-${(index % 4) + 1}` }}
              connectNulls
              isAnimationActive={false}
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
      {series.length > 1 ? (
        <ul className="chart-legend" aria-hidden="true">
          {series.map((entry, index) => (
            <li key={entry.key}>
              <span className={`chart-swatch series-${(index % 4) + 1}`} />
              {entry.label}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

function formatTick(value: number): string {
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude < 0.001 || magnitude >= 100000) return value.toExponential(1);
  return Number(value.toPrecision(3)).toString();
}
