// Settings through the real core: threads and offline mode persist in the store and reach the next worker's
// environment; the Hub token is write-only, kept in a 0600 file (serve/CLI) and never in the SQLite file, and a
// stored token is what a worker's Hub download sends (checked against a mock Hub's gated repo).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Job } from '../../../src/common/api/jobs.ts';
import type { Settings } from '../../../src/common/api/settings.ts';
import { parseWorkerThreads } from '../../../src/common/worker-protocol.ts';
import { createStudioCore, type StudioCore } from '../../../src/main/core/index.ts';
import { workerEnvFromSettings } from '../../../src/main/core/settings.ts';
import { defaultThreads } from '../../../src/main/engine/executors/onnx/ort.ts';
import { commitHash, GRANTED_TOKEN, MockHub } from '../../formats/hub/mock-hub.ts';

let dir: string;
let dataDir: string;
let core: StudioCore;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lora-settings-'));
  dataDir = join(dir, 'data');
  core = createStudioCore({ dataDir, testJobs: false });
});
afterAll(async () => {
  await core.close();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => vi.unstubAllEnvs());

const get = async () => (await core.invoke('settings.get', {})) as Settings;
async function invokeError(method: string, input: unknown): Promise<{ code: string; message: string }> {
  const r = await core.invokeSafe(method, input);
  if (r.ok) throw new Error(`${method} succeeded; expected an error`);
  return r.error;
}
/** Every byte of the SQLite store (main file, WAL, journal) as latin1 text. */
function storeBytes(): string {
  return readdirSync(dataDir)
    .filter((n) => /\.(db|sqlite)(-wal|-journal)?$/.test(n) || n.includes('.db'))
    .map((n) => readFileSync(join(dataDir, n)).toString('latin1'))
    .join('');
}

describe('settings', () => {
  it('starts with all CPU threads, online, and no token', async () => {
    vi.stubEnv('HF_TOKEN', '');
    vi.stubEnv('HUGGING_FACE_HUB_TOKEN', '');
    vi.stubEnv('HF_HUB_OFFLINE', '');
    const s = await get();
    expect(s).toMatchObject({
      threads: null,
      cpuThreads: availableParallelism(),
      offline: false,
      modelKeepAliveMinutes: 10,
      offlineFromEnv: false,
    });
    expect(s.hubToken).toEqual({
      set: false,
      source: null,
      stored: false,
      storage: 'file',
      file: join(dataDir, 'secrets', 'hf_token'),
    });
    expect(
      workerEnvFromSettings(core.store, { kind: 'file', file: null, load: () => null, save() {}, clear() {} }, {}),
    ).toEqual({});
  });

  it('persists threads and offline mode across a restart and hands them to workers', async () => {
    await core.invoke('settings.update', { threads: 1, offline: true });
    await core.close();
    core = createStudioCore({ dataDir, testJobs: false });
    expect(await get()).toMatchObject({ threads: 1, offline: true });
    const env = workerEnvFromSettings(
      core.store,
      { kind: 'file', file: null, load: () => null, save() {}, clear() {} },
      {},
    );
    expect(env).toEqual({ LORA_STUDIO_THREADS: '1', HF_HUB_OFFLINE: '1' });
    // The engine reads that variable for every session that names no thread count.
    expect(defaultThreads(env)).toBe(1);
    expect(defaultThreads({})).toBe(availableParallelism());

    // Offline applies to models.pull without its own flag: the job fails on the empty cache without the network.
    vi.stubEnv('HF_HUB_CACHE', join(dir, 'empty-cache'));
    vi.stubEnv('HF_HUB_OFFLINE', '');
    const job = (await core.invoke('models.pull', { repo: 'acme/never-downloaded' })) as Job;
    const ended = await core.jobs.waitFor(job.id);
    expect(ended.status).toBe('failed');
    expect(ended.error).toMatch(/offline mode: .*not in the cache/);

    // A partial update leaves the other setting alone; null goes back to all threads.
    expect(await core.invoke('settings.update', { threads: null })).toMatchObject({ threads: null, offline: true });
    expect(await core.invoke('settings.update', { offline: false })).toMatchObject({ threads: null, offline: false });
  });

  it('keeps a chat model loaded for the set minutes: a resident worker is released when they run out', async () => {
    expect((await invokeError('settings.update', { modelKeepAliveMinutes: -1 })).code).toBe('invalid_input');
    const other = createStudioCore({ dataDir: join(dir, 'keep-alive'), testJobs: true });
    try {
      expect(await other.invoke('settings.update', { modelKeepAliveMinutes: 0.005 })).toMatchObject({
        modelKeepAliveMinutes: 0.005,
      });
      const job = other.jobs.start('diagnostic.turn', {}, { resident: { key: 'k' } });
      await other.jobs.waitFor(job.id);
      expect(other.jobs.residents()).toHaveLength(1); // idle, for 0.3 s
      for (let i = 0; i < 100 && other.jobs.residents().length; i++) await new Promise((r) => setTimeout(r, 50));
      expect(other.jobs.residents()).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it('refuses thread counts this machine cannot give, naming the field', async () => {
    expect(await invokeError('settings.update', { threads: availableParallelism() + 1 })).toMatchObject({
      code: 'invalid_input',
      message: expect.stringMatching(/threads: this machine has \d+ CPU threads/),
    });
    expect((await invokeError('settings.update', { threads: 0 })).code).toBe('invalid_input');
    expect((await invokeError('settings.update', { threads: 1.5 })).code).toBe('invalid_input');
    expect(() => parseWorkerThreads('0')).toThrow(/LORA_STUDIO_THREADS must be a whole number/);
    expect(() => parseWorkerThreads('four')).toThrow(/got "four"/);
    expect(parseWorkerThreads(undefined)).toBeNull();
  });

  it('stores the Hub token write-only in a 0600 file, never in the store, and clears it', async () => {
    vi.stubEnv('HF_TOKEN', '');
    vi.stubEnv('HUGGING_FACE_HUB_TOKEN', '');
    expect((await invokeError('settings.setHubToken', { token: 'not-a-token' })).message).toMatch(/starts with "hf_"/);
    const token = 'hf_SecretToken1234567890abcdef';
    const s = (await core.invoke('settings.setHubToken', { token: `  ${token}\n` })) as Settings;
    expect(s.hubToken).toMatchObject({ set: true, source: 'stored', stored: true, storage: 'file' });
    expect(JSON.stringify(s)).not.toContain(token);
    expect(JSON.stringify(await get())).not.toContain(token);
    const file = join(dataDir, 'secrets', 'hf_token');
    expect(readFileSync(file, 'utf8')).toBe(token);
    if (process.platform !== 'win32') {
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(statSync(join(dataDir, 'secrets')).mode & 0o077).toBe(0);
    }
    expect(storeBytes().length).toBeGreaterThan(0);
    expect(storeBytes()).not.toContain(token);

    // HF_TOKEN in the environment wins: the stored one is reported as shadowed and not passed on.
    vi.stubEnv('HF_TOKEN', 'hf_fromTheEnvironment');
    expect((await get()).hubToken).toMatchObject({ set: true, source: 'env', stored: true });
    expect(
      workerEnvFromSettings(
        core.store,
        { kind: 'file', file: null, load: () => token, save() {}, clear() {} },
        process.env,
      ),
    ).not.toHaveProperty('HF_TOKEN');
    vi.stubEnv('HF_TOKEN', '');

    const cleared = (await core.invoke('settings.clearHubToken', {})) as Settings;
    expect(cleared.hubToken).toMatchObject({ set: false, source: null, stored: false });
    expect(existsSync(file)).toBe(false);
  });

  it('sends the stored token with a worker’s Hub download (a gated repo opens only with it)', async () => {
    const hub = new MockHub();
    const commit = commitHash('gated-main');
    hub.addRepo({
      type: 'model',
      name: 'acme/gated',
      gated: true,
      refs: { main: commit },
      commits: { [commit]: { 'config.json': { content: Buffer.from('{}'), lfs: false } } },
    });
    vi.stubEnv('HF_ENDPOINT', await hub.start());
    vi.stubEnv('HF_HUB_CACHE', join(dir, 'gated-cache'));
    vi.stubEnv('HF_HUB_OFFLINE', '');
    vi.stubEnv('HF_TOKEN', '');
    vi.stubEnv('HUGGING_FACE_HUB_TOKEN', '');
    vi.stubEnv('HF_HOME', join(dir, 'hf-home')); // no saved `huggingface-cli login` token either
    try {
      const without = await core.jobs.waitFor(((await core.invoke('models.pull', { repo: 'acme/gated' })) as Job).id);
      expect(without.status).toBe('failed');
      expect(without.error).toMatch(/gated|token/i);
      expect(hub.log.every((r) => r.authorization === undefined)).toBe(true);

      await core.invoke('settings.setHubToken', { token: GRANTED_TOKEN });
      hub.log.length = 0;
      await core.jobs.waitFor(((await core.invoke('models.pull', { repo: 'acme/gated' })) as Job).id);
      expect(hub.log.length).toBeGreaterThan(0);
      expect(hub.log.some((r) => r.authorization === `Bearer ${GRANTED_TOKEN}`)).toBe(true);
    } finally {
      await core.invoke('settings.clearHubToken', {});
      await hub.stop();
    }
  });
});

describe('dialogs.reveal', () => {
  it('is refused by the core with a sentence saying where the item is (only the desktop shell opens a file manager)', async () => {
    expect(await invokeError('dialogs.reveal', { path: '/tmp/some-export.gguf' })).toMatchObject({
      code: 'failed',
      message: expect.stringMatching(/not running as the desktop app; open \/tmp\/some-export\.gguf yourself/),
    });
    expect((await invokeError('dialogs.reveal', { path: '' })).code).toBe('invalid_input');
  });
});
