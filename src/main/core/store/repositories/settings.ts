// Studio-wide settings: one JSON value per key. The core's settings service gives them their types and defaults.
import type { Db } from '../database.ts';
import { now } from './util.ts';

export class SettingsRepository {
  constructor(private readonly db: Db) {}

  /** The stored value, or undefined when the key was never set. */
  get(key: string): unknown {
    const row = this.db.prepare('SELECT value_json FROM settings WHERE key = ?').get(key) as
      { value_json: string } | undefined;
    return row ? (JSON.parse(row.value_json) as unknown) : undefined;
  }

  set(key: string, value: unknown): void {
    this.db
      .prepare(
        'INSERT INTO settings (key, value_json, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value_json = excluded.value_json, updated_at = excluded.updated_at',
      )
      .run(key, JSON.stringify(value), now());
  }

  delete(key: string): void {
    this.db.prepare('DELETE FROM settings WHERE key = ?').run(key);
  }
}
