import type { ConnectionState } from '../api/client.ts';

const LABELS: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  closed: 'Disconnected',
};

/** Whether live updates (job progress, logs, metrics) are reaching the page from the core's event stream. */
export function ConnectionIndicator({ state }: { state: ConnectionState }) {
  return (
    <span className="connection" data-state={state} role="status" aria-live="polite" title="Live updates from the studio core">
      <span className="connection-dot" aria-hidden="true" />
      {LABELS[state]}
    </span>
  );
}
