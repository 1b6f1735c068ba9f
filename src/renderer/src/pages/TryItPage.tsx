// "Try it" for encoder task models (issue 14): a finished classification or question-answering run (or a model
// folder with a task adapter) answers one input, and its base answers the same input beside it — label
// probabilities as bars, or the answer span highlighted in the context with its score. One `tasks.predict` call
// does both sides (a `task` job in the worker); its error shows as the call's message, never a stack.
import { useState, type FormEvent } from 'react';
import type { Project } from '../../../common/api/projects.ts';
import type { Run, RunTask } from '../../../common/api/runs.ts';
import type { PredictRequest, PredictResult, TaskAnswer } from '../../../common/api/tasks.ts';
import { toStudioApiError } from '../api/client.ts';
import { useQuery } from '../api/hooks.ts';
import { Banner, Button, Card, PageHeader, TextField } from '../components/index.ts';
import { basename, formatPercent } from '../format.ts';
import { useLocation } from '../state/location.ts';
import { useStudio } from '../state/studio.tsx';
import { ProjectGate } from './ProjectGate.tsx';
import { t } from '../i18n/t.ts';
import './TryIt.css';

type EncoderTask = Exclude<RunTask, 'causal-lm'>;
type Source = 'run' | 'folder';

/** A finished encoder task run that left something to answer with (an adapter, or a fully tuned model folder). */
export function tryableRun(run: Run): boolean {
  return run.status === 'succeeded' && run.config.task !== 'causal-lm' && run.summary?.adapterPath != null;
}

/** The model a run answers with: LoRA-style runs are base + adapter (the base answers beside them); a full
 *  fine-tune's folder is its own model, with no base side to compare. */
function runModel(run: Run): Pick<PredictRequest, 'model' | 'adapterPath' | 'compareBase' | 'maxLength'> {
  const output = run.summary?.adapterPath ?? '';
  const maxLength = run.config.max_seq_length;
  return run.config.method === 'full'
    ? { model: output, adapterPath: null, compareBase: false, maxLength }
    : { model: run.config.model, adapterPath: output, compareBase: true, maxLength };
}

export function TryItPage() {
  const [runId = ''] = useLocation().params;
  return (
    <>
      <PageHeader title={t('nav.try')} description={t('tryIt.description')} />
      <ProjectGate pageTitle={t('nav.try')} icon="spark" will={[t('tryIt.will')]}>
        {(project) => <TryItWorkspace key={`${project.id}/${runId}`} project={project} initialRunId={runId} />}
      </ProjectGate>
    </>
  );
}

/** Keyed by the project and the run in the address, so a link to another run starts afresh with that run. */
function TryItWorkspace({ project, initialRunId }: { project: Project; initialRunId: string }) {
  const client = useStudio();
  const runs = useQuery('runs.list', { projectId: project.id });
  const taskRuns = runs.state.status === 'ready' ? runs.state.data.filter(tryableRun) : [];

  const [source, setSource] = useState<Source>('run');
  const [runId, setRunId] = useState(initialRunId);
  const [model, setModel] = useState('');
  const [adapter, setAdapter] = useState('');
  const [folderTask, setFolderTask] = useState<EncoderTask>('classification');
  const [text, setText] = useState('');
  const [textPair, setTextPair] = useState('');
  const [question, setQuestion] = useState('');
  const [context, setContext] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<{ answer: PredictResult; context: string } | null>(null);

  const run = taskRuns.find((r) => r.id === runId) ?? taskRuns[0] ?? null;
  const task: EncoderTask | null = source === 'folder' ? folderTask : run ? (run.config.task as EncoderTask) : null;

  function request(): PredictRequest | string {
    if (!task) return t('tryIt.noRun');
    const input: PredictRequest['input'] =
      task === 'classification'
        ? { kind: 'classification', text: text.trim(), text_pair: textPair.trim() === '' ? null : textPair.trim() }
        : { kind: 'question-answering', question: question.trim(), context };
    if (input.kind === 'classification' ? input.text === '' : input.question === '' || context.trim() === '')
      return input.kind === 'classification' ? t('tryIt.needText') : t('tryIt.needQuestion');
    const defaults = { docStride: 128, maxAnswerLength: 30 };
    if (source === 'run') {
      if (!run) return t('tryIt.noRun');
      const qa = run.config.question_answering;
      return {
        ...defaults,
        ...runModel(run),
        ...(qa ? { docStride: qa.doc_stride, maxAnswerLength: qa.max_answer_length } : {}),
        input,
      };
    }
    if (model.trim() === '') return t('tryIt.needModel');
    const adapterPath = adapter.trim() === '' ? null : adapter.trim();
    return { ...defaults, model: model.trim(), adapterPath, compareBase: adapterPath !== null, maxLength: 384, input };
  }

  async function predict(event: FormEvent) {
    event.preventDefault();
    const built = request();
    if (typeof built === 'string') return setError(built);
    setBusy(true);
    setError(null);
    try {
      const answer = await client.invoke('tasks.predict', built);
      setResult({ answer, context: built.input.kind === 'question-answering' ? built.input.context : '' });
    } catch (err) {
      setResult(null);
      setError(toStudioApiError(err).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="stack">
      <Card title={t('tryIt.ask')}>
        <form className="form-grid" onSubmit={(event) => void predict(event)} aria-label={t('tryIt.ask')}>
          <fieldset className="field">
            <legend className="field-label">{t('tryIt.answerWith')}</legend>
            <label>
              <input type="radio" name="try-source" checked={source === 'run'} onChange={() => setSource('run')} />{' '}
              {t('tryIt.aRun')}
            </label>{' '}
            <label>
              <input
                type="radio"
                name="try-source"
                checked={source === 'folder'}
                onChange={() => setSource('folder')}
              />{' '}
              {t('tryIt.aFolder')}
            </label>
          </fieldset>
          {source === 'run' ? (
            <div className="field">
              <label className="field-label" htmlFor="try-run">
                {t('compare.run')}
              </label>
              <select
                id="try-run"
                value={run?.id ?? ''}
                onChange={(event) => (setRunId(event.target.value), setResult(null))}
                disabled={taskRuns.length === 0}
              >
                {taskRuns.length === 0 ? <option value="">{t('tryIt.noTaskRun')}</option> : null}
                {taskRuns.map((r) => (
                  <option key={r.id} value={r.id}>
                    {t('tryIt.runOption', { name: r.name, task: taskName(r.config.task as EncoderTask) })}
                  </option>
                ))}
              </select>
            </div>
          ) : (
            <>
              <TextField label={t('tryIt.model')} value={model} onChange={(e) => setModel(e.target.value)} />
              <TextField
                label={t('tryIt.adapter')}
                hint={t('tryIt.adapterHint')}
                value={adapter}
                onChange={(e) => setAdapter(e.target.value)}
              />
              <div className="field">
                <label className="field-label" htmlFor="try-task">
                  {t('tryIt.task')}
                </label>
                <select
                  id="try-task"
                  value={folderTask}
                  onChange={(event) => (setFolderTask(event.target.value as EncoderTask), setResult(null))}
                >
                  <option value="classification">{taskName('classification')}</option>
                  <option value="question-answering">{taskName('question-answering')}</option>
                </select>
              </div>
            </>
          )}
          {task === 'question-answering' ? (
            <>
              <div className="field">
                <label className="field-label" htmlFor="try-context">
                  {t('tryIt.context')}
                </label>
                <textarea
                  id="try-context"
                  className="textarea"
                  value={context}
                  onChange={(e) => setContext(e.target.value)}
                />
              </div>
              <TextField label={t('tryIt.question')} value={question} onChange={(e) => setQuestion(e.target.value)} />
            </>
          ) : (
            <>
              <div className="field">
                <label className="field-label" htmlFor="try-text">
                  {t('tryIt.text')}
                </label>
                <textarea id="try-text" className="textarea" value={text} onChange={(e) => setText(e.target.value)} />
              </div>
              <TextField
                label={t('tryIt.textPair')}
                hint={t('tryIt.textPairHint')}
                value={textPair}
                onChange={(e) => setTextPair(e.target.value)}
              />
            </>
          )}
          <div className="row">
            <Button variant="primary" type="submit" busy={busy} disabled={task === null}>
              {t('tryIt.predict')}
            </Button>
          </div>
        </form>
        {error ? <Banner title={t('tryIt.failed')}>{error}</Banner> : null}
      </Card>
      {result ? <Answers result={result.answer} context={result.context} /> : null}
    </div>
  );
}

function taskName(task: EncoderTask): string {
  return task === 'classification' ? t('tryIt.taskClassification') : t('tryIt.taskQuestionAnswering');
}

function Answers({ result, context }: { result: PredictResult; context: string }) {
  return (
    <Card title={t('tryIt.answers', { model: basename(result.model) })}>
      {result.warnings.map((warning) => (
        <Banner key={warning} tone="info" title={t('tryIt.warning')}>
          {warning}
        </Banner>
      ))}
      <div className="try-sides">
        <Side title={t('tryIt.base')} answer={result.base} context={context} />
        <Side title={t('tryIt.tuned')} answer={result.tuned} context={context} />
      </div>
    </Card>
  );
}

function Side({ title, answer, context }: { title: string; answer: TaskAnswer | null; context: string }) {
  return (
    <section className="try-side" aria-label={title}>
      <h3>{title}</h3>
      {answer === null ? (
        <p className="muted">{t('tryIt.noBase')}</p>
      ) : answer.kind === 'classification' ? (
        <>
          <p>{t('tryIt.predicted', { label: answer.label })}</p>
          <ul className="try-probabilities" aria-label={t('tryIt.probabilities', { side: title })}>
            {answer.probabilities.map((p) => (
              <li key={p.label}>
                <span className="try-label">{p.label}</span>
                <span
                  className="try-bar"
                  role="meter"
                  aria-label={p.label}
                  aria-valuemin={0}
                  aria-valuemax={1}
                  aria-valuenow={p.probability}
                >
                  <span style={{ width: `${(p.probability * 100).toFixed(1)}%` }} />
                </span>
                <span className="try-value">{formatPercent(p.probability)}</span>
              </li>
            ))}
          </ul>
        </>
      ) : (
        <>
          <p>
            {answer.text === ''
              ? t('tryIt.noAnswer')
              : t('tryIt.answer', { text: answer.text, score: answer.score, probability: answer.probability })}
          </p>
          <p className="try-context" aria-label={t('tryIt.contextWithAnswer', { side: title })}>
            {answer.start !== null && answer.end !== null ? (
              <>
                {context.slice(0, answer.start)}
                <mark>{context.slice(answer.start, answer.end)}</mark>
                {context.slice(answer.end)}
              </>
            ) : (
              context
            )}
          </p>
        </>
      )}
    </section>
  );
}
