// What a run page offers, by the run's state: Cancel (after a confirmation) while it trains; Resume from the newest
// checkpoint (naming its step) when one exists; Evaluate, Chat with it and Merge/Export once it finished (the next
// steps, chained as LLaMA-Factory chains its tabs) — for an encoder-task run Evaluate, Try it and Export instead;
// Rename and Delete (with its folder, after a confirmation).
import { useState } from 'react';
import type { Run } from '../../../common/api/runs.ts';
import { toStudioApiError } from '../api/client.ts';
import { Banner, Button, Dialog, TextField } from '../components/index.ts';
import { routeHref } from '../routes.ts';
import { useStudio } from '../state/studio.tsx';
import { chatHref } from './ChatLinks.ts';
import { CancelRunDialog } from './CancelRunDialog.tsx';
import { StartComparisonButton } from './CompareStart.tsx';
import { tryableRun } from './TryItPage.tsx';
import { isTaskRun } from '../../../common/api/task-runs.ts';
import { t } from '../i18n/t.ts';

type Asking = 'cancel' | 'rename' | 'delete' | null;

export function RunActions({ run, reload }: { run: Run; reload: () => void }) {
  const client = useStudio();
  const [asking, setAsking] = useState<Asking>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [name, setName] = useState(run.name);
  const active = run.status === 'running' || run.status === 'queued';
  // An encoder-task run (classification / QA) is measured by its task's metrics, tried on a sentence and exported
  // as a task model; it has no chat. Its full fine-tune's folder counts too (Evaluate and Export read it whole).
  const taskRun = isTaskRun(run);
  const finishedAdapter =
    !taskRun && run.status === 'succeeded' && run.config.method !== 'full' && run.summary?.adapterPath != null;
  const finishedTask = taskRun && tryableRun(run);

  const act = async (what: string, call: () => Promise<unknown>, after: () => void = reload) => {
    setBusy(true);
    setError(null);
    try {
      await call();
      setAsking(null);
      after();
    } catch (err) {
      setError(`${what}: ${toStudioApiError(err).message}`);
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
          <Button onClick={() => setAsking('cancel')}>{t('run.cancelRun')}</Button>
        ) : run.status === 'cancelled' || run.status === 'failed' ? (
          run.checkpointStep !== null ? (
            <Button
              busy={busy}
              onClick={() => void act(t('run.couldNotResume'), () => client.invoke('runs.resume', { id: run.id }))}
            >
              {t('runs.resumeFrom', { step: run.checkpointStep })}
            </Button>
          ) : (
            <span className="muted">{t('run.noCheckpoint')}</span>
          )
        ) : null}
        {finishedAdapter ? (
          <>
            <a className="btn btn-primary" href={routeHref('evaluate', 'run', run.id)}>
              {t('nav.evaluate')}
            </a>
            <a className="btn btn-secondary" href={chatHref({ adapterOrRunId: run.id })}>
              {t('run.chatWithIt')}
            </a>
            <a className="btn btn-secondary" href={routeHref('exports', run.id)}>
              {t('run.mergeExport')}
            </a>
          </>
        ) : null}
        {finishedTask ? (
          <>
            <a className="btn btn-primary" href={routeHref('evaluate', 'run', run.id)}>
              {t('nav.evaluate')}
            </a>
            <a className="btn btn-secondary" href={routeHref('try', run.id)}>
              {t('nav.try')}
            </a>
            <a className="btn btn-secondary" href={routeHref('exports', run.id)}>
              {t('taskRun.export')}
            </a>
          </>
        ) : null}
        {!active && !run.config.fusion ? (
          <StartComparisonButton projectId={run.projectId} runId={run.id} size="md" />
        ) : null}
        <Button variant="ghost" icon="pencil" onClick={() => (setName(run.name), setAsking('rename'))}>
          {t('projects.rename')}
        </Button>
        {!active ? (
          <Button variant="ghost" icon="trash" className="btn-danger-ghost" onClick={() => setAsking('delete')}>
            {t('projects.delete')}
          </Button>
        ) : null}
      </div>
      {error && asking === null ? <Banner title={t('runs.actionFailed')}>{error}</Banner> : null}

      <CancelRunDialog
        run={run}
        open={asking === 'cancel'}
        busy={busy}
        error={error}
        onClose={close}
        onConfirm={() => void act(t('run.couldNotCancel'), () => client.invoke('runs.cancel', { id: run.id }))}
      />

      <Dialog
        open={asking === 'rename'}
        title={t('run.renameTitle')}
        busy={busy}
        onClose={close}
        onSubmit={() => void act(t('run.couldNotRename'), () => client.invoke('runs.rename', { id: run.id, name }))}
        actions={
          <>
            <Button onClick={close} disabled={busy}>
              {t('common.cancel')}
            </Button>
            <Button variant="primary" type="submit" busy={busy} disabled={name.trim() === ''}>
              {t('projects.rename')}
            </Button>
          </>
        }
      >
        <TextField
          label={t('run.name')}
          value={name}
          maxLength={120}
          onChange={(event) => setName(event.target.value)}
          autoFocus
        />
        {error ? <Banner title={t('run.notRenamed')}>{error}</Banner> : null}
      </Dialog>

      <Dialog
        open={asking === 'delete'}
        title={t('run.deleteTitle')}
        busy={busy}
        onClose={close}
        onSubmit={() =>
          void act(
            t('run.couldNotDelete'),
            () => client.invoke('runs.delete', { id: run.id }),
            () => {
              window.location.hash = routeHref('runs');
            },
          )
        }
        actions={
          <>
            <Button onClick={close} disabled={busy} autoFocus>
              {t('run.keepIt')}
            </Button>
            <Button variant="danger" type="submit" busy={busy}>
              {t('run.deleteRunAndFiles')}
            </Button>
          </>
        }
      >
        <p>
          <strong>{run.name}</strong>
          {t('run.deleteBody1')} <code>{run.outputDir}</code> {t('run.deleteBody2')}
        </p>
        {error ? <Banner title={t('run.notDeleted')}>{error}</Banner> : null}
      </Dialog>
    </>
  );
}
