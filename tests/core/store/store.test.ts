import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { Store, migrate } from '../../../src/main/core/store/index.ts';
import { migrations } from '../../../src/main/core/store/migrations.ts';
import { StudioError } from '../../../src/main/core/errors.ts';
import { ensureDataDir, resolveDataDir } from '../../../src/main/core/data-dir.ts';
import { existsSync } from 'node:fs';

let dir: string;
let store: Store;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lora-store-'));
  store = Store.open(join(dir, 'studio.sqlite'));
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('opening the store', () => {
  it('uses WAL, full sync and foreign keys, and records the applied migrations', () => {
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    const latest = Math.max(...migrations.map((m) => m.version));
    expect(store.db.pragma('user_version', { simple: true })).toBe(latest);
    const applied = store.db.prepare('SELECT version FROM schema_migrations ORDER BY version').all();
    expect(applied).toEqual(migrations.map((m) => ({ version: m.version })));
    const tables = (store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name);
    for (const t of ['projects', 'base_models', 'datasets', 'runs', 'run_metrics', 'evaluations', 'evaluation_examples',
      'adapters', 'exports', 'chat_sessions', 'chat_messages', 'jobs']) expect(tables).toContain(t);
  });

  it('reopening applies nothing twice and keeps data', () => {
    store.projects.create({ name: 'kept' });
    store.close();
    store = Store.open(join(dir, 'studio.sqlite'));
    expect(store.projects.list().map((p) => p.name)).toEqual(['kept']);
    expect(store.db.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get()).toEqual({ n: migrations.length });
  });

  it('applies a new migration on top of an existing file, and refuses a file from a newer version', () => {
    const extra = [...migrations, { version: 99, name: 'add a column', sql: 'ALTER TABLE projects ADD COLUMN color TEXT' }];
    expect(migrate(store.db, extra)).toEqual({ from: migrations.length, to: 99 });
    expect(store.db.prepare('SELECT color FROM projects').all()).toEqual([]);
    store.close();
    expect(() => Store.open(join(dir, 'studio.sqlite'))).toThrow(/schema version 99, newer than this LoRA Studio knows/);
    store = new Store(new Database(':memory:'));
  });

  it('rolls back a failing migration as a whole', () => {
    const bad = [...migrations, { version: 50, name: 'broken', sql: 'CREATE TABLE half (x); SELECT * FROM no_such_table;' }];
    expect(() => migrate(store.db, bad)).toThrow(/no_such_table/);
    expect(store.db.pragma('user_version', { simple: true })).toBe(migrations.length);
    expect(store.db.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").get()).toBeUndefined();
  });
});

describe('projects', () => {
  it('creates, lists newest first, renames and deletes', () => {
    const a = store.projects.create({ name: 'alpha' });
    const b = store.projects.create({ name: 'beta', description: 'second' });
    expect(store.projects.list().map((p) => p.name)).toEqual(['beta', 'alpha']);
    expect(store.projects.get(b.id)).toEqual(b);
    const renamed = store.projects.update(a.id, { name: 'gamma' });
    expect(renamed?.name).toBe('gamma');
    expect(renamed?.createdAt).toBe(a.createdAt);
    expect(store.projects.update('missing', { name: 'x' })).toBeNull();
    expect(store.projects.delete(a.id)).toBe(true);
    expect(store.projects.delete(a.id)).toBe(false);
    expect(store.projects.list().map((p) => p.name)).toEqual(['beta']);
  });

  it('refuses a duplicate name, ignoring case, as a conflict', () => {
    store.projects.create({ name: 'Support bot' });
    const err = (() => {
      try {
        store.projects.create({ name: 'support BOT' });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(StudioError);
    expect((err as StudioError).code).toBe('conflict');
    expect((err as StudioError).message).toMatch(/support BOT/);
    const other = store.projects.create({ name: 'other' });
    expect(() => store.projects.update(other.id, { name: 'SUPPORT bot' })).toThrow(/already exists/);
  });

  it('deleting a project cascades to everything recorded under it', () => {
    const p = store.projects.create({ name: 'p' });
    const model = store.baseModels.insert({ source: 'org/tiny', sourceKind: 'hub', localPath: '/m', architecture: 'llama', revision: 'abc' });
    const ds = store.datasets.insert({ projectId: p.id, name: 'd', filePath: '/d.jsonl', format: 'jsonl', hash: 'h', rowCount: 3 });
    const job = store.jobs.create({ kind: 'train', projectId: p.id });
    const run = store.runs.insert({ projectId: p.id, name: 'r', config: { r: 8 }, seed: 1, appVersion: '0.1.0', baseModelId: model.id, datasetId: ds.id, jobId: job.id });
    store.runs.addMetric(run.id, 1, { loss: 2.5 });
    const ad = store.adapters.insert({ projectId: p.id, runId: run.id, name: 'a', path: '/a', rank: 8, alpha: 16 });
    const ev = store.evaluations.insert({ projectId: p.id, runId: run.id, adapterId: ad.id });
    store.evaluations.addExamples(ev.id, [{ idx: 0, input: 'q', expected: 'a', output: 'a', scores: { exact: 1 } }]);
    store.exports.insert({ projectId: p.id, adapterId: ad.id, kind: 'gguf', path: '/e.gguf' });
    const chat = store.chat.createSession({ projectId: p.id, title: 't', adapterId: ad.id });
    store.chat.addMessage({ sessionId: chat.id, role: 'user', content: 'hi' });

    store.projects.delete(p.id);
    const count = (t: string) => (store.db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n;
    for (const t of ['datasets', 'jobs', 'runs', 'run_metrics', 'adapters', 'evaluations', 'evaluation_examples', 'exports', 'chat_sessions', 'chat_messages']) {
      expect(count(t), t).toBe(0);
    }
    expect(count('base_models')).toBe(1); // shared across projects
  });
});

describe('other repositories', () => {
  it('round-trip runs with config and metrics, in step order', () => {
    const p = store.projects.create({ name: 'p' });
    const run = store.runs.insert({ projectId: p.id, name: 'r1', config: { lora: { r: 16, alpha: 32 } }, seed: 42, appVersion: '0.1.0', datasetHash: 'sha', modelRevision: 'rev' });
    store.runs.addMetric(run.id, 2, { loss: 1.5 });
    store.runs.addMetric(run.id, 1, { loss: 2.0, lr: 1e-4 });
    store.runs.addMetric(run.id, 2, { loss: 1.4 }); // replaced, not duplicated
    store.runs.addMetric(run.id, 1, { loss: 1.9 }, 'eval');
    expect(store.runs.get(run.id)).toMatchObject({ config: { lora: { r: 16, alpha: 32 } }, seed: 42, status: 'queued', datasetHash: 'sha', modelRevision: 'rev' });
    expect(store.runs.metrics(run.id, 'train').map((m) => [m.step, m.values.loss])).toEqual([[1, 2.0], [2, 1.4]]);
    expect(store.runs.metrics(run.id)).toHaveLength(3);
    const started = store.runs.setStatus(run.id, { status: 'running', startedAt: '2026-01-01T00:00:00.000Z' });
    expect(started).toMatchObject({ status: 'running', startedAt: '2026-01-01T00:00:00.000Z', endedAt: null });
  });

  it('rejects rows that point at a missing project as not_found', () => {
    expect(() => store.datasets.insert({ projectId: 'nope', name: 'd', filePath: '/d', format: 'jsonl', hash: 'h', rowCount: 0 })).toThrow(/no project with id "nope"/);
    expect(() => store.jobs.create({ kind: 'x', projectId: 'nope' })).toThrow(StudioError);
  });

  it('keeps chat messages in order and evaluations with their examples', () => {
    const p = store.projects.create({ name: 'p' });
    const s = store.chat.createSession({ projectId: p.id, title: 'hello' });
    store.chat.addMessage({ sessionId: s.id, role: 'user', content: 'one' });
    store.chat.addMessage({ sessionId: s.id, role: 'assistant', content: 'two', meta: { tokens: 3 } });
    expect(store.chat.messages(s.id).map((m) => [m.role, m.content])).toEqual([['user', 'one'], ['assistant', 'two']]);
    expect(() => store.chat.addMessage({ sessionId: 'nope', role: 'user', content: 'x' })).toThrow(/no chat session/);
    const ev = store.evaluations.insert({ projectId: p.id, config: { maxNewTokens: 32 } });
    store.evaluations.addExamples(ev.id, [
      { idx: 1, input: 'b', expected: null, output: 'y', scores: {} },
      { idx: 0, input: 'a', expected: 'x', output: 'x', scores: { exact: 1 } },
    ]);
    expect(store.evaluations.examples(ev.id).map((x) => x.idx)).toEqual([0, 1]);
    expect(store.evaluations.finish(ev.id, 'succeeded', { exact: 0.5 })).toMatchObject({ status: 'succeeded', summary: { exact: 0.5 } });
  });
});

describe('data dir', () => {
  it('prefers the explicit dir, then LORA_STUDIO_HOME, then ~/.lora-studio', () => {
    expect(resolveDataDir('/tmp/x', { LORA_STUDIO_HOME: '/tmp/y' })).toBe('/tmp/x');
    expect(resolveDataDir(undefined, { LORA_STUDIO_HOME: '/tmp/y' })).toBe('/tmp/y');
    expect(resolveDataDir(undefined, {})).toMatch(/\.lora-studio$/);
    expect(resolveDataDir('  ', { LORA_STUDIO_HOME: '' })).toMatch(/\.lora-studio$/);
  });

  it('creates the standard layout, with the store as studio.db', () => {
    const layout = ensureDataDir(join(dir, 'home'));
    expect(layout.storeFile).toBe(join(dir, 'home', 'studio.db'));
    for (const d of [layout.models, layout.datasets, layout.runs, layout.exports, layout.logs]) expect(existsSync(d), d).toBe(true);
  });
});
