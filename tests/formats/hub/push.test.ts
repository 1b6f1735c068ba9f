// pushToHub against a local Hub (mock-hub-push.ts) through the real @huggingface/hub client: what the Hub ends
// up holding is compared byte for byte with what was pushed; resume sends nothing twice; each refusal and
// failure gives its own message.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile, mkdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pushToHub, type PushFile, type PushProgress } from '../../../src/main/formats/hub/push.ts';
import { HubError } from '../../../src/main/formats/hub/index.ts';
import { MockPushHub, READ_TOKEN, WRITE_TOKEN, HUB_GITATTRIBUTES, sha256 } from './mock-hub-push.ts';

let hub: MockPushHub;
let dir: string;
let files: PushFile[];
const contents = new Map<string, Buffer>();

function seeded(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'push-test-'));
  // A folder like an adapter: a small JSON (regular), a safetensors over the multipart threshold (LFS,
  // uploaded in parts), a small safetensors (LFS, one PUT), a nested file.
  const layout: Record<string, Buffer> = {
    'adapter_config.json': Buffer.from(JSON.stringify({ r: 8, lora_alpha: 16 })),
    'adapter_model.safetensors': seeded(1_300_000, 1),
    'extra.safetensors': seeded(40_000, 2),
    'sub/notes.txt': Buffer.from('nested\n'),
  };
  await mkdir(join(dir, 'sub'));
  files = [];
  for (const [path, content] of Object.entries(layout)) {
    await writeFile(join(dir, path), content);
    contents.set(path, content);
    files.push({ path, content: { file: join(dir, path) }, size: content.length });
  }
  const card = Buffer.from('---\nlicense: apache-2.0\n---\n# card\n');
  contents.set('README.md', card);
  files.push({ path: 'README.md', content: { bytes: card }, size: card.length });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  hub = new MockPushHub();
  await hub.start();
});
afterEach(async () => {
  await hub.stop();
});

const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  HF_ENDPOINT: hub.endpoint,
  HF_TOKEN: WRITE_TOKEN,
  HF_HOME: join(dir, 'no-home'),
  ...extra,
});

function expectHolds(repo: string, branch = 'main'): void {
  const held = hub.filesOf(repo, branch);
  expect([...held.keys()].sort()).toEqual([...contents.keys(), '.gitattributes'].sort());
  for (const [path, content] of contents) expect(sha256(held.get(path)!), path).toBe(sha256(content));
  expect(held.get('.gitattributes')!.toString()).toBe(HUB_GITATTRIBUTES);
}

describe('pushToHub', () => {
  it('creates the repo and commits every file byte for byte, LFS ones through the storage', async () => {
    const seen: PushProgress[] = [];
    const out = await pushToHub({
      repo: 'alice/my-lora',
      files,
      message: 'Upload adapter',
      private: true,
      env: env(),
      onProgress: (p) => seen.push(p),
    });
    expect(out.created).toBe(true);
    expect(out.commit).toMatch(/^[0-9a-f]{40}$/);
    expectHolds('alice/my-lora');
    expect(hub.repos.get('alice/my-lora')!.private).toBe(true);
    expect(hub.repos.get('alice/my-lora')!.commits.at(-1)!.title).toBe('Upload adapter');
    // The big file went in parts, the small safetensors in one PUT; the JSON and README inside the commit.
    const puts = hub.log.filter((r) => r.method === 'PUT').map((r) => r.path);
    expect(puts.filter((p) => p.includes('/part/')).length).toBe(Math.ceil(1_300_000 / hub.partSize));
    expect(puts).toContain(`/lfs/${sha256(contents.get('extra.safetensors')!)}`);
    expect(out.uploadedBytes).toBe(1_300_000 + 40_000);
    const last = seen.at(-1)!;
    expect(last).toMatchObject({ phase: 'done', filesDone: files.length, filesTotal: files.length });
    expect(seen.some((p) => p.phase === 'uploading' && p.bytes > 0 && p.bytes < p.totalBytes)).toBe(true);
  });

  it('a second identical push sends nothing and makes no commit', async () => {
    await pushToHub({ repo: 'alice/again', files, message: 'one', env: env() });
    const commits = hub.repos.get('alice/again')!.commits.length;
    const out = await pushToHub({ repo: 'alice/again', files, message: 'two', env: env() });
    expect(out).toMatchObject({ commit: null, sent: [], uploadedBytes: 0, created: false });
    expect(hub.repos.get('alice/again')!.commits.length).toBe(commits);
  });

  it('pushes to a new branch created from main', async () => {
    await pushToHub({ repo: 'alice/branchy', files, message: 'main', env: env() });
    const changed = files.map((f) =>
      f.path === 'README.md' ? { ...f, content: { bytes: Buffer.from('v2') }, size: 2 } : f,
    );
    const refused = (await pushToHub({
      repo: 'alice/branchy',
      files: changed,
      message: 'v2',
      revision: 'v2',
      env: env(),
    }).catch((e: unknown) => e)) as HubError;
    expect(refused.message).toMatch(
      /alice\/branchy@v2 already holds different versions of 1 file this push would replace \(README\.md\)/,
    );
    await pushToHub({
      repo: 'alice/branchy',
      files: changed,
      message: 'v2',
      revision: 'v2',
      env: env(),
      replace: true,
    });
    expect(hub.filesOf('alice/branchy', 'v2').get('README.md')!.toString()).toBe('v2');
    expect(hub.filesOf('alice/branchy', 'main').get('README.md')!.toString()).toBe(
      contents.get('README.md')!.toString(),
    );
  });

  it('retries a dropped connection and ends with the same files', async () => {
    hub.inject(/^PUT \/lfs\/.*\/part\/2$/, 'drop', 2);
    const seen: PushProgress[] = [];
    await pushToHub({
      repo: 'alice/flaky',
      files,
      message: 'x',
      env: env(),
      retryDelayMs: 10,
      onProgress: (p) => seen.push(p),
    });
    expectHolds('alice/flaky');
    expect(seen.filter((p) => p.phase === 'retrying').length).toBe(2);
    // The small LFS file stored by the first attempt was not sent again.
    expect(hub.lfsUploads.get(sha256(contents.get('extra.safetensors')!))).toBe(1);
  });

  it('after the retries, names what reached the Hub and what did not; pushing again resumes and ends identical', async () => {
    hub.inject(/^PUT \/lfs\/.*\/part\/3$/, 'drop', 10);
    const err = await pushToHub({
      repo: 'alice/cut',
      files,
      message: 'x',
      env: env(),
      retries: 1,
      retryDelayMs: 10,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HubError);
    const message = (err as HubError).message;
    expect((err as HubError).code).toBe('network');
    expect(message).toMatch(/after 2 attempts/);
    expect(message).toMatch(/Already in the Hub's storage, not committed yet: extra\.safetensors/);
    expect(message).toMatch(/Not uploaded: .*adapter_model\.safetensors/);
    expect(message).toMatch(/Nothing was committed to alice\/cut; push again to resume/);
    expect(hub.repos.get('alice/cut')!.branches.get('main')!.has('adapter_config.json')).toBe(false);

    hub.injections.length = 0;
    await pushToHub({ repo: 'alice/cut', files, message: 'x', env: env() });
    expectHolds('alice/cut');
    for (const f of ['extra.safetensors', 'adapter_model.safetensors'])
      expect(hub.lfsUploads.get(sha256(contents.get(f)!)), f).toBe(1);
  });

  it('cancel stops the push; pushing again ends identical', async () => {
    const controller = new AbortController();
    const err = await pushToHub({
      repo: 'alice/cancelled',
      files,
      message: 'x',
      env: env(),
      signal: controller.signal,
      onProgress: (p) => {
        if (p.phase === 'uploading' && p.file === 'extra.safetensors') controller.abort();
      },
    }).catch((e: unknown) => e);
    expect((err as HubError).code).toBe('cancelled');
    expect((err as HubError).message).toMatch(/cancelled.*push again to resume/);
    await pushToHub({ repo: 'alice/cancelled', files, message: 'x', env: env() });
    expectHolds('alice/cancelled');
  });

  it('refuses a repo that holds other content unless asked, and then keeps the other files', async () => {
    await pushToHub({ repo: 'alice/taken', files: files.slice(0, 1), message: 'first', env: env() });
    const other: PushFile = { path: 'other.txt', content: { bytes: Buffer.from('someone else') }, size: 12 };
    await pushToHub({ repo: 'alice/taken', files: [other], message: 'other', env: env(), replace: true });
    const err = (await pushToHub({ repo: 'alice/taken', files, message: 'x', env: env() }).catch(
      (e: unknown) => e,
    )) as HubError;
    expect(err.code).toBe('repo-not-empty');
    expect(err.message).toMatch(/alice\/taken already holds 1 other file \(other\.txt\).*--replace/);
    await pushToHub({ repo: 'alice/taken', files, message: 'x', env: env(), replace: true });
    expect(hub.filesOf('alice/taken').get('other.txt')!.toString()).toBe('someone else');
    expect(
      hub.filesOf('alice/taken').get('adapter_model.safetensors')!.equals(contents.get('adapter_model.safetensors')!),
    ).toBe(true);
  });

  it('gives a message for each refusal: no token, bad token, read-only token, foreign namespace, offline, unreachable', async () => {
    const fail = (opts: Partial<Parameters<typeof pushToHub>[0]>) =>
      pushToHub({ repo: 'alice/x', files, message: 'x', env: env(), retries: 0, ...opts }).then(
        () => {
          throw new Error('expected a refusal');
        },
        (e: unknown) => e as HubError,
      );
    const noToken = await fail({ env: env({ HF_TOKEN: '' }) });
    expect(noToken.code).toBe('unauthorized');
    expect(noToken.message).toMatch(/needs a Hugging Face token with write access.*Settings.*HF_TOKEN/);
    const bad = await fail({ token: 'hf_wrong' });
    expect([bad.code, bad.status]).toEqual(['unauthorized', 401]);
    expect(bad.message).toMatch(/refused the token \(401.*invalid or expired/);
    const readOnly = await fail({ token: READ_TOKEN });
    expect([readOnly.code, readOnly.status]).toEqual(['forbidden', 403]);
    expect(readOnly.message).toMatch(/may not write to alice\/x \(403.*"Write" role/);
    const foreign = await fail({ repo: 'bob/x' });
    expect(foreign.code).toBe('forbidden');
    const offline = await fail({ env: env({ HF_HUB_OFFLINE: '1' }) });
    expect(offline.code).toBe('offline');
    expect(offline.message).toMatch(/offline mode is on.*unset HF_HUB_OFFLINE/);
    const before = hub.log.length;
    await fail({ offline: true });
    expect(hub.log.length).toBe(before); // offline never opens a socket
    const closed = new MockPushHub();
    const gone = await closed.start();
    await closed.stop();
    const down = await fail({ endpoint: gone });
    expect(down.code).toBe('network');
    expect(down.message).toContain(`connection to ${gone} failed (ECONNREFUSED)`);
    expect(hub.repos.has('alice/x')).toBe(false);
  });

  it('a 500 from the commit is retried, and a 4xx is not', async () => {
    hub.inject(/^POST \/api\/models\/alice\/five\/commit\/main$/, 503, 1);
    await pushToHub({ repo: 'alice/five', files, message: 'x', env: env(), retryDelayMs: 10 });
    expectHolds('alice/five');
    hub.inject(/^POST \/api\/models\/alice\/four\/commit\/main$/, 400, 5);
    const err = (await pushToHub({ repo: 'alice/four', files, message: 'x', env: env(), retryDelayMs: 10 }).catch(
      (e: unknown) => e,
    )) as HubError;
    expect([err.code, err.status]).toEqual(['bad-request', 400]);
    expect(hub.log.filter((r) => r.path === '/api/models/alice/four/commit/main').length).toBe(1);
  });

  it('reads the pushed local files without changing them', async () => {
    for (const [path, content] of contents)
      if (path !== 'README.md') expect((await readFile(join(dir, path))).equals(content)).toBe(true);
  });
});
