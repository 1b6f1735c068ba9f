// A finished fusion run's result on its run page (issue 15): perplexity (accuracy for a classification run, F1 and
// exact match for a question-answering one) on the
// eval split of each adapter alone, their uniform average and the learned combination, then what was learned — the weights per layer, or for
// attention a heat map of each adapter's average weight per layer over the eval rows' tokens.
import type { Run } from '../../../common/api/runs.ts';
import { useQuery } from '../api/hooks.ts';
import { Card } from '../components/index.ts';
import { formatMetric, formatPercent } from '../format.ts';
import { t } from '../i18n/t.ts';

export function FusionReportCard({ run }: { run: Run }) {
  const report = useQuery('runs.fusionReport', { id: run.id });
  if (report.state.status !== 'ready' || report.state.data === null) return null;
  const r = report.state.data;
  const names = r.comparison.single.map((s) => s.name);
  const x = r.comparison.extra;
  // accuracy, F1 and exact match are shares (as on the task run's page); perplexity is a plain number
  const metric = r.comparison.metric;
  const shown = metric === 'accuracy' || metric === 'f1' ? formatPercent : formatMetric;
  const rows: [string, string, string | null][] = [
    ...r.comparison.single.map((s, k) => [t('fusion.alone', { name: s.name }), s.value, x?.single[k]] as const),
    [t('fusion.uniform'), r.comparison.uniform, x?.uniform] as const,
    [t('fusion.learned'), r.comparison.learned, x?.learned] as const,
  ].map(([label, value, extra]) => [label, shown(value), extra === undefined ? null : shown(extra)]);
  const layers = r.weights
    ? Object.entries(r.weights).map(([block, w]) => ({ block: block === '*' ? t('fusion.allLayers') : block, mean: w }))
    : (r.attention?.layers ?? []);
  return (
    <Card title={t('fusion.reportTitle')}>
      <table className="table" aria-label={t('fusion.compareTable')}>
        <thead>
          <tr>
            <th scope="col">{t('fusion.what')}</th>
            <th scope="col">
              {metric === 'accuracy' ? t('taskRun.accuracy') : metric === 'f1' ? t('taskRun.f1') : t('run.evalPerplexity')}
            </th>
            {x ? <th scope="col">{t('taskRun.exactMatch')}</th> : null}
          </tr>
        </thead>
        <tbody>
          {rows.map(([label, value, extra]) => (
            <tr key={label}>
              <th scope="row">{label}</th>
              <td>{value}</td>
              {x ? <td>{extra}</td> : null}
            </tr>
          ))}
        </tbody>
      </table>
      <table className="table" aria-label={r.weights ? t('fusion.weightsTable') : t('fusion.heatMap')}>
        <thead>
          <tr>
            <th scope="col">{t('fusion.layer')}</th>
            {names.map((n) => (
              <th scope="col" key={n}>
                {n}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {layers.map((l) => (
            <tr key={l.block}>
              <th scope="row">{l.block}</th>
              {l.mean.map((w, k) => (
                // the cell's shade is the weight: a heat map that reads as numbers too
                <td key={k} style={{ background: `rgba(79, 70, 229, ${Math.max(0, Math.min(1, w)) * 0.6})` }}>
                  {w.toFixed(3)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </Card>
  );
}
