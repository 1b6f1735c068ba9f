// A followed job's live row (progress bar with Cancel on its line, the job's last line under it) and its failure, as
// the wizard's download and import, the Datasets page's import and Evaluate's evaluation show them.
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
        <div className="job-progress">
          {/* Cancel sits on the bar's line, centred on it; the job's line (in the UI's language) goes under both */}
          <div className="job-progress-bar">
            <ProgressBar value={job.progress} label={label} />
            <Button size="sm" onClick={onCancel}>
              {t('common.cancel')}
            </Button>
          </div>
          <span className="muted">{job.message ?? pending}</span>
        </div>
      ) : null}
      {job.status === 'failed' ? <Banner title={failedTitle}>{job.error}</Banner> : null}
    </>
  );
}
