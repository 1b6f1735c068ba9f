// What a run page offers, by the run's state: Cancel (after a confirmation) while it trains; Resume from the newest
// checkpoint (naming its step) when one exists; Evaluate, Chat with it and Merge/Export once it finished (the next
// steps, chained as LLaMA-Factory chains its tabs); Rename and Delete (with its folder, after a confirmation).
import { useState } from 'react';
import type { Run } from '../../../common/api/runs.ts';
import { toStudioApiError } from '../api/client.ts';
import { Banner, Button, Dialog, TextField } from '../components/index.ts';
import { routeHref } from '../routes.ts';
import { useStudio } from '../state/studio.tsx';
import { chatHref } from './ChatLinks.ts';

type Asking = 'cancel' | 'rename' | 'delete' | null;

export function RunActions({ run, reload }: { run: Run; reload: () => void }) {
  const client = useStudio();
  const [asking, setAsking] = useState<Asking>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [name, setName] = useState(run.name);
  const active = run.status === 'running' || run.status === 'queued';
  const finishedAdapter =
    run.status === 'succeeded' && run.config.method !== 'full' && run.summary?.adapterPath != null;

  const act = async (what: string, call: () => Promise<unknown>, after: () => void = reload) => {
    setBusy(true);
    setError(null);
    try {
      await call();
      setAsking(null);
      after();
    } catch (err) {
      setError(`Could not ${what}: ${toStudioApiError(err).message}`);
    } finally {
      setBusy(false);
    }
  };
  const close = () => {
    setAsking(null);
    setError(null);
  };

  return (
    <>
      <div className="row-actions run-actions">
        {active ? (
          <Button onClick={() => setAsking('cancel')}>Cancel run</Button>
        ) : run.status === 'cancelled' || run.status === 'failed' ? (
          run.checkpointStep !== null ? (
            <Button
              busy={busy}
              onClick={() => void act('resume the run', () => client.invoke('runs.resume', { id: run.id }))}
            >
              {`Resume from step ${run.checkpointStep}`}
            </Button>
          ) : (
            <span className="muted">No checkpoint to resume from</span>
          )
        ) : null}
        {finishedAdapter ? (
          <>
            <a className="btn btn-primary" href={routeHref('evaluate', 'run', run.id)}>
              Evaluate
            </a>
            <a className="btn btn-secondary" href={chatHref({ adapterOrRunId: run.id })}>
              Chat with it
            </a>
            <a className="btn btn-secondary" href={routeHref('exports', run.id)}>
              Merge / Export
            </a>
          </>
        ) : null}
        <Button variant="ghost" icon="pencil" onClick={() => (setName(run.name), setAsking('rename'))}>
          Rename
        </Button>
        {!active ? (
          <Button variant="ghost" icon="trash" className="btn-danger-ghost" onClick={() => setAsking('delete')}>
            Delete
          </Button>
        ) : null}
      </div>
      {error && asking === null ? <Banner title="The action did not go through">{error}</Banner> : null}

      <Dialog
        open={asking === 'cancel'}
        title="Cancel this run?"
        busy={busy}
        onClose={close}
        onSubmit={() => void act('cancel the run', () => client.invoke('runs.cancel', { id: run.id }))}
        actions={
          <>
            <Button onClick={close} disabled={busy} autoFocus>
              Keep training
            </Button>
            <Button variant="danger" type="submit" busy={busy}>
              Cancel run
            </Button>
          </>
        }
      >
        <p>
          Training stops within one step. A checkpoint is saved at the last finished step, so you can resume from it
          later; after the last step the trained adapter is kept and only its final evaluation is skipped.
        </p>
        {error ? <Banner title="The run was not cancelled">{error}</Banner> : null}
      </Dialog>

      <Dialog
        open={asking === 'rename'}
        title="Rename this run"
        busy={busy}
        onClose={close}
        onSubmit={() => void act('rename the run', () => client.invoke('runs.rename', { id: run.id, name }))}
        actions={
          <>
            <Button onClick={close} disabled={busy}>
              Cancel
            </Button>
            <Button variant="primary" type="submit" busy={busy} disabled={name.trim() === ''}>
              Rename
            </Button>
          </>
        }
      >
        <TextField
          label="Run name"
          value={name}
          maxLength={120}
          onChange={(event) => setName(event.target.value)}
          autoFocus
        />
        {error ? <Banner title="The run was not renamed">{error}</Banner> : null}
      </Dialog>

      <Dialog
        open={asking === 'delete'}
        title="Delete this run?"
        busy={busy}
        onClose={close}
        onSubmit={() =>
          void act(
            'delete the run',
            () => client.invoke('runs.delete', { id: run.id }),
            () => {
              window.location.hash = routeHref('runs');
            },
          )
        }
        actions={
          <>
            <Button onClick={close} disabled={busy} autoFocus>
              Keep it
            </Button>
            <Button variant="danger" type="submit" busy={busy}>
              Delete run and files
            </Button>
          </>
        }
      >
        <p>
          <strong>{run.name}</strong>, its metrics and its folder <code>{run.outputDir}</code> (checkpoints and the
          trained adapter) will be removed from this machine. Evaluations keep their numbers; exports already written
          stay where they are. This cannot be undone.
        </p>
        {error ? <Banner title="The run was not deleted">{error}</Banner> : null}
      </Dialog>
    </>
  );
}
