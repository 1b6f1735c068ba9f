// Resident workers: real worker processes (src/main/worker/entry.ts through tsx) running the diagnostic.turn kind,
// which counts the jobs its process has run — a count above 1 is state kept between jobs, as a loaded model is.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/main/core/events.ts';
import { JobSupervisor, type SupervisorOptions } from '../../../src/main/core/jobs/supervisor.ts';
import { Store } from '../../../src/main/core/store/index.ts';

let dir: string;
let store: Store;
let events: EventBus;
const opened: JobSupervisor[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lora-resident-'));
  store = Store.open(join(dir, 'studio.sqlite'));
  events = new EventBus();
});
afterAll(async () => {
  for (const s of opened) await s.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function supervisor(o: Partial<SupervisorOptions> = {}): JobSupervisor {
  const s = new JobSupervisor({
    store,
    events,
    dataDir: dir,
    cancelGraceMs: 2000,
    termGraceMs: 300,
    workerEnv: { LORA_STUDIO_TEST_JOBS: '1' },
    memoryLow: () => false,
    ...o,
  });
  opened.push(s);
  return s;
}

async function turn(s: JobSupervisor, params: object, key = 'model-a') {
  const job = s.start('diagnostic.turn', params, { resident: { key } });
  const done = await s.waitFor(job.id);
  return { done, result: store.jobs.get(job.id)!.result as { pid: number; turn: number } | null };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const until = async (what: () => boolean, ms = 5000) => {
  const t0 = Date.now();
  while (!what()) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('resident workers', () => {
  it('two jobs with the same key run in one process that keeps its state; another key gets its own', async () => {
    const s = supervisor();
    const first = await turn(s, {});
    const second = await turn(s, {});
    expect(first.done).toMatchObject({ status: 'succeeded', exitCode: 0 });
    expect(second.done).toMatchObject({ status: 'succeeded', exitCode: 0 });
    expect(second.result!.pid).toBe(first.result!.pid);
    expect([first.result!.turn, second.result!.turn]).toEqual([1, 2]);
    const other = await turn(s, {}, 'model-b');
    expect(other.result!.pid).not.toBe(first.result!.pid);
    expect(other.result!.turn).toBe(1);
    expect(s.residents().map((r) => r.busy)).toEqual([false, false]);
    // a job without `resident` never lands in a resident worker
    const plain = await s.waitFor(s.start('diagnostic.turn', {}).id);
    expect((store.jobs.get(plain.id)!.result as { pid: number }).pid).not.toBe(first.result!.pid);
  });

  it('is released after its idle time, and the next job loads a fresh process', async () => {
    const s = supervisor({ residentIdleMs: () => 300 });
    const first = await turn(s, {});
    expect(alive(first.result!.pid)).toBe(true);
    await until(() => !alive(first.result!.pid));
    expect(s.residents()).toEqual([]);
    const next = await turn(s, {});
    expect(next.result).toMatchObject({ turn: 1 });
    expect(next.result!.pid).not.toBe(first.result!.pid);
  });

  it('is released at once when memory is short', async () => {
    let low = false;
    const s = supervisor({ memoryLow: () => low });
    const first = await turn(s, {});
    expect(s.residents()).toHaveLength(1);
    low = true;
    const second = await turn(s, {}, 'model-b'); // a new process starts: the idle one makes room first
    await until(() => !alive(first.result!.pid));
    await until(() => !alive(second.result!.pid)); // and it is not kept either while memory stays short
    expect(s.residents()).toEqual([]);
  });

  it('keeps at most maxIdleResidents idle, releasing the longest idle', async () => {
    const s = supervisor({ maxIdleResidents: 1 });
    const a = await turn(s, {}, 'a');
    const b = await turn(s, {}, 'b');
    await until(() => !alive(a.result!.pid));
    expect(s.residents().map((r) => r.pid)).toEqual([b.result!.pid]);
  });

  it('cancel ends the job and the worker stays for the next one', async () => {
    const s = supervisor();
    const first = await turn(s, {});
    const job = s.start('diagnostic.turn', { sleepMs: 30_000 }, { resident: { key: 'model-a' } });
    await until(() => s.residents().some((r) => r.busy));
    const t0 = Date.now();
    s.cancel(job.id);
    expect(await s.waitFor(job.id)).toMatchObject({ status: 'cancelled', exitCode: 0 });
    expect(Date.now() - t0).toBeLessThan(2000); // the worker stopped by itself, before any SIGTERM
    const third = await turn(s, {});
    expect(third.result).toEqual({ pid: first.result!.pid, turn: 3 });
  });

  it('a crash in a resident worker fails its job (not a hang), and the next job starts a new process', async () => {
    const s = supervisor();
    const first = await turn(s, {});
    const crashed = await turn(s, { crash: true });
    expect(crashed.done).toMatchObject({ status: 'failed', exitCode: null });
    expect(crashed.done.error).toMatch(/killed by SIGKILL/);
    const next = await turn(s, {});
    expect(next.result!.pid).not.toBe(first.result!.pid);
    expect(next.result!.turn).toBe(1);
  });

  it('close releases idle resident workers and waits for them to exit', async () => {
    const s = supervisor();
    const { result } = await turn(s, {});
    await s.close();
    expect(alive(result!.pid)).toBe(false);
  });
});
