// An oversized /api/invoke body is answered 413 only after it has been read to its end, so every client sees the
// 413 (answering mid-upload closed the socket under the client: a broken pipe in about 1 of 7 tries).
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStudioCore, type StudioCore } from '../../src/main/core/index.ts';
import { startStudioServer, type StudioServer } from '../../src/main/server/serve.ts';

const TOKEN = 'test-token-0123456789abcdef';
let dir: string;
let core: StudioCore;
let server: StudioServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lora-serve-413-'));
  core = createStudioCore({ dataDir: join(dir, 'data'), testJobs: false });
  server = await startStudioServer({ core, port: 0, token: TOKEN, rendererDir: join(dir, 'no-renderer') });
});
afterAll(async () => {
  await server.close();
  await core.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * POSTs `bytes` of body, one 64 KiB write per timer tick (a client on a real network sends over time), and reports
 * the status together with any transport error met while sending: a client such as curl gives up on a broken pipe
 * before it reads the answer, so an error during the upload counts even if a response arrived too.
 */
function postHuge(bytes: number): Promise<{ status: number | null; error: string | null; body: string }> {
  return new Promise((resolve) => {
    let status: number | null = null;
    let body = '';
    let error: string | null = null;
    const req = request(
      {
        host: '127.0.0.1',
        port: server.port,
        path: '/api/invoke',
        method: 'POST',
        headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json', 'Content-Length': bytes },
      },
      (res) => {
        status = res.statusCode ?? null;
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => (error ??= err.code ?? err.message));
    const chunk = Buffer.alloc(64 << 10, 0x20);
    let sent = 0;
    req.on('close', () => {
      // The server closing the connection before the client finished sending is the broken pipe a client meets.
      if (sent < bytes) error ??= `connection closed after ${sent} of ${bytes} bytes were sent`;
      resolve({ status, error, body });
    });
    const pump = () => {
      if (error !== null || req.destroyed) return;
      if (sent >= bytes) return void req.end();
      const n = Math.min(chunk.length, bytes - sent);
      sent += n;
      req.write(n === chunk.length ? chunk : chunk.subarray(0, n));
      setTimeout(pump, 1);
    };
    pump();
  });
}

describe('serve: oversized bodies', () => {
  it('answers every 10 MB body with 413 and a message, never a broken pipe', { timeout: 120_000 }, async () => {
    const TRIES = 7;
    const results = [];
    for (let i = 0; i < TRIES; i++) results.push(await postHuge(10 << 20));
    expect(results.map((r) => r.error ?? r.status)).toEqual(Array(TRIES).fill(413));
    expect(JSON.parse(results[0].body)).toMatchObject({
      ok: false,
      error: { code: 'invalid_input', message: expect.stringMatching(/larger than 1048576 bytes/) },
    });
    // The server still answers normally afterwards.
    expect(await core.invoke('projects.list', {})).toEqual([]);
  });
});
