// The wizard's encoder-task paths (issue 14): what to teach (chat / instructions, classify text, answer questions
// from a text), the encoder models on offer and the refusal of a model that cannot learn the chosen task, and the
// dataset step of a task run — the file the run reads itself (nothing is imported), its columns, the label list the
// core found with rows per label (or a regression target's range), SQuAD's layout, and the rows left out.
import { useEffect, useState, type ReactNode } from 'react';
import type { BaseModel } from '../../../../common/api/models.ts';
import { isEncoderFamily, type TaskDataReport, type TaskDataRequest } from '../../../../common/api/task-data.ts';
import { toStudioApiError } from '../../api/client.ts';
import { useQuery } from '../../api/hooks.ts';
import { Banner, Button, Card, TextField } from '../../components/index.ts';
import { formatNumber, t } from '../../i18n/t.ts';
import { useStudio } from '../../state/studio.tsx';
import { BrowseButton } from './BrowseButton.tsx';
import { TASKS, type WizardDraft, type WizardTask } from './draft.ts';
import { ProblemList } from './preview-parts.tsx';

type Update = (patch: Partial<WizardDraft>) => void;
const DATA_EXTENSIONS = ['jsonl', 'json', 'csv', 'tsv', 'parquet'];

function Radio({ name, checked, onChange, title, text }: { name: string; checked: boolean; onChange: () => void; title: string; text: ReactNode }) {
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

/** The first question: what the model should learn. */
export function TaskChoice({ task, onChange }: { task: WizardTask; onChange: (task: WizardTask) => void }) {
  return (
    <fieldset className="settings-fieldset">
      <legend>{t('wizard.task.question')}</legend>
      <div className="choice-row" role="radiogroup" aria-label={t('wizard.task.question')}>
        {TASKS.map((id) => (
          <Radio key={id} name="task" checked={task === id} onChange={() => onChange(id)} title={t(`wizard.task.${id}.title`)} text={t(`wizard.task.${id}.text`)} />
        ))}
      </div>
    </fieldset>
  );
}

/** Why this model cannot learn this task (a decoder for an encoder task, or the other way round); null when it can. */
export function modelMismatch(task: WizardTask, model: Pick<BaseModel, 'family' | 'architecture'>): string | null {
  const encoder = isEncoderFamily(model.family);
  if (task === 'causal-lm')
    return encoder ? t('wizard.task.needsDecoder', { architecture: model.architecture }) : null;
  return encoder ? null : t('wizard.task.needsEncoder', { architecture: model.architecture, task: t(`wizard.task.${task}.title`) });
}

/** The encoders on offer for a task: the bundled one as a card, and Hub ids that fill the download field. */
export function EncoderCards({ selectedPath, onChoose, onHubRepo }: { selectedPath: string | null; onChoose: (model: BaseModel) => void; onHubRepo: (repo: string) => void }) {
  const client = useStudio();
  const suggestions = useQuery('taskData.suggestions', {});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (suggestions.state.status !== 'ready') return null;
  const { encoderPath, hubRepos } = suggestions.state.data;
  const choose = async (path: string) => {
    setBusy(true);
    setError(null);
    try {
      onChoose(await client.invoke('models.open', { path }));
    } catch (e) {
      setError(toStudioApiError(e).message);
    } finally {
      setBusy(false);
    }
  };
  const name = t('wizard.task.bundledEncoder');
  const selected = encoderPath !== null && selectedPath === encoderPath;
  return (
    <section aria-label={t('wizard.task.encodersLabel')} className="stack">
      {encoderPath ? (
        <ul className="suggestion-cards">
          <li className={['suggestion-card', selected ? 'suggestion-card-selected' : ''].join(' ')} aria-label={name}>
            <span className="choice-title">{name}</span>
            <span className="muted">{t('suggest.origin.bundled')}</span>
            <span>{t('wizard.task.bundledEncoderText')}</span>
            <Button size="sm" variant={selected ? 'secondary' : 'primary'} busy={busy} disabled={selected} onClick={() => void choose(encoderPath)} aria-label={selected ? t('suggest.isSelected', { name }) : t('suggest.use', { name })}>
              {selected ? t('suggest.selected') : t('suggest.useModel')}
            </Button>
          </li>
        </ul>
      ) : null}
      <div className="stack">
        <span className="muted">{t('wizard.task.hubEncoders')}</span>
        <div className="task-hub-repos">
          {hubRepos.map((repo) => (
            <Button key={repo} size="sm" variant="ghost" onClick={() => onHubRepo(repo)}>
              {repo}
            </Button>
          ))}
        </div>
      </div>
      {error ? <Banner title={t('suggest.openFailed')}>{error}</Banner> : null}
    </section>
  );
}

type Inspection = { status: 'idle' } | { status: 'loading' } | { status: 'ready'; report: TaskDataReport } | { status: 'error'; message: string };

/** taskData.inspect for the draft's file and columns (debounced while typing); idle without a file. */
function useInspection(request: TaskDataRequest | null): Inspection {
  const client = useStudio();
  const [state, setState] = useState<Inspection>({ status: 'idle' });
  const key = request ? JSON.stringify(request) : null;
  useEffect(() => {
    if (key === null) return setState({ status: 'idle' });
    let live = true;
    setState({ status: 'loading' });
    const timer = setTimeout(() => {
      client.invoke('taskData.inspect', JSON.parse(key) as TaskDataRequest).then(
        (report) => live && setState({ status: 'ready', report }),
        (e: unknown) => live && setState({ status: 'error', message: toStudioApiError(e).message }),
      );
    }, 300);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [client, key]);
  return state;
}

const blank = (s: string) => (s.trim() === '' ? undefined : s.trim());

/** The draft's task settings as taskData.inspect takes them (the same the run config gets). */
function inspectRequest(draft: WizardDraft, path: string, labels: string[] | null): TaskDataRequest | null {
  if (draft.task === 'causal-lm' || path.trim() === '') return null;
  const names = draft.labelNames.split(',').map((l) => l.trim()).filter(Boolean);
  return {
    task: draft.task,
    path: path.trim(),
    classification: {
      text_column: blank(draft.textColumn) ?? null,
      text_pair_column: blank(draft.textPairColumn) ?? null,
      label_column: blank(draft.labelColumn) ?? 'label',
      labels: names.length >= 2 ? names : null,
    },
    question_answering: {
      question_column: blank(draft.questionColumn) ?? 'question',
      context_column: blank(draft.contextColumn) ?? 'context',
      answers_column: blank(draft.answersColumn) ?? 'answers',
      id_column: 'id',
      doc_stride: 128,
      max_answer_length: 30,
      n_best_size: 20,
      version_2_with_negative: draft.squadV2,
      null_score_diff_threshold: 0,
    },
    labels,
  };
}

/** Step 2 of a task run: the training file, its columns and labels (or QA columns), the eval rows. */
export function TaskDatasetStep({ draft, update, fieldErrors, onProblem }: { draft: WizardDraft; update: Update; fieldErrors: Partial<Record<keyof WizardDraft, string>>; onProblem: (problem: string | null) => void }) {
  const suggestions = useQuery('taskData.suggestions', {});
  const [browseError, setBrowseError] = useState<string | null>(null);
  const train = useInspection(inspectRequest(draft, draft.taskDataPath, null));
  const trainLabels = train.status === 'ready' && train.report.classification?.problemType === 'single_label_classification' ? train.report.classification.labels.map((l) => l.name) : null;
  const evalInspection = useInspection(draft.evalKind === 'file' && train.status === 'ready' ? inspectRequest(draft, draft.evalFile, trainLabels) : null);
  const qa = draft.task === 'question-answering';

  const problem =
    draft.taskDataPath.trim() === '' ? t('wizard.task.chooseFile') : train.status === 'error' ? train.message : train.status === 'ready' ? (evalInspection.status === 'error' ? evalInspection.message : null) : t('wizard.task.reading');
  useEffect(() => {
    onProblem(problem);
    return () => onProblem(null);
  }, [problem, onProblem]);

  const cards = suggestions.state.status === 'ready' ? suggestions.state.data.datasets.filter((d) => d.task === draft.task) : [];
  const text = (key: keyof WizardDraft, label: string, hint: string, placeholder: string) => (
    <TextField label={label} size="sm" value={draft[key] as string} onChange={(e) => update({ [key]: e.target.value })} hint={hint} placeholder={placeholder} error={fieldErrors[key]} spellCheck={false} />
  );
  const report = train.status === 'ready' ? train.report : null;
  const problems = (report?.problemCount ?? 0) + (evalInspection.status === 'ready' ? evalInspection.report.problemCount : 0);

  return (
    <Card title={t(qa ? 'wizard.task.title.datasetQa' : 'wizard.task.title.dataset')}>
      <div className="stack">
        <p className="muted">{t(qa ? 'wizard.task.datasetIntroQa' : 'wizard.task.datasetIntro')}</p>
        {cards.length > 0 ? (
          <ul className="suggestion-cards" aria-label={t('suggest.datasetsLabel')}>
            {cards.map((c) => {
              const name = t(qa ? 'wizard.task.bundledSquad' : 'wizard.task.bundledSst2');
              return (
                <li key={c.path} className="suggestion-card" aria-label={name}>
                  <span className="choice-title">{name}</span>
                  <span>{t(qa ? 'wizard.task.bundledSquadText' : 'wizard.task.bundledSst2Text')}</span>
                  <Button
                    size="sm"
                    variant="primary"
                    aria-label={t('suggest.use', { name })}
                    onClick={() => update({ taskDataPath: c.path, ...(c.evalPath ? { evalKind: 'file' as const, evalFile: c.evalPath } : {}), ...(qa ? {} : { labelNames: 'negative, positive' }) })}
                  >
                    {t('suggest.useDataset')}
                  </Button>
                </li>
              );
            })}
          </ul>
        ) : null}
        <div className="field-row">
          <TextField label={t('wizard.task.trainFile')} value={draft.taskDataPath} onChange={(e) => update({ taskDataPath: e.target.value })} placeholder={qa ? '/home/me/data/train-v1.1.json' : '/home/me/data/sst2-train.jsonl'} hint={t(qa ? 'wizard.task.trainFileHintQa' : 'wizard.task.trainFileHint')} error={fieldErrors.taskDataPath ?? browseError} spellCheck={false} />
          <BrowseButton kind="file" title={t('datasets.chooseFile')} extensions={DATA_EXTENSIONS} onPick={(path) => update({ taskDataPath: path })} onError={setBrowseError} />
        </div>
        <fieldset className="settings-fieldset">
          <legend>{t('wizard.task.columns')}</legend>
          <div className="field-row">
            {qa ? (
              <>
                {text('questionColumn', t('wizard.task.questionColumn'), t('wizard.task.defaultIs', { name: 'question' }), 'question')}
                {text('contextColumn', t('wizard.task.contextColumn'), t('wizard.task.defaultIs', { name: 'context' }), 'context')}
                {text('answersColumn', t('wizard.task.answersColumn'), t('wizard.task.answersHint'), 'answers')}
              </>
            ) : (
              <>
                {text('textColumn', t('wizard.task.textColumn'), t('wizard.task.textColumnHint'), 'sentence')}
                {text('textPairColumn', t('wizard.task.pairColumn'), t('wizard.task.pairColumnHint'), '')}
                {text('labelColumn', t('wizard.task.labelColumn'), t('wizard.task.defaultIs', { name: 'label' }), 'label')}
              </>
            )}
          </div>
          {qa ? (
            <div className="task-check">
              <label className="choice">
                <input type="checkbox" checked={draft.squadV2} onChange={(e) => update({ squadV2: e.target.checked })} />
                <span>
                  <span className="choice-title">{t('wizard.task.squadV2')}</span>
                  <span className="choice-text">{t('wizard.task.squadV2Text')}</span>
                </span>
              </label>
            </div>
          ) : (
            <TextField label={t('wizard.task.labelNames')} value={draft.labelNames} onChange={(e) => update({ labelNames: e.target.value })} hint={t('wizard.task.labelNamesHint')} placeholder="negative, positive" error={fieldErrors.labelNames} spellCheck={false} />
          )}
        </fieldset>
        {train.status === 'loading' ? <p className="muted">{t('wizard.task.reading')}</p> : null}
        {train.status === 'error' ? <Banner title={t('wizard.task.unreadable')}>{train.message}</Banner> : null}
        {report ? <TaskDataSummary report={report} /> : null}
        {report ? (
          <>
            <div className="choice-row" role="radiogroup" aria-label={t('wizard.heldOutRows')}>
              <Radio name="eval-kind" checked={draft.evalKind === 'ratio'} onChange={() => update({ evalKind: 'ratio' })} title={t('wizard.holdOutTitle')} text={t('wizard.holdOutText')} />
              <Radio name="eval-kind" checked={draft.evalKind === 'file'} onChange={() => update({ evalKind: 'file' })} title={t('wizard.evalFileTitle')} text={t('wizard.evalFileText')} />
            </div>
            <div className="field-row">
              {draft.evalKind === 'file' ? (
                <TextField label={t('wizard.evalFile')} value={draft.evalFile} onChange={(e) => update({ evalFile: e.target.value })} hint={t('wizard.evalFileHint')} error={fieldErrors.evalFile} spellCheck={false} />
              ) : (
                <TextField label={t('quick.evalShare')} value={draft.evalRatio} onChange={(e) => update({ evalRatio: e.target.value })} hint={t('wizard.evalShareHint')} error={fieldErrors.evalRatio} inputMode="decimal" />
              )}
              <TextField label={t('run.seed')} value={draft.seed} onChange={(e) => update({ seed: e.target.value })} error={fieldErrors.seed} inputMode="numeric" />
            </div>
            {evalInspection.status === 'error' ? <Banner title={t('wizard.task.evalUnreadable')}>{evalInspection.message}</Banner> : null}
            {evalInspection.status === 'ready' ? (
              <section aria-label={t('wizard.task.evalRows')} className="stack">
                <p>{t('wizard.task.evalSummary', { examples: evalInspection.report.examples, file: evalInspection.report.file, qa })}</p>
                {evalInspection.report.problemCount > 0 ? <ProblemList problems={evalInspection.report.problems} total={evalInspection.report.problemCount} /> : null}
              </section>
            ) : null}
            {problems > 0 ? (
              <div className="task-check">
                <label className="choice">
                  <input type="checkbox" checked={draft.skipBadRows} onChange={(e) => update({ skipBadRows: e.target.checked })} />
                  <span>
                    <span className="choice-title">{t('wizard.task.skipBadRows', { count: problems })}</span>
                    <span className="choice-text">{t('wizard.task.skipBadRowsText')}</span>
                  </span>
                </label>
              </div>
            ) : null}
          </>
        ) : null}
      </div>
    </Card>
  );
}

/** What the core read: usable rows, the label list with rows per label (or a regression range), SQuAD's layout. */
function TaskDataSummary({ report }: { report: TaskDataReport }) {
  const c = report.classification;
  const q = report.questionAnswering;
  const top = c ? Math.max(1, ...c.labels.map((l) => l.count)) : 1;
  return (
    <section aria-label={t('wizard.task.found')} className="stack">
      <dl className="summary-grid">
        <div>
          <dt>{t(q ? 'wizard.task.questions' : 'wizard.usableRows')}</dt>
          <dd>{formatNumber(report.examples)}</dd>
        </div>
        <div>
          <dt>{t('wizard.badRows')}</dt>
          <dd>{formatNumber(report.problemCount)}</dd>
        </div>
        {c ? (
          <div>
            <dt>{t('wizard.task.kind')}</dt>
            <dd>{t(`wizard.task.kind.${c.problemType === 'regression' ? 'regression' : c.labelKind}`)}</dd>
          </div>
        ) : null}
        {q ? (
          <div>
            <dt>{t('wizard.task.layout')}</dt>
            <dd>{t(q.layout === 'squad-nested' ? 'wizard.task.layoutNested' : 'wizard.task.layoutFlat')}</dd>
          </div>
        ) : null}
      </dl>
      {c ? (
        <p className="muted">
          {t('wizard.task.columnsRead', { text: c.textColumn, pair: c.textPairColumn ?? '', label: c.labelColumn })}
        </p>
      ) : null}
      {c && c.problemType === 'single_label_classification' ? (
        <table className="table label-table" aria-label={t('wizard.task.labelList')}>
          <thead>
            <tr>
              <th scope="col">{t('wizard.task.classId')}</th>
              <th scope="col">{t('wizard.task.label')}</th>
              <th scope="col">{t('wizard.task.rows')}</th>
            </tr>
          </thead>
          <tbody>
            {c.labels.map((l, i) => (
              <tr key={l.name}>
                <td>{i}</td>
                <td>{l.name}</td>
                <td>
                  <span className="label-count">
                    <span className="label-bar" style={{ width: `${(l.count / top) * 100}%` }} />
                    {formatNumber(l.count)}
                  </span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {c?.target ? <p>{t('wizard.task.regression', { min: c.target.min, max: c.target.max, mean: c.target.mean })}</p> : null}
      {q ? <p>{t('wizard.task.qaSummary', { answers: q.answers, contexts: q.contexts, unanswerable: q.unanswerable })}</p> : null}
      {report.problemCount > 0 ? <ProblemList problems={report.problems} total={report.problemCount} /> : null}
    </section>
  );
}
