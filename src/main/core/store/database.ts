// Opens the studio's SQLite file with the settings the store relies on, then brings its schema up to date.
//
// journal_mode=WAL: readers (the UI polling lists) never block the writer (a job streaming metrics), and a
//   process killed mid-write leaves the main file untouched; the WAL is replayed or discarded at next open.
// synchronous=FULL: every commit is fsynced before better-sqlite3 returns. NORMAL already survives `kill -9`
//   (the WAL frame is in the OS cache when the commit returns) but can lose the last commits on power loss
//   or an OS crash; our write rate is one small transaction per training step or user action, so an fsync
//   per commit costs nothing measurable and "committed" means committed on disk.
// foreign_keys=ON: SQLite leaves it off per connection by default; deleting a project must cascade.
// busy_timeout: the CLI and a running `serve` may share a data dir; wait for the other writer, don't fail.
import Database from 'better-sqlite3';
import { migrations as allMigrations, type Migration } from './migrations.ts';

export type Db = Database.Database;

export function openDatabase(file: string, options: { migrations?: Migration[] } = {}): Db {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db, options.migrations ?? allMigrations);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** Applies every migration newer than the file's `user_version`, each in its own transaction. */
export function migrate(db: Db, migrations: Migration[]): { from: number; to: number } {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
  const from = db.pragma('user_version', { simple: true }) as number;
  const latest = migrations.reduce((max, m) => Math.max(max, m.version), 0);
  if (from > latest) {
    throw new Error(
      `the store ${db.name} has schema version ${from}, newer than this LoRA Studio knows (${latest}); ` +
        'update LoRA Studio, or point it at another data dir',
    );
  }
  const pending = [...migrations].filter((m) => m.version > from).sort((a, b) => a.version - b.version);
  for (const m of pending) {
    // BEGIN IMMEDIATE: if two processes open a fresh data dir at once, one migrates and the other waits,
    // then re-checks the version inside its own transaction and skips what is already applied.
    db.transaction(() => {
      const current = db.pragma('user_version', { simple: true }) as number;
      if (current >= m.version) return;
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        new Date().toISOString(),
      );
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
  return { from, to: Math.max(from, latest) };
}
