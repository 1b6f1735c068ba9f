// Runs that outgrow this machine (issue 18): "Run elsewhere…" writes a job bundle for Axolotl or TRL +
// accelerate (a `run.bundle` job, followed here), "Import run…" brings a trainer's output folder back as a run,
// and the imported run's page says where it came from and every difference from the bundle's record.
import { useState } from 'react';
import type { ImportedRunInfo } from '../../../common/api/bundles.ts';
import type { Job } from '../../../common/api/jobs.ts';
import type { Run } from '../../../common/api/runs.ts';
import { toStudioApiError } from '../api/client.ts';
import { useEvent, useQuery } from '../api/hooks.ts';
import { Banner, Button, Card, Dialog, ProgressBar, TextField } from '../components/index.ts';
import { routeHref } from '../routes.ts';
import { t } from '../i18n/t.ts';
import { useStudio } from '../state/studio.tsx';
import { useJobEnd } from './useJobEnd.ts';

/** Long paths and commands wrap inside the dialog instead of widening it. */
const WRAP = { whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' } as const;

type BundleState =
  { phase: 'form' } | { phase: 'writing'; jobId: string; outDir: string } | { phase: 'done'; job: Job; outDir: string };

export function RunElsewhereDialog({ run, onClose }: { run: Run; onClose: () => void }) {
  const client = useStudio();
  const [outDir, setOutDir] = useState('');
  const [overwrite, setOverwrite] = useState(false);
  const [state, setState] = useState<BundleState>({ phase: 'form' });
  const [error, setError] = useState<string | null>(null);
  const [progress, setProgress] = useState<{ value: number | null; message: string | null }>({
    value: null,
    message: null,
  });
  const jobId = state.phase === 'writing' ? state.jobId : null;
  useEvent('job.progress', (event) => {
    if (event.jobId === jobId) setProgress({ value: event.progress, message: event.message });
  });
  useJobEnd(jobId, (job) => {
    if (state.phase === 'writing') setState({ phase: 'done', job, outDir: state.outDir });
  });

  async function submit() {
    if (state.phase === 'done') return onClose();
    setError(null);
    try {
      const started = await client.invoke('bundles.create', {
        runId: run.id,
        overwrite,
        ...(outDir.trim() ? { outDir: outDir.trim() } : {}),
      });
      setState({ phase: 'writing', jobId: started.jobId, outDir: started.outDir });
    } catch (err) {
      setError(toStudioApiError(err).message);
    }
  }

  const writing = state.phase === 'writing';
  return (
    <Dialog
      open
      title={t('elsewhere.title', { name: run.name })}
      onClose={onClose}
      onSubmit={() => void submit()}
      onEdit={() => setError(null)}
      busy={writing}
      actions={
        state.phase === 'done' ? (
          <Button type="submit" variant="primary">
            {t('elsewhere.close')}
          </Button>
        ) : (
          <>
            <Button onClick={onClose} disabled={writing}>
              {t('elsewhere.cancel')}
            </Button>
            <Button type="submit" variant="primary" busy={writing}>
              {t('elsewhere.write')}
            </Button>
          </>
        )
      }
    >
      <div className="form-grid">
        <p className="muted">{t('elsewhere.intro')}</p>
        {error ? <Banner title={t('elsewhere.notWritten')}>{error}</Banner> : null}
        {state.phase === 'form' ? (
          <>
            <TextField
              label={t('elsewhere.folder')}
              hint={t('elsewhere.folderHint')}
              value={outDir}
              onChange={(e) => setOutDir(e.target.value)}
              autoFocus
            />
            <label className="checkbox-line">
              <input type="checkbox" checked={overwrite} onChange={(e) => setOverwrite(e.target.checked)} />{' '}
              {t('elsewhere.replace')}
            </label>
          </>
        ) : null}
        {state.phase === 'writing' ? (
          <ProgressBar value={progress.value} label={progress.message ?? t('elsewhere.writing')} />
        ) : null}
        {state.phase === 'writing' && progress.message ? <p className="muted">{progress.message}</p> : null}
        {state.phase === 'done' ? <BundleResult job={state.job} outDir={state.outDir} /> : null}
      </div>
    </Dialog>
  );
}

function BundleResult({ job, outDir }: { job: Job; outDir: string }) {
  const log = useQuery('jobs.logTail', { id: job.id, lines: 20 });
  if (job.status !== 'succeeded')
    return (
      <Banner title={t('elsewhere.failed')}>{job.error ?? t('elsewhere.jobEnded', { status: job.status })}</Banner>
    );
  const lines =
    log.state.status === 'ready' ? log.state.data.filter((l) => l.level !== 'debug').map((l) => l.line) : [];
  return (
    <div className="bundle-result" aria-label={t('elsewhere.written')}>
      <p style={WRAP}>
        {t('elsewhere.writtenTo')} <code>{outDir}</code>
      </p>
      {lines.length ? (
        <pre className="config-json" style={WRAP}>
          {lines.join('\n')}
        </pre>
      ) : null}
      <p className="muted">{t('elsewhere.launch')}</p>
      <pre className="config-json" style={WRAP}>
        {[
          'accelerate launch train_trl.py',
          'accelerate launch --config_file accelerate/fsdp.yaml --num_processes 8 train_trl.py',
          'axolotl train axolotl.yaml --launcher accelerate -- --config_file=accelerate/deepspeed_zero3.yaml',
          'lora-studio import-run output      # when it is done',
        ].join('\n')}
      </pre>
    </div>
  );
}

export function ImportRunDialog({
  projectId,
  onClose,
  onImported,
}: {
  projectId: string;
  onClose: () => void;
  onImported: () => void;
}) {
  const client = useStudio();
  const [path, setPath] = useState('');
  const [model, setModel] = useState('');
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<{ run: Run; info: ImportedRunInfo } | null>(null);

  async function submit() {
    if (result) return onClose();
    if (!path.trim()) {
      setError(t('elsewhere.importPathRequired'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const imported = await client.invoke('bundles.importRun', {
        projectId,
        path: path.trim(),
        ...(model.trim() ? { model: model.trim() } : {}),
        ...(name.trim() ? { name: name.trim() } : {}),
      });
      setResult(imported);
      onImported();
    } catch (err) {
      setError(toStudioApiError(err).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog
      open
      title={t('elsewhere.importTitle')}
      onClose={onClose}
      onSubmit={() => void submit()}
      onEdit={() => setError(null)}
      busy={busy}
      actions={
        result ? (
          <>
            <a className="btn btn-secondary" href={routeHref('runs', result.run.id)} onClick={onClose}>
              {t('elsewhere.openRun')}
            </a>
            <Button type="submit" variant="primary">
              {t('elsewhere.close')}
            </Button>
          </>
        ) : (
          <>
            <Button onClick={onClose}>{t('elsewhere.cancel')}</Button>
            <Button type="submit" variant="primary" busy={busy}>
              {t('elsewhere.import')}
            </Button>
          </>
        )
      }
    >
      <div className="form-grid">
        {error ? <Banner title={t('elsewhere.notImported')}>{error}</Banner> : null}
        {result ? (
          <>
            <p>{t('elsewhere.imported', { name: result.run.name, steps: result.run.summary?.steps ?? 0 })}</p>
            <ImportChecks info={result.info} />
          </>
        ) : (
          <>
            <TextField
              label={t('elsewhere.outputFolder')}
              hint={t('elsewhere.outputFolderHint')}
              value={path}
              onChange={(e) => setPath(e.target.value)}
              autoFocus
            />
            <TextField
              label={t('elsewhere.baseModel')}
              hint={t('elsewhere.baseModelHint')}
              value={model}
              onChange={(e) => setModel(e.target.value)}
            />
            <TextField
              label={t('elsewhere.name')}
              hint={t('elsewhere.nameHint')}
              value={name}
              onChange={(e) => setName(e.target.value)}
            />
          </>
        )}
      </div>
    </Dialog>
  );
}

/** "Run elsewhere…" for a run's page header: the button and the dialog it opens. */
export function RunElsewhereButton({ run }: { run: Run }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button onClick={() => setOpen(true)}>{t('elsewhere.open')}</Button>
      {open ? <RunElsewhereDialog run={run} onClose={() => setOpen(false)} /> : null}
    </>
  );
}

/** "Import run…" for the Runs page header: the button and the dialog it opens. */
export function ImportRunButton({ projectId, onImported }: { projectId: string; onImported: () => void }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button onClick={() => setOpen(true)}>{t('elsewhere.importOpen')}</Button>
      {open ? <ImportRunDialog projectId={projectId} onClose={() => setOpen(false)} onImported={onImported} /> : null}
    </>
  );
}

/** The record check of an import: matched, or each mismatch in a table, plus notes. */
function ImportChecks({ info }: { info: ImportedRunInfo }) {
  return (
    <>
      {info.record === 'mismatched' ? (
        <Banner title={t('elsewhere.differences', { count: info.mismatches.length })}>
          {t('elsewhere.differencesBody')}
        </Banner>
      ) : null}
      <p className="muted" aria-label={t('elsewhere.record')}>
        {info.record === 'matched'
          ? t('elsewhere.recordMatched')
          : info.record === 'absent'
            ? t('elsewhere.recordAbsent')
            : t('elsewhere.recordMismatched')}
      </p>
      {info.mismatches.length ? (
        <div className="table-wrap">
          <table className="table" aria-label={t('elsewhere.differencesTable')}>
            <thead>
              <tr>
                <th>{t('elsewhere.setting')}</th>
                <th>{t('elsewhere.bundled')}</th>
                <th>{t('elsewhere.found')}</th>
              </tr>
            </thead>
            <tbody>
              {info.mismatches.map((m) => (
                <tr key={m.field}>
                  <td>
                    <code>{m.field}</code>
                  </td>
                  <td>{m.expected}</td>
                  <td>{m.found}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {info.warnings.map((w) => (
        <p key={w} className="muted">
          {t('elsewhere.note', { text: w })}
        </p>
      ))}
    </>
  );
}

/** On a run's page: where an imported run came from and what its import found (nothing for a run trained here). */
export function ImportedRunPanel({ runId }: { runId: string }) {
  const info = useQuery('bundles.importedRun', { runId });
  if (info.state.status !== 'ready' || info.state.data === null) return null;
  const data = info.state.data;
  return (
    <Card title={t('elsewhere.panel')}>
      <dl className="kv">
        <dt>{t('elsewhere.importedFrom')}</dt>
        <dd>
          <code>{data.source}</code>
        </dd>
        <dt>{t('elsewhere.trainer')}</dt>
        <dd>{data.trainer}</dd>
        <dt>{t('elsewhere.adapterFrom')}</dt>
        <dd>
          <code>{data.adapterFrom}</code>
        </dd>
        {data.checkpoints.length ? (
          <>
            <dt>{t('elsewhere.checkpoints')}</dt>
            <dd>{data.checkpoints.join(', ')}</dd>
          </>
        ) : null}
      </dl>
      <ImportChecks info={data} />
    </Card>
  );
}
