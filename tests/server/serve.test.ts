import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createStudioCore, type StudioCore } from '../../src/main/core/index.ts';
import { startStudioServer, type StudioServer } from '../../src/main/server/serve.ts';

const TOKEN = 'test-token-0123456789abcdef';
let dir: string;
let rendererDir: string;
let core: StudioCore;
let server: StudioServer;
let base: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lora-serve-'));
  rendererDir = join(dir, 'renderer');
  mkdirSync(join(rendererDir, 'assets'), { recursive: true });
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>studio</title><script type="module" src="./assets/app.js"></script>');
  writeFileSync(join(rendererDir, 'assets', 'app.js'), 'console.log("app")');
  writeFileSync(join(dir, 'secret.txt'), 'outside the renderer');
  core = createStudioCore({ dataDir: join(dir, 'data'), testJobs: true });
  server = await startStudioServer({ core, port: 0, token: TOKEN, rendererDir });
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(async () => {
  await server.close();
  await core.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A raw HTTP request, so tests can set Host and Origin as a browser would. */
function raw(path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const invoke = (method: string, input: unknown, headers: Record<string, string> = { Authorization: `Bearer ${TOKEN}` }) =>
  raw('/api/invoke', { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify({ method, input }) });

describe('serve: the API', () => {
  it('prints a URL of the required form', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${TOKEN}`);
  });

  it('refuses requests without the token or with a wrong one (401)', async () => {
    const none = await invoke('projects.list', {}, {});
    expect(none.status).toBe(401);
    expect(JSON.parse(none.body)).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    expect((await invoke('projects.list', {}, { Authorization: 'Bearer wrong-token-wrong-token' })).status).toBe(401);
    expect((await invoke('projects.list', {}, { Authorization: TOKEN })).status).toBe(401); // not "Bearer …"
  });

  it('refuses a foreign Origin (403) even with the token, and accepts its own', async () => {
    const foreign = await invoke('projects.list', {}, { Authorization: `Bearer ${TOKEN}`, Origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    expect(JSON.parse(foreign.body).error.message).toMatch(/origin http:\/\/evil\.example/);
    const own = await invoke('projects.list', {}, { Authorization: `Bearer ${TOKEN}`, Origin: base });
    expect(own.status).toBe(200);
  });

  it('refuses a foreign Host on a loopback bind (DNS rebinding), even with a matching Origin', async () => {
    const rebinding = await invoke('projects.list', {}, { Authorization: `Bearer ${TOKEN}`, Host: `evil.example:${server.port}`, Origin: `http://evil.example:${server.port}` });
    expect(rebinding.status).toBe(403);
  });

  it('round-trips invoke: create, list, and errors with their codes and statuses', async () => {
    const created = await invoke('projects.create', { name: 'From the browser' });
    expect(created.status).toBe(200);
    const project = JSON.parse(created.body);
    expect(project).toMatchObject({ ok: true, result: { name: 'From the browser', description: '' } });
    const list = JSON.parse((await invoke('projects.list', {})).body);
    expect(list.result.map((p: { id: string }) => p.id)).toContain(project.result.id);

    const dup = await invoke('projects.create', { name: 'from the browser' });
    expect([dup.status, JSON.parse(dup.body).error.code]).toEqual([409, 'conflict']);
    const bad = await invoke('projects.create', { name: '' });
    expect([bad.status, JSON.parse(bad.body).error.message]).toEqual([400, 'invalid input for projects.create: name: a project needs a name']);
    const missing = await invoke('projects.get', { id: 'nope' });
    expect([missing.status, JSON.parse(missing.body).error.code]).toEqual([404, 'not_found']);
    const unknown = await invoke('nope.nope', {});
    expect([unknown.status, JSON.parse(unknown.body).error.code]).toEqual([400, 'unknown_method']);
  });

  it('answers malformed requests clearly', async () => {
    const auth = { Authorization: `Bearer ${TOKEN}` };
    const notJson = await raw('/api/invoke', { method: 'POST', headers: auth, body: '{oops' });
    expect([notJson.status, JSON.parse(notJson.body).error.message]).toEqual([400, expect.stringMatching(/not JSON/)]);
    const noMethod = await raw('/api/invoke', { method: 'POST', headers: auth, body: '{"input":{}}' });
    expect(noMethod.status).toBe(400);
    const get = await raw('/api/invoke', { headers: auth });
    expect(get.status).toBe(405);
    const huge = await raw('/api/invoke', { method: 'POST', headers: auth, body: JSON.stringify({ method: 'projects.create', input: { name: 'x'.repeat(2 << 20) } }) });
    expect(huge.status).toBe(413);
    expect((await raw('/api/other', { headers: auth })).status).toBe(404);
  });
});

describe('serve: the renderer', () => {
  it('serves index.html with a strict CSP and SPA fallback', async () => {
    for (const path of ['/', '/?token=abc', '/projects/deep/link']) {
      const page = await raw(path);
      expect(page.status).toBe(200);
      expect(page.body).toContain('<title>studio</title>');
      const csp = String(page.headers['content-security-policy']);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${server.port}`);
      expect(csp).not.toContain('unsafe-eval');
      expect(page.headers['referrer-policy']).toBe('no-referrer');
    }
    const js = await raw('/assets/app.js');
    expect([js.status, js.headers['content-type']]).toEqual([200, 'text/javascript; charset=utf-8']);
    expect((await raw('/assets/missing.js')).status).toBe(404);
  });

  it('never serves files outside the renderer folder', async () => {
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt']) {
      const res = await raw(path);
      expect(res.body, path).not.toContain('outside the renderer');
    }
  });

  it('says which command builds the UI when it is missing', async () => {
    const bare = await startStudioServer({ core, port: 0, token: TOKEN, rendererDir: join(dir, 'not-built') });
    try {
      expect(bare.rendererBuilt).toBe(false);
      const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        request({ host: '127.0.0.1', port: bare.port, path: '/' }, (r) => {
          let body = '';
          r.on('data', (c) => (body += c));
          r.on('end', () => resolve({ status: r.statusCode!, body }));
        }).on('error', reject).end();
      });
      expect(res.status).toBe(503);
      expect(res.body).toContain('npm run build:renderer');
    } finally {
      await bare.close();
    }
  });

  it('refuses a token that is not URL-safe or too short', async () => {
    await expect(startStudioServer({ core, port: 0, token: 'short' })).rejects.toThrow(/16 to 256 characters/);
  });
});

describe('serve: the event stream', () => {
  const connect = (query: string, headers: Record<string, string> = {}) => new WebSocket(`ws://127.0.0.1:${server.port}/api/events${query}`, { headers });

  const rejection = (ws: WebSocket) =>
    new Promise<number>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode!));
      ws.on('open', () => resolve(101));
      ws.on('error', () => undefined);
    });

  it('refuses a connection without the token (401) or from a foreign origin (403)', async () => {
    expect(await rejection(connect(''))).toBe(401);
    expect(await rejection(connect('?token=wrong-wrong-wrong-wrong'))).toBe(401);
    expect(await rejection(connect(`?token=${TOKEN}`, { Origin: 'http://evil.example' }))).toBe(403);
  });

  it('pushes job events to a connected client', async () => {
    const ws = connect(`?token=${TOKEN}`, { Origin: base });
    const frames: { topic: string; payload: { id?: string; jobId?: string; status?: string; progress?: number } }[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.on('open', () => resolve());
      ws.on('error', reject);
    });
    ws.on('message', (data) => frames.push(JSON.parse(String(data))));
    const started = JSON.parse((await invoke('jobs.startDiagnostic', { kind: 'diagnostic.sleep', steps: 3, stepMs: 10 })).body);
    expect(started.ok).toBe(true);
    const jobId = started.result.id as string;
    await new Promise<void>((resolve) => {
      const check = () => (frames.some((f) => f.topic === 'job.status' && f.payload.id === jobId && f.payload.status === 'succeeded') ? resolve() : setTimeout(check, 20));
      check();
    });
    ws.close();
    const progress = frames.filter((f) => f.topic === 'job.progress' && f.payload.jobId === jobId).map((f) => f.payload.progress);
    expect(progress).toEqual([1 / 3, 2 / 3, 1]);
    expect(frames.filter((f) => f.topic === 'job.metric')).toHaveLength(3);
    expect(frames.filter((f) => f.topic === 'job.status' && f.payload.id === jobId).map((f) => f.payload.status)).toEqual(['queued', 'running', 'succeeded']);
  });
});
