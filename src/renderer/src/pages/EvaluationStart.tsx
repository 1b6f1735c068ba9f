// Starting an evaluation from the Evaluate page: a finished run (its held-out split by default, or a dataset of the
// project) or any adapter of the project on a dataset. Base and tuned are measured in one job, whose progress and
// Cancel show here; the row it makes holds both perplexities. A classification / question-answering run is measured
// by its task's metrics instead (TaskEvaluation: base vs tuned, confusion matrix, worst examples).
import { useEffect, useState, type FormEvent } from 'react';
import type { Adapter } from '../../../common/api/adapters.ts';
import type { ShipQuant } from '../../../common/api/chat.ts';
import type { Dataset } from '../../../common/api/datasets.ts';
import type { Project } from '../../../common/api/projects.ts';
import type { DatasetConfig, EvaluationRequest, Run } from '../../../common/api/runs.ts';
import { toStudioApiError } from '../api/client.ts';
import { useQuery } from '../api/hooks.ts';
import { Banner, Button, Card } from '../components/index.ts';
import { basename } from '../format.ts';
import { useStudio } from '../state/studio.tsx';
import { JobProgress } from './wizard/JobProgress.tsx';
import { useJob } from './wizard/useJob.ts';
import { ShipQuantSelect } from './ShipQuantSelect.tsx';
import { TaskEvaluation } from './TaskEvaluation.tsx';
import { tryableRun } from './TryItPage.tsx';
import { isTaskRun, type EncoderTask } from '../../../common/api/task-runs.ts';
import { t } from '../i18n/t.ts';

type Source = 'run' | 'adapter';
const HELD_OUT = 'held-out';

/** A finished run whose output is an adapter (full fine-tuning leaves a model folder, measured as a base), or a
 *  finished encoder-task run (its adapter or its fully tuned model, measured by the task's metrics). */
export function evaluableRun(run: Run): boolean {
  if (isTaskRun(run)) return tryableRun(run);
  return run.status === 'succeeded' && run.config.method !== 'full' && run.summary?.adapterPath != null;
}

/** Every row of a project's dataset, read with the mapping recorded at its import. */
function wholeDataset(dataset: Dataset, template: DatasetConfig['template'] = { kind: 'auto' }): DatasetConfig {
  return {
    path: dataset.path,
    format: dataset.format,
    columns: dataset.columns,
    template,
    eval_split: { kind: 'none' },
    skip_bad_rows: true,
  };
}

export function EvaluationStart({
  project,
  initialRunId,
  onStarted,
  onEnded,
  onMeasure,
}: {
  project: Project;
  initialRunId: string | null;
  onStarted: (evaluationId: string) => void;
  onEnded: () => void;
  /** What the chosen run or adapter will be measured by: an encoder task's figures, or null for perplexity. */
  onMeasure?: (task: EncoderTask | null) => void;
}) {
  const client = useStudio();
  const runs = useQuery('runs.list', { projectId: project.id });
  const adapters = useQuery('adapters.list', { projectId: project.id });
  const datasets = useQuery('datasets.list', { projectId: project.id });
  const finishedRuns = runs.state.status === 'ready' ? runs.state.data.filter(evaluableRun) : [];
  // Perplexity is for decoder adapters: a task run's adapter is measured through its run (task metrics).
  const taskRunIds = new Set(runs.state.status === 'ready' ? runs.state.data.filter(isTaskRun).map((r) => r.id) : []);
  const adapterList: Adapter[] =
    adapters.state.status === 'ready'
      ? adapters.state.data.filter(
          (a) => a.problem === null && a.baseModel !== null && !(a.runId !== null && taskRunIds.has(a.runId)),
        )
      : [];
  const datasetList: Dataset[] = datasets.state.status === 'ready' ? datasets.state.data : [];

  const [source, setSource] = useState<Source>('run');
  const [runId, setRunId] = useState<string>(initialRunId ?? '');
  const [adapterId, setAdapterId] = useState('');
  const [data, setData] = useState<string>(HELD_OUT);
  const [error, setError] = useState<string | null>(null);
  const [starting, setStarting] = useState(false);
  const [ship, setShip] = useState<ShipQuant | ''>('');
  const { job, running, track, cancel } = useJob(() => onEnded());

  const run = finishedRuns.find((r) => r.id === runId) ?? finishedRuns[0] ?? null;
  const adapter = adapterList.find((a) => a.id === adapterId) ?? adapterList[0] ?? null;
  const dataChoice = source === 'run' || datasetList.some((d) => d.id === data) ? data : (datasetList[0]?.id ?? '');
  const chosenDataset = datasetList.find((d) => d.id === dataChoice) ?? null;
  const measuredTask = source === 'run' && run && isTaskRun(run) ? (run.config.task as EncoderTask) : null;
  // the page's intro follows the choice, and goes back to perplexity when this form goes away
  useEffect(() => {
    onMeasure?.(measuredTask);
    return () => onMeasure?.(null);
  }, [measuredTask, onMeasure]);

  function request(): EvaluationRequest | string {
    if (source === 'run') {
      if (!run) return t('evalStart.noRun');
      return {
        projectId: project.id,
        runId: run.id,
        ...(dataChoice !== HELD_OUT && chosenDataset
          ? { dataset: wholeDataset(chosenDataset, run.config.dataset.template) }
          : {}),
        batch_size: 4,
        compareBase: true,
        ...(ship ? { ship } : {}),
      };
    }
    if (!adapter)
      return 'No adapter with a known base model in this project: import one on the Adapters page, or train a run.';
    if (!chosenDataset) return 'No dataset in this project to measure on: import one on the Datasets page.';
    // A run's adapter is measured as that run's (the row is named after it); an imported one over its base model.
    return {
      projectId: project.id,
      ...(adapter.runId ? { runId: adapter.runId } : { model: adapter.baseModel! }),
      adapterPath: adapter.path,
      dataset: wholeDataset(chosenDataset),
      batch_size: 4,
      compareBase: true,
      ...(ship ? { ship } : {}),
    };
  }

  async function start(event: FormEvent) {
    event.preventDefault();
    setError(null);
    const built = request();
    if (typeof built === 'string') return setError(built);
    setStarting(true);
    try {
      const evaluation = await client.invoke('evaluations.start', built);
      onStarted(evaluation.id);
      if (evaluation.jobId) track(await client.invoke('jobs.get', { id: evaluation.jobId }));
    } catch (err) {
      setError(toStudioApiError(err).message);
    } finally {
      setStarting(false);
    }
  }

  const runLabel = (r: Run) => t('evalStart.runOption', { name: r.name, model: basename(r.config.model), steps: r.summary?.steps ?? 0 });
  const heldOutLabel = run
    ? run.config.dataset.eval_split.kind === 'file'
      ? t('evalStart.evalFile', { file: basename(run.config.dataset.eval_split.path) })
      : run.config.dataset.eval_split.kind === 'ratio'
        ? t('evalStart.heldOutShare', {
            percent: Math.round(run.config.dataset.eval_split.ratio * 100),
            file: basename(run.config.dataset.path),
          })
        : t('evalStart.noHeldOut')
    : t('evalStart.heldOutSplit');

  const sourceFields = (
    <>
      <fieldset className="field">
        <legend className="field-label">{t('evalStart.what')}</legend>
        <label>
          <input
            type="radio"
            name="eval-source"
            checked={source === 'run'}
            onChange={() => {
              setSource('run');
              setData(HELD_OUT);
            }}
          />{' '}
          {t('evalStart.aRun')}
        </label>{' '}
        <label>
          <input
            type="radio"
            name="eval-source"
            checked={source === 'adapter'}
            onChange={() => {
              setSource('adapter');
              setData(datasetList[0]?.id ?? '');
            }}
          />{' '}
          {t('evalStart.anAdapter')}
        </label>
      </fieldset>
      {source === 'run' ? (
        <div className="field">
          <label className="field-label" htmlFor="eval-run">
            {t('compare.run')}
          </label>
          <select
            id="eval-run"
            value={run?.id ?? ''}
            onChange={(event) => setRunId(event.target.value)}
            disabled={finishedRuns.length === 0}
          >
            {finishedRuns.length === 0 ? <option value="">{t('evalStart.noFinishedRun')}</option> : null}
            {finishedRuns.map((r) => (
              <option key={r.id} value={r.id}>
                {runLabel(r)}
              </option>
            ))}
          </select>
        </div>
      ) : (
        <div className="field">
          <label className="field-label" htmlFor="eval-adapter">
            {t('exports.adapter')}
          </label>
          <select
            id="eval-adapter"
            value={adapter?.id ?? ''}
            onChange={(event) => setAdapterId(event.target.value)}
            disabled={adapterList.length === 0}
          >
            {adapterList.length === 0 ? <option value="">{t('evalStart.noAdapter')}</option> : null}
            {adapterList.map((a) => (
              <option key={a.id} value={a.id}>
                {`${a.name}${t('adapters.onBase', { model: basename(a.baseModel ?? '') })}`}
              </option>
            ))}
          </select>
        </div>
      )}
    </>
  );

  // An encoder-task run: its own form and report (keyed by the run, so choosing another starts afresh).
  if (source === 'run' && run && isTaskRun(run))
    return (
      <TaskEvaluation
        key={run.id}
        run={run}
        datasets={datasetList}
        header={<div className="form-grid">{sourceFields}</div>}
      />
    );

  return (
    <Card title={t('evalStart.title')}>
      <form className="form-grid" onSubmit={(event) => void start(event)} aria-label={t('evalStart.title')}>
        {sourceFields}
        <div className="field">
          <label className="field-label" htmlFor="eval-data">
            {t('evalStart.measuredOn')}
          </label>
          <select id="eval-data" value={dataChoice} onChange={(event) => setData(event.target.value)}>
            {source === 'run' ? (
              <option value={HELD_OUT}>{t('evalStart.heldOut', { label: heldOutLabel })}</option>
            ) : null}
            {source === 'adapter' && datasetList.length === 0 ? (
              <option value="">{t('evalStart.noDataset')}</option>
            ) : null}
            {datasetList.map((d) => (
              <option key={d.id} value={d.id}>
                {t('evalStart.everyRow', { name: d.name, rows: d.examples })}
              </option>
            ))}
          </select>
          <span className="field-hint">{t('evalStart.hint')}</span>
        </div>
        <ShipQuantSelect
          id="eval-ship"
          label={t('evalStart.ship')}
          value={ship}
          onChange={setShip}
          optionLabel={(quant) => t('evalStart.shipOption', { quant })}
        />
        <div className="row-actions">
          <Button type="submit" variant="primary" icon="gauge" busy={starting} disabled={running}>
            {t('evalStart.start')}
          </Button>
        </div>
        {/* in the form's grid, so the progress and its outcome are spaced from Start like the fields above */}
        <JobProgress
          job={job}
          running={running}
          onCancel={cancel}
          label={t('evalStart.progress')}
          pending={t('evalStart.starting')}
          failedTitle={t('evalStart.failed')}
        />
        {job?.status === 'cancelled' ? <Banner tone="info">{t('evalStart.cancelled')}</Banner> : null}
        {error ? <Banner title={t('evalStart.notStarted')}>{error}</Banner> : null}
      </form>
    </Card>
  );
}
