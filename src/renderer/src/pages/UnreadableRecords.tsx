// Stored records the studio can no longer read (lists skip them): named here with the reason, each with a Remove
// that asks first. Renders nothing when there are none.
import { useState } from 'react';
import type { UnreadableRecord } from '../../../common/api/system.ts';
import { useQuery } from '../api/hooks.ts';
import { toStudioApiError } from '../api/client.ts';
import { Banner, Button } from '../components/index.ts';
import { useStudio } from '../state/studio.tsx';
import { t } from '../i18n/t.ts';
import { sayPhrase } from '../i18n/phrase.ts';

const kindLabel = (kind: UnreadableRecord['kind']) => t(`unreadable.kind.${kind}`);

export function UnreadableRecords() {
  const client = useStudio();
  const query = useQuery('system.unreadable', {});
  const [confirming, setConfirming] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  if (query.state.status !== 'ready' || query.state.data.length === 0) return null;
  const records = query.state.data;

  const remove = async (record: UnreadableRecord) => {
    setError(null);
    try {
      await client.invoke(record.removeWith, { id: record.id });
      setConfirming(null);
      query.reload();
    } catch (err) {
      setError(toStudioApiError(err).message);
    }
  };

  return (
    <Banner tone="info" title={t('unreadable.title', { count: records.length })}>
      <ul className="unreadable-records" aria-label={t('unreadable.list')}>
        {records.map((record) => (
          <li key={`${record.kind}:${record.id}`}>
            <strong>
              {kindLabel(record.kind)} “{record.name}”
            </strong>{' '}
            ({record.id})
            {/* which field, what it should hold and what it holds, then what to do: no raw validator message */}
            <div className="unreadable-reason">{sayPhrase(record.reasonPhrase, record.reason)}</div>
            <div className="unreadable-fix">{t(`unreadable.fix.${record.kind}`, { file: record.file ?? record.name })}</div>
            {confirming === record.id ? (
              <>
                <span>{record.kind === 'run' ? t('unreadable.removeRun') : t('unreadable.removeRecord')}</span>{' '}
                <Button size="sm" variant="danger" onClick={() => void remove(record)}>
                  {t('unreadable.yesRemove')}
                </Button>{' '}
                <Button size="sm" variant="ghost" onClick={() => setConfirming(null)}>
                  {t('unreadable.keep')}
                </Button>
              </>
            ) : (
              <Button
                size="sm"
                variant="ghost"
                icon="trash"
                onClick={() => setConfirming(record.id)}
                aria-label={t('unreadable.removeLabel', {
                  kind: kindLabel(record.kind).toLowerCase(),
                  name: record.name,
                })}
              >
                {t('unreadable.remove')}
              </Button>
            )}
          </li>
        ))}
      </ul>
      {error ? <p role="alert">{error}</p> : null}
    </Banner>
  );
}
