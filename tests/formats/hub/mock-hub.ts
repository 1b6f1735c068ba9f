/**
 * A local stand-in for the Hugging Face Hub on 127.0.0.1, serving the routes @huggingface/hub and our
 * downloader call, with the Hub's headers and error codes:
 *   GET  /api/{models|datasets}/<repo>/revision/<rev>   repo info with "sha"
 *   GET  /api/{models|datasets}/<repo>/tree/<rev>?recursive=true   file listing (oid, size, lfs)
 *   GET/HEAD /[datasets/]<repo>/resolve/<rev>/<path>     file bytes (Range), ETag / X-Linked-Etag,
 *        X-Repo-Commit; LFS files redirect to /cdn/<sha256> as the Hub redirects to its CDN
 * Gated repos need `Bearer hf_granted`; errors carry X-Error-Code (RepoNotFound, RevisionNotFound,
 * GatedRepo, EntryNotFound). `cutAfter` makes the next download of a file drop its connection mid-way.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MockFile {
  content: Buffer;
  lfs: boolean;
}

export interface MockRepo {
  type: 'model' | 'dataset';
  name: string;
  gated?: boolean;
  /** Branch/tag name → commit sha. */
  refs: Record<string, string>;
  /** Commit sha → files. */
  commits: Record<string, Record<string, MockFile>>;
}

export interface LoggedRequest {
  method: string;
  url: string;
  range?: string;
  authorization?: string;
}

export const GRANTED_TOKEN = 'hf_granted';

export class MockHub {
  readonly repos = new Map<string, MockRepo>();
  readonly log: LoggedRequest[] = [];
  /** path → byte count: the next GET of that file sends this many bytes, then drops the connection. */
  readonly cutAfter = new Map<string, number>();
  private server: Server | null = null;
  endpoint = '';

  addRepo(repo: MockRepo): void {
    this.repos.set(`${repo.type}:${repo.name}`, repo);
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.endpoint;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    this.log.push({ method: req.method ?? 'GET', url: url.pathname + url.search, range: req.headers.range, authorization: req.headers.authorization });
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    try {
      if (parts[0] === 'cdn') return this.serveCdn(parts[1], req, res);
      if (parts[0] === 'api') {
        const type = parts[1] === 'models' ? 'model' : parts[1] === 'datasets' ? 'dataset' : null;
        if (!type) return this.error(res, 404, null, 'unknown route');
        const repo = this.authorize(type, `${parts[2]}/${parts[3]}`, req, res);
        if (!repo) return;
        const action = parts[4];
        const rest = parts.slice(5).join('/');
        if (action === 'revision') {
          const sha = this.commitOf(repo, rest, res);
          if (!sha) return;
          return this.json(res, { _id: `id-${repo.name}`, id: repo.name, sha, private: false, gated: repo.gated ? 'manual' : false, downloads: 0, likes: 0, lastModified: '2026-01-01T00:00:00.000Z', siblings: Object.keys(repo.commits[sha]).map((rfilename) => ({ rfilename })) });
        }
        if (action === 'tree') {
          const sha = this.commitOf(repo, rest, res);
          if (!sha) return;
          const entries = Object.entries(repo.commits[sha]).map(([path, f]) => ({
            type: 'file',
            path,
            size: f.lfs ? 134 : f.content.length,
            oid: gitOid(f.lfs ? Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(f.content)}\nsize ${f.content.length}\n`) : f.content),
            ...(f.lfs ? { lfs: { oid: sha256(f.content), size: f.content.length, pointerSize: 134 } } : {}),
          }));
          return this.json(res, entries);
        }
        return this.error(res, 404, null, 'unknown route');
      }
      // /[datasets/]org/name/resolve/<rev>/<path>
      const offset = parts[0] === 'datasets' ? 1 : 0;
      const type = offset ? 'dataset' : 'model';
      if (parts[offset + 2] !== 'resolve') return this.error(res, 404, null, 'unknown route');
      const repo = this.authorize(type, `${parts[offset]}/${parts[offset + 1]}`, req, res);
      if (!repo) return;
      const sha = this.commitOf(repo, parts[offset + 3], res);
      if (!sha) return;
      const path = parts.slice(offset + 4).join('/');
      const file = repo.commits[sha][path];
      if (!file) return this.error(res, 404, 'EntryNotFound', `${path} does not exist on "${parts[offset + 3]}"`);
      res.setHeader('X-Repo-Commit', sha);
      if (file.lfs) {
        res.setHeader('X-Linked-Etag', `"${sha256(file.content)}"`);
        res.setHeader('X-Linked-Size', String(file.content.length));
        res.setHeader('ETag', `"${gitOid(file.content)}"`);
        // Another host name, as the Hub redirects to its CDN (clients read file metadata from this 302).
        res.setHeader('Location', `${this.endpoint.replace('127.0.0.1', 'localhost')}/cdn/${sha256(file.content)}?path=${encodeURIComponent(path)}`);
        res.statusCode = 302;
        return void res.end();
      }
      res.setHeader('ETag', `"${gitOid(file.content)}"`);
      this.sendBytes(file.content, path, req, res);
    } catch (err) {
      this.error(res, 500, null, (err as Error).message);
    }
  }

  private serveCdn(hash: string, req: IncomingMessage, res: ServerResponse): void {
    for (const repo of this.repos.values()) {
      for (const files of Object.values(repo.commits)) {
        for (const [path, f] of Object.entries(files)) {
          if (f.lfs && sha256(f.content) === hash) return this.sendBytes(f.content, path, req, res);
        }
      }
    }
    this.error(res, 404, null, 'no such object');
  }

  private sendBytes(content: Buffer, path: string, req: IncomingMessage, res: ServerResponse): void {
    res.setHeader('Accept-Ranges', 'bytes');
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range) {
      start = Number(range[1]);
      if (start >= content.length) {
        res.statusCode = 416;
        res.setHeader('Content-Range', `bytes */${content.length}`);
        return void res.end();
      }
      res.statusCode = 206;
      res.setHeader('Content-Range', `bytes ${start}-${content.length - 1}/${content.length}`);
    }
    const body = content.subarray(start);
    res.setHeader('Content-Length', String(body.length));
    res.setHeader('Content-Type', 'application/octet-stream');
    if (req.method === 'HEAD') return void res.end();
    const cut = this.cutAfter.get(path);
    if (cut !== undefined) {
      this.cutAfter.delete(path);
      res.write(body.subarray(0, cut), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(body);
  }

  private authorize(type: 'model' | 'dataset', name: string, req: IncomingMessage, res: ServerResponse): MockRepo | null {
    const repo = this.repos.get(`${type}:${name}`);
    const auth = req.headers.authorization;
    if (!repo) {
      this.error(res, auth ? 404 : 401, 'RepoNotFound', 'Repository not found');
      return null;
    }
    if (repo.gated && auth !== `Bearer ${GRANTED_TOKEN}`) {
      if (!auth) this.error(res, 401, 'GatedRepo', `Access to model ${name} is restricted. You must have access to it and be authenticated to access it. Please log in.`);
      else this.error(res, 403, 'GatedRepo', `Access to model ${name} is restricted and you are not in the authorized list.`);
      return null;
    }
    return repo;
  }

  private commitOf(repo: MockRepo, revision: string, res: ServerResponse): string | null {
    const rev = revision.split('?')[0];
    const sha = repo.refs[rev] ?? (repo.commits[rev] ? rev : undefined);
    if (!sha) {
      this.error(res, 404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
      return null;
    }
    return sha;
  }

  private json(res: ServerResponse, value: unknown): void {
    sendJson(res, value);
  }

  private error(res: ServerResponse, status: number, code: string | null, message: string): void {
    sendHubError(res, status, code, message);
  }
}

export function sendJson(res: ServerResponse, value: unknown): void {
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify(value));
}

/** An error as the Hub sends it: the status, X-Error-Code / X-Error-Message headers and a JSON body. */
export function sendHubError(res: ServerResponse, status: number, code: string | null, message: string): void {
  res.statusCode = status;
  if (code) res.setHeader('X-Error-Code', code);
  res.setHeader('X-Error-Message', message);
  sendJson(res, { error: message });
}

export function sha256(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

export function gitOid(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

/** A deterministic fake commit hash. */
export function commitHash(seed: string): string {
  return createHash('sha1').update(seed).digest('hex');
}
