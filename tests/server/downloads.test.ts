// serve's export downloads, spoken to over real HTTP: a GGUF file comes back byte for byte; a folder comes back as
// a tar that GNU tar (the ecosystem's reader) lists and extracts to the same files, with a Content-Length equal to
// what is sent; no token, an unfinished export, a path outside the exports folder and a symbolic link out of it
// are refused; a long name survives through a pax record.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportDownloadPath } from '../../src/common/api/exports.ts';
import { createStudioCore, type StudioCore } from '../../src/main/core/index.ts';
import { startStudioServer, type StudioServer } from '../../src/main/server/serve.ts';
import { listTarEntries, tarLength, tarStream } from '../../src/main/server/tar-stream.ts';

const TOKEN = 'download-token-0123456789abcdef';
let dir: string;
let core: StudioCore;
let server: StudioServer;
let projectId: string;
let exportsDir: string;

function get(
  path: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: server.port, path, headers: { host: `127.0.0.1:${server.port}` } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function recordExport(path: string, kind: 'gguf' | 'hf'): string {
  return core.store.exports.insert({ projectId, adapterId: null, kind, path, meta: { type: 'f32', jobId: null } }).id;
}

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lora-downloads-'));
  const rendererDir = join(dir, 'renderer');
  mkdirSync(rendererDir);
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>studio</title>');
  core = createStudioCore({ dataDir: join(dir, 'data') });
  server = await startStudioServer({ core, port: 0, token: TOKEN, rendererDir });
  projectId = ((await core.invoke('projects.create', { name: 'Downloads' })) as { id: string }).id;
  exportsDir = join(dir, 'data', 'exports');
});
afterAll(async () => {
  await server.close();
  await core.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('export downloads in serve', () => {
  it('streams a GGUF file byte for byte, as an attachment with its name and length', async () => {
    const bytes = Buffer.alloc(300_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) % 251;
    const file = join(exportsDir, 'model-q8_0.gguf');
    writeFileSync(file, bytes);
    const id = recordExport(file, 'gguf');
    const res = await get(`${exportDownloadPath(id)}?token=${TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe(String(bytes.length));
    expect(res.headers['content-disposition']).toContain('filename="model-q8_0.gguf"');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(sha(res.body)).toBe(sha(bytes));
  });

  it('sends a folder as a tar that GNU tar extracts to the same files (long names through pax)', async () => {
    const folder = join(exportsDir, 'merged-hf');
    const longName = `${'tokenizer-'.repeat(12)}.json`; // over ustar's 100 bytes with the folder in front
    mkdirSync(join(folder, 'nested'), { recursive: true });
    const files: Record<string, Buffer> = {
      'config.json': Buffer.from('{"model_type":"llama"}'),
      'model.safetensors': Buffer.alloc(70_001, 3),
      [join('nested', longName)]: Buffer.from('long'),
      'empty.txt': Buffer.alloc(0),
    };
    for (const [name, content] of Object.entries(files)) writeFileSync(join(folder, name), content);
    symlinkSync('/etc/passwd', join(folder, 'escape')); // skipped: never followed out of the folder
    const id = recordExport(folder, 'hf');

    const res = await get(`${exportDownloadPath(id)}?token=${TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-tar');
    expect(res.headers['content-disposition']).toContain('filename="merged-hf.tar"');
    expect(Number(res.headers['content-length'])).toBe(res.body.length);

    const out = mkdtempSync(join(dir, 'untar-'));
    writeFileSync(join(out, 'x.tar'), res.body);
    const listing = spawnSync('tar', ['-tf', join(out, 'x.tar')], { encoding: 'utf8' });
    expect(listing.status, listing.stderr).toBe(0);
    expect(listing.stdout.split('\n').filter(Boolean).sort()).toEqual(
      [
        'merged-hf/',
        'merged-hf/config.json',
        'merged-hf/empty.txt',
        'merged-hf/model.safetensors',
        'merged-hf/nested/',
        `merged-hf/nested/${longName}`,
      ].sort(),
    );
    const extract = spawnSync('tar', ['-xf', join(out, 'x.tar'), '-C', out], { encoding: 'utf8' });
    expect(extract.status, extract.stderr).toBe(0);
    for (const [name, content] of Object.entries(files))
      expect(sha(readFileSync(join(out, 'merged-hf', name))), name).toBe(sha(content));
  });

  it('announces the exact length before streaming (sizes at the 8 GiB ustar limit go through pax)', async () => {
    const folder = join(exportsDir, 'length-check');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'a.bin'), Buffer.alloc(513, 1));
    const entries = await listTarEntries(folder, 'length-check');
    let streamed = 0;
    for await (const chunk of tarStream(entries)) streamed += (chunk as Buffer).length;
    expect(streamed).toBe(tarLength(entries));
    // a file too large for ustar's 11 octal digits costs one extra pax header + record block
    const huge = [{ name: 'x/big.bin', file: '/dev/null', size: 8 ** 11, mode: 0o644, mtime: 0 }];
    expect(tarLength(huge)).toBe(512 + 512 + 512 + Math.ceil(8 ** 11 / 512) * 512 + 1024);
  });

  it('refuses without the token, unfinished exports, and anything outside the exports folder', async () => {
    const file = join(exportsDir, 'ok.gguf');
    writeFileSync(file, 'gguf');
    const id = recordExport(file, 'gguf');
    expect((await get(exportDownloadPath(id))).status).toBe(401);
    expect((await get(`${exportDownloadPath(id)}?token=wrong-token-0123456789`)).status).toBe(401);
    expect((await get(`${exportDownloadPath('nope')}?token=${TOKEN}`)).status).toBe(404);

    const outside = join(dir, 'outside.gguf');
    writeFileSync(outside, 'private');
    const refused = await get(`${exportDownloadPath(recordExport(outside, 'gguf'))}?token=${TOKEN}`);
    expect(refused.status).toBe(403);
    expect(refused.body.toString()).toContain("outside the studio's exports folder");

    const link = join(exportsDir, 'link.gguf');
    symlinkSync(outside, link);
    expect((await get(`${exportDownloadPath(recordExport(link, 'gguf'))}?token=${TOKEN}`)).status).toBe(403);

    const job = core.store.jobs.create({ kind: 'export', params: {}, projectId });
    const pending = core.store.exports.insert({
      projectId,
      adapterId: null,
      kind: 'gguf',
      path: file,
      meta: { jobId: job.id },
    });
    const res = await get(`${exportDownloadPath(pending.id)}?token=${TOKEN}`);
    expect(res.status).toBe(409);
    expect(res.body.toString()).toContain('only a finished export can be downloaded');
  });
});
