// The status of a job-backed record (run, evaluation, export) as a coloured badge with a word.
export type WorkStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

const LABELS: Record<WorkStatus, string> = {
  queued: 'Queued',
  running: 'Running',
  succeeded: 'Finished',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

export function StatusBadge({ status }: { status: WorkStatus }) {
  return (
    <span className={`badge status-badge status-${status}`}>
      <span className="status-dot" aria-hidden="true" />
      {LABELS[status]}
    </span>
  );
}
