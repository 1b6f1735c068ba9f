/**
 * Downloading repo files from the Hugging Face Hub into the shared cache (see cache.ts).
 *
 * The repo's commit and file list come from @huggingface/hub (repo info + tree listing); the transfer is
 * ours because the library's downloadFileToCacheDir has no progress, no resume, and files each snapshot
 * under its own last commit instead of the revision's commit (which Python would not find). Each file:
 * blobs/<etag>.incomplete, resumed with a Range request, checked against its hash (LFS sha256 or git blob
 * sha1), renamed to blobs/<etag> and linked from snapshots/<commit>/<path>; refs/<revision> records the
 * commit. Offline (HF_HUB_OFFLINE=1 or the option) resolves from the cache alone and never opens a socket.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fsp, type WriteStream } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { datasetInfo, listFiles, modelInfo } from '@huggingface/hub';
import { cachedCommit, COMMIT_HASH, hubCacheDir, offlineFromEnv, repoFolderName, resolveEndpoint, resolveToken, type RepoType } from './cache.ts';
import { pathExists } from '../files.ts';
import { countOf, formatBytes } from '../../../common/api/phrases.ts';

export type HubErrorCode =
  | 'unauthorized'
  | 'gated'
  | 'repo-not-found'
  | 'revision-not-found'
  | 'file-not-found'
  | 'offline-not-cached'
  | 'disk-full'
  | 'network'
  | 'integrity'
  | 'bad-request'
  | 'offline'
  | 'forbidden'
  | 'repo-not-empty'
  | 'cancelled';

export class HubError extends Error {
  constructor(
    readonly code: HubErrorCode,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'HubError';
  }
}

export interface HubFileEntry {
  path: string;
  size: number;
  /** Name of the blob in the cache: the LFS sha256, or the git blob sha1 for small files. */
  etag: string;
  lfs: boolean;
}

export interface HubProgress {
  phase: 'resolving' | 'downloading' | 'done';
  /** File being transferred. */
  file?: string;
  fileBytes: number;
  fileSize: number;
  /** Bytes present of all selected files (cached ones count as present). */
  bytes: number;
  totalBytes: number;
  filesDone: number;
  filesTotal: number;
}

export interface HubOptions {
  /** "org/name". */
  repo: string;
  type?: RepoType;
  /** Branch, tag or commit; default "main". */
  revision?: string;
  /** Access token; default HF_TOKEN, then the saved login token. */
  token?: string;
  /** Hub URL; default HF_ENDPOINT, then https://huggingface.co. */
  endpoint?: string;
  /** Cache folder; default from HF_HUB_CACHE / HF_HOME. */
  cacheDir?: string;
  /** Use the cache only; default HF_HUB_OFFLINE. */
  offline?: boolean;
  onProgress?: (progress: HubProgress) => void;
  signal?: AbortSignal;
  /** Environment to read HF_* variables from (default process.env). */
  env?: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
}

export interface ResolvedRepo {
  repo: string;
  type: RepoType;
  revision: string;
  commit: string;
  /** models--org--name folder in the cache. */
  storage: string;
  /** snapshots/<commit>. */
  snapshot: string;
  files: HubFileEntry[];
  offline: boolean;
}

interface Context {
  endpoint: string;
  token: string | undefined;
  fetch: typeof fetch;
  /** X-Error-Code / X-Error-Message of the last failed response, which the library's errors drop. */
  lastFailure: { code: string | null; message: string | null } | null;
  signal?: AbortSignal;
}

function context(options: HubOptions): Context {
  const env = options.env ?? process.env;
  const baseFetch = options.fetch ?? fetch;
  const ctx: Context = {
    endpoint: resolveEndpoint(options.endpoint, env),
    token: resolveToken(options.token, env),
    fetch: baseFetch,
    lastFailure: null,
    signal: options.signal,
  };
  ctx.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const res = await baseFetch(input, { ...init, signal: options.signal });
    if (!res.ok) ctx.lastFailure = { code: res.headers.get('x-error-code'), message: res.headers.get('x-error-message') };
    return res;
  }) as typeof fetch;
  return ctx;
}

function validateRepoId(repo: string): void {
  // "org/name", or a bare legacy name ("gpt2") that the Hub redirects to its organisation.
  if (!/^([A-Za-z0-9][\w.-]*\/)?[A-Za-z0-9][\w.-]*$/.test(repo) || repo.includes('..')) {
    throw new HubError('bad-request', `"${repo}" is not a Hub repo id (expected "organisation/name", e.g. HuggingFaceTB/SmolLM2-135M)`);
  }
}

/** Finds the commit and the file list of a repo revision (online), or its cached snapshot (offline). */
export async function resolveRepo(options: HubOptions): Promise<ResolvedRepo> {
  validateRepoId(options.repo);
  const env = options.env ?? process.env;
  const type = options.type ?? 'model';
  const revision = options.revision ?? 'main';
  const cacheDir = options.cacheDir ?? hubCacheDir(env);
  const storage = join(cacheDir, repoFolderName(options.repo, type));
  const offline = options.offline ?? offlineFromEnv(env);
  const label = `${type === 'dataset' ? 'dataset ' : ''}${options.repo}@${revision}`;

  if (offline) {
    const commit = cachedCommit(storage, revision);
    if (!commit) {
      throw new HubError(
        'offline-not-cached',
        `offline mode: ${label} is not in the cache (${storage}); download it once with the network on, or turn offline mode off`,
      );
    }
    const snapshot = join(storage, 'snapshots', commit);
    const files: HubFileEntry[] = [];
    for (const path of await listTree(snapshot)) {
      const size = await sizeOf(join(snapshot, path), -1);
      if (size >= 0) files.push({ path, size, etag: '', lfs: false }); // a dangling link is a file not (yet) there
    }
    return { repo: options.repo, type, revision, commit, storage, snapshot, files, offline };
  }

  const ctx = context(options);
  const common = { hubUrl: ctx.endpoint, fetch: ctx.fetch, ...(ctx.token ? { accessToken: ctx.token } : {}) };
  let commit: string;
  try {
    const info =
      type === 'model'
        ? await modelInfo({ name: options.repo, revision, additionalFields: ['sha'], ...common })
        : await datasetInfo({ name: options.repo, revision, additionalFields: ['sha'], ...common });
    commit = String((info as { sha?: unknown }).sha ?? '');
  } catch (err) {
    throw hubFailure(err, ctx, options.repo, type, revision);
  }
  if (!COMMIT_HASH.test(commit)) throw new HubError('network', `the Hub gave no commit for ${label} (got "${commit}")`);

  const files: HubFileEntry[] = [];
  try {
    for await (const entry of listFiles({ repo: { type, name: options.repo }, revision: commit, recursive: true, ...common })) {
      if (entry.type !== 'file') continue;
      const etag = entry.lfs?.oid ?? entry.oid;
      if (!etag) throw new HubError('network', `the Hub listing of ${label} gives no hash for ${entry.path}`);
      files.push({ path: entry.path, size: entry.lfs?.size ?? entry.size, etag, lfs: entry.lfs !== undefined });
    }
  } catch (err) {
    if (err instanceof HubError) throw err;
    throw hubFailure(err, ctx, options.repo, type, revision);
  }
  return { repo: options.repo, type, revision, commit, storage, snapshot: join(storage, 'snapshots', commit), files, offline };
}

/** Blob downloads under way in this process, by blob path. Other processes are not coordinated (no lock files). */
const inFlight = new Map<string, Promise<number>>();

export interface FetchResult {
  /** Local paths (inside the snapshot folder) by repo path. */
  paths: Record<string, string>;
  downloadedBytes: number;
  fromCache: string[];
}

/** Makes the given repo files present in the cache snapshot, downloading (or resuming) what is missing. */
export async function fetchFiles(resolved: ResolvedRepo, paths: string[], options: HubOptions): Promise<FetchResult> {
  const byPath = new Map(resolved.files.map((f) => [f.path, f]));
  const selected = paths.map((p) => {
    const entry = byPath.get(p);
    if (!entry) {
      throw new HubError(
        resolved.offline ? 'offline-not-cached' : 'file-not-found',
        resolved.offline
          ? `offline mode: ${p} of ${resolved.repo}@${resolved.revision} is not in the cache (${resolved.snapshot})`
          : `${resolved.repo}@${resolved.revision} has no file ${p}`,
      );
    }
    return entry;
  });
  const result: FetchResult = { paths: {}, downloadedBytes: 0, fromCache: [] };
  const totalBytes = selected.reduce((a, f) => a + f.size, 0);
  const progress: HubProgress = { phase: 'resolving', fileBytes: 0, fileSize: 0, bytes: 0, totalBytes, filesDone: 0, filesTotal: selected.length };
  const report = () => options.onProgress?.({ ...progress });

  if (resolved.offline) {
    for (const f of selected) result.paths[f.path] = join(resolved.snapshot, f.path);
    result.fromCache.push(...selected.map((f) => f.path));
    Object.assign(progress, { phase: 'done', bytes: totalBytes, filesDone: selected.length });
    report();
    return result;
  }

  const ctx = context(options);
  // What is already there, and what must come over the network.
  const missing: HubFileEntry[] = [];
  const present = new Set<string>();
  let partialBytes = 0;
  for (const f of selected) {
    const pointer = join(resolved.snapshot, f.path);
    const blob = join(resolved.storage, 'blobs', f.etag);
    if ((await pathExists(pointer)) || (await pathExists(blob))) {
      progress.bytes += f.size;
      progress.filesDone++;
      present.add(f.path);
      continue;
    }
    missing.push(f);
    partialBytes += Math.min(f.size, await sizeOf(`${blob}.incomplete`));
  }
  report();
  const needed = missing.reduce((a, f) => a + f.size, 0) - partialBytes;
  await fsp.mkdir(join(resolved.storage, 'blobs'), { recursive: true });
  await checkFreeSpace(resolved.storage, needed, missing.length);

  for (const f of selected) {
    const pointer = join(resolved.snapshot, f.path);
    const blob = join(resolved.storage, 'blobs', f.etag);
    result.paths[f.path] = pointer;
    if (await pathExists(pointer)) {
      result.fromCache.push(f.path);
      continue;
    }
    // One download per blob in this process: the claim (inFlight.set) happens before any await, so two
    // pulls of the same file cannot both start writing blobs/<etag>.incomplete.
    for (;;) {
      const running = inFlight.get(blob);
      if (running) {
        await running.catch(() => undefined);
        continue;
      }
      const task = (async () => {
        if (await pathExists(blob)) return -1;
        progress.phase = 'downloading';
        progress.file = f.path;
        progress.fileSize = f.size;
        const before = progress.bytes;
        return downloadBlob(resolved, f, blob, ctx, needed, options.signal, (fileBytes) => {
          progress.fileBytes = fileBytes;
          progress.bytes = before + fileBytes;
          report();
        });
      })();
      inFlight.set(blob, task);
      let transferred: number;
      try {
        transferred = await task;
      } finally {
        if (inFlight.get(blob) === task) inFlight.delete(blob);
      }
      if (transferred >= 0) result.downloadedBytes += transferred;
      else result.fromCache.push(f.path);
      if (transferred < 0 && !present.has(f.path)) progress.bytes += f.size; // fetched meanwhile by another pull
      if (!present.has(f.path)) progress.filesDone++;
      break;
    }
    await linkPointer(blob, pointer);
  }
  // Record where the revision pointed, as Python does, so offline use by branch name works for both.
  if (resolved.revision !== resolved.commit) {
    const ref = join(resolved.storage, 'refs', resolved.revision);
    await fsp.mkdir(dirname(ref), { recursive: true });
    await fsp.writeFile(ref, resolved.commit);
  }
  Object.assign(progress, { phase: 'done', file: undefined, bytes: totalBytes, filesDone: selected.length });
  report();
  return result;
}

async function downloadBlob(
  resolved: ResolvedRepo,
  file: HubFileEntry,
  blob: string,
  ctx: Context,
  neededTotal: number,
  signal: AbortSignal | undefined,
  onBytes: (fileBytes: number) => void,
): Promise<number> {
  const incomplete = `${blob}.incomplete`;
  let start = await sizeOf(incomplete);
  if (start > file.size) start = 0;
  const url = `${ctx.endpoint}/${resolved.type === 'dataset' ? 'datasets/' : ''}${resolved.repo}/resolve/${resolved.commit}/${file.path
    .split('/')
    .map(encodeURIComponent)
    .join('/')}`;
  const headers: Record<string, string> = { 'Accept-Encoding': 'identity' };
  if (ctx.token) headers.Authorization = `Bearer ${ctx.token}`;
  if (start > 0) headers.Range = `bytes=${start}-`;

  let res: Response;
  try {
    res = await ctx.fetch(url, { headers, redirect: 'follow' });
  } catch (err) {
    throw networkError(err, file, start, signal);
  }
  if (res.status === 416 && start === file.size) {
    // Everything was already there: only the check and the rename were missing.
  } else if (!res.ok) {
    throw classify(res.status, res.headers.get('x-error-code'), res.headers.get('x-error-message'), ctx.endpoint, ctx.token !== undefined, resolved.repo, resolved.type, resolved.revision, file.path);
  }
  if (res.status !== 206 && res.status !== 416) start = 0; // the server sent the whole file
  const resumedFrom = start;
  const hash = newHash(file);
  if (start > 0) await hashExisting(hash, incomplete, start);

  let written = start;
  if (res.status !== 416) {
    let out: WriteStream | null = null;
    try {
      out = createWriteStream(incomplete, start > 0 ? { flags: 'r+', start } : { flags: 'w' });
      await new Promise<void>((resolve, reject) => {
        out!.once('open', () => resolve());
        out!.once('error', reject);
      });
      onBytes(written);
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        hash.update(chunk);
        written += chunk.length;
        if (!out.write(chunk)) await waitDrain(out);
        onBytes(written);
      }
      await closeStream(out);
    } catch (err) {
      out?.destroy();
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC') throw await diskFull(resolved.storage, file, written, neededTotal);
      throw networkError(err, file, written, signal);
    }
  }
  if (written !== file.size) {
    throw new HubError(
      'network',
      `the download of ${file.path} stopped at ${written} of ${file.size} bytes; run it again to resume from there`,
    );
  }
  const digest = hash.digest('hex');
  if (digest !== file.etag) {
    await fsp.rm(incomplete, { force: true });
    throw new HubError('integrity', `${file.path} arrived corrupted (hash ${digest}, expected ${file.etag}); it was deleted: download it again`);
  }
  await fsp.rename(incomplete, blob);
  return written - resumedFrom;
}

/** LFS files are named by their sha256; small files by their git blob sha1 ("blob <size>\0" + bytes). */
function newHash(file: HubFileEntry): Hash {
  if (file.lfs || file.etag.length === 64) return createHash('sha256');
  const hash = createHash('sha1');
  hash.update(`blob ${file.size}\0`);
  return hash;
}

async function hashExisting(hash: Hash, path: string, length: number): Promise<void> {
  for await (const chunk of createReadStream(path, { start: 0, end: length - 1 }) as AsyncIterable<Buffer>) hash.update(chunk);
}

async function linkPointer(blob: string, pointer: string): Promise<void> {
  await fsp.mkdir(dirname(pointer), { recursive: true });
  await fsp.rm(pointer, { force: true });
  try {
    await fsp.symlink(relative(dirname(pointer), blob), pointer);
  } catch {
    // No symlinks (Windows without developer mode): a copy, as huggingface_hub does.
    await fsp.copyFile(blob, pointer);
  }
}

async function checkFreeSpace(storage: string, needed: number, files: number): Promise<void> {
  if (needed <= 0) return;
  const free = await freeBytes(storage);
  if (free !== null && free < needed) {
    throw new HubError(
      'disk-full',
      `not enough disk space in ${storage}: ${countOf(files, 'file')} need ${formatBytes(needed)} more, ${formatBytes(free)} is free; free some space or point HF_HUB_CACHE at a larger disk`,
    );
  }
}

async function diskFull(storage: string, file: HubFileEntry, written: number, neededTotal: number): Promise<HubError> {
  const free = await freeBytes(storage);
  return new HubError(
    'disk-full',
    `the disk filled up while writing ${file.path} (${formatBytes(written)} of ${formatBytes(file.size)} written) in ${storage}: ` +
      `this download needs ${formatBytes(neededTotal)} in all${free !== null ? `, ${formatBytes(free)} is free now` : ''}; ` +
      'free some space or point HF_HUB_CACHE at a larger disk, then run it again to resume',
  );
}

async function freeBytes(path: string): Promise<number | null> {
  try {
    const s = await fsp.statfs(path);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

// One definition for the core's progress lines and the UI's catalogue (common/api/phrases.ts).
export { formatBytes };

function networkError(err: unknown, file: HubFileEntry, written: number, signal?: AbortSignal): HubError {
  if (signal?.aborted) return new HubError('network', `the download of ${file.path} was cancelled at ${written} of ${file.size} bytes; run it again to resume`);
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const detail = cause?.code ?? cause?.message ?? (err as Error).message;
  return new HubError(
    'network',
    `the download of ${file.path} was interrupted at ${written} of ${file.size} bytes (${detail}); run it again to resume from there`,
  );
}

function describeRepo(repo: string, type: RepoType): string {
  return `${type === 'dataset' ? 'dataset ' : ''}${repo}`;
}

function repoUrl(endpoint: string, repo: string, type: RepoType): string {
  return `${endpoint}/${type === 'dataset' ? 'datasets/' : ''}${repo}`;
}

/** Maps an HTTP failure (status + the Hub's X-Error-Code) to a HubError that says what to do. */
function classify(
  status: number,
  errorCode: string | null,
  serverMessage: string | null,
  endpoint: string,
  hasToken: boolean,
  repo: string,
  type: RepoType,
  revision: string,
  file?: string,
): HubError {
  const what = describeRepo(repo, type);
  const page = repoUrl(endpoint, repo, type);
  // The Hub answers 401 RepoNotFound for a missing repo when no token is sent (it may be private).
  if (errorCode === 'RepoNotFound') {
    return new HubError('repo-not-found', `${what} not found on ${endpoint}${hasToken ? '' : ' (if it is private, set HF_TOKEN)'}`, status);
  }
  if (status === 401 || status === 403) {
    const gated = errorCode === 'GatedRepo' || /gated|restricted|accept/i.test(serverMessage ?? '');
    if (gated || (status === 403 && hasToken)) {
      return new HubError(
        'gated',
        `${what} is gated: accept its licence at ${page} while logged in, then use a token of that account (HF_TOKEN or the Hub token in Settings)` +
          (hasToken ? '; the token in use has no access yet' : ''),
        status,
      );
    }
    return new HubError(
      'unauthorized',
      hasToken
        ? `the Hub refused the token for ${what} (${status}): check that HF_TOKEN is valid and can read this repo`
        : `${what} needs a Hugging Face token (${status}: private or gated repo): set HF_TOKEN or add the token in Settings; if it is gated, accept its licence at ${page} first`,
      status,
    );
  }
  if (status === 404) {
    if (errorCode === 'RevisionNotFound') return new HubError('revision-not-found', `revision "${revision}" not found in ${what} (a branch, tag or commit hash)`, status);
    if (errorCode === 'EntryNotFound' && file) return new HubError('file-not-found', `${what}@${revision} has no file ${file}`, status);
    return new HubError('repo-not-found', `${what} not found on ${endpoint}${hasToken ? '' : ' (if it is private, set HF_TOKEN)'}`, status);
  }
  return new HubError('network', `the Hub answered ${status} for ${what}${file ? ` ${file}` : ''}${serverMessage ? `: ${serverMessage}` : ''}`, status);
}

function hubFailure(err: unknown, ctx: Context, repo: string, type: RepoType, revision: string): HubError {
  if (err instanceof HubError) return err;
  if (ctx.signal?.aborted) return new HubError('network', `cancelled while asking the Hub about ${describeRepo(repo, type)}`);
  const status = (err as { statusCode?: unknown }).statusCode;
  if (typeof status === 'number') {
    return classify(status, ctx.lastFailure?.code ?? null, ctx.lastFailure?.message ?? (err as Error).message, ctx.endpoint, ctx.token !== undefined, repo, type, revision);
  }
  if (err instanceof TypeError && /access token must start with 'hf_'/.test(err.message)) {
    return new HubError('unauthorized', 'the Hugging Face token is malformed: tokens start with "hf_" (check HF_TOKEN)');
  }
  const cause = (err as { cause?: { code?: string } }).cause;
  return new HubError('network', `cannot reach the Hub at ${ctx.endpoint} (${cause?.code ?? (err as Error).message}); check the connection, HF_ENDPOINT, or use offline mode with a cached model`);
}


async function sizeOf(path: string, missing = 0): Promise<number> {
  try {
    return (await fsp.stat(path)).size;
  } catch {
    return missing;
  }
}

function waitDrain(out: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    out.once('error', onError);
    out.once('drain', () => {
      out.off('error', onError);
      resolve();
    });
  });
}

function closeStream(out: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    out.once('error', reject);
    out.end(() => resolve());
  });
}

async function listTree(root: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fsp.readdir(join(root, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listTree(root, rel)));
    else out.push(rel);
  }
  return out.sort();
}
