// A writer killed with SIGKILL at random moments leaves a store that opens, passes integrity_check, and
// holds every transaction the writer reported as committed — each one whole (project + run + 25 metrics).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../../src/main/core/store/index.ts';

const writer = resolve(import.meta.dirname, 'fixtures/crash-writer.ts');
const dir = mkdtempSync(join(tmpdir(), 'lora-store-kill9-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starts the writer, kills it with SIGKILL after `killAfterAcks` acks plus `extraMs`, returns the acked numbers. */
function runAndKill(file: string, prefix: string, killAfterAcks: number, extraMs: number): Promise<number[]> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writer, file, prefix], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acked: number[] = [];
    let buffer = '';
    let stderr = '';
    let killScheduled = false;
    const scheduleKill = () => {
      if (killScheduled) return;
      killScheduled = true;
      setTimeout(() => child.kill('SIGKILL'), extraMs);
    };
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const m = /^ack (\d+)$/.exec(line);
        if (m) acked.push(Number(m[1]));
        if ((line === 'open' && killAfterAcks === 0) || acked.length >= killAfterAcks) scheduleKill();
      }
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`writer exited on its own (code ${code}): ${stderr}`));
      else resolvePromise(acked);
    });
  });
}

describe('store under kill -9', () => {
  it('keeps every acknowledged commit and stays consistent across repeated kills', async () => {
    const file = join(dir, 'studio.sqlite');
    const expected: string[] = [];
    // Round 0 kills right after open (often during the first transaction); later rounds at random depths.
    const plan = [0, 3, 17, 1, 40, 9].map((acks, round) => ({ acks, extraMs: Math.floor(Math.random() * 15), prefix: `round${round}` }));
    for (const { acks, extraMs, prefix } of plan) {
      const acked = await runAndKill(file, prefix, acks, extraMs);
      expect(acked.length).toBeGreaterThanOrEqual(acks);
      expected.push(...acked.map((n) => `${prefix}-${n}`));

      const store = Store.open(file);
      try {
        expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
        expect(store.db.pragma('foreign_key_check')).toEqual([]);
        const names = new Set(store.projects.list().map((p) => p.name));
        for (const name of expected) expect(names.has(name), `acknowledged project ${name} is missing`).toBe(true);
        // Atomicity: whatever made it in, made it in whole.
        for (const project of store.projects.list()) {
          const runs = store.runs.listByProject(project.id);
          expect(runs).toHaveLength(1);
          expect(store.runs.metrics(runs[0]!.id)).toHaveLength(25);
        }
      } finally {
        store.close();
      }
    }
    expect(expected.length).toBeGreaterThan(50);
  });
});
