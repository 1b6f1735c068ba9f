import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HubError, type HubProgress } from '../../../src/main/formats/hub/download.ts';
import { pullDataset, pullModel, selectWeightFiles, splitOf } from '../../../src/main/formats/hub/pull.ts';
import { hubCacheDir, listCachedSnapshots, repoFolderName } from '../../../src/main/formats/hub/cache.ts';
import { importDataset } from '../../../src/main/formats/dataset/import.ts';
import { HfTokenizer } from '../../../src/main/formats/tokenizer/tokenizer.ts';
import { buildTinyTokenizer } from '../../fixtures/tiny-tokenizer.ts';
import { commitHash, gitOid, GRANTED_TOKEN, MockHub, sha256, type MockFile } from './mock-hub.ts';

const root = mkdtempSync(join(tmpdir(), 'hub-test-'));
const hub = new MockHub();
let endpoint = '';
let cacheDir = '';
let n = 0;

const text = (s: string, lfs = false): MockFile => ({ content: Buffer.from(s), lfs });
function bytes(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

const tok = buildTinyTokenizer();
const MODEL_COMMIT = commitHash('model-main');
const shard1 = bytes(300_000, 1);
const shard2 = bytes(200_000, 2);
const modelFiles: Record<string, MockFile> = {
  'config.json': text(JSON.stringify({ architectures: ['LlamaForCausalLM'], model_type: 'llama' })),
  'generation_config.json': text('{"eos_token_id": 578}'),
  'tokenizer.json': text(JSON.stringify(tok.tokenizerJson)),
  'tokenizer_config.json': text(JSON.stringify(tok.tokenizerConfig)),
  'special_tokens_map.json': text(JSON.stringify(tok.specialTokensMap)),
  'model.safetensors.index.json': text(JSON.stringify({ metadata: { total_size: 500_000 }, weight_map: { 'a.weight': 'model-00001-of-00002.safetensors', 'b.weight': 'model-00002-of-00002.safetensors' } })),
  'model-00001-of-00002.safetensors': { content: shard1, lfs: true },
  'model-00002-of-00002.safetensors': { content: shard2, lfs: true },
  'consolidated.safetensors': { content: bytes(1000, 3), lfs: true },
  'pytorch_model.bin': { content: bytes(1000, 4), lfs: true },
  'onnx/model.onnx': { content: bytes(1000, 5), lfs: true },
  'README.md': text('# tiny'),
};
const parquet = (name: string) => readFileSync(new URL(`../dataset/fixtures/${name}`, import.meta.url));

beforeAll(async () => {
  hub.addRepo({ type: 'model', name: 'tiny/llama', refs: { main: MODEL_COMMIT, v1: MODEL_COMMIT }, commits: { [MODEL_COMMIT]: modelFiles } });
  hub.addRepo({ type: 'model', name: 'tiny/gated', gated: true, refs: { main: commitHash('gated') }, commits: { [commitHash('gated')]: { 'config.json': text('{}'), 'model.safetensors': { content: bytes(1000, 6), lfs: true } } } });
  hub.addRepo({ type: 'model', name: 'tiny/bin-only', refs: { main: commitHash('bin') }, commits: { [commitHash('bin')]: { 'config.json': text('{}'), 'pytorch_model.bin': { content: bytes(100, 7), lfs: true } } } });
  hub.addRepo({
    type: 'dataset',
    name: 'tiny/chat',
    refs: { main: commitHash('ds') },
    commits: { [commitHash('ds')]: { 'README.md': text('# data'), 'data/train-00000-of-00001.parquet': { content: parquet('chat.parquet'), lfs: true }, 'data/test-00000-of-00001.parquet': { content: parquet('pairs.parquet'), lfs: true } } },
  });
  hub.addRepo({
    type: 'dataset',
    name: 'tiny/csv-only',
    refs: { main: commitHash('csv'), 'refs/convert/parquet': commitHash('conv') },
    commits: { [commitHash('csv')]: { 'data.csv': text('a,b\n1,2\n') }, [commitHash('conv')]: { 'default/train/0000.parquet': { content: parquet('pairs.parquet'), lfs: true } } },
  });
  endpoint = await hub.start();
});
afterAll(async () => {
  await hub.stop();
  rmSync(root, { recursive: true, force: true });
});
beforeEach(() => {
  cacheDir = join(root, `cache${n++}`);
  hub.log.length = 0;
});

const base = () => ({ endpoint, cacheDir, env: {} as NodeJS.ProcessEnv });
const downloads = () => hub.log.filter((r) => r.url.includes('/resolve/') || r.url.startsWith('/cdn/'));

describe('pullModel', () => {
  it('downloads only what a model needs into the Hugging Face cache layout, with progress', async () => {
    const progress: HubProgress[] = [];
    const pulled = await pullModel({ repo: 'tiny/llama', ...base(), onProgress: (p) => progress.push(p) });
    const storage = join(cacheDir, 'models--tiny--llama');
    expect(pulled.commit).toBe(MODEL_COMMIT);
    expect(pulled.path).toBe(join(storage, 'snapshots', MODEL_COMMIT));
    expect([...pulled.files].sort()).toEqual(
      [
        'config.json',
        'generation_config.json',
        'tokenizer.json',
        'tokenizer_config.json',
        'special_tokens_map.json',
        'model.safetensors.index.json',
        'model-00001-of-00002.safetensors',
        'model-00002-of-00002.safetensors',
      ].sort(),
    );
    // Nothing else was requested from the Hub.
    const fetched = downloads().map((r) => decodeURIComponent(r.url));
    expect(fetched.some((u) => /pytorch_model|consolidated|onnx|README/.test(u))).toBe(false);
    // Blobs by etag, snapshot entries as relative links, refs/main → commit.
    const shardLink = join(pulled.path, 'model-00001-of-00002.safetensors');
    expect(lstatSync(shardLink).isSymbolicLink()).toBe(true);
    expect(readlinkSync(shardLink)).toBe(join('..', '..', 'blobs', sha256(shard1)));
    expect(readFileSync(shardLink).equals(shard1)).toBe(true);
    expect(readFileSync(join(storage, 'blobs', gitOid(modelFiles['config.json'].content))).equals(modelFiles['config.json'].content)).toBe(true);
    expect(readFileSync(join(storage, 'refs', 'main'), 'utf8')).toBe(MODEL_COMMIT);
    // The folder is a usable model folder.
    expect(HfTokenizer.load(pulled.path).vocabSize).toBe(tok.vocabSize);
    // Progress: monotonic bytes, ends with everything present.
    const total = pulled.files.reduce((a, f) => a + modelFiles[f].content.length, 0);
    expect(progress.at(-1)).toMatchObject({ phase: 'done', bytes: total, totalBytes: total, filesDone: 8, filesTotal: 8 });
    expect(progress.every((p, i) => i === 0 || p.bytes >= progress[i - 1].bytes)).toBe(true);
    expect(progress.some((p) => p.phase === 'downloading' && p.file === 'model-00001-of-00002.safetensors' && p.fileBytes > 0 && p.fileBytes < shard1.length)).toBe(true);
  });

  it('reuses the cache: a second pull downloads nothing', async () => {
    await pullModel({ repo: 'tiny/llama', ...base() });
    hub.log.length = 0;
    const again = await pullModel({ repo: 'tiny/llama', ...base() });
    expect(downloads()).toEqual([]);
    expect(again.downloadedBytes).toBe(0);
    expect(again.fromCache).toHaveLength(8);
  });

  it('offline mode resolves from the cache without touching the network', async () => {
    const online = await pullModel({ repo: 'tiny/llama', ...base() });
    hub.log.length = 0;
    const offline = await pullModel({ repo: 'tiny/llama', endpoint, cacheDir, env: { HF_HUB_OFFLINE: '1' } });
    expect(hub.log).toEqual([]);
    expect(offline.path).toBe(online.path);
    expect(offline.commit).toBe(MODEL_COMMIT);
    const byCommit = await pullModel({ repo: 'tiny/llama', revision: MODEL_COMMIT, cacheDir, offline: true, env: {} });
    expect(byCommit.path).toBe(online.path);
    await expect(pullModel({ repo: 'tiny/llama', revision: 'v1', cacheDir, offline: true, env: {} })).rejects.toMatchObject({ code: 'offline-not-cached' });
    await expect(pullModel({ repo: 'tiny/other', cacheDir, offline: true, env: {} })).rejects.toThrow(/offline mode: tiny\/other@main is not in the cache/);
    expect(hub.log).toEqual([]);
  });

  it('resumes an interrupted download with a Range request', async () => {
    const shard = 'model-00001-of-00002.safetensors';
    hub.cutAfter.set(shard, 120_000);
    const err = await pullModel({ repo: 'tiny/llama', ...base() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HubError);
    expect((err as HubError).code).toBe('network');
    expect((err as HubError).message).toMatch(/interrupted at 120000 of 300000 bytes.*run it again to resume/);
    const incomplete = join(cacheDir, 'models--tiny--llama', 'blobs', `${sha256(shard1)}.incomplete`);
    expect(readFileSync(incomplete).length).toBe(120_000);

    hub.log.length = 0;
    const pulled = await pullModel({ repo: 'tiny/llama', ...base() });
    const ranged = downloads().filter((r) => r.range);
    expect(ranged.map((r) => r.range)).toEqual(['bytes=120000-', 'bytes=120000-']); // the resolve URL, then the CDN redirect
    expect(readFileSync(join(pulled.path, shard)).equals(shard1)).toBe(true);
    expect(existsSync(incomplete)).toBe(false);
    expect(pulled.downloadedBytes).toBe(300_000 - 120_000 + shard2.length);
  });

  it('two pulls at once in one process fetch each file once', async () => {
    const [a, b] = await Promise.all([pullModel({ repo: 'tiny/llama', ...base() }), pullModel({ repo: 'tiny/llama', ...base() })]);
    expect(a.path).toBe(b.path);
    expect(readFileSync(join(a.path, 'model-00001-of-00002.safetensors')).equals(shard1)).toBe(true);
    const shardGets = downloads().filter((r) => r.url.startsWith('/cdn/') && r.url.includes('00001'));
    expect(shardGets).toHaveLength(1);
  });

  it('stops when cancelled, and the next pull resumes', async () => {
    const controller = new AbortController();
    const shard = 'model-00001-of-00002.safetensors';
    const err = (await pullModel({
      repo: 'tiny/llama',
      ...base(),
      signal: controller.signal,
      onProgress: (p) => {
        if (p.file === shard && p.fileBytes > 0) controller.abort();
      },
    }).catch((e: unknown) => e)) as HubError;
    expect(err).toBeInstanceOf(HubError);
    expect(err.message).toMatch(/was cancelled at \d+ of 300000 bytes; run it again to resume/);
    const pulled = await pullModel({ repo: 'tiny/llama', ...base() });
    expect(readFileSync(join(pulled.path, shard)).equals(shard1)).toBe(true);
  });

  it('throws away a corrupted partial file', async () => {
    const blobs = join(cacheDir, 'models--tiny--llama', 'blobs');
    mkdirSync(blobs, { recursive: true });
    writeFileSync(join(blobs, `${sha256(shard2)}.incomplete`), Buffer.alloc(1000, 7)); // not the file's first bytes
    await expect(pullModel({ repo: 'tiny/llama', ...base() })).rejects.toMatchObject({ code: 'integrity' });
    expect(existsSync(join(blobs, `${sha256(shard2)}.incomplete`))).toBe(false);
    const pulled = await pullModel({ repo: 'tiny/llama', ...base() });
    expect(readFileSync(join(pulled.path, 'model-00002-of-00002.safetensors')).equals(shard2)).toBe(true);
  });

  it.skipIf(!existsSync('/dev/full'))('says how much space a full disk needed', async () => {
    const blobs = join(cacheDir, 'models--tiny--llama', 'blobs');
    mkdirSync(blobs, { recursive: true });
    symlinkSync('/dev/full', join(blobs, `${sha256(shard1)}.incomplete`)); // every write: ENOSPC
    const err = (await pullModel({ repo: 'tiny/llama', ...base() }).catch((e: unknown) => e)) as HubError;
    expect(err).toBeInstanceOf(HubError);
    expect(err.code).toBe('disk-full');
    expect(err.message).toMatch(/the disk filled up while writing model-00001-of-00002\.safetensors/);
    expect(err.message).toMatch(/needs [\d.]+ KiB in all/);
  });

  it('explains gated repos, tokens, and missing repos or revisions', async () => {
    const noToken = (await pullModel({ repo: 'tiny/gated', ...base() }).catch((e: unknown) => e)) as HubError;
    expect(noToken.code).toBe('gated');
    expect(noToken.status).toBe(401);
    expect(noToken.message).toContain(`accept its licence at ${endpoint}/tiny/gated`);
    expect(noToken.message).toContain('HF_TOKEN');
    const wrong = (await pullModel({ repo: 'tiny/gated', token: 'hf_wrong', ...base() }).catch((e: unknown) => e)) as HubError;
    expect(wrong).toMatchObject({ code: 'gated', status: 403 });
    expect(wrong.message).toMatch(/the token in use has no access yet/);
    const viaEnv = await pullModel({ repo: 'tiny/gated', endpoint, cacheDir, env: { HF_TOKEN: GRANTED_TOKEN } });
    expect(viaEnv.files).toEqual(['config.json', 'model.safetensors']);
    expect(hub.log.filter((r) => r.url.includes('/resolve/')).every((r) => r.authorization === `Bearer ${GRANTED_TOKEN}`)).toBe(true);

    await expect(pullModel({ repo: 'tiny/nope', ...base() })).rejects.toMatchObject({ code: 'repo-not-found', message: expect.stringMatching(/tiny\/nope not found .*set HF_TOKEN/) });
    await expect(pullModel({ repo: 'tiny/llama', revision: 'v9', ...base() })).rejects.toMatchObject({ code: 'revision-not-found', message: 'revision "v9" not found in tiny/llama (a branch, tag or commit hash)' });
    await expect(pullModel({ repo: 'tiny/bin-only', ...base() })).rejects.toThrow(/has no safetensors weights \(only pytorch_model\.bin\)/);
    await expect(pullModel({ repo: 'not a repo', ...base() })).rejects.toMatchObject({ code: 'bad-request' });
    await expect(pullModel({ repo: 'a/b/c', ...base() })).rejects.toMatchObject({ code: 'bad-request' });
    await expect(pullModel({ repo: 'gpt2', ...base() })).rejects.toMatchObject({ code: 'repo-not-found' }); // a bare legacy name is a valid id
    await expect(pullModel({ repo: 'tiny/llama', endpoint: 'http://127.0.0.1:9', cacheDir, env: {} })).rejects.toThrow(/cannot reach the Hub at http:\/\/127\.0\.0\.1:9/);
  });

  it('takes the endpoint, cache and token locations from the environment', async () => {
    const home = join(root, `home${n}`);
    const env = { HF_ENDPOINT: endpoint + '/', HF_HOME: home };
    expect(hubCacheDir(env)).toBe(join(home, 'hub'));
    expect(hubCacheDir({ ...env, HF_HUB_CACHE: '/x' })).toBe('/x');
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, 'token'), `${GRANTED_TOKEN}\n`); // where `huggingface-cli login` saves it
    const pulled = await pullModel({ repo: 'tiny/gated', env });
    expect(pulled.path.startsWith(join(home, 'hub', repoFolderName('tiny/gated', 'model')))).toBe(true);
  });
});

describe('cache listing', () => {
  it('lists the cached snapshots with their refs and files', async () => {
    await pullModel({ repo: 'tiny/llama', ...base() });
    await pullDataset({ repo: 'tiny/chat', split: 'test', ...base() });
    const all = listCachedSnapshots(cacheDir);
    expect(all.map((s) => [s.type, s.repo])).toEqual([
      ['dataset', 'tiny/chat'],
      ['model', 'tiny/llama'],
    ]);
    const model = listCachedSnapshots(cacheDir, 'model')[0];
    expect(model).toMatchObject({ repo: 'tiny/llama', commit: MODEL_COMMIT, refs: ['main'] });
    expect(model.files).toContain('model-00002-of-00002.safetensors');
    expect(model.sizeBytes).toBe(model.files.reduce((a, f) => a + modelFiles[f].content.length, 0));
    expect(listCachedSnapshots(join(root, 'nowhere'))).toEqual([]);
  });
});

describe('pullDataset', () => {
  it('downloads Parquet files by split and they import', async () => {
    const pulled = await pullDataset({ repo: 'tiny/chat', ...base() });
    expect(pulled.path).toContain(join(cacheDir, 'datasets--tiny--chat', 'snapshots'));
    expect(Object.keys(pulled.splits).sort()).toEqual(['test', 'train']);
    const train = await importDataset(pulled.splits.train[0]);
    expect(train.mapping.format).toBe('chat');
    expect(train.examples).toHaveLength(2);
    hub.log.length = 0;
    const onlyTest = await pullDataset({ repo: 'tiny/chat', split: 'test', ...base() });
    expect(Object.keys(onlyTest.splits)).toEqual(['test']);
    await expect(pullDataset({ repo: 'tiny/chat', split: 'dev', ...base() })).rejects.toThrow(/has no split "dev" \(it has test, train\)/);
  });

  it("falls back to the Hub's Parquet conversion branch", async () => {
    const pulled = await pullDataset({ repo: 'tiny/csv-only', ...base() });
    expect(pulled.revision).toBe('refs/convert/parquet');
    expect(pulled.splits.train).toHaveLength(1);
    expect(readFileSync(join(cacheDir, 'datasets--tiny--csv-only', 'refs', 'refs', 'convert', 'parquet'), 'utf8')).toBe(commitHash('conv'));
    expect((await importDataset(pulled.splits.train[0])).examples).toHaveLength(2);
  });
});

describe('file selection', () => {
  it('picks weights from the index, a single file, or top-level shards', () => {
    expect(selectWeightFiles(['a.safetensors', 'model.safetensors'], null)).toEqual(['model.safetensors']);
    expect(selectWeightFiles(['consolidated.safetensors', 'model-1.safetensors', 'sub/x.safetensors'], null)).toEqual(['model-1.safetensors']);
    expect(() => selectWeightFiles(['x.safetensors'], { weight_map: { a: 'y.safetensors' } })).toThrow(/names shard\(s\) the repo does not have: y\.safetensors/);
    expect(splitOf('data/train-00000-of-00002.parquet')).toBe('train');
    expect(splitOf('default/validation/0000.parquet')).toBe('validation');
    expect(splitOf('test.parquet')).toBe('test');
    expect(splitOf('plain.parquet')).toBe('data');
  });
});
