// A followed job's live row (progress bar, last message, Cancel) and its failure, as the wizard's download and
// import and the Datasets page's import show them.
import { Banner, Button, ProgressBar } from '../../components/index.ts';
import type { JobView } from './useJob.ts';
import { t } from '../../i18n/t.ts';

export function JobProgress({
  job,
  running,
  onCancel,
  label,
  pending,
  failedTitle,
}: {
  job: JobView | null;
  running: boolean;
  onCancel: () => void;
  label: string; // the progress bar's accessible name, e.g. "Import progress"
  pending: string; // shown until the job reports a message
  failedTitle: string;
}) {
  if (!job) return null;
  return (
    <>
      {running ? (
        <div className="field-row">
          <div style={{ flex: 1 }}>
            <ProgressBar value={job.progress} label={label} />
            <span className="muted">{job.message ?? pending}</span>
          </div>
          <Button size="sm" onClick={onCancel}>
            {t('common.cancel')}
          </Button>
        </div>
      ) : null}
      {job.status === 'failed' ? <Banner title={failedTitle}>{job.error}</Banner> : null}
    </>
  );
}
