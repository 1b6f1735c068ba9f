// Stored records the API can no longer read (an older version wrote them, or a hand edit broke them). One such
// record must not take a whole list down: lists skip it and warn once, naming it, and `system.unreadable` lists
// them with the method that removes each.
import type { z } from 'zod';
import { say, type StaleExpected, type StaleFound } from '../../../common/api/phrases.ts';
import type { UnreadableRecord } from '../../../common/api/system.ts';
import { StudioError } from '../errors.ts';

type Kind = UnreadableRecord['kind'];

const warned = new Set<string>();

/** A stored record that no longer validates: which field, what it should hold and what it holds, said as a phrase. */
export class StaleRecordError extends StudioError {
  constructor(
    kind: Kind,
    id: string,
    readonly field: string,
    issue: z.core.$ZodIssue | undefined,
    input: unknown,
  ) {
    super('internal', say('unreadable.stale', { kind, id, field, ...expectedOf(issue), found: foundAt(input, issue?.path ?? []) }));
  }
}

/** The first issue's field as a path a person can read: `problems[0].text`, `lora.r`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i > 0 ? '.' : ''}${String(k)}`)).join('');
}

function expectedOf(issue: z.core.$ZodIssue | undefined): { expected: StaleExpected; choices: string } {
  if (issue?.code === 'invalid_type') {
    const e = issue.expected as string;
    const expected: StaleExpected = e === 'string' || e === 'number' || e === 'int' || e === 'boolean' || e === 'array' || e === 'object' ? e : 'other';
    return { expected, choices: '' };
  }
  if (issue?.code === 'invalid_value') return { expected: 'choice', choices: issue.values.map((v) => String(v)).join(', ') };
  return { expected: 'other', choices: '' };
}

function foundAt(input: unknown, path: readonly PropertyKey[]): StaleFound {
  let v: unknown = input;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  const t = typeof v;
  return t === 'string' || t === 'number' || t === 'boolean' ? t : 'object';
}

/** Why `convert` cannot read a record (its error), or null when it can. */
export function unreadableReason<R>(record: R, convert: (record: R) => unknown): Error | null {
  try {
    convert(record);
    return null;
  } catch (err) {
    return err as Error;
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
