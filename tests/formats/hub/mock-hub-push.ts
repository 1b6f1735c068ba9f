/**
 * A local stand-in for the Hugging Face Hub's write side on 127.0.0.1, written from the Hub's API docs and the
 * requests @huggingface/hub 2.17 actually sends (commitIter, createRepo, createBranch, listFiles). It stores
 * what it receives so tests can compare it with the folder that was pushed:
 *   POST /api/repos/create                         {name, organization, type, visibility} → {url, name}; 409 if it exists
 *   GET  /api/models/<repo>/tree/<rev>?recursive=   file listing (oid = git blob sha1, lfs {oid, size, pointerSize})
 *   POST /api/models/<repo>/branch/<branch>         a branch from main
 *   POST /api/models/<repo>/preupload/<rev>         {files:[{path,size,sample}]} → uploadMode lfs | regular
 *   POST /<repo>.git/info/lfs/objects/batch         LFS batch "upload": objects the store has get no actions;
 *                                                   others a basic PUT, or multipart parts + completion URL
 *   PUT  /lfs/<oid> · PUT /lfs/<oid>/part/<n> · POST /lfs/<oid>/complete   the storage (checks sha256 and size)
 *   POST /api/models/<repo>/commit/<rev>            NDJSON header / file (base64) / lfsFile / deletedFile
 * Tokens: unknown → 401, read-only → 403 on writes; `inject` makes matching requests fail (drop the connection
 * mid-body, or answer a status) to test retries, interruptions and error messages.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gitOid, sendHubError, sendJson, sha256 } from './mock-hub.ts';

export { sha256 };

export interface StoredFile {
  content: Buffer;
  lfs: boolean;
}

export interface PushRepo {
  name: string;
  private: boolean;
  /** branch → files at its head. */
  branches: Map<string, Map<string, StoredFile>>;
  commits: { branch: string; oid: string; title: string; paths: string[] }[];
}

export interface Injection {
  /** Matched against "METHOD /path". */
  match: RegExp;
  /**
   * 'drop': read part of the request body, then destroy the socket; 'hold': never answer (a stalled upload,
   * until the client gives up or cancels); a number: answer that status.
   */
  action: 'drop' | 'hold' | number;
  times: number;
}

/** .gitattributes as the Hub writes it into a new model repo (the patterns that matter here). */
export const HUB_GITATTRIBUTES = [
  '*.bin filter=lfs diff=lfs merge=lfs -text',
  '*.gguf filter=lfs diff=lfs merge=lfs -text',
  '*.onnx filter=lfs diff=lfs merge=lfs -text',
  '*.pt filter=lfs diff=lfs merge=lfs -text',
  '*.safetensors filter=lfs diff=lfs merge=lfs -text',
  '',
].join('\n');

export const WRITE_TOKEN = 'hf_writer';
export const READ_TOKEN = 'hf_reader';

export class MockPushHub {
  readonly repos = new Map<string, PushRepo>();
  /** The LFS storage: sha256 → bytes (uploaded, whether committed or not). */
  readonly lfs = new Map<string, Buffer>();
  /** Successful LFS uploads (PUT or multipart completion) per oid: a resumed push must not repeat them. */
  readonly lfsUploads = new Map<string, number>();
  readonly log: { method: string; path: string }[] = [];
  readonly injections: Injection[] = [];
  /** token → its user and whether it may write. */
  readonly tokens = new Map<string, { user: string; write: boolean }>([
    [WRITE_TOKEN, { user: 'alice', write: true }],
    [READ_TOKEN, { user: 'alice', write: false }],
  ]);
  /** LFS objects larger than this are uploaded in parts of `partSize` bytes. */
  multipartThreshold = 1 << 20;
  partSize = 256 * 1024;
  endpoint = '';
  private server: Server | null = null;
  private parts = new Map<string, Map<number, Buffer>>();

  /** Requests being held (action 'hold'), counted when they arrive. */
  held = 0;

  inject(match: RegExp, action: Injection['action'], times = 1): void {
    this.injections.push({ match, action, times });
  }

  /** The files at a branch head, path → bytes (LFS files resolved from the storage). */
  filesOf(repo: string, branch = 'main'): Map<string, Buffer> {
    const files = this.repos.get(repo)?.branches.get(branch);
    return new Map([...(files ?? new Map<string, StoredFile>())].map(([p, f]) => [p, f.content]));
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: Error) => {
        if (!res.headersSent) this.error(res, 500, null, err.message);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.endpoint;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    this.log.push({ method, path: url.pathname });
    const injected = this.injections.find((i) => i.times > 0 && i.match.test(`${method} ${url.pathname}`));
    if (injected) {
      injected.times--;
      if (injected.action === 'drop') {
        // Take some of the body, then cut the connection as a failing network would.
        req.once('data', () => req.socket.destroy());
        req.once('end', () => req.socket.destroy());
        return;
      }
      if (injected.action === 'hold') {
        this.held++;
        req.resume(); // take the body, answer nothing
        return;
      }
      await readBody(req);
      return this.error(res, injected.action, null, `injected failure ${injected.action}`);
    }
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);

    if (parts[0] === 'lfs') return this.storage(parts, method, req, res);
    if (parts[1]?.endsWith('.git') && parts.slice(2).join('/') === 'info/lfs/objects/batch' && method === 'POST') {
      return this.batch(`${parts[0]}/${parts[1].replace(/\.git$/, '')}`, req, res);
    }
    if (parts[0] !== 'api') return this.error(res, 404, null, 'unknown route');
    if (parts[1] === 'repos' && parts[2] === 'create' && method === 'POST') return this.create(req, res);
    if (parts[1] !== 'models') return this.error(res, 404, null, 'unknown route');
    const name = `${parts[2]}/${parts[3]}`;
    const action = parts[4];
    const rev = parts.slice(5).join('/');
    const repo = this.repos.get(name);
    const user = this.user(req);
    if (!repo || (repo.private && user?.user !== name.split('/')[0])) {
      return this.error(res, user ? 404 : 401, 'RepoNotFound', 'Repository not found');
    }
    if (action === 'tree' && method === 'GET') {
      const files = repo.branches.get(rev);
      if (!files) return this.error(res, 404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
      return this.json(
        res,
        [...files].map(([path, f]) => listing(path, f)),
      );
    }
    if (!this.mayWrite(req, res, name)) return;
    if (action === 'branch' && method === 'POST') {
      await readBody(req);
      repo.branches.set(rev, new Map(repo.branches.get('main')));
      return this.json(res, {});
    }
    const branch = repo.branches.get(rev);
    if (!branch) return this.error(res, 404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
    if (action === 'preupload' && method === 'POST') {
      const body = JSON.parse((await readBody(req)).toString('utf8')) as {
        gitAttributes?: string;
        files: { path: string; size: number; sample: string }[];
      };
      const attributes = body.gitAttributes ?? text(branch.get('.gitattributes')) ?? HUB_GITATTRIBUTES;
      return this.json(res, {
        files: body.files.map((f) => ({
          path: f.path,
          uploadMode: isLfs(f.path, f.size, attributes) ? 'lfs' : 'regular',
          shouldIgnore: false,
        })),
      });
    }
    if (action === 'commit' && method === 'POST') return this.commit(repo, rev, branch, req, res);
    return this.error(res, 404, null, 'unknown route');
  }

  private user(req: IncomingMessage): { user: string; write: boolean } | null {
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    return auth ? (this.tokens.get(auth[1]) ?? null) : null;
  }

  /** 401 for a missing or unknown token, 403 for one that may not write to this namespace. */
  private mayWrite(req: IncomingMessage, res: ServerResponse, name: string): boolean {
    const auth = req.headers.authorization;
    const user = this.user(req);
    if (!auth || !user) {
      this.error(res, 401, null, 'Invalid credentials in Authorization header');
      return false;
    }
    const namespace = name.split('/')[0];
    if (!user.write || user.user !== namespace) {
      this.error(res, 403, null, `You don't have the rights to write to ${name}`);
      return false;
    }
    return true;
  }

  private async create(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = JSON.parse((await readBody(req)).toString('utf8')) as {
      name: string;
      organization?: string;
      type?: string;
      visibility?: string;
    };
    const name = `${body.organization}/${body.name}`;
    if (!this.mayWrite(req, res, name)) return;
    if (body.type && body.type !== 'model')
      return this.error(res, 400, null, `this mock only knows model repos, not ${body.type}`);
    if (this.repos.has(name)) return this.error(res, 409, null, 'You already created this model repo');
    const gitattributes: StoredFile = { content: Buffer.from(HUB_GITATTRIBUTES), lfs: false };
    this.repos.set(name, {
      name,
      private: body.visibility === 'private',
      branches: new Map([['main', new Map([['.gitattributes', gitattributes]])]]),
      commits: [{ branch: 'main', oid: sha1(`initial ${name}`), title: 'initial commit', paths: ['.gitattributes'] }],
    });
    res.statusCode = 200;
    return this.json(res, { url: `${this.endpoint}/${name}`, name, id: name });
  }

  private async batch(name: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.repos.has(name)) return this.error(res, 404, 'RepoNotFound', 'Repository not found');
    if (!this.mayWrite(req, res, name)) return;
    const body = JSON.parse((await readBody(req)).toString('utf8')) as {
      operation: string;
      transfers: string[];
      objects: { oid: string; size: number }[];
    };
    if (body.operation !== 'upload') return this.error(res, 400, null, 'only upload');
    res.setHeader('Content-Type', 'application/vnd.git-lfs+json');
    res.end(
      JSON.stringify({
        transfer: 'basic',
        objects: body.objects.map((o) => {
          if (this.lfs.has(o.oid)) return { oid: o.oid, size: o.size }; // already stored: nothing to send
          if (o.size > this.multipartThreshold && body.transfers.includes('multipart')) {
            const n = Math.ceil(o.size / this.partSize);
            const header: Record<string, string> = { chunk_size: String(this.partSize) };
            for (let i = 1; i <= n; i++) header[String(i)] = `${this.endpoint}/lfs/${o.oid}/part/${i}`;
            return {
              oid: o.oid,
              size: o.size,
              authenticated: true,
              actions: { upload: { href: `${this.endpoint}/lfs/${o.oid}/complete?size=${o.size}`, header } },
            };
          }
          return {
            oid: o.oid,
            size: o.size,
            authenticated: true,
            actions: { upload: { href: `${this.endpoint}/lfs/${o.oid}?size=${o.size}` } },
          };
        }),
      }),
    );
  }

  private async storage(parts: string[], method: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const oid = parts[1];
    const size = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('size'));
    if (parts.length === 2 && method === 'PUT') {
      const body = await readBody(req);
      if (sha256(body) !== oid || body.length !== size)
        return this.error(res, 400, null, `content does not match oid ${oid}`);
      this.keep(oid, body);
      return void res.end();
    }
    if (parts[2] === 'part' && method === 'PUT') {
      const body = await readBody(req);
      const map = this.parts.get(oid) ?? new Map<number, Buffer>();
      map.set(Number(parts[3]), body);
      this.parts.set(oid, map);
      res.setHeader('ETag', `"${sha1(body.toString('binary'))}"`);
      return void res.end();
    }
    if (parts[2] === 'complete' && method === 'POST') {
      const body = JSON.parse((await readBody(req)).toString('utf8')) as {
        oid: string;
        parts: { partNumber: number; etag: string }[];
      };
      const map = this.parts.get(oid);
      if (!map || body.parts.some((p) => !map.has(p.partNumber) || !p.etag))
        return this.error(res, 400, null, 'missing parts');
      const whole = Buffer.concat(
        body.parts.sort((a, b) => a.partNumber - b.partNumber).map((p) => map.get(p.partNumber)!),
      );
      if (sha256(whole) !== oid || whole.length !== size)
        return this.error(res, 400, null, `assembled parts do not match oid ${oid}`);
      this.parts.delete(oid);
      this.keep(oid, whole);
      return this.json(res, {});
    }
    return this.error(res, 404, null, 'unknown storage route');
  }

  private keep(oid: string, body: Buffer): void {
    this.lfs.set(oid, body);
    this.lfsUploads.set(oid, (this.lfsUploads.get(oid) ?? 0) + 1);
  }

  private async commit(
    repo: PushRepo,
    rev: string,
    branch: Map<string, StoredFile>,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const lines = (await readBody(req))
      .toString('utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { key: string; value: Record<string, unknown> });
    const header = lines.find((l) => l.key === 'header');
    if (!header) return this.error(res, 400, null, 'no header line');
    const next = new Map(branch);
    const paths: string[] = [];
    for (const { key, value } of lines) {
      const path = String(value.path ?? '');
      if (key === 'file') {
        if (value.encoding !== 'base64')
          return this.error(res, 400, null, `unknown encoding ${String(value.encoding)}`);
        next.set(path, { content: Buffer.from(String(value.content), 'base64'), lfs: false });
        paths.push(path);
      } else if (key === 'lfsFile') {
        const stored = this.lfs.get(String(value.oid));
        if (!stored || stored.length !== value.size)
          return this.error(res, 422, null, `LFS object ${String(value.oid)} of ${path} was never uploaded`);
        next.set(path, { content: stored, lfs: true });
        paths.push(path);
      } else if (key === 'deletedFile') {
        next.delete(path);
        paths.push(path);
      } else if (key !== 'header') {
        return this.error(res, 400, null, `unknown line ${key}`);
      }
    }
    repo.branches.set(rev, next);
    const oid = sha1(`${repo.name} ${repo.commits.length} ${paths.join(',')}`);
    repo.commits.push({ branch: rev, oid, title: String(header.value.summary ?? ''), paths });
    return this.json(res, { success: true, commitOid: oid, commitUrl: `${this.endpoint}/${repo.name}/commit/${oid}` });
  }

  private json(res: ServerResponse, value: unknown): void {
    sendJson(res, value);
  }

  private error(res: ServerResponse, status: number, code: string | null, message: string): void {
    sendHubError(res, status, code, message);
  }
}

function listing(path: string, f: StoredFile) {
  if (!f.lfs) return { type: 'file', path, size: f.content.length, oid: gitOid(f.content) };
  const pointer = Buffer.from(
    `version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(f.content)}\nsize ${f.content.length}\n`,
  );
  return {
    type: 'file',
    path,
    size: f.content.length,
    oid: gitOid(pointer),
    lfs: { oid: sha256(f.content), size: f.content.length, pointerSize: pointer.length },
  };
}

function isLfs(path: string, size: number, attributes: string): boolean {
  if (size > 10 * 1024 * 1024) return true;
  for (const line of attributes.split('\n')) {
    const [pattern, ...attrs] = line.trim().split(/\s+/);
    if (!pattern || !attrs.includes('filter=lfs')) continue;
    const re = new RegExp(`(^|/)${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
    if (re.test(path)) return true;
  }
  return false;
}

function text(f: StoredFile | undefined): string | null {
  return f ? f.content.toString('utf8') : null;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

function sha1(s: string): string {
  return createHash('sha1').update(s).digest('hex');
}
