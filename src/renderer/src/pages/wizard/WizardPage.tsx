// The New fine-tune wizard: base model → dataset → template → method → review → start. The draft is saved in
// this browser's localStorage per project on every change (so a reload or a detour keeps it), and cleared
// when the run starts. Every number shown comes from the core: the model's summary, the dataset's import
// report and preview, and models.plan's counts and estimates.
import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { Dataset, DatasetShape } from '../../../../common/api/datasets.ts';
import { BUNDLED_MODEL_RECIPE, type BaseModel } from '../../../../common/api/models.ts';
import type { Project } from '../../../../common/api/projects.ts';
import type { RunConfig } from '../../../../common/api/runs.ts';
import { toStudioApiError } from '../../api/client.ts';
import { useQuery } from '../../api/hooks.ts';
import { Banner, Button, Card, PageHeader, QueryView, TextField } from '../../components/index.ts';
import { formatBytes, formatPercent } from '../../format.ts';
import { routeHref } from '../../routes.ts';
import { useLocation } from '../../state/location.ts';
import { useStudio } from '../../state/studio.tsx';
import { NewFineTunePage } from '../NewFineTunePage.tsx';
import { ProjectGate } from '../ProjectGate.tsx';
import { ConfigEditor, CONFIG_EDITOR_KEY_PREFIX } from '../ConfigEditor.tsx';
import {
  checkDraft, DRAFT_KEY_PREFIX, draftToConfig, HINTS, isEncoderTask, loadDraft, matchingPreset, PRESETS, presetsFor, saveDraft, stepsFor, taskDefaults, taskFullLearningRate, templateOf,
  type PresetId, type StepId, type WizardDraft, type WizardTask,
} from './draft.ts';
import { EncoderCards, modelMismatch, TaskChoice, TaskDatasetStep } from './TaskSteps.tsx';
import { DatasetCards, ModelCards, type ChosenModel } from './SuggestionCards.tsx';
import { ProblemList, TokenView } from './preview-parts.tsx';
import { JobProgress } from './JobProgress.tsx';
import { useJob, type JobView } from './useJob.ts';
import { BrowseButton } from './BrowseButton.tsx';

const DATA_EXTENSIONS = ['jsonl', 'json', 'csv', 'tsv', 'parquet'];
import './wizard.css';
import { formatNumber, t } from '../../i18n/t.ts';
import { sayPhrase } from '../../i18n/phrase.ts';

/** What the New fine-tune page lets a person do once a project exists (the gate's points). */
export const wizardWill = () => [t('wizard.will1'), t('wizard.will2'), t('wizard.will3'), t('wizard.will4')];

export function WizardPage() {
  const { params } = useLocation();
  // The one-form quick start stays reachable for users who know what they want.
  if (params[0] === 'quick') return <NewFineTunePage />;
  const editing = params[0] === 'config';
  return (
    <>
      <PageHeader
        title={editing ? t('wizard.editorTitle') : t('nav.new')}
        description={editing ? t('wizard.editorDescription') : t('wizard.description')}
        actions={
          editing ? (
            <a className="btn btn-secondary" href={routeHref('new')}>
              {t('wizard.backToWizard')}
            </a>
          ) : (
            <>
              <a className="btn btn-ghost" href={routeHref('new', 'quick')}>
                {t('wizard.quickStart')}
              </a>
              <a className="btn btn-secondary" href={routeHref('new', 'config')}>
                {t('wizard.configEditor')}
              </a>
            </>
          )
        }
      />
      <ProjectGate pageTitle={t('nav.new')} icon="spark" will={wizardWill()}>
        {(project) => (editing ? <ConfigEditor key={project.id} project={project} /> : <Wizard key={project.id} project={project} />)}
      </ProjectGate>
    </>
  );
}

type Update = (patch: Partial<WizardDraft>) => void;

function Wizard({ project }: { project: Project }) {
  const [draft, setDraft] = useState<WizardDraft>(() => loadDraft(window.localStorage, project.id));
  const update: Update = (patch) => setDraft((d) => ({ ...d, ...patch }));
  useEffect(() => saveDraft(window.localStorage, project.id, draft), [project.id, draft]);

  const models = useQuery('models.list', {});
  const datasets = useQuery('datasets.list', { projectId: project.id });
  const model = models.state.status === 'ready' ? (models.state.data.find((m) => m.id === draft.modelId) ?? null) : null;
  const dataset = datasets.state.status === 'ready' ? (datasets.state.data.find((d) => d.id === draft.datasetId) ?? null) : null;
  const encoderTask = isEncoderTask(draft.task);
  const paths = { model: model?.path ?? '', dataset: encoderTask ? draft.taskDataPath.trim() : (dataset?.path ?? '') };
  const check = checkDraft(draft, paths);
  const suggestions = useQuery('models.suggestions', {});
  const taskSuggestions = useQuery('taskData.suggestions', {});
  const bundledPath = suggestions.state.status === 'ready' ? suggestions.state.data.bundledPath : null;
  const encoderPath = taskSuggestions.state.status === 'ready' ? taskSuggestions.state.data.encoderPath : null;
  const bundled = model !== null && model.path === (encoderTask ? encoderPath : bundledPath);
  // A model that cannot learn the task (a decoder for classification, an encoder for chat): said, and Next waits.
  const mismatch = model ? modelMismatch(draft.task, model) : null;
  const modelOk = model !== null && mismatch === null;
  // Why a task run's dataset step cannot go on yet (no file, unreadable), reported by the step.
  const [taskDataProblem, setTaskDataProblem] = useState<string | null>(null);

  // An encoder task starts from its recipe on each model (the family's attention modules as targets), once per
  // task and model: later edits stay.
  const defaultsKey = encoderTask && model && mismatch === null ? `${draft.task}:${model.id}` : null;
  useEffect(() => {
    if (!defaultsKey || !model || !isEncoderTask(draft.task) || draft.defaultsFor === defaultsKey) return;
    const values = taskDefaults(draft.task, { family: model.family, bundled });
    update({ ...values, ...(draft.method === 'full' ? { learningRate: taskFullLearningRate(bundled) } : {}), defaultsFor: defaultsKey });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [defaultsKey, bundled]);
  const chooseTask = (task: WizardTask) => {
    if (task === draft.task) return;
    const leaving = isEncoderTask(draft.task);
    // back to chat: the decoder presets again (the task recipe's targets mean nothing to a decoder)
    // the files chosen belong to the task left (an SST-2 file is no SQuAD file): the data step starts afresh
    update({ task, defaultsFor: '', taskDataPath: '', evalKind: 'ratio', evalFile: '', ...(leaving && !isEncoderTask(task) ? { ...PRESETS.balanced.values, preset: 'balanced' as const, microBatch: '1', gradAccum: '4', maxSeqLength: '1024', epochs: '1', maxSteps: '' } : {}) });
  };
  const steps = stepsFor(draft.task);
  // Why the template step's example cannot be rendered (Next waits until it can), reported by the step.
  const [templateProblem, setTemplateProblem] = useState<string | null>(null);

  /** A model picked: its recommended settings on the bundled model, and a max length within its context. */
  const chooseModel = (picked: ChosenModel) => {
    const patch: Partial<WizardDraft> = { modelId: picked.id };
    if (picked.bundled && matchingPreset(draft, presetsFor(bundled)) === 'balanced') Object.assign(patch, presetsFor(true).balanced.values, { preset: 'balanced' });
    const maxLength = Number(patch.maxSeqLength ?? draft.maxSeqLength);
    if (Number.isFinite(maxLength) && maxLength > picked.maxPositions) patch.maxSeqLength = String(picked.maxPositions);
    update(patch);
    models.reload();
  };

  const index = Math.max(0, steps.findIndex((s) => s.id === draft.step));
  const hasData = encoderTask ? draft.taskDataPath.trim() !== '' : dataset !== null;
  const ready: Record<StepId, boolean> = {
    model: true,
    dataset: modelOk,
    template: modelOk && hasData,
    method: modelOk && hasData,
    review: modelOk && hasData,
  };
  const canContinue =
    draft.step === 'model' ? modelOk : draft.step === 'dataset' ? (encoderTask ? taskDataProblem === null : dataset !== null) : draft.step === 'template' ? templateProblem === null : true;
  const stepProblem = draft.step === 'template' ? templateProblem : draft.step === 'dataset' && encoderTask && draft.taskDataPath.trim() !== '' ? taskDataProblem : null;
  const stepRef = useRef<HTMLDivElement>(null);
  const moved = useRef(false);
  const go = (step: StepId) => {
    moved.current = true;
    update({ step });
  };
  // After Next, Back or a step button, keyboard and screen-reader users land on the new step's heading instead
  // of <body> (a page load keeps the browser's own starting point).
  useEffect(() => {
    if (!moved.current) return;
    moved.current = false;
    const heading = stepRef.current?.querySelector<HTMLElement>('h2');
    if (!heading) return;
    heading.tabIndex = -1;
    heading.focus();
  }, [draft.step]);

  return (
    <div className="stack">
      <nav aria-label={t('wizard.stepsLabel')}>
        <ol className="wizard-steps">
          {steps.map((s, i) => (
            <li key={s.id}>
              <button
                type="button"
                className={['wizard-step', i < index ? 'wizard-step-done' : ''].join(' ')}
                aria-current={s.id === draft.step ? 'step' : undefined}
                disabled={!ready[s.id]}
                onClick={() => go(s.id)}
              >
                <span className="wizard-step-number">{i + 1}</span>
                {t(`wizard.step.${s.id}`)}
              </button>
            </li>
          ))}
        </ol>
      </nav>

      <div ref={stepRef} className="stack">
      {draft.step === 'model' ? <ModelStep draft={draft} update={update} models={models} model={model} bundledPath={bundledPath} chooseModel={chooseModel} chooseTask={chooseTask} mismatch={mismatch} /> : null}
      {draft.step === 'dataset' && modelOk && encoderTask ? <TaskDatasetStep draft={draft} update={update} fieldErrors={check.fieldErrors} onProblem={setTaskDataProblem} /> : null}
      {draft.step === 'dataset' && modelOk && !encoderTask ? <DatasetStep project={project} draft={draft} update={update} datasets={datasets} dataset={dataset} fieldErrors={check.fieldErrors} /> : null}
      {draft.step === 'template' && modelOk && dataset && !encoderTask ? <TemplateStep draft={draft} update={update} model={model} dataset={dataset} fieldErrors={check.fieldErrors} onProblem={setTemplateProblem} /> : null}
      {draft.step === 'method' && modelOk && hasData ? <MethodStep project={project} draft={draft} update={update} paths={paths} fieldErrors={check.fieldErrors} bundled={bundled} /> : null}
      {draft.step === 'review' && modelOk && hasData ? <ReviewStep project={project} draft={draft} update={update} paths={paths} /> : null}
      </div>

      <div className="wizard-nav">
        <Button icon={undefined} disabled={index === 0} onClick={() => go(steps[index - 1].id)}>
          {t('wizard.back')}
        </Button>
        {stepProblem ? (
          <span className="field-error" role="alert">
            {stepProblem}
          </span>
        ) : (
          <span className="muted">{t('wizard.saved')}</span>
        )}
        {index < steps.length - 1 ? (
          <Button variant="primary" disabled={!canContinue} onClick={() => go(steps[index + 1].id)}>
            {t('wizard.next', { step: t(`wizard.step.${steps[index + 1].id}`) })}
          </Button>
        ) : (
          <span />
        )}
      </div>
    </div>
  );
}

// ── 1. Base model ─────────────────────────────────────────────────────────────────────────────────
type ModelsQuery = ReturnType<typeof useQuery<'models.list'>>;

function ModelStep({ draft, update, models, model, bundledPath, chooseModel, chooseTask, mismatch }: { draft: WizardDraft; update: Update; models: ModelsQuery; model: BaseModel | null; bundledPath: string | null; chooseModel: (picked: ChosenModel) => void; chooseTask: (task: WizardTask) => void; mismatch: string | null }) {
  const client = useStudio();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const pull = useJob((job: JobView) => {
    if (job.status !== 'succeeded') return;
    void client.invoke('models.list', {}).then((list) => {
      models.reload();
      const pulled = list.find((m) => m.source === draft.hubRepo.trim());
      if (pulled) update({ modelId: pulled.id });
    });
  });

  const open = async () => {
    setBusy(true);
    setError(null);
    try {
      const opened = await client.invoke('models.open', { path: draft.modelPath.trim() });
      models.reload();
      update({ modelId: opened.id });
    } catch (e) {
      setError(toStudioApiError(e).message);
    } finally {
      setBusy(false);
    }
  };
  const download = async () => {
    setError(null);
    try {
      pull.track(await client.invoke('models.pull', { repo: draft.hubRepo.trim(), revision: draft.hubRevision.trim() || 'main' }));
    } catch (e) {
      setError(toStudioApiError(e).message);
    }
  };
  const pulling = pull.running;

  return (
    <Card title={t('wizard.title.model')}>
      <div className="stack">
        <TaskChoice task={draft.task} onChange={chooseTask} />
        <p className="muted">{isEncoderTask(draft.task) ? t('wizard.task.modelIntro') : t('wizard.modelIntro')}</p>
        {isEncoderTask(draft.task) ? (
          <EncoderCards
            selectedPath={model?.path ?? null}
            onChoose={(opened) => {
              models.reload();
              chooseModel({ id: opened.id, path: opened.path, maxPositions: opened.maxPositions, bundled: false });
            }}
            onHubRepo={(repo) => update({ modelSource: 'hub', hubRepo: repo })}
          />
        ) : (
          <ModelCards selectedId={draft.modelId} onChoose={chooseModel} />
        )}
        <div className="choice-row" role="radiogroup" aria-label={t('wizard.modelSource')}>
          <Choice name="model-source" checked={draft.modelSource === 'local'} onChange={() => update({ modelSource: 'local' })} title={t('wizard.localTitle')} text={t('wizard.localText')} />
          <Choice name="model-source" checked={draft.modelSource === 'hub'} onChange={() => update({ modelSource: 'hub' })} title={t('wizard.hubTitle')} text={t('wizard.hubText')} />
        </div>
        {draft.modelSource === 'local' ? (
          <form className="field-row" onSubmit={(e) => (e.preventDefault(), void open())}>
            <TextField
              label={t('wizard.modelFolder')}
              value={draft.modelPath}
              onChange={(e) => update({ modelPath: e.target.value })}
              placeholder="/home/me/models/SmolLM2-135M-Instruct"
              hint={t('wizard.modelFolderHint')}
              error={error}
              spellCheck={false}
            />
            <BrowseButton kind="folder" title={t('wizard.chooseModelFolder')} onPick={(path) => update({ modelPath: path })} onError={setError} />
            <Button type="submit" variant="primary" busy={busy} disabled={draft.modelPath.trim() === ''}>
              {t('wizard.open')}
            </Button>
          </form>
        ) : (
          <div className="stack">
            <form className="field-row" onSubmit={(e) => (e.preventDefault(), void download())}>
              <TextField label={t('wizard.hubId')} value={draft.hubRepo} onChange={(e) => update({ hubRepo: e.target.value })} placeholder="HuggingFaceTB/SmolLM2-135M-Instruct" error={error} spellCheck={false} hint={t('wizard.hubIdHint')} />
              <TextField label={t('wizard.revision')} value={draft.hubRevision} onChange={(e) => update({ hubRevision: e.target.value })} hint={t('wizard.revisionHint')} spellCheck={false} />
              <Button type="submit" variant="primary" disabled={draft.hubRepo.trim() === '' || pulling}>
                {t('wizard.download')}
              </Button>
            </form>
            {pull.job ? (
              <div className="stack">
                <JobProgress job={pull.job} running={pulling} onCancel={pull.cancel} label={t('wizard.downloadProgress')} pending={t('wizard.pullPending')} failedTitle={t('wizard.downloadFailed')} />
                {pull.job.status === 'cancelled' ? <Banner tone="info" title={t('wizard.downloadCancelled')}>{t('wizard.downloadCancelledBody')}</Banner> : null}
              </div>
            ) : null}
          </div>
        )}
        <QueryView state={models.state} loadingLabel={t('wizard.loadingModels')} errorTitle={t('wizard.modelsFailed')} onRetry={models.reload}>
          {(list) =>
            list.length > 0 ? (
              <div className="field select-field">
                <label className="field-label" htmlFor="known-model">
                  {t('wizard.pickOpened')}
                </label>
                <select
                  id="known-model"
                  value={draft.modelId ?? ''}
                  onChange={(e) => {
                    const picked = list.find((m) => m.id === e.target.value);
                    if (picked) chooseModel({ id: picked.id, path: picked.path, maxPositions: picked.maxPositions, bundled: picked.path === bundledPath });
                    else update({ modelId: null });
                  }}
                >
                  <option value="">—</option>
                  {list.map((m) => (
                    <option key={m.id} value={m.id}>
                      {m.name} ({m.architecture}, {formatCount(m.parameterCount)})
                    </option>
                  ))}
                </select>
              </div>
            ) : null
          }
        </QueryView>
        {mismatch ? (
          <Banner title={t('wizard.task.cannotLearn')}>
            <span role="alert">{mismatch}</span>
          </Banner>
        ) : null}
        {model ? <ModelSummary model={model} /> : null}
      </div>
    </Card>
  );
}

function ModelSummary({ model }: { model: BaseModel }) {
  return (
    <section aria-label={t('wizard.selectedModel')} className="stack">
      <dl className="summary-grid">
        <div>
          <dt>{t('wizard.model.architecture')}</dt>
          <dd>{model.architecture}</dd>
        </div>
        <div>
          <dt>{t('wizard.model.parameters')}</dt>
          <dd>{formatCount(model.parameterCount)}</dd>
        </div>
        <div>
          <dt>{t('wizard.model.weights')}</dt>
          <dd>{model.dtype}</dd>
        </div>
        <div>
          <dt>{t('wizard.model.size')}</dt>
          <dd>{formatBytes(model.sizeBytes)}</dd>
        </div>
      </dl>
      <dl className="kv">
        <dt>{t('wizard.model.name')}</dt>
        <dd>{model.name}</dd>
        <dt>{t('wizard.model.folder')}</dt>
        <dd>{model.path}</dd>
        <dt>{t('wizard.model.shape')}</dt>
        <dd>
          {t('wizard.model.shapeValue', { layers: model.layers, hidden: model.hiddenSize, vocab: model.vocabSize, context: model.maxPositions })}
        </dd>
        <dt>{t('wizard.model.chatTemplate')}</dt>
        <dd>{model.chatTemplate ? t('wizard.model.chatTemplateYes') : t('wizard.model.chatTemplateNo')}</dd>
      </dl>
    </section>
  );
}

// ── 2. Dataset ────────────────────────────────────────────────────────────────────────────────────
type DatasetsQuery = ReturnType<typeof useQuery<'datasets.list'>>;

const COLUMNS_OF: Record<DatasetShape, string[]> = {
  text: ['text'],
  completion: ['prompt', 'completion'],
  alpaca: ['instruction', 'input', 'output'],
  chat: ['messages', 'role_key', 'content_key'],
};
const DATASET_SHAPES: DatasetShape[] = ['text', 'completion', 'alpaca', 'chat'];
/** A dataset shape's name in the UI language (read when rendering, so it follows a language change). */
const formatLabel = (shape: DatasetShape) => t(`wizard.fmt.${shape}`);

function DatasetStep({ project, draft, update, datasets, dataset, fieldErrors }: { project: Project; draft: WizardDraft; update: Update; datasets: DatasetsQuery; dataset: Dataset | null; fieldErrors: Partial<Record<keyof WizardDraft, string>> }) {
  const client = useStudio();
  const [error, setError] = useState<string | null>(null);
  const [split, setSplit] = useState<Dataset['split'] | { error: string } | null>(null);
  const importing = useJob((job) => {
    if (job.status !== 'succeeded') return;
    void client.invoke('datasets.list', { projectId: project.id }).then((list) => {
      datasets.reload();
      if (list[0]) update({ datasetId: list[0].id, format: list[0].format, columns: list[0].columns });
    });
  });
  const running = importing.running;

  const startImport = async (mapping?: { format: DatasetShape; columns: Record<string, string> }) => {
    setError(null);
    try {
      const path = mapping && dataset ? dataset.path : draft.datasetPath.trim();
      importing.track(await client.invoke('datasets.import', { projectId: project.id, path, ...(mapping ? { format: mapping.format, columns: mapping.columns } : {}) }));
    } catch (e) {
      setError(toStudioApiError(e).message);
    }
  };

  // The split the run will make (same ratio and seed), counted by the core.
  const ratio = Number(draft.evalRatio);
  const seed = Number(draft.seed);
  useEffect(() => {
    if (!dataset || !(ratio > 0 && ratio < 1) || !Number.isInteger(seed) || seed < 0) return setSplit(null);
    let live = true;
    const timer = setTimeout(() => {
      client.invoke('datasets.split', { id: dataset.id, ratio, seed }).then(
        (d) => live && setSplit(d.split),
        (e: unknown) => live && setSplit({ error: toStudioApiError(e).message }),
      );
    }, 300);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [client, dataset, ratio, seed]);

  return (
    <Card title={t('wizard.title.dataset')}>
      <div className="stack">
        <p className="muted">{t('wizard.datasetIntro')}</p>
        <DatasetCards
          project={project}
          onChoose={(picked) => {
            datasets.reload();
            update({ datasetId: picked.id, format: picked.format, columns: picked.columns, ...(picked.evalPath ? { evalKind: 'file' as const, evalFile: picked.evalPath } : {}) });
          }}
        />
        <form className="field-row" onSubmit={(e) => (e.preventDefault(), void startImport())}>
          <TextField label={t('datasets.file')} value={draft.datasetPath} onChange={(e) => update({ datasetPath: e.target.value })} placeholder="/home/me/data/support-answers.jsonl" hint={t('wizard.datasetFileHint')} error={error} spellCheck={false} />
          <BrowseButton kind="file" title={t('datasets.chooseFile')} extensions={DATA_EXTENSIONS} onPick={(path) => update({ datasetPath: path })} onError={setError} />
          <Button type="submit" variant="primary" disabled={draft.datasetPath.trim() === '' || running}>
            {t('datasets.import')}
          </Button>
        </form>
        <JobProgress job={importing.job} running={running} onCancel={importing.cancel} label={t('wizard.importProgress')} pending={t('wizard.importPending')} failedTitle={t('datasets.importFailed')} />
        <QueryView state={datasets.state} loadingLabel={t('datasets.loading')} errorTitle={t('datasets.loadFailed')} onRetry={datasets.reload}>
          {(list) =>
            list.length > 0 ? (
              <div className="field select-field">
                <label className="field-label" htmlFor="known-dataset">
                  {t('wizard.pickProjectDataset')}
                </label>
                <select
                  id="known-dataset"
                  value={draft.datasetId ?? ''}
                  onChange={(e) => {
                    const picked = list.find((d) => d.id === e.target.value);
                    update(picked ? { datasetId: picked.id, format: picked.format, columns: picked.columns } : { datasetId: null });
                  }}
                >
                  <option value="">—</option>
                  {list.map((d) => (
                    <option key={d.id} value={d.id}>
                      {t('wizard.datasetOption', { name: d.name, rows: d.examples, format: d.format })}
                    </option>
                  ))}
                </select>
              </div>
            ) : null
          }
        </QueryView>
        {dataset ? (
          <section aria-label={t('wizard.selectedDataset')} className="stack">
            <dl className="summary-grid">
              <div>
                <dt>{t('wizard.usableRows')}</dt>
                <dd>{formatNumber(dataset.examples)}</dd>
              </div>
              <div>
                <dt>{t('wizard.badRows')}</dt>
                <dd>{dataset.badRows}</dd>
              </div>
              <div>
                <dt>{t('wizard.duplicates')}</dt>
                <dd>{dataset.duplicateRows}</dd>
              </div>
              <div>
                <dt>{t('wizard.file')}</dt>
                <dd>{dataset.fileFormat.toUpperCase()}</dd>
              </div>
            </dl>
            <MappingEditor dataset={dataset} running={running} onReimport={(format, columns) => void startImport({ format, columns })} />
            {dataset.badRows > 0 ? <ProblemList problems={dataset.problems.slice(0, 5)} total={dataset.badRows} /> : null}
            <div className="choice-row" role="radiogroup" aria-label={t('wizard.heldOutRows')}>
              <Choice name="eval-kind" checked={draft.evalKind === 'ratio'} onChange={() => update({ evalKind: 'ratio' })} title={t('wizard.holdOutTitle')} text={t('wizard.holdOutText')} />
              <Choice name="eval-kind" checked={draft.evalKind === 'file'} onChange={() => update({ evalKind: 'file' })} title={t('wizard.evalFileTitle')} text={t('wizard.evalFileText')} />
            </div>
            {draft.evalKind === 'file' ? (
              <div className="field-row">
                <TextField label={t('wizard.evalFile')} value={draft.evalFile} onChange={(e) => update({ evalFile: e.target.value })} placeholder="/home/me/data/support-answers-eval.jsonl" hint={t('wizard.evalFileHint')} error={fieldErrors.evalFile} spellCheck={false} />
                <BrowseButton kind="file" title={t('wizard.chooseEvalFile')} extensions={DATA_EXTENSIONS} onPick={(path) => update({ evalFile: path })} onError={setError} />
              </div>
            ) : null}
            <div className="field-row">
              {draft.evalKind === 'ratio' ? <TextField label={t('quick.evalShare')} value={draft.evalRatio} onChange={(e) => update({ evalRatio: e.target.value })} hint={t('wizard.evalShareHint')} error={fieldErrors.evalRatio} inputMode="decimal" /> : null}
              <TextField label={t('run.seed')} value={draft.seed} onChange={(e) => update({ seed: e.target.value })} hint={HINTS.seed} error={fieldErrors.seed} inputMode="numeric" />
            </div>
            {draft.evalKind === 'ratio' && split && 'error' in split ? <Banner title={t('wizard.splitFailed')}>{split.error}</Banner> : null}
            {draft.evalKind === 'ratio' && split && !('error' in split) ? (
              <p aria-live="polite">
                {withBold(t('wizard.splitCounts'), { train: split.train, eval: split.eval })}
                {split.overlap > 0 ? <span className="text-warning">{t('wizard.splitOverlap', { n: split.overlap })}</span> : null}.
              </p>
            ) : null}
          </section>
        ) : null}
      </div>
    </Card>
  );
}

function MappingEditor({ dataset, running, onReimport }: { dataset: Dataset; running: boolean; onReimport: (format: DatasetShape, columns: Record<string, string>) => void }) {
  const [format, setFormat] = useState<DatasetShape>(dataset.format);
  const [columns, setColumns] = useState<Record<string, string>>(dataset.columns as Record<string, string>);
  useEffect(() => {
    setFormat(dataset.format);
    setColumns(dataset.columns as Record<string, string>);
  }, [dataset]);
  const changed = format !== dataset.format || JSON.stringify(columns) !== JSON.stringify(dataset.columns);
  return (
    <fieldset className="settings-fieldset">
      <legend>{t('wizard.formatAndColumns')}</legend>
      <p className="muted">{t('wizard.detected', { reason: sayPhrase(dataset.mappingReasonPhrase, dataset.mappingReason) })}</p>
      <div className="field-row">
        <div className="field select-field">
          <label className="field-label" htmlFor="dataset-format">
            {t('datasets.format')}
          </label>
          <select id="dataset-format" value={format} onChange={(e) => setFormat(e.target.value as DatasetShape)}>
            {DATASET_SHAPES.map((f) => (
              <option key={f} value={f}>
                {formatLabel(f)}
              </option>
            ))}
          </select>
        </div>
        {COLUMNS_OF[format].map((key) => (
          <TextField key={key} label={t('wizard.columnLabel', { key: key.replace('_', ' ') })} size="sm" value={columns[key] ?? ''} onChange={(e) => setColumns((c) => ({ ...c, [key]: e.target.value }))} spellCheck={false} />
        ))}
      </div>
      {changed ? (
        <Button size="sm" disabled={running} onClick={() => onReimport(format, Object.fromEntries(COLUMNS_OF[format].filter((k) => columns[k]?.trim()).map((k) => [k, columns[k].trim()])))}>
          {t('wizard.importAgain')}
        </Button>
      ) : null}
    </fieldset>
  );
}

// ── 3. Template ───────────────────────────────────────────────────────────────────────────────────
function TemplateStep({ draft, update, model, dataset, fieldErrors, onProblem }: { draft: WizardDraft; update: Update; model: BaseModel; dataset: Dataset; fieldErrors: Partial<Record<keyof WizardDraft, string>>; onProblem: (reason: string | null) => void }) {
  const [example, setExample] = useState(0);
  const template = templateOf(draft);
  const templateOk = draft.templateKind !== 'prompt' || draft.promptTemplate.trim() !== '';
  const maxLength = Number(draft.maxSeqLength);
  const preview = useQuery('datasets.preview', {
    id: dataset.id,
    offset: Math.min(example, Math.max(0, dataset.examples - 1)),
    rows: 1,
    model: model.path,
    template: templateOk ? template : { kind: 'auto' },
    ...(Number.isInteger(maxLength) && maxLength > 0 ? { maxLength } : {}),
  });
  const placeholders = COLUMNS_OF[dataset.format].filter((k) => !k.endsWith('_key')).map((k) => `{${k}}`);
  // A row the template cannot render would fail the run at its start: Next waits, saying why and what to do, once
  // (beside Next; the example's own place says only that it is not shown, not the same error a second time).
  const failed = preview.state.status === 'ready' ? preview.state.data.rows.find((row) => row.error !== null) : undefined;
  const renderError = failed?.error ? sayPhrase(failed.errorPhrase, failed.error) : null;
  const problem = !templateOk
    ? t('wizard.typeTemplateFirst')
    : renderError
      ? t('wizard.cannotRender', { error: renderError, example: Math.min(example, dataset.examples - 1) + 1 })
      : null;
  useEffect(() => {
    onProblem(problem);
    return () => onProblem(null);
  }, [problem, onProblem]);
  return (
    <Card title={t('wizard.title.template')}>
      <div className="stack">
        <p className="muted">{t('wizard.templateIntro')}</p>
        <div className="choice-row" role="radiogroup" aria-label={t('wizard.step.template')}>
          <Choice
            name="template"
            checked={draft.templateKind === 'auto'}
            onChange={() => update({ templateKind: 'auto' })}
            title={t('wizard.chatTemplateTitle')}
            text={model.chatTemplate ? t('wizard.chatTemplateYes') : t('wizard.chatTemplateNo')}
          />
          <Choice name="template" checked={draft.templateKind === 'prompt'} onChange={() => update({ templateKind: 'prompt' })} title={t('wizard.promptTemplateTitle')} text={t('wizard.promptTemplateText')} />
          <Choice name="template" checked={draft.templateKind === 'plain'} onChange={() => update({ templateKind: 'plain' })} title={t('wizard.noTemplateTitle')} text={t('wizard.noTemplateText')} />
        </div>
        {draft.templateKind === 'prompt' ? (
          <div className="field">
            <label className="field-label" htmlFor="prompt-template">
              {t('wizard.promptTemplate')}
            </label>
            <textarea id="prompt-template" className="textarea" value={draft.promptTemplate} onChange={(e) => update({ promptTemplate: e.target.value })} aria-invalid={fieldErrors.promptTemplate ? true : undefined} spellCheck={false} />
            <span className="field-hint">{t('wizard.placeholders', { list: placeholders.join(', ') })}</span>
            {fieldErrors.promptTemplate ? <span className="field-error" role="alert">{fieldErrors.promptTemplate}</span> : null}
          </div>
        ) : null}
        {draft.templateKind === 'auto' && model.chatTemplate ? (
          <details className="config-details">
            <summary>{t('wizard.showChatTemplate')}</summary>
            <pre className="config-json">{model.chatTemplate}</pre>
          </details>
        ) : null}
        <div className="wizard-nav">
          <strong>
            {t('wizard.exampleOf', { index: Math.min(example, dataset.examples - 1) + 1, total: dataset.examples })}
          </strong>
          <span className="row">
            <Button size="sm" disabled={example === 0} onClick={() => setExample((n) => Math.max(0, n - 1))}>
              {t('wizard.previousExample')}
            </Button>
            <Button size="sm" disabled={example >= dataset.examples - 1} onClick={() => setExample((n) => Math.min(dataset.examples - 1, n + 1))}>
              {t('wizard.nextExample')}
            </Button>
          </span>
        </div>
        <QueryView state={preview.state} loadingLabel={t('wizard.rendering')} errorTitle={t('wizard.renderFailed')} onRetry={preview.reload}>
          {(data) =>
            data.rows[0]?.error ? (
              <p className="muted">{t('wizard.exampleNotShown')}</p>
            ) : data.rows[0] ? (
              <TokenView row={data.rows[0]} label={t('wizard.renderedExample')} />
            ) : (
              <p className="muted">{t('datasets.noRows')}</p>
            )
          }
        </QueryView>
      </div>
    </Card>
  );
}

// ── 4. Method and hyperparameters ─────────────────────────────────────────────────────────────────
// Read at render (a function, not a constant) so the texts follow a language change.
const methods = () =>
  [
    { id: 'lora', title: 'LoRA', text: t('wizard.method.lora') },
    { id: 'qlora', title: 'QLoRA', text: t('wizard.method.qlora') },
    { id: 'full', title: t('wizard.method.fullTitle'), text: t('wizard.method.full') },
  ] as const;

/** A preset's one-line summary; on the bundled model Balanced is the demo's recipe (see presetsFor). */
function presetSummary(id: PresetId, bundled: boolean): string {
  if (id !== 'balanced' || !bundled) return t(`wizard.presetSummary.${id}`);
  const r = BUNDLED_MODEL_RECIPE;
  return t('wizard.presetSummary.bundled', { r: r.lora.r, alpha: r.lora.lora_alpha, lr: r.learning_rate, steps: r.max_steps, batch: r.micro_batch_size, seqLength: r.max_seq_length });
}

function MethodStep({ project, draft, update, paths, fieldErrors, bundled }: { project: Project; draft: WizardDraft; update: Update; paths: { model: string; dataset: string }; fieldErrors: Partial<Record<keyof WizardDraft, string>>; bundled: boolean }) {
  const task = isEncoderTask(draft.task) ? draft.task : null;
  const presets = presetsFor(bundled && !task);
  const preset = matchingPreset(draft, presets);
  const field = (key: keyof typeof HINTS & keyof WizardDraft, label: string, extra: { disabled?: boolean; mode?: 'decimal' | 'numeric' | 'text' } = {}) => (
    <TextField
      label={label}
      value={draft[key] as string}
      onChange={(e) => update({ [key]: e.target.value })}
      hint={HINTS[key]}
      error={fieldErrors[key]}
      disabled={extra.disabled}
      inputMode={extra.mode ?? 'decimal'}
      spellCheck={false}
    />
  );
  const openEditor = () => {
    window.localStorage.setItem(CONFIG_EDITOR_KEY_PREFIX + project.id, JSON.stringify(draftToConfig(draft, paths)));
    window.location.hash = routeHref('new', 'config');
  };
  return (
    <Card title={task ? t('wizard.task.title.method') : t('wizard.title.method')} actions={<Button size="sm" variant="ghost" onClick={openEditor}>{t('wizard.editEverySetting')}</Button>}>
      <div className="stack">
        <div className="choice-row" role="radiogroup" aria-label={t('wizard.step.method')}>
          {methods().map((m) => (
            <Choice
              key={m.id}
              name="method"
              checked={draft.method === m.id}
              onChange={() => {
                if (task) return update({ method: m.id, ...(m.id === 'full' ? { learningRate: taskFullLearningRate(bundled) } : draft.method === 'full' ? { learningRate: String(taskDefaults(task, { family: '', bundled }).learningRate) } : {}) });
                update({ method: m.id, ...(m.id === 'full' ? { learningRate: '0.00002' } : draft.method === 'full' ? { learningRate: PRESETS.balanced.values.learningRate } : {}) });
              }}
              title={m.title}
              text={task && m.id !== 'full' ? t('wizard.task.methodHead', { text: m.text }) : m.text}
            />
          ))}
        </div>
        {draft.method !== 'full' && !task ? (
          <div className="choice-row" role="radiogroup" aria-label={t('wizard.presetLabel')}>
            {(Object.keys(presets) as PresetId[]).map((id) => (
              <Choice key={id} name="preset" checked={preset === id} onChange={() => update({ preset: id, ...presets[id].values })} title={t(`wizard.preset.${id}`)} text={presetSummary(id, bundled)} />
            ))}
          </div>
        ) : null}
        {preset === 'custom' && draft.method !== 'full' && !task ? <p className="muted">{t('wizard.custom')}</p> : null}
        <div className="form-grid form-grid-2">
          {draft.method !== 'full' ? (
            <>
              {field('r', t('wizard.field.r'), { mode: 'numeric' })}
              {field('alpha', t('wizard.field.alpha'))}
              {field('dropout', t('wizard.field.dropout'))}
              {field('targetModules', t('wizard.field.targetModules'), { mode: 'text' })}
              {task ? <TargetCheck draft={draft} paths={paths} /> : null}
            </>
          ) : null}
          {field('learningRate', t('run.learningRate'))}
          {field('epochs', t('quick.epochs'))}
          {field('maxSteps', t('quick.maxSteps'), { mode: 'numeric' })}
          {field('maxSeqLength', t('quick.maxSeqLength'), { mode: 'numeric' })}
          {field('microBatch', t('wizard.field.microBatch'), { mode: 'numeric' })}
          {field('gradAccum', t('wizard.field.gradAccum'), { mode: 'numeric' })}
          {field('warmupSteps', t('wizard.field.warmupSteps'), { mode: 'numeric' })}
          {task === 'question-answering' ? field('docStride', t('wizard.task.docStride'), { mode: 'numeric' }) : null}
          {task ? field('evalSteps', t('wizard.task.evalSteps'), { mode: 'numeric' }) : null}
          {task ? null : (
            <label className="choice">
              <input type="checkbox" checked={draft.packing} onChange={(e) => update({ packing: e.target.checked })} />
              <span>
                <span className="choice-title">{t('wizard.packShort')}</span>
                <span className="choice-text">{HINTS.packing}</span>
              </span>
            </label>
          )}
        </div>
      </div>
    </Card>
  );
}

/**
 * A task run's LoRA targets checked against the model as the method step is edited: a target the model lacks is
 * named with the modules it does have (the plan's own warning, as Review will show it).
 */
function TargetCheck({ draft, paths }: { draft: WizardDraft; paths: { model: string; dataset: string } }) {
  const client = useStudio();
  const check = useMemo(() => checkDraft(draft, paths), [draft, paths]);
  const key = check.config ? JSON.stringify(check.config) : null;
  const [said, setSaid] = useState<{ key: string; warnings: { message: string; phrase?: Parameters<typeof sayPhrase>[0] }[] } | null>(null);
  useEffect(() => {
    if (key === null) return;
    let live = true;
    const timer = setTimeout(() => {
      client.invoke('models.plan', { config: JSON.parse(key) as RunConfig }).then(
        (plan) => live && setSaid({ key, warnings: plan.warnings.filter((w) => w.field === 'lora.target_modules') }),
        () => undefined,
      );
    }, 400);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [client, key]);
  if (!said || said.key !== key || said.warnings.length === 0) return null;
  return (
    <ul className="warning-list task-target-warnings" aria-label={t('wizard.task.targetWarnings')}>
      {said.warnings.map((w) => (
        <li key={w.message} role="alert">
          <code>lora.target_modules</code> {sayPhrase(w.phrase, w.message)}
        </li>
      ))}
    </ul>
  );
}

// ── 5. Review and start ───────────────────────────────────────────────────────────────────────────
function ReviewStep({ project, draft, update, paths }: { project: Project; draft: WizardDraft; update: Update; paths: { model: string; dataset: string } }) {
  const check = useMemo(() => checkDraft(draft, paths), [draft, paths]);
  if (!check.config) {
    const bad = stepsFor(draft.task).find((s) => s.id === check.firstBadStep);
    return (
      <Card title={isEncoderTask(draft.task) ? t('wizard.task.title.review') : t('wizard.title.review')}>
        <Banner title={t('wizard.needsFixing')} actions={bad ? <Button size="sm" onClick={() => update({ step: bad.id })}>{t('wizard.goTo', { step: t(`wizard.step.${bad.id}`) })}</Button> : undefined}>
          <ul className="plain-list">
            {Object.entries(check.fieldErrors).map(([k, v]) => (
              <li key={k}>{v}</li>
            ))}
            {check.otherErrors.map((e) => (
              <li key={e}>{e}</li>
            ))}
          </ul>
        </Banner>
      </Card>
    );
  }
  return <Review project={project} draft={draft} update={update} config={check.config} />;
}

function Review({ project, draft, update, config }: { project: Project; draft: WizardDraft; update: Update; config: NonNullable<ReturnType<typeof checkDraft>['config']> }) {
  const client = useStudio();
  const plan = useQuery('models.plan', { config });
  const [starting, setStarting] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const start = async () => {
    setStarting(true);
    setError(null);
    try {
      const run = await client.invoke('runs.start', { projectId: project.id, config, ...(draft.runName.trim() ? { name: draft.runName.trim() } : {}) });
      window.localStorage.removeItem(DRAFT_KEY_PREFIX + project.id);
      window.location.hash = routeHref('runs', run.id);
    } catch (e) {
      setError(toStudioApiError(e).message);
      setStarting(false);
    }
  };
  return (
    <Card title={isEncoderTask(draft.task) ? t('wizard.task.title.reviewStart') : t('wizard.title.reviewStart')}>
      <QueryView state={plan.state} loadingLabel={t('wizard.planning')} errorTitle={t('wizard.planFailed')} onRetry={plan.reload}>
        {(p) => (
          <div className="stack">
            <dl className="summary-grid" aria-label={t('wizard.runEstimate')}>
              <div>
                <dt>{t('wizard.trainableParameters')}</dt>
                <dd>{formatCount(p.trainableParameters)}</dd>
              </div>
              <div>
                <dt>{t('wizard.modelShare')}</dt>
                <dd>{formatShare(p.trainableShare)}</dd>
              </div>
              <div>
                <dt>{t('wizard.memoryEstimate')}</dt>
                <dd>{formatBytes(p.memory.bytes)}</dd>
              </div>
              <div>
                <dt>{t('wizard.timeEstimate')}</dt>
                <dd>{p.time.seconds === null ? t('wizard.unknown') : formatSeconds(p.time.seconds)}</dd>
              </div>
            </dl>
            <p>
              {t('wizard.reviewSummary', {
                what: config.method === 'full' ? t('wizard.method.fullTitle') : t('wizard.reviewLora', { method: config.method === 'qlora' ? 'QLoRA' : 'LoRA', r: config.lora.r, alpha: config.lora.lora_alpha, modules: p.targetedModules, layers: p.targetedLayers }),
                architecture: p.model.architecture,
                parameters: formatCount(p.model.parameterCount),
                steps: p.time.steps,
                data: p.dataset ? t('wizard.reviewData', { examples: p.dataset.trainExamples, tokens: Math.round(p.dataset.meanTokens) }) : t('wizard.reviewDataUnknown'),
              })}
              {isEncoderTask(draft.task) ? ` ${t('wizard.task.reviewHead', { task: draft.task, full: config.method === 'full' })}` : ''}
            </p>
            {p.warnings.length > 0 ? (
              <section aria-label={t('wizard.warnings')} className="stack">
                <h3 className="card-title">{t('wizard.warnings')}</h3>
                <ul className="warning-list">
                  {p.warnings.map((w) => (
                    <li key={w.message}>
                      {w.field ? <code>{w.field}</code> : null} {sayPhrase(w.phrase, w.message)}
                    </li>
                  ))}
                </ul>
              </section>
            ) : (
              <p className="muted">{t('wizard.noWarnings')}</p>
            )}
            <details className="config-details">
              <summary>{t('wizard.howEstimates')}</summary>
              <div className="stack">
                <ul className="memory-parts">
                  {p.memory.parts.map((part) => (
                    <li key={part.label}>
                      <span>{sayPhrase(part.labelPhrase, part.label)}</span>
                      <span>{formatBytes(part.bytes)}</span>
                    </li>
                  ))}
                </ul>
                <p className="formula">{t('wizard.memoryFormula', { formula: sayPhrase(p.memory.formulaPhrase, p.memory.formula) })}</p>
                <p className="formula">{t('wizard.timeFormula', { formula: sayPhrase(p.time.formulaPhrase, p.time.formula) })}</p>
              </div>
            </details>
            <form className="field-row" onSubmit={(e) => (e.preventDefault(), void start())}>
              <TextField label={t('run.name')} value={draft.runName} onChange={(e) => update({ runName: e.target.value })} placeholder={t('wizard.runNamePlaceholder')} hint={t('wizard.runNameHint')} />
              <Button type="submit" variant="primary" icon="spark" busy={starting} disabled={p.warnings.some((w) => w.blocking)}>
                {t('quick.start')}
              </Button>
            </form>
            {error ? <Banner title={t('quick.notStarted')}>{error}</Banner> : null}
          </div>
        )}
      </QueryView>
    </Card>
  );
}

// ── shared ────────────────────────────────────────────────────────────────────────────────────────
function Choice({ name, checked, onChange, title, text }: { name: string; checked: boolean; onChange: () => void; title: string; text: ReactNode }) {
  return (
    <label className="choice">
      <input type="radio" name={name} checked={checked} onChange={onChange} />
      <span>
        <span className="choice-title">{title}</span>
        <span className="choice-text">{text}</span>
      </span>
    </label>
  );
}

export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}K`;
  return String(n);
}

/** The trainable share, written like every share in the UI (format.ts formatPercent: "3.5%", "0.12%"). */
export function formatShare(share: number): string {
  return formatPercent(share);
}

function formatSeconds(s: number): string {
  if (s < 60) return `${Math.max(1, Math.round(s))} ${t('unit.s')}`;
  if (s < 3600) return `${Math.round(s / 60)} ${t('unit.min')}`;
  return `${(s / 3600).toFixed(1)} ${t('unit.h')}`;
}

/** A message with {name} slots whose values are shown in bold (the words around them differ by language). */
function withBold(message: string, values: Record<string, number | string>): ReactNode[] {
  return message.split(/\{(\w+)\}/).map((part, i) => (i % 2 === 1 ? <strong key={i}>{values[part]}</strong> : part));
}
