// Stored records the API can no longer read (an older version wrote them, or a hand edit broke them). One such
// record must not take a whole list down: lists skip it and warn once, naming it, and `system.unreadable` lists
// them with the method that removes each.
import type { UnreadableRecord } from '../../../common/api/system.ts';

type Kind = UnreadableRecord['kind'];

const warned = new Set<string>();

/** Why `convert` cannot read a record (its error's message), or null when it can. */
export function unreadableReason<R>(record: R, convert: (record: R) => unknown): string | null {
  try {
    convert(record);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/** The records `convert` can read; each one it cannot is skipped with one warning on stderr naming it. */
export function readableOnly<R extends { id: string }, T>(kind: Kind, records: R[], convert: (record: R) => T): T[] {
  const out: T[] = [];
  for (const record of records) {
    try {
      out.push(convert(record));
    } catch (err) {
      const key = `${kind}:${record.id}`;
      if (!warned.has(key)) {
        warned.add(key);
        process.stderr.write(
          `warning: skipped stored ${kind} ${record.id}, which no longer validates (${(err as Error).message}); remove it from the studio's banner or with ${REMOVE_WITH[kind]}\n`,
        );
      }
    }
  }
  return out;
}

export const REMOVE_WITH: Record<Kind, UnreadableRecord['removeWith']> = {
  model: 'models.delete',
  dataset: 'datasets.delete',
  run: 'runs.delete',
};
