// "Fusion vs singles" on the Evaluate page (issue 15): for a finished combination run, one job measures each adapter
// alone, their uniform average and the learned combination (weights or attention) on the run's held-out split — or
// on the project's datasets and eval files the user ticks or types, one column each (per-task evaluation) — and
// shows them side by side, the best of each column marked. The same job as
// `lora-studio eval --run <id> --singles [--task-eval file]…`.
import { useState } from 'react';
import type { Dataset } from '../../../common/api/datasets.ts';
import type { FusionEvalResult } from '../../../common/api/fusion-eval.ts';
import type { Project } from '../../../common/api/projects.ts';
import type { Run } from '../../../common/api/runs.ts';
import { toStudioApiError } from '../api/client.ts';
import { useEvent, useQuery } from '../api/hooks.ts';
import { Banner, Button, Card, ProgressBar } from '../components/index.ts';
import { basename, formatMetric } from '../format.ts';
import { t } from '../i18n/t.ts';
import { sayPhrase } from '../i18n/phrase.ts';
import { useStudio } from '../state/studio.tsx';
import { useJobEnd } from './useJobEnd.ts';

/** Finished combination runs of the project (fuse, or Learn a combination…). */
function combinationRuns(runs: Run[]): Run[] {
  return runs.filter((r) => r.status === 'succeeded' && r.config.fusion);
}

/** The most eval sets one comparison takes (fusionEval.start's `datasets`). */
const MAX_SETS = 16;

/** The run's own held-out rows, in the words the other Evaluate cards use. */
function heldOutLabel(run: Run): string {
  const split = run.config.dataset.eval_split;
  if (split.kind === 'file') return t('evalStart.evalFile', { file: basename(split.path) });
  if (split.kind === 'ratio')
    return t('evalStart.heldOutShare', {
      percent: Math.round(split.ratio * 100),
      file: basename(run.config.dataset.path),
    });
  return t('evalStart.noHeldOut');
}

export function FusionEvaluation({ project }: { project: Project }) {
  const runs = useQuery('runs.list', { projectId: project.id });
  const datasets = useQuery('datasets.list', { projectId: project.id });
  const fusions = runs.state.status === 'ready' ? combinationRuns(runs.state.data) : [];
  const [picked, setPicked] = useState('');
  const run = fusions.find((r) => r.id === picked) ?? fusions[0] ?? null;
  if (!run) return null;
  const datasetList = datasets.state.status === 'ready' ? datasets.state.data : [];
  return <FusionEvaluationCard key={run.id} run={run} fusions={fusions} datasets={datasetList} onPick={setPicked} />;
}

function FusionEvaluationCard({
  run,
  fusions,
  datasets,
  onPick,
}: {
  run: Run;
  fusions: Run[];
  datasets: Dataset[];
  onPick: (id: string) => void;
}) {
  const client = useStudio();
  const result = useQuery('fusionEval.get', { runId: run.id });
  // what to measure on: ticked project datasets (by id), and typed paths when "Another file…" is ticked
  const [ticked, setTicked] = useState<string[]>([]);
  const [otherFiles, setOtherFiles] = useState(false);
  const [files, setFiles] = useState('');
  const [job, setJob] = useState<{ id: string; progress: number | null; message: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEvent('job.progress', (e) => {
    if (job && e.jobId === job.id)
      setJob({ ...job, progress: e.progress, message: sayPhrase(e.phrase, e.message ?? '') });
  });
  useJobEnd(job?.id ?? null, (ended) => {
    setJob(null);
    if (ended.status !== 'succeeded') setError(ended.error ?? ended.status);
    result.reload();
  });

  const start = () => {
    setError(null);
    const typed = otherFiles
      ? files
          .split('\n')
          .map((line) => line.trim())
          .filter(Boolean)
      : [];
    if (otherFiles && typed.length === 0) return setError(t('fusionEval.needFile'));
    const chosen = [...new Set([...datasets.filter((d) => ticked.includes(d.id)).map((d) => d.path), ...typed])];
    if (chosen.length > MAX_SETS) return setError(t('fusionEval.tooMany', { max: MAX_SETS }));
    client.invoke('fusionEval.start', { runId: run.id, datasets: chosen }).then(
      ({ jobId }) => setJob({ id: jobId, progress: null, message: t('fusionEval.starting') }),
      (err: unknown) => setError(toStudioApiError(err).message),
    );
  };

  return (
    <Card title={t('fusionEval.title')}>
      {/* one grid for the whole card, spaced like the form above it: the intro, the fields, Compare (at the right, as
          Evaluate before/after) and the result sat flush under one another */}
      <div className="form-grid">
        <p className="muted">{t('fusionEval.body')}</p>
        <div className="field">
          <label className="field-label" htmlFor="fusion-eval-run">
            {t('fusionEval.run')}
          </label>
          <select id="fusion-eval-run" value={run.id} onChange={(e) => onPick(e.target.value)} disabled={job !== null}>
            {fusions.map((r) => (
              <option key={r.id} value={r.id}>
                {t('fusionEval.runOption', {
                  name: r.name,
                  count: r.config.fusion!.adapters.length,
                  mode: r.config.fusion!.mode,
                })}
              </option>
            ))}
          </select>
        </div>
        <fieldset className="settings-fieldset" aria-describedby="fusion-eval-data-hint">
          <legend className="field-label">{t('fusionEval.data')}</legend>
          {datasets.map((d) => (
            <label key={d.id} title={d.path}>
              <input
                type="checkbox"
                checked={ticked.includes(d.id)}
                disabled={job !== null}
                onChange={(e) => {
                  const on = e.target.checked;
                  setTicked((now) => (on ? [...now, d.id] : now.filter((id) => id !== d.id)));
                  setError(null);
                }}
              />{' '}
              {t('evalStart.everyRow', { name: d.name, rows: d.examples })}
            </label>
          ))}
          <label>
            <input
              type="checkbox"
              checked={otherFiles}
              disabled={job !== null}
              onChange={(e) => {
                setOtherFiles(e.target.checked);
                setError(null);
              }}
            />{' '}
            {t('taskEval.aFile')}
          </label>
          <span id="fusion-eval-data-hint" className="field-hint">
            {t('fusionEval.dataHint', { split: heldOutLabel(run) })}
          </span>
        </fieldset>
        {otherFiles ? (
          <div className="field">
            <label className="field-label" htmlFor="fusion-eval-files">
              {t('fusionEval.files')}
            </label>
            <textarea
              id="fusion-eval-files"
              rows={2}
              value={files}
              onChange={(e) => {
                setFiles(e.target.value);
                setError(null);
              }}
              placeholder={t('fusionEval.filesPlaceholder')}
              disabled={job !== null}
            />
            <span className="field-hint">{t('fusionEval.filesHint')}</span>
          </div>
        ) : null}
        <div className="row-actions">
          <Button variant="primary" icon="gauge" busy={job !== null} disabled={job !== null} onClick={start}>
            {t('fusionEval.start')}
          </Button>
        </div>
        {job ? <ProgressBar value={job.progress} label={job.message} /> : null}
        {error ? <Banner title={t('fusionEval.failed')}>{error}</Banner> : null}
        {result.state.status === 'ready' && result.state.data ? <FusionEvalTable result={result.state.data} /> : null}
      </div>
    </Card>
  );
}

/** Models as rows, eval sets as columns; the lowest perplexity of each column marked. */
function FusionEvalTable({ result }: { result: FusionEvalResult }) {
  const rows = [
    ...result.tables[0].single.map((s, k) => ({
      key: `single-${k}`,
      label: t('fusion.alone', { name: s.name }),
      values: result.tables.map((tb) => tb.single[k].perplexity),
    })),
    { key: 'uniform', label: t('fusion.uniform'), values: result.tables.map((tb) => tb.uniform) },
    {
      key: 'learned',
      label: t('fusionEval.learned', { mode: result.mode }),
      values: result.tables.map((tb) => tb.learned),
    },
  ];
  const best = result.tables.map((_tb, c) => Math.min(...rows.map((r) => r.values[c])));
  return (
    <table className="table" aria-label={t('fusionEval.table')}>
      <thead>
        <tr>
          <th scope="col">{t('fusion.what')}</th>
          {result.tables.map((tb, c) => (
            <th scope="col" key={c} title={tb.path ?? undefined}>
              {t('fusionEval.column', {
                set: tb.path ? basename(tb.path) : t('fusionEval.split'),
                examples: tb.examples,
              })}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.key}>
            <th scope="row">{r.label}</th>
            {r.values.map((v, c) => (
              <td key={c} data-best={v === best[c] ? 'true' : undefined}>
                {formatMetric(v)}
                {v === best[c] ? ` ${t('fusionEval.best')}` : ''}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
