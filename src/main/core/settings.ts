// The studio's settings as jobs see them: threads, offline mode and the Hub token become environment variables
// of each worker (LORA_STUDIO_THREADS, HF_HUB_OFFLINE, HF_TOKEN), read when the job starts. The token is never
// written to the SQLite store: the desktop app keeps it in the OS keychain (electron/secrets.ts), `serve` and
// the CLI in a file only this user can read; HF_TOKEN set in the environment wins over either.
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Settings, TokenStorage } from '../../common/api/settings.ts';
import { offlineFromEnv } from '../formats/hub/index.ts';
import { WORKER_THREADS_ENV } from '../../common/worker-protocol.ts';
import type { Store } from './store/index.ts';

export interface HubTokenStore {
  readonly kind: TokenStorage;
  /** The token file (kind "file"), shown to the user so they know where it is. */
  readonly file: string | null;
  load(): string | null;
  save(token: string): void;
  clear(): void;
}

/** serve / CLI: `<dataDir>/secrets/hf_token`, mode 0600 in a 0700 folder. */
export function fileHubTokenStore(dataDir: string): HubTokenStore {
  const dir = join(dataDir, 'secrets');
  const file = join(dir, 'hf_token');
  return {
    kind: 'file',
    file,
    load() {
      try {
        return readFileSync(file, 'utf8').trim() || null;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw err;
      }
    },
    save(token) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      // Remove first: writeFileSync's mode only applies when it creates the file.
      rmSync(file, { force: true });
      writeFileSync(file, token, { mode: 0o600 });
      chmodSync(file, 0o600); // the umask may have narrowed it further, never widened; make it exact
    },
    clear() {
      rmSync(file, { force: true });
    },
  };
}

const KEY_THREADS = 'threads';
const KEY_OFFLINE = 'offline';
const KEY_KEEP_ALIVE = 'modelKeepAliveMinutes';
/** How long a chat model stays loaded in its resident worker after an answer, unless set. */
export const DEFAULT_MODEL_KEEP_ALIVE_MINUTES = 10;

export interface StoredSettings {
  threads: number | null;
  offline: boolean;
  modelKeepAliveMinutes: number;
}

export function readSettings(store: Store): StoredSettings {
  const threads = store.settings.get(KEY_THREADS);
  const offline = store.settings.get(KEY_OFFLINE);
  const keepAlive = store.settings.get(KEY_KEEP_ALIVE);
  return {
    threads: typeof threads === 'number' && Number.isInteger(threads) && threads > 0 ? threads : null,
    offline: offline === true,
    modelKeepAliveMinutes:
      typeof keepAlive === 'number' && keepAlive >= 0 ? keepAlive : DEFAULT_MODEL_KEEP_ALIVE_MINUTES,
  };
}

export function writeSettings(store: Store, patch: Partial<StoredSettings>): void {
  store.transaction(() => {
    if (patch.threads !== undefined) {
      if (patch.threads === null) store.settings.delete(KEY_THREADS);
      else store.settings.set(KEY_THREADS, patch.threads);
    }
    if (patch.offline !== undefined) store.settings.set(KEY_OFFLINE, patch.offline);
    if (patch.modelKeepAliveMinutes !== undefined) store.settings.set(KEY_KEEP_ALIVE, patch.modelKeepAliveMinutes);
  });
}

const envToken = (env: NodeJS.ProcessEnv): string | undefined =>
  env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN || undefined;

/** Offline for Hub pulls: the environment's HF_HUB_OFFLINE, or the setting. */
export function effectiveOffline(store: Store, env: NodeJS.ProcessEnv = process.env): boolean {
  return offlineFromEnv(env) || readSettings(store).offline;
}

/** What the settings add to a worker's environment when a job starts. */
export function workerEnvFromSettings(
  store: Store,
  tokens: HubTokenStore,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const s = readSettings(store);
  const out: Record<string, string> = {};
  if (s.threads !== null) out[WORKER_THREADS_ENV] = String(s.threads);
  if (s.offline) out.HF_HUB_OFFLINE = '1';
  if (!envToken(env)) {
    const token = tokens.load();
    if (token) out.HF_TOKEN = token;
  }
  return out;
}

/** The settings as the API shows them: the token only as set / where from. */
export function describeSettings(store: Store, tokens: HubTokenStore, env: NodeJS.ProcessEnv = process.env): Settings {
  const s = readSettings(store);
  const stored = tokens.load() !== null;
  const fromEnv = envToken(env) !== undefined;
  return {
    threads: s.threads,
    cpuThreads: availableParallelism(),
    offline: s.offline,
    modelKeepAliveMinutes: s.modelKeepAliveMinutes,
    offlineFromEnv: offlineFromEnv(env),
    hubToken: {
      set: fromEnv || stored,
      source: fromEnv ? 'env' : stored ? 'stored' : null,
      stored,
      storage: tokens.kind,
      file: tokens.file,
    },
  };
}
