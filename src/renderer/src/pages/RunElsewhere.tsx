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
      title={`Run “${run.name}” elsewhere`}
      onClose={onClose}
      onSubmit={() => void submit()}
      busy={writing}
      actions={
        state.phase === 'done' ? (
          <Button type="submit" variant="primary">
            Close
          </Button>
        ) : (
          <>
            <Button onClick={onClose} disabled={writing}>
              Cancel
            </Button>
            <Button type="submit" variant="primary" busy={writing}>
              Write bundle
            </Button>
          </>
        )
      }
    >
      <div className="form-grid">
        <p className="muted">
          A folder to train this run on GPUs with Axolotl or TRL + PEFT, launched by accelerate (one GPU, FSDP or
          DeepSpeed ZeRO-3, Slurm): the dataset exactly as the studio trains on it, the configs, a README with the
          launch commands, and the run’s reproducibility record.
        </p>
        {error ? <Banner title="No bundle written">{error}</Banner> : null}
        {state.phase === 'form' ? (
          <>
            <TextField
              label="Bundle folder"
              hint="A new or empty folder, apart from the run’s model and dataset (default: the data folder’s bundles/)."
              value={outDir}
              onChange={(e) => setOutDir(e.target.value)}
              autoFocus
            />
            <label className="checkbox-line">
              <input type="checkbox" checked={overwrite} onChange={(e) => setOverwrite(e.target.checked)} /> Replace a
              bundle already in that folder
            </label>
          </>
        ) : null}
        {state.phase === 'writing' ? (
          <ProgressBar value={progress.value} label={progress.message ?? 'Writing the bundle…'} />
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
    return <Banner title="The bundle was not written">{job.error ?? `The job ${job.status}.`}</Banner>;
  const lines =
    log.state.status === 'ready' ? log.state.data.filter((l) => l.level !== 'debug').map((l) => l.line) : [];
  return (
    <div className="bundle-result" aria-label="Bundle written">
      <p style={WRAP}>
        Written to <code>{outDir}</code>
      </p>
      {lines.length ? (
        <pre className="config-json" style={WRAP}>
          {lines.join('\n')}
        </pre>
      ) : null}
      <p className="muted">
        Launch it from that folder (its README.md has multi-node and Slurm commands and the settings mapping):
      </p>
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
      setError('Enter the trainer’s output folder (output_dir): it holds adapter_config.json and trainer_state.json.');
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
      title="Import a run trained elsewhere"
      onClose={onClose}
      onSubmit={() => void submit()}
      busy={busy}
      actions={
        result ? (
          <>
            <a className="btn btn-secondary" href={routeHref('runs', result.run.id)} onClick={onClose}>
              Open the run
            </a>
            <Button type="submit" variant="primary">
              Close
            </Button>
          </>
        ) : (
          <>
            <Button onClick={onClose}>Cancel</Button>
            <Button type="submit" variant="primary" busy={busy}>
              Import
            </Button>
          </>
        )
      }
    >
      <div className="form-grid">
        {error ? <Banner title="Not imported">{error}</Banner> : null}
        {result ? (
          <>
            <p>
              Imported “{result.run.name}”: {result.run.summary?.steps ?? 0} steps, its curves, adapter and settings.
            </p>
            <ImportChecks info={result.info} />
          </>
        ) : (
          <>
            <TextField
              label="Output folder"
              hint="The trainer’s output_dir: adapter_config.json, adapter_model.safetensors, trainer_state.json, checkpoint-N/. Only read."
              value={path}
              onChange={(e) => setPath(e.target.value)}
              autoFocus
            />
            <TextField
              label="Base model folder"
              hint="The model it was trained on, here; the adapter is checked against it (default: the bundle record’s)."
              value={model}
              onChange={(e) => setModel(e.target.value)}
            />
            <TextField
              label="Name"
              hint="How the run is listed (default: the bundled run’s name)."
              value={name}
              onChange={(e) => setName(e.target.value)}
            />
          </>
        )}
      </div>
    </Dialog>
  );
}

/** The record check of an import: matched, or each mismatch in a table, plus notes. */
function ImportChecks({ info }: { info: ImportedRunInfo }) {
  return (
    <>
      {info.record === 'mismatched' ? (
        <Banner
          title={`${info.mismatches.length} difference${info.mismatches.length === 1 ? '' : 's'} from the reproducibility record`}
        >
          The result was trained with settings other than the bundled run’s. It is imported; compare it knowing this.
        </Banner>
      ) : null}
      <p className="muted" aria-label="Reproducibility record">
        {info.record === 'matched'
          ? 'Reproducibility record: every checked setting matches (adapter, training arguments, steps, data hash, model revision).'
          : info.record === 'absent'
            ? 'Reproducibility record: none found, nothing could be checked.'
            : 'Reproducibility record: see the differences below.'}
      </p>
      {info.mismatches.length ? (
        <div className="table-wrap">
          <table className="table" aria-label="Differences from the record">
            <thead>
              <tr>
                <th>Setting</th>
                <th>Bundled</th>
                <th>Found</th>
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
          Note: {w}
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
    <Card title="Trained elsewhere">
      <dl className="kv">
        <dt>Imported from</dt>
        <dd>
          <code>{data.source}</code>
        </dd>
        <dt>Trainer</dt>
        <dd>{data.trainer}</dd>
        <dt>Adapter read from</dt>
        <dd>
          <code>{data.adapterFrom}</code>
        </dd>
        {data.checkpoints.length ? (
          <>
            <dt>Checkpoints</dt>
            <dd>{data.checkpoints.join(', ')}</dd>
          </>
        ) : null}
      </dl>
      <ImportChecks info={data} />
    </Card>
  );
}
