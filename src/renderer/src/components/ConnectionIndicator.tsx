import type { ConnectionState } from '../api/client.ts';
import { t } from '../i18n/t.ts';

/** Whether live updates (job progress, logs, metrics) are reaching the page from the core's event stream. */
export function ConnectionIndicator({ state }: { state: ConnectionState }) {
  return (
    <span className="connection" data-state={state} role="status" aria-live="polite" title={t('connection.title')}>
      <span className="connection-dot" aria-hidden="true" />
      {t(`connection.${state}`)}
    </span>
  );
}
