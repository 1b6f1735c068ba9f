// The confirmation asked before a run is cancelled, the same on the run page and in the Runs list: training
// stops within one step, a checkpoint is kept, and the finished adapter survives a cancel during the final eval.
import type { Run } from '../../../common/api/runs.ts';
import { Banner, Button, Dialog } from '../components/index.ts';
import { t } from '../i18n/t.ts';

export function CancelRunDialog({
  run,
  open,
  busy,
  error,
  onClose,
  onConfirm,
}: {
  run: Pick<Run, 'name'>;
  open: boolean;
  busy: boolean;
  error: string | null;
  onClose: () => void;
  onConfirm: () => void;
}) {
  return (
    <Dialog
      open={open}
      title={t('run.cancelTitle')}
      busy={busy}
      onClose={onClose}
      onSubmit={onConfirm}
      actions={
        <>
          <Button onClick={onClose} disabled={busy} autoFocus>
            {t('run.keepTraining')}
          </Button>
          <Button variant="danger" type="submit" busy={busy}>
            {t('run.cancelRun')}
          </Button>
        </>
      }
    >
      <p>
        <strong>{run.name}</strong>
      </p>
      <p>{t('run.cancelBody')}</p>
      {error ? <Banner title={t('run.notCancelled')}>{error}</Banner> : null}
    </Dialog>
  );
}
