/**
 * Pushing files to a Hugging Face Hub repo through @huggingface/hub's own functions: `listFiles` to see what the
 * repo holds, `createRepo` / `createBranch` when missing, then `commitIter` (pre-upload, LFS batch, LFS PUTs,
 * commit) with progress events.
 *
 * - Resume: a push run again sends only what the Hub lacks. Files already committed with the same content are
 *   skipped before the commit; LFS objects uploaded by an interrupted attempt are reported as present by the
 *   LFS batch answer, so the library does not send them again.
 * - Retry: a network failure or a 5xx/429 answer retries the whole commit (cheap, by the rule above) a few
 *   times with a growing pause; after the last, the error names what reached the Hub's storage and what did not.
 * - `useXet: false`: the plain LFS protocol (basic and multipart PUTs) that the Hub still accepts; the Xet
 *   protocol would need its own content-addressed store we cannot stand up locally to test against.
 * - A repo that already holds other files is refused unless `replace` is set (files of the same name are then
 *   replaced, others stay: nothing is deleted).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pathToFileURL } from 'node:url';
import {
  commitIter,
  createBranch,
  createRepo,
  HubApiError,
  listFiles,
  type CommitOperation,
  type CommitProgressEvent,
} from '@huggingface/hub';
import { offlineFromEnv, resolveEndpoint, resolveToken } from './cache.ts';
import { formatBytes, HubError } from './download.ts';
import { countOf } from '../../../common/api/phrases.ts';

export interface PushFile {
  /** Path in the repo ("adapter_config.json", "sub/x.bin"). */
  path: string;
  /** A local file, or bytes made in memory (the model card). */
  content: { file: string } | { bytes: Uint8Array };
  size: number;
}

export interface PushProgress {
  phase: 'checking' | 'hashing' | 'uploading' | 'committing' | 'retrying' | 'done';
  file?: string;
  /** Bytes of the files to send that have reached the Hub. */
  bytes: number;
  totalBytes: number;
  filesDone: number;
  filesTotal: number;
  attempt: number;
  message?: string;
}

export interface PushOptions {
  /** "user/name". */
  repo: string;
  files: PushFile[];
  private?: boolean;
  /** Branch; default "main" (created from main when missing). */
  revision?: string;
  message: string;
  replace?: boolean;
  token?: string;
  endpoint?: string;
  env?: NodeJS.ProcessEnv;
  offline?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: PushProgress) => void;
  /** Attempts after the first on network failure; default 3. */
  retries?: number;
  /** Pause before the first retry, doubled each time; default 2000 ms. */
  retryDelayMs?: number;
  fetch?: typeof fetch;
}

export interface PushOutcome {
  repo: string;
  url: string;
  revision: string;
  /** The new commit; null when the repo already held exactly these files. */
  commit: string | null;
  created: boolean;
  /** Files sent in this push (the rest were already there with the same content). */
  sent: string[];
  uploadedBytes: number;
}

interface RemoteFile {
  oid: string;
  lfsOid: string | null;
  size: number;
}

interface LocalHashes {
  sha256: string;
  gitSha1: string;
}

/** Pushes the files as one commit; see the file header for resume, retry and refusal rules. */
export async function pushToHub(options: PushOptions): Promise<PushOutcome> {
  const env = options.env ?? process.env;
  const endpoint = resolveEndpoint(options.endpoint, env);
  const revision = options.revision ?? 'main';
  const repo = options.repo;
  if (!/^[^/\s]+\/[^/\s]+$/.test(repo))
    throw new HubError('bad-request', `"${repo}" is not a Hub repo (expected "user/name")`);
  if (options.offline ?? offlineFromEnv(env)) {
    throw new HubError(
      'offline',
      `offline mode is on, so nothing can be pushed to ${repo}: turn it off in Settings${offlineFromEnv(env) ? ' and unset HF_HUB_OFFLINE' : ''}, then push again`,
    );
  }
  const token = resolveToken(options.token, env);
  if (!token) {
    throw new HubError(
      'unauthorized',
      `pushing to the Hub needs a Hugging Face token with write access: add it in Settings or set HF_TOKEN (create one at ${endpoint}/settings/tokens with the "Write" role)`,
    );
  }
  const net = new PushNetwork(options.fetch ?? fetch, options.signal);
  const common = { hubUrl: endpoint, accessToken: token, fetch: net.fetch };
  const filesTotal = options.files.length;
  const progress: PushProgress = { phase: 'checking', bytes: 0, totalBytes: 0, filesDone: 0, filesTotal, attempt: 1 };
  const report = (patch: Partial<PushProgress>) => {
    Object.assign(progress, patch);
    options.onProgress?.({ ...progress });
  };
  report({});

  // What the repo holds now.
  let remote: Map<string, RemoteFile> | null;
  let created = false;
  try {
    remote = await listRemote(repo, revision, net, common);
    if (remote === null) {
      try {
        await createRepo({ repo, ...(options.private ? { visibility: 'private' as const } : {}), ...common });
      } catch (err) {
        // Not listed, yet it exists: a private repo of someone else, or one this token may not read.
        if (err instanceof HubApiError && err.statusCode === 409) {
          throw new HubError(
            'forbidden',
            `${repo} exists but this token cannot see it (a private repo of another account?): push to a repo of your own, or use a token with access to it`,
            409,
          );
        }
        throw err;
      }
      created = true;
      if (revision !== 'main') await createBranch({ repo, branch: revision, ...common });
      remote = new Map();
    } else if (remote === BRANCH_MISSING) {
      await createBranch({ repo, branch: revision, ...common });
      remote = await listRemote(repo, revision, net, common);
    }
  } catch (err) {
    throw pushFailure(err, net, repo, endpoint, options.signal);
  }
  remote ??= new Map();

  // Same content already there: not sent again. Other content: refused unless replace.
  const toSend: PushFile[] = [];
  const changed: string[] = [];
  for (const f of options.files) {
    const there = remote.get(f.path);
    if (there) {
      const local = await hashesOf(f);
      const same = there.lfsOid ? there.lfsOid === local.sha256 : there.oid === local.gitSha1;
      if (same) continue;
      changed.push(f.path);
    }
    toSend.push(f);
  }
  const ours = new Set(options.files.map((f) => f.path));
  const others = [...remote.keys()].filter((p) => !ours.has(p) && p !== '.gitattributes');
  if ((others.length > 0 || changed.length > 0) && !options.replace) {
    const list = (xs: string[]) => xs.slice(0, 5).join(', ') + (xs.length > 5 ? ` and ${xs.length - 5} more` : '');
    const parts = [
      others.length > 0 ? `${countOf(others.length, 'other file')} (${list(others)})` : null,
      changed.length > 0
        ? `different versions of ${countOf(changed.length, 'file')} this push would replace (${list(changed)})`
        : null,
    ].filter(Boolean);
    throw new HubError(
      'repo-not-empty',
      `${repo}${revision !== 'main' ? `@${revision}` : ''} already holds ${parts.join(' and ')}; push to a new repo, or ask to replace (--replace, or "Push into it anyway" in Publish…): files of the same name are replaced, the others stay`,
    );
  }
  const url = `${endpoint}/${repo}`;
  if (toSend.length === 0) {
    report({ phase: 'done', filesDone: filesTotal });
    return { repo, url, revision, commit: null, created, sent: [], uploadedBytes: 0 };
  }

  const totalBytes = toSend.reduce((a, f) => a + f.size, 0);
  const skipped = filesTotal - toSend.length;
  report({ totalBytes, filesDone: skipped });
  const sizes = new Map(toSend.map((f) => [f.path, f.size]));
  /** LFS files whose bytes are in the Hub's storage (uploaded now or earlier): they are not sent again. */
  const stored = new Set<string>();
  const retries = options.retries ?? 3;
  const delay = options.retryDelayMs ?? 2000;
  for (let attempt = 1; ; attempt++) {
    progress.attempt = attempt;
    try {
      const commit = await commitOnce(repo, revision, options.message, toSend, common, options.signal, (event) => {
        if (event.event === 'phase') {
          const phase =
            event.phase === 'preuploading'
              ? 'checking'
              : event.phase === 'uploadingLargeFiles'
                ? 'uploading'
                : 'committing';
          return report({ phase, file: undefined });
        }
        if (event.state === 'hashing') return report({ phase: 'hashing', file: event.path });
        if (event.state === 'uploading' && event.progress >= 1 && !stored.has(event.path)) {
          stored.add(event.path);
          report({
            phase: 'uploading',
            file: event.path,
            bytes: sumSizes(stored, sizes),
            filesDone: skipped + stored.size,
          });
        }
      });
      report({ phase: 'done', file: undefined, bytes: totalBytes, filesDone: filesTotal });
      return { repo, url, revision, commit, created, sent: toSend.map((f) => f.path), uploadedBytes: net.sentBytes };
    } catch (err) {
      const failure = pushFailure(err, net, repo, endpoint, options.signal);
      if (failure.code !== 'network' || attempt > retries || options.signal?.aborted) {
        if (failure.code === 'network' || failure.code === 'cancelled')
          throw new HubError(failure.code, withState(failure.message, toSend, stored, repo, attempt), failure.status);
        throw failure;
      }
      const wait = delay * 2 ** (attempt - 1);
      report({
        phase: 'retrying',
        file: undefined,
        message: `${failure.message}; trying again in ${Math.round(wait / 100) / 10} s (attempt ${attempt + 1} of ${retries + 1})`,
      });
      await sleep(wait, options.signal);
    }
  }
}

/** The message of a push that stopped: what reached the Hub and what did not, and that running it again resumes. */
function withState(message: string, files: PushFile[], stored: Set<string>, repo: string, attempts: number): string {
  const done = files.filter((f) => stored.has(f.path));
  const missing = files.filter((f) => !stored.has(f.path));
  const names = (xs: PushFile[]) => xs.map((f) => `${f.path} (${formatBytes(f.size)})`).join(', ');
  return (
    `${message}${attempts > 1 ? ` (after ${attempts} attempts)` : ''}. ` +
    (done.length > 0
      ? `Already in the Hub's storage, not committed yet: ${names(done)}. `
      : 'Nothing reached the Hub. ') +
    `Not uploaded: ${names(missing)}. Nothing was committed to ${repo}; push again to resume (what is stored is not sent again).`
  );
}

function sumSizes(paths: Set<string>, sizes: Map<string, number>): number {
  let n = 0;
  for (const p of paths) n += sizes.get(p) ?? 0;
  return n;
}

const BRANCH_MISSING = new Map<string, RemoteFile>();

/** The repo's files at a branch; null when the repo does not exist, BRANCH_MISSING when the branch does not. */
async function listRemote(
  repo: string,
  revision: string,
  net: PushNetwork,
  common: { hubUrl: string; accessToken: string; fetch: typeof fetch },
): Promise<Map<string, RemoteFile> | null> {
  const out = new Map<string, RemoteFile>();
  try {
    for await (const entry of listFiles({
      repo: { type: 'model', name: repo },
      revision,
      recursive: true,
      ...common,
    })) {
      if (entry.type !== 'file') continue;
      out.set(entry.path, {
        oid: entry.oid ?? '',
        lfsOid: entry.lfs?.oid ?? null,
        size: entry.lfs?.size ?? entry.size,
      });
    }
  } catch (err) {
    if (err instanceof HubApiError && err.statusCode === 404) {
      // The Hub says which with X-Error-Code: RepoNotFound or RevisionNotFound.
      return net.lastFailure?.code === 'RevisionNotFound' ? BRANCH_MISSING : null;
    }
    throw err;
  }
  return out;
}

async function commitOnce(
  repo: string,
  branch: string,
  title: string,
  files: PushFile[],
  common: { hubUrl: string; accessToken: string; fetch: typeof fetch },
  signal: AbortSignal | undefined,
  onEvent: (e: CommitProgressEvent) => void,
): Promise<string> {
  const operations: CommitOperation[] = files.map((f) => ({
    operation: 'addOrUpdate',
    path: f.path,
    // In-memory bytes are copied onto their own ArrayBuffer, as a BlobPart must be.
    content: 'file' in f.content ? pathToFileURL(f.content.file) : new Blob([new Uint8Array(f.content.bytes)]),
  }));
  const output = await consume(
    commitIter({
      repo: { type: 'model', name: repo },
      operations,
      title,
      branch,
      useXet: false,
      abortSignal: signal,
      ...common,
    }),
    onEvent,
  );
  return output?.commit.oid ?? '';
}

async function consume<E, R>(iter: AsyncGenerator<E, R>, onEvent: (e: E) => void): Promise<R> {
  for (;;) {
    const next = await iter.next();
    if (next.done) return next.value;
    onEvent(next.value);
  }
}

/** fetch with the job's cancel signal, counting the bytes of successful PUTs, and keeping the last error code. */
class PushNetwork {
  sentBytes = 0;
  lastFailure: { code: string | null; message: string | null } | null = null;
  readonly fetch: typeof fetch;
  constructor(base: typeof fetch, signal?: AbortSignal) {
    this.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
      const combined = init?.signal && signal ? AbortSignal.any([init.signal, signal]) : (init?.signal ?? signal);
      const res = await base(input, { ...init, signal: combined });
      if (!res.ok)
        this.lastFailure = { code: res.headers.get('x-error-code'), message: res.headers.get('x-error-message') };
      else if (init?.method === 'PUT' && init.body instanceof Blob) this.sentBytes += init.body.size;
      return res;
    }) as typeof fetch;
  }
}

function pushFailure(err: unknown, net: PushNetwork, repo: string, endpoint: string, signal?: AbortSignal): HubError {
  if (err instanceof HubError) return err;
  if (signal?.aborted) return new HubError('cancelled', `the push to ${repo} was cancelled`);
  if (err instanceof HubApiError) {
    const status = err.statusCode;
    const said = (net.lastFailure?.message ?? err.message.replace(/\. URL: .*$/, '')).trim();
    if (status === 401) {
      return new HubError(
        'unauthorized',
        `the Hub refused the token (401: ${said}); it is invalid or expired: paste a new one in Settings or set HF_TOKEN`,
        status,
      );
    }
    if (status === 403) {
      return new HubError(
        'forbidden',
        `the token may not write to ${repo} (403: ${said}): give it the "Write" role, or write access to this namespace, at ${endpoint}/settings/tokens, or push to your own namespace`,
        status,
      );
    }
    if (status === 408 || status === 429 || status >= 500)
      return new HubError('network', `the Hub answered ${status} (${said})`, status);
    return new HubError('bad-request', `the Hub refused the push to ${repo} (${status}: ${said})`, status);
  }
  if (err instanceof TypeError && /access token must start with 'hf_'/.test(err.message)) {
    return new HubError(
      'unauthorized',
      'the Hugging Face token is malformed: tokens start with "hf_" (check Settings or HF_TOKEN)',
    );
  }
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return new HubError(
    'network',
    `the connection to ${endpoint} failed (${cause?.code ?? cause?.message ?? (err as Error).message})`,
  );
}

async function hashesOf(f: PushFile): Promise<LocalHashes> {
  const sha256 = createHash('sha256');
  const sha1 = createHash('sha1').update(`blob ${f.size}\0`);
  if ('bytes' in f.content) {
    sha256.update(f.content.bytes);
    sha1.update(f.content.bytes);
  } else {
    for await (const chunk of createReadStream(f.content.file) as AsyncIterable<Buffer>) {
      sha256.update(chunk);
      sha1.update(chunk);
    }
  }
  return { sha256: sha256.digest('hex'), gitSha1: sha1.digest('hex') };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
