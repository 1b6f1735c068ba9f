// The run page's parts for an encoder-task run (classification / extractive QA): the task's figures over the steps
// (accuracy and macro-F1, or exact match and F1) with the best evaluation — the one kept in <run>/best — marked,
// headline numbers, and what the run learns (the task and its label set, or its QA windows). Live like the loss
// chart: the points are RunDetail's, merged from the stored history and job.metric events.
import { CartesianGrid, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { TASK_METRIC, type Run } from '../../../common/api/runs.ts';
import { bestTaskPoint, TASK_METRIC_KEYS, type EncoderTask } from '../../../common/api/task-runs.ts';
import { Card } from '../components/index.ts';
import { formatPercent } from '../format.ts';
import { hasMetric, lastValue, type MetricPoint } from '../metrics.ts';
import { t, type MessageKey } from '../i18n/t.ts';
import './TaskRun.css';

const METRIC_NAMES: Record<string, MessageKey> = {
  eval_accuracy: 'taskRun.accuracy',
  eval_macro_f1: 'taskRun.macroF1',
  eval_exact_match: 'taskRun.exactMatch',
  eval_f1: 'taskRun.f1',
};

/** A task figure's name in the UI's language (eval_accuracy → Accuracy). */
export function taskMetricName(key: string): string {
  const name = METRIC_NAMES[key];
  return name ? t(name) : key;
}

export function taskName(task: EncoderTask): string {
  return task === 'classification' ? t('taskRun.classification') : t('taskRun.questionAnswering');
}

/** The best evaluation: the summary's once the run ended, else the best logged point so far (same rule). */
function bestOf(run: Run, points: readonly MetricPoint[]): { step: number; value: number } | null {
  const task = run.config.task as EncoderTask;
  const kept = run.summary?.best;
  if (kept) return { step: kept.step, value: kept.value };
  return bestTaskPoint(task, points as never);
}

/** Headline numbers of a task run: its two figures (final, or newest while it trains) and the best evaluation. */
export function taskStats(run: Run, points: readonly MetricPoint[]): { label: string; value: string }[] {
  const task = run.config.task as EncoderTask;
  const final = run.summary?.evalMetrics ?? null;
  const best = bestOf(run, points);
  return [
    ...TASK_METRIC_KEYS[task].map((key) => ({
      label: taskMetricName(key),
      value: formatPercent(final?.[key] ?? lastValue(points as MetricPoint[], key)),
    })),
    {
      label: t('taskRun.best'),
      value: best ? t('taskRun.bestAt', { value: formatPercent(best.value), step: best.step }) : '—',
    },
  ];
}

/** The task's figures over the steps, with the best evaluation marked. */
export function TaskMetricsCard({ run, points, active }: { run: Run; points: MetricPoint[]; active: boolean }) {
  const task = run.config.task as EncoderTask;
  const keys = TASK_METRIC_KEYS[task].filter((key) => hasMetric(points, key));
  const evalPoints = points.filter((point) => keys.some((key) => typeof point[key] === 'number'));
  const best = bestOf(run, points);
  const label = t('taskRun.chartLabel', { metrics: TASK_METRIC_KEYS[task].map(taskMetricName).join(', ') });
  return (
    <Card title={t('taskRun.metrics')}>
      {keys.length === 0 ? (
        <p className="muted">{active ? t('taskRun.firstEval') : t('taskRun.noEval')}</p>
      ) : (
        <div className="metric-chart task-metric-chart" role="img" aria-label={label} data-best-step={best?.step ?? ''}>
          <ResponsiveContainer width="100%" height={240}>
            <LineChart data={evalPoints} margin={{ top: 16, right: 16, bottom: 4, left: 0 }}>
              <CartesianGrid strokeDasharray="3 3" vertical={false} />
              <XAxis dataKey="step" type="number" domain={['dataMin', 'dataMax']} allowDecimals={false} tickLine={false} />
              <YAxis width={48} tickLine={false} domain={[0, 1]} tickFormatter={(v: number) => formatPercent(v)} />
              <Tooltip
                formatter={(value) => (typeof value === 'number' ? formatPercent(value) : String(value))}
                labelFormatter={(step) => t('run.stepLabel', { step: Number(step) })}
                itemStyle={{ color: 'var(--color-text)' }}
                contentStyle={{
                  background: 'var(--color-surface)',
                  border: '1px solid var(--color-border)',
                  borderRadius: 'var(--radius-sm)',
                  color: 'var(--color-text)',
                }}
              />
              {best ? (
                <ReferenceLine
                  x={best.step}
                  className="task-best-line"
                  strokeDasharray="4 3"
                  label={{ value: t('taskRun.bestMark'), position: 'top', className: 'task-best-label' }}
                />
              ) : null}
              {keys.map((key, index) => (
                <Line
                  key={key}
                  className={`series-${index + 1}`}
                  dataKey={key}
                  name={taskMetricName(key)}
                  type="linear"
                  dot={{ r: 3, className: `chart-dot series-${index + 1}` }}
                  activeDot={{ r: 4, className: `chart-dot series-${index + 1}` }}
                  connectNulls
                  isAnimationActive={false}
                />
              ))}
            </LineChart>
          </ResponsiveContainer>
          <ul className="chart-legend" aria-hidden="true">
            {keys.map((key, index) => (
              <li key={key}>
                <span className={`chart-swatch series-${index + 1}`} />
                {taskMetricName(key)}
              </li>
            ))}
            {best ? (
              <li>
                <span className="task-best-swatch" />
                {t('taskRun.bestLegend', { step: best.step })}
              </li>
            ) : null}
          </ul>
        </div>
      )}
      {best ? (
        <p className="muted task-best-note">
          {t('taskRun.bestNote', { metric: taskMetricName(TASK_METRIC[task].key), value: formatPercent(best.value), step: best.step })}
        </p>
      ) : null}
    </Card>
  );
}

/** What the run learns, for the run page's details: the task and its labels, or its QA reading windows. */
export function TaskFacts({ run }: { run: Run }) {
  const task = run.config.task as EncoderTask;
  const labels = run.config.classification?.labels ?? run.summary?.labels ?? null;
  const qa = run.config.question_answering;
  return (
    <>
      <dt>{t('taskRun.task')}</dt>
      <dd>{taskName(task)}</dd>
      {task === 'classification' ? (
        <>
          <dt>{t('taskRun.labels')}</dt>
          <dd>
            {labels ? (
              <ul className="task-labels" aria-label={t('taskRun.labels')}>
                {labels.map((label, id) => (
                  <li key={id}>
                    <span className="muted">{id}</span> {label}
                  </li>
                ))}
              </ul>
            ) : (
              <span className="muted">{t('taskRun.labelsFromRows')}</span>
            )}
          </dd>
        </>
      ) : (
        <>
          <dt>{t('taskRun.windows')}</dt>
          <dd>
            {t('taskRun.windowsValue', {
              length: run.config.max_seq_length,
              stride: qa?.doc_stride ?? 128,
              answer: qa?.max_answer_length ?? 30,
            })}
            {qa?.version_2_with_negative ? ` · ${t('taskRun.squadV2')}` : ''}
          </dd>
        </>
      )}
      {run.summary?.best ? (
        <>
          <dt>{t('taskRun.bestFolder')}</dt>
          <dd>
            <code>{run.summary.best.path}</code>
          </dd>
        </>
      ) : null}
    </>
  );
}
