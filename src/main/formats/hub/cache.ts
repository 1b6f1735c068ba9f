/**
 * The Hugging Face cache layout, shared with Python's huggingface_hub so each reuses the other's files:
 *
 *   <cache>/models--org--name/blobs/<etag>                 file contents (etag = LFS sha256 or git blob sha1)
 *   <cache>/models--org--name/blobs/<etag>.incomplete      a download in progress (resumed with Range)
 *   <cache>/models--org--name/snapshots/<commit>/<path>    relative symlink to the blob
 *   <cache>/models--org--name/refs/<revision>              the commit a branch/tag pointed to, no newline
 *
 * The cache folder: HF_HUB_CACHE, else HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub, else
 * $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub — Python's order.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export type RepoType = 'model' | 'dataset';

export function hfHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.HF_HOME ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'huggingface');
}

export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.HF_HUB_CACHE ?? env.HUGGINGFACE_HUB_CACHE ?? join(hfHome(env), 'hub');
}

/** models--org--name / datasets--org--name */
export function repoFolderName(repo: string, type: RepoType): string {
  return [`${type}s`, ...repo.split('/')].join('--');
}

export const COMMIT_HASH = /^[0-9a-f]{40}$/;

/** The commit a revision points to in the cache, or null when the cache has never seen it. */
export function cachedCommit(storage: string, revision: string): string | null {
  if (COMMIT_HASH.test(revision)) return existsSync(join(storage, 'snapshots', revision)) ? revision : null;
  const ref = join(storage, 'refs', revision);
  if (!existsSync(ref)) return null;
  const commit = readFileSync(ref, 'utf8').trim();
  return COMMIT_HASH.test(commit) ? commit : null;
}

/** HF_HUB_OFFLINE as huggingface_hub reads it (1/ON/YES/TRUE, any case). */
export function offlineFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return ['1', 'ON', 'YES', 'TRUE'].includes((env.HF_HUB_OFFLINE ?? '').toUpperCase());
}

/** The token: explicit, else HF_TOKEN (or the older HUGGING_FACE_HUB_TOKEN), else the file `huggingface-cli login` writes. */
export function resolveToken(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (explicit) return explicit.trim();
  const fromEnv = env.HF_TOKEN ?? env.HUGGING_FACE_HUB_TOKEN;
  if (fromEnv) return fromEnv.trim();
  const path = env.HF_TOKEN_PATH ?? join(hfHome(env), 'token');
  try {
    const token = readFileSync(path, 'utf8').trim();
    return token || undefined;
  } catch {
    return undefined;
  }
}

/** The Hub endpoint: explicit, else HF_ENDPOINT, else huggingface.co; no trailing slash. */
export function resolveEndpoint(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return (explicit ?? env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '');
}

export interface CachedSnapshot {
  repo: string;
  type: RepoType;
  commit: string;
  /** Branches/tags whose ref points at this commit. */
  refs: string[];
  path: string;
  files: string[];
  /** Bytes of the files (blobs shared between snapshots are counted in each). */
  sizeBytes: number;
}

/**
 * The snapshots in a cache folder (ours and Python's alike), newest ref first per repo: what the model
 * picker can offer without the network.
 */
export function listCachedSnapshots(cacheDir: string = hubCacheDir(), type?: RepoType): CachedSnapshot[] {
  const out: CachedSnapshot[] = [];
  let entries: string[];
  try {
    entries = readdirSync(cacheDir);
  } catch {
    return out;
  }
  for (const folder of entries.sort()) {
    const m = /^(models|datasets)--(.+)$/.exec(folder);
    if (!m) continue;
    const repoType: RepoType = m[1] === 'models' ? 'model' : 'dataset';
    if (type && repoType !== type) continue;
    const repo = m[2].split('--').join('/');
    const storage = join(cacheDir, folder);
    const refs = new Map<string, string[]>();
    for (const ref of listFiles(join(storage, 'refs'))) {
      try {
        const commit = readFileSync(join(storage, 'refs', ref), 'utf8').trim();
        refs.set(commit, [...(refs.get(commit) ?? []), ref]);
      } catch {
        // unreadable ref: skip it
      }
    }
    let snapshots: string[];
    try {
      snapshots = readdirSync(join(storage, 'snapshots')).filter((c) => COMMIT_HASH.test(c));
    } catch {
      continue;
    }
    for (const commit of snapshots) {
      const path = join(storage, 'snapshots', commit);
      const files = listFiles(path);
      let sizeBytes = 0;
      for (const f of files) {
        try {
          sizeBytes += statSync(join(path, f)).size;
        } catch {
          // a dangling link (blob removed): not counted
        }
      }
      out.push({ repo, type: repoType, commit, refs: refs.get(commit) ?? [], path, files, sizeBytes });
    }
  }
  return out;
}

function listFiles(root: string, prefix = ''): string[] {
  let entries;
  try {
    entries = readdirSync(join(root, prefix), { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(root, rel));
    else out.push(rel);
  }
  return out.sort();
}
