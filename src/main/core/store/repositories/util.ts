// Small helpers the repositories share: ids, timestamps, JSON columns, SQLite error translation.
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { StudioError } from '../../errors.ts';

export const newId = (): string => randomUUID();
export const now = (): string => new Date().toISOString();

export function parseJson<T>(text: string | null, fallback: T): T {
  if (text === null || text === '') return fallback;
  return JSON.parse(text) as T;
}

/** Runs `fn`, turning a UNIQUE violation into `conflict` and a foreign-key violation into `not_found`. */
export function translateConstraint<T>(fn: () => T, messages: { unique?: string; foreignKey?: string }): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof Database.SqliteError) {
      if (err.code === 'SQLITE_CONSTRAINT_UNIQUE' && messages.unique) throw new StudioError('conflict', messages.unique);
      if (err.code === 'SQLITE_CONSTRAINT_FOREIGNKEY' && messages.foreignKey) {
        throw new StudioError('not_found', messages.foreignKey);
      }
    }
    throw err;
  }
}
