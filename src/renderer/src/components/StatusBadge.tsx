// The status of a job-backed record (run, evaluation, export) as a coloured badge with a word.
import { t } from '../i18n/t.ts';
export type WorkStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export function StatusBadge({ status }: { status: WorkStatus }) {
  return (
    <span className={`badge status-badge status-${status}`}>
      <span className="status-dot" aria-hidden="true" />
      {t(`status.${status}`)}
    </span>
  );
}
