// The Compare runs page's pure half: labels and the overlay of several runs' metrics into one chart.
import type { Run, RunMetric } from '../../../common/api/runs.ts';
import { formatDuration } from '../format.ts';
import { mergeMetricPoints, type MetricPoint } from '../metrics.ts';
import { t } from '../i18n/t.ts';

/** What the page will do once a project is open (the gate's and the empty state's points). */
export const compareWill = () => [t('compare.will1'), t('compare.will2')];

/** How a run trained, in a few words: "LoRA r 16 / α 32", "QLoRA r 8 / α 16", "full fine-tuning". */
export function methodLabel(run: Run): string {
  const method = run.config.method;
  if (method === 'full') return t('compare.fullFineTuning');
  return `${method === 'qlora' ? 'QLoRA' : 'LoRA'} r ${run.config.lora.r} / α ${run.config.lora.lora_alpha}`;
}

/** Seconds as the Runs page shows them, with a decimal for runs shorter than ten seconds. */
export function shortDuration(seconds: number): string {
  return seconds < 10 ? `${seconds.toFixed(1)} s` : formatDuration(seconds);
}

/** One chart point per step with each picked run's value under `<prefix><index>`. */
export function overlayPoints(metrics: RunMetric[][], key: 'loss' | 'eval_loss', prefix: string): MetricPoint[] {
  let points: MetricPoint[] = [];
  metrics.forEach((list, index) => {
    const values = list
      .filter((m) => typeof m.values[key] === 'number')
      .map((m) => ({ step: m.step, values: { [`${prefix}${index}`]: m.values[key] as number } }));
    points = mergeMetricPoints(points, values);
  });
  return points;
}
