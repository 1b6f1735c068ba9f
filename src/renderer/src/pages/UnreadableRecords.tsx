// Stored records the studio can no longer read (lists skip them): named here with the reason, each with a Remove
// that asks first. Renders nothing when there are none.
import { useState } from 'react';
import type { UnreadableRecord } from '../../../common/api/system.ts';
import { useQuery } from '../api/hooks.ts';
import { toStudioApiError } from '../api/client.ts';
import { Banner, Button } from '../components/index.ts';
import { useStudio } from '../state/studio.tsx';

const KIND_LABEL: Record<UnreadableRecord['kind'], string> = { model: 'Base model', dataset: 'Dataset', run: 'Run' };

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
    <Banner
      tone="info"
      title={`${records.length} stored record${records.length === 1 ? '' : 's'} could not be read and ${records.length === 1 ? 'is' : 'are'} left out of the lists`}
    >
      <ul className="unreadable-records" aria-label="Unreadable records">
        {records.map((record) => (
          <li key={`${record.kind}:${record.id}`}>
            <strong>
              {KIND_LABEL[record.kind]} “{record.name}”
            </strong>{' '}
            ({record.id}): {record.reason}{' '}
            {confirming === record.id ? (
              <>
                <span>
                  {record.kind === 'run'
                    ? 'Remove it and its run folder?'
                    : 'Remove it from the studio (its files stay)?'}
                </span>{' '}
                <Button size="sm" variant="danger" onClick={() => void remove(record)}>
                  Yes, remove
                </Button>{' '}
                <Button size="sm" variant="ghost" onClick={() => setConfirming(null)}>
                  Keep
                </Button>
              </>
            ) : (
              <Button
                size="sm"
                variant="ghost"
                icon="trash"
                onClick={() => setConfirming(record.id)}
                aria-label={`Remove ${KIND_LABEL[record.kind].toLowerCase()} ${record.name}`}
              >
                Remove
              </Button>
            )}
          </li>
        ))}
      </ul>
      {error ? <p role="alert">{error}</p> : null}
    </Banner>
  );
}
