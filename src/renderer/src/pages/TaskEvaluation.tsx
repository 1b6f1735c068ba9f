// Evaluate for an encoder-task run (classification / extractive QA): the base (the pretrained encoder with a freshly
// created head) and the tuned model measured in one `task` job on the run's eval split, a dataset of the project or
// a file, with the run's final adapter or its best checkpoint. The request is the one `lora-studio eval --run`
// sends (common/api/task-runs.ts), so the studio shows the CLI's numbers: accuracy and macro-F1 (or exact match and
// F1) side by side, the confusion matrix as a heat map (classification) and the worst examples.
import { useState, type FormEvent, type ReactNode } from 'react';
import type { Dataset } from '../../../common/api/datasets.ts';
import type { Run } from '../../../common/api/runs.ts';
import { taskEvaluationOfRun, TASK_METRIC_KEYS, type EncoderTask } from '../../../common/api/task-runs.ts';
import type { TaskEvaluateResult } from '../../../common/api/tasks.ts';

type WorstExample = TaskEvaluateResult['worst'][number];
import { toStudioApiError } from '../api/client.ts';
import { useEvent } from '../api/hooks.ts';
import { Banner, Button, Card, Spinner, Table, type Column } from '../components/index.ts';
import { basename, formatMetric, formatPercent } from '../format.ts';
import { useStudio } from '../state/studio.tsx';
import { taskMetricName, taskName } from './TaskRunPanel.tsx';
import { t } from '../i18n/t.ts';
import './TaskRun.css';

const HELD_OUT = 'held-out';
const A_FILE = 'file';
const WORST = 20;

/** What a task evaluation measured, kept beside its result for the report's title. */
interface Measured {
  result: TaskEvaluateResult;
  on: string;
  checkpoint: 'final' | 'best';
}

export function TaskEvaluation({ run, datasets, header }: { run: Run; datasets: Dataset[]; header: ReactNode }) {
  const client = useStudio();
  const [data, setData] = useState<string>(HELD_OUT);
  const [file, setFile] = useState('');
  const [checkpoint, setCheckpoint] = useState<'final' | 'best'>('final');
  const [busy, setBusy] = useState(false);
  const [jobId, setJobId] = useState<string | null>(null);
  const [cancelled, setCancelled] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [measured, setMeasured] = useState<Measured | null>(null);

  // tasks.evaluate waits for its `task` job; the job's status events let the page offer Cancel meanwhile.
  useEvent('job.status', (job) => {
    if (busy && job.kind === 'task' && (job.status === 'running' || job.status === 'queued')) setJobId(job.id);
  });

  const split = run.config.dataset.eval_split;
  const heldOutLabel =
    split.kind === 'file'
      ? t('evalStart.evalFile', { file: basename(split.path) })
      : split.kind === 'ratio'
        ? t('evalStart.heldOutShare', { percent: Math.round(split.ratio * 100), file: basename(run.config.dataset.path) })
        : t('evalStart.noHeldOut');
  const best = run.summary?.best ?? null;

  function evalFile(): string | null | { problem: string } {
    if (data === HELD_OUT) return split.kind === 'none' ? { problem: t('taskEval.noHeldOut') } : null;
    if (data === A_FILE) return file.trim() === '' ? { problem: t('taskEval.needFile') } : file.trim();
    const dataset = datasets.find((d) => d.id === data);
    return dataset ? dataset.path : { problem: t('taskEval.needFile') };
  }

  async function start(event: FormEvent) {
    event.preventDefault();
    setError(null);
    setCancelled(false);
    const chosen = evalFile();
    if (chosen !== null && typeof chosen === 'object') return setError(chosen.problem);
    const built = taskEvaluationOfRun(run, { checkpoint, evalFile: chosen, compareBase: true, worst: WORST });
    if (!built.ok) return setError(built.problem === 'no-best' ? t('taskEval.noBest') : t('taskEval.noOutput'));
    setBusy(true);
    setJobId(null);
    try {
      const result = await client.invoke('tasks.evaluate', built.request);
      setMeasured({ result, on: chosen === null ? heldOutLabel : basename(chosen), checkpoint });
    } catch (err) {
      const message = toStudioApiError(err).message;
      if (/\bcancelled$/.test(message)) setCancelled(true);
      else setError(message);
    } finally {
      setBusy(false);
      setJobId(null);
    }
  }

  return (
    <>
      <Card title={t('evalStart.title')}>
        {/* one grid for the source choice above and this form: "Measured on" sat flush under the Run select */}
        <div className="form-grid">
          {header}
          <form className="form-grid" onSubmit={(event) => void start(event)} aria-label={t('taskEval.form')}>
            <div className="field">
              <label className="field-label" htmlFor="task-eval-data">
                {t('evalStart.measuredOn')}
              </label>
              <select id="task-eval-data" value={data} onChange={(event) => setData(event.target.value)}>
                <option value={HELD_OUT}>{t('evalStart.heldOut', { label: heldOutLabel })}</option>
                {datasets.map((d) => (
                  <option key={d.id} value={d.id}>
                    {t('evalStart.everyRow', { name: d.name, rows: d.examples })}
                  </option>
                ))}
                <option value={A_FILE}>{t('taskEval.aFile')}</option>
              </select>
              <span className="field-hint">{t('taskEval.dataHint')}</span>
            </div>
            {data === A_FILE ? (
              <div className="field">
                <label className="field-label" htmlFor="task-eval-file">
                  {t('taskEval.file')}
                </label>
                <input id="task-eval-file" type="text" value={file} placeholder="/path/to/eval.jsonl" onChange={(event) => setFile(event.target.value)} />
              </div>
            ) : null}
            <div className="field">
              <label className="field-label" htmlFor="task-eval-checkpoint">
                {t('taskEval.checkpoint')}
              </label>
              <select
                id="task-eval-checkpoint"
                value={checkpoint}
                onChange={(event) => setCheckpoint(event.target.value as 'final' | 'best')}
              >
                <option value="final">{t('taskEval.final', { steps: run.summary?.steps ?? 0 })}</option>
                {best ? (
                  <option value="best">
                    {t('taskEval.best', { metric: taskMetricName(best.metric), value: formatPercent(best.value), step: best.step })}
                  </option>
                ) : null}
              </select>
              <span className="field-hint">
                {run.config.method === 'full' ? t('taskEval.fullHint') : t('taskEval.baseHint')}
              </span>
            </div>
            <div className="row-actions">
              <Button type="submit" variant="primary" icon="gauge" busy={busy} disabled={busy}>
                {t('evalStart.start')}
              </Button>
              {busy ? (
                <>
                  <Spinner label={t('taskEval.measuring')} />
                  <span className="muted">{t('taskEval.measuring')}</span>
                  {jobId ? (
                    <Button size="sm" onClick={() => void client.invoke('jobs.cancel', { id: jobId }).catch(() => undefined)}>
                      {t('common.cancel')}
                    </Button>
                  ) : null}
                </>
              ) : null}
            </div>
          </form>
          {cancelled ? <Banner tone="info">{t('evalStart.cancelled')}</Banner> : null}
          {error ? <Banner title={t('taskEval.failed')}>{error}</Banner> : null}
        </div>
      </Card>
      {measured ? <TaskEvaluationReport run={run} measured={measured} /> : null}
    </>
  );
}

function TaskEvaluationReport({ run, measured }: { run: Run; measured: Measured }) {
  const { result } = measured;
  const task = result.task as EncoderTask;
  const keys = TASK_METRIC_KEYS[task];
  const title = t('taskEval.reportTitle', {
    run: run.name,
    checkpoint: measured.checkpoint === 'best' ? t('taskEval.bestShort') : t('taskEval.finalShort'),
    on: measured.on,
  });
  return (
    <>
      <Card title={title}>
        <p className="muted task-report-summary">
          {t('taskEval.summary', { task: taskName(task), model: result.model, examples: result.examples })}
        </p>
        <div className="task-scores" role="group" aria-label={t('taskEval.scores')}>
          {[...keys, 'eval_loss'].map((key) => (
            <ScorePair key={key} metricKey={key} result={result} />
          ))}
        </div>
        {!result.base ? <p className="muted">{t('taskEval.noBase')}</p> : null}
        {result.warnings.map((warning) => (
          <Banner key={warning} tone="info" title={t('tryIt.warning')}>
            {warning}
          </Banner>
        ))}
      </Card>
      {result.tuned.confusionMatrix ? (
        <Card title={t('taskEval.confusion')}>
          <p className="muted">{t('taskEval.confusionHint')}</p>
          <div className="confusion-grids">
            <ConfusionGrid labels={result.labels} matrix={result.tuned.confusionMatrix} caption={t('tryIt.tuned')} />
            {result.base?.confusionMatrix ? (
              <ConfusionGrid labels={result.labels} matrix={result.base.confusionMatrix} caption={t('tryIt.base')} />
            ) : null}
          </div>
        </Card>
      ) : null}
      <WorstExamples result={result} />
    </>
  );
}

/** One figure, base and tuned as bars (fractions as percentages; the loss as it is). */
function ScorePair({ metricKey, result }: { metricKey: string; result: TaskEvaluateResult }) {
  const share = metricKey !== 'eval_loss';
  const name = share ? taskMetricName(metricKey) : t('compare.evalLoss');
  const sides: { side: 'base' | 'tuned'; value: number | undefined }[] = [
    ...(result.base ? [{ side: 'base' as const, value: result.base.metrics[metricKey] }] : []),
    { side: 'tuned', value: result.tuned.metrics[metricKey] },
  ];
  const largest = Math.max(1e-9, ...sides.map((s) => (Number.isFinite(s.value) ? s.value! : 0)));
  return (
    <section className="task-score" aria-label={name}>
      <h3>{name}</h3>
      {sides.map(({ side, value }) => {
        const label = side === 'base' ? t('tryIt.base') : t('tryIt.tuned');
        const shown = share ? formatPercent(value) : formatMetric(value ?? null);
        const width = value === undefined || !Number.isFinite(value) ? 0 : share ? value : value / largest;
        return (
          <div key={side} className={`task-score-row ${side}`}>
            <span>{label}</span>
            <span className="task-score-bar" aria-hidden="true">
              <span style={{ width: `${Math.max(0, Math.min(1, width)) * 100}%` }} />
            </span>
            <span className="task-score-value" aria-label={`${name} · ${label}`}>
              {shown}
            </span>
          </div>
        );
      })}
    </section>
  );
}

/** The [gold][predicted] counts as a heat map: each cell shaded by its share of the largest count. */
function ConfusionGrid({ labels, matrix, caption }: { labels: string[]; matrix: number[][]; caption: string }) {
  const largest = Math.max(1, ...matrix.flat());
  const total = matrix.flat().reduce((a, b) => a + b, 0);
  const name = (i: number) => labels[i] ?? `LABEL_${i}`;
  return (
    <table className="confusion-grid" aria-label={t('taskEval.confusionOf', { side: caption })}>
      <caption>
        {caption} <span className="muted">{t('taskEval.confusionTotal', { total })}</span>
      </caption>
      <thead>
        <tr>
          <th scope="col" className="confusion-axis">
            {t('taskEval.goldPredicted')}
          </th>
          {matrix.map((_, p) => (
            <th key={p} scope="col">
              {name(p)}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {matrix.map((row, g) => (
          <tr key={g}>
            <th scope="row">{name(g)}</th>
            {row.map((count, p) => {
              const heat = count / largest;
              return (
                <td
                  key={p}
                  className={[g === p ? 'diagonal' : '', heat > 0.55 ? 'hot' : ''].filter(Boolean).join(' ')}
                  style={{ ['--heat' as string]: heat.toFixed(3) }}
                  title={t('taskEval.cell', { gold: name(g), predicted: name(p), count })}
                >
                  {count}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function shorten(text: string, max = 220): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** The tuned model's worst examples, worst first: the gold label's probability, or the answer's F1. */
function WorstExamples({ result }: { result: TaskEvaluateResult }) {
  const qa = result.task === 'question-answering';
  const columns: Column<WorstExample>[] = [
    { key: 'index', header: '#', className: 'numeric cell-nowrap muted', render: (w) => String(w.index) },
    {
      key: 'text',
      header: qa ? t('tryIt.question') : t('taskEval.text'),
      render: (w) => (
        <>
          <span className="worst-text" title={w.text}>
            {shorten(w.text)}
          </span>
          {w.context ? (
            <span className="worst-context" title={w.context}>
              {shorten(w.context, 160)}
            </span>
          ) : null}
        </>
      ),
    },
    { key: 'gold', header: t('taskEval.expected'), render: (w) => (qa ? `“${w.gold}”` : w.gold) },
    {
      key: 'predicted',
      header: t('taskEval.predicted'),
      render: (w) => (qa ? (w.predicted === '' ? t('tryIt.noAnswer') : `“${w.predicted}”`) : w.predicted),
    },
    {
      key: 'score',
      header: qa ? t('taskEval.answerF1') : t('taskEval.goldProbability'),
      className: 'numeric cell-nowrap',
      render: (w) => formatPercent(w.score),
    },
  ];
  return (
    <Card title={t('taskEval.worst')} flush>
      <p className="muted worst-hint">
        {qa ? t('taskEval.worstHintQa') : t('taskEval.worstHintClassification')}
      </p>
      {result.worst.length === 0 ? (
        <p className="muted worst-hint">
          {t('evaluate.noExamples')}
        </p>
      ) : (
        <Table caption={t('taskEval.worst')} columns={columns} rows={result.worst} rowKey={(w) => String(w.index)} />
      )}
    </Card>
  );
}
