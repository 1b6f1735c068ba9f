// "Fusion vs singles" on the Evaluate page (issue 15): for a finished combination run, one job measures each adapter
// alone, their uniform average and the learned combination (weights or attention) on the run's held-out split — or
// on eval files the user lists, one column per file (per-task evaluation) — and shows them side by side, the best
// of each column marked. The same job as `lora-studio eval --run <id> --singles [--task-eval file]…`.
import { useState } from 'react';
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

export function FusionEvaluation({ project }: { project: Project }) {
  const runs = useQuery('runs.list', { projectId: project.id });
  const fusions = runs.state.status === 'ready' ? combinationRuns(runs.state.data) : [];
  const [picked, setPicked] = useState('');
  const run = fusions.find((r) => r.id === picked) ?? fusions[0] ?? null;
  if (!run) return null;
  return <FusionEvaluationCard key={run.id} run={run} fusions={fusions} onPick={setPicked} />;
}

function FusionEvaluationCard({ run, fusions, onPick }: { run: Run; fusions: Run[]; onPick: (id: string) => void }) {
  const client = useStudio();
  const result = useQuery('fusionEval.get', { runId: run.id });
  const [files, setFiles] = useState('');
  const [job, setJob] = useState<{ id: string; progress: number | null; message: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEvent('job.progress', (e) => {
    if (job && e.jobId === job.id) setJob({ ...job, progress: e.progress, message: sayPhrase(e.phrase, e.message ?? '') });
  });
  useJobEnd(job?.id ?? null, (ended) => {
    setJob(null);
    if (ended.status !== 'succeeded') setError(ended.error ?? ended.status);
    result.reload();
  });

  const start = () => {
    setError(null);
    const datasets = files.split('\n').map((line) => line.trim()).filter(Boolean);
    client.invoke('fusionEval.start', { runId: run.id, datasets }).then(
      ({ jobId }) => setJob({ id: jobId, progress: null, message: t('fusionEval.starting') }),
      (err: unknown) => setError(toStudioApiError(err).message),
    );
  };

  return (
    <Card title={t('fusionEval.title')}>
      <p className="muted">{t('fusionEval.body')}</p>
      <div className="form-grid">
        <div className="field">
          <label className="field-label" htmlFor="fusion-eval-run">
            {t('fusionEval.run')}
          </label>
          <select id="fusion-eval-run" value={run.id} onChange={(e) => onPick(e.target.value)} disabled={job !== null}>
            {fusions.map((r) => (
              <option key={r.id} value={r.id}>
                {t('fusionEval.runOption', { name: r.name, count: r.config.fusion!.adapters.length, mode: r.config.fusion!.mode })}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label className="field-label" htmlFor="fusion-eval-files">
            {t('fusionEval.files')}
          </label>
          <textarea id="fusion-eval-files" rows={2} value={files} onChange={(e) => setFiles(e.target.value)} placeholder={t('fusionEval.filesPlaceholder')} disabled={job !== null} />
          <span className="field-hint">{t('fusionEval.filesHint')}</span>
        </div>
      </div>
      <div className="row-actions">
        <Button variant="primary" icon="gauge" busy={job !== null} disabled={job !== null} onClick={start}>
          {t('fusionEval.start')}
        </Button>
      </div>
      {job ? <ProgressBar value={job.progress} label={job.message} /> : null}
      {error ? <Banner title={t('fusionEval.failed')}>{error}</Banner> : null}
      {result.state.status === 'ready' && result.state.data ? <FusionEvalTable result={result.state.data} /> : null}
    </Card>
  );
}

/** Models as rows, eval sets as columns; the lowest perplexity of each column marked. */
function FusionEvalTable({ result }: { result: FusionEvalResult }) {
  const rows = [
    ...result.tables[0].single.map((s, k) => ({ key: `single-${k}`, label: t('fusion.alone', { name: s.name }), values: result.tables.map((tb) => tb.single[k].perplexity) })),
    { key: 'uniform', label: t('fusion.uniform'), values: result.tables.map((tb) => tb.uniform) },
    { key: 'learned', label: t('fusionEval.learned', { mode: result.mode }), values: result.tables.map((tb) => tb.learned) },
  ];
  const best = result.tables.map((_tb, c) => Math.min(...rows.map((r) => r.values[c])));
  return (
    <table className="table" aria-label={t('fusionEval.table')}>
      <thead>
        <tr>
          <th scope="col">{t('fusion.what')}</th>
          {result.tables.map((tb, c) => (
            <th scope="col" key={c} title={tb.path ?? undefined}>
              {t('fusionEval.column', { set: tb.path ? basename(tb.path) : t('fusionEval.split'), examples: tb.examples })}
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
