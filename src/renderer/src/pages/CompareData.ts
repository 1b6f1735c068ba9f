// The Compare runs page's pure half: labels, the overlay of several runs' metrics into one chart, and a comparison
// group's bars (heights proportional to each member's recorded figure) and start dialog's parsing.
import type { RunGroupMember, RunGroupReport } from '../../../common/api/compare.ts';
import type { LoraSection, Run, RunConfigInput, RunMetric } from '../../../common/api/runs.ts';
import type { TaskDataSuggestion } from '../../../common/api/task-data.ts';
import { formatBytes, formatDuration, formatPercent } from '../format.ts';
import { mergeMetricPoints, type MetricPoint } from '../metrics.ts';
import { formatNumber, t } from '../i18n/t.ts';

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

// ── comparison groups (LoRA vs full, sweeps): bars and the start dialog's parsing ───────────────────────────────

/** One bar chart of a group: a figure and each member's value (null while it has none). */
export interface GroupFigure {
  key: 'seconds' | 'trainableParameters' | 'peakRssBytes' | 'outputBytes' | 'metric';
  title: string;
  values: (number | null)[];
  format: (value: number) => string;
}

/** A member as a bar's caption: "LoRA r 8 · query, value" / "full fine-tuning", in the UI's language. */
export function memberCaption(m: Pick<RunGroupMember, 'method' | 'r' | 'targets'>): string {
  if (m.method === 'full') return t('compare.fullFineTuning');
  const targets = m.targets === null ? '' : m.targets === 'all-linear' ? 'all-linear' : m.targets.join(', ');
  return `${m.method === 'qlora' ? 'QLoRA' : 'LoRA'} r ${m.r} · ${targets}`;
}

/** Bar heights in pixels: value / largest × the chart's height (a zero baseline, so the ratios are the values'). */
export function barHeights(values: (number | null)[], height: number): (number | null)[] {
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v) && v >= 0);
  const max = finite.length ? Math.max(...finite) : 0;
  return values.map((v) => (v === null || !Number.isFinite(v) || v < 0 ? null : max > 0 ? (v / max) * height : 0));
}

const count = (n: number) => formatNumber(n, { maximumFractionDigits: 0 });

export function groupFigures(report: RunGroupReport): GroupFigure[] {
  const rows = report.rows;
  const metric = report.group.metric;
  return [
    { key: 'seconds', title: t('compare.bars.time'), values: rows.map((r) => r.seconds), format: shortDuration },
    {
      key: 'trainableParameters',
      title: t('compare.bars.trainable'),
      values: rows.map((r) => r.trainableParameters),
      format: count,
    },
    {
      key: 'peakRssBytes',
      title: t('compare.bars.memory'),
      values: rows.map((r) => r.peakRssBytes),
      format: formatBytes,
    },
    { key: 'outputBytes', title: t('compare.bars.size'), values: rows.map((r) => r.outputBytes), format: formatBytes },
    {
      key: 'metric',
      title: t('compare.bars.metric', {
        metric: metricName(metric.key),
        better: metric.higherIsBetter ? t('compare.bars.higher') : t('compare.bars.lower'),
      }),
      values: rows.map((r) => r.metric),
      // accuracy and F1 are shares, written like every share in the UI; perplexity stays a plain number
      format: metric.key === 'eval_accuracy' || metric.key === 'eval_f1' ? formatPercent : (v) => formatNumber(v, { maximumFractionDigits: 4, minimumFractionDigits: 2 }),
    },
  ];
}

/** A group's metric in the UI's language. */
export function metricName(key: string): string {
  return key === 'eval_accuracy'
    ? t('compare.metric.accuracy')
    : key === 'eval_f1'
      ? t('compare.metric.f1')
      : t('compare.perplexity');
}

/** "2, 4, 8" → [2, 4, 8]; null when a part is not a positive whole number. */
export function parseRankList(text: string): number[] | null {
  const parts = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (parts.length === 0) return null;
  const ranks = parts.map(Number);
  return ranks.every((r) => Number.isInteger(r) && r > 0) ? ranks : null;
}

/** One target set per line ("q_lin, v_lin"), or "all-linear"; empty lines skipped. */
export function parseTargetLines(text: string): (string[] | 'all-linear')[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) =>
      line === 'all-linear'
        ? 'all-linear'
        : line
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
    );
}

export function targetsText(targets: LoraSection['target_modules']): string {
  return targets === 'all-linear' ? targets : targets.join(', ');
}

/**
 * The bundled encoder's recipe on its SST-2- or SQuAD-style data, as `lora-studio demo --task` trains it: PEFT's
 * query/value at r 8, alpha 32, dropout 0.1; LoRA's few parameters at 3e-3, the full model at 3e-4.
 */
export function bundledRecipe(
  encoder: string,
  data: TaskDataSuggestion,
): { config: RunConfigInput; fullLearningRate: number } {
  const classification = data.task === 'classification';
  return {
    config: {
      model: encoder,
      task: data.task,
      ...(classification
        ? { classification: { labels: ['negative', 'positive'] } }
        : { question_answering: { doc_stride: 32 } }),
      dataset: {
        path: data.path,
        eval_split: data.evalPath ? { kind: 'file', path: data.evalPath } : { kind: 'ratio', ratio: 0.1 },
      },
      method: 'lora',
      lora: { r: 8, lora_alpha: 32, lora_dropout: 0.1, target_modules: ['query', 'value'] },
      num_train_epochs: classification ? 2 : 1,
      micro_batch_size: 16,
      gradient_accumulation_steps: 1,
      learning_rate: 3e-3,
      lr_scheduler_type: 'linear',
      warmup_ratio: 0.05,
      weight_decay: 0.01,
      max_seq_length: classification ? 64 : 128,
      logging_steps: 25,
      save_steps: null,
    },
    fullLearningRate: 3e-4,
  };
}
