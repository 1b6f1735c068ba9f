// The supervisor runs real worker processes (src/main/worker/entry.ts through tsx) with the diagnostic kinds.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../../src/common/api/jobs.ts';
import { EventBus, type AnyEvent } from '../../../src/main/core/events.ts';
import { JobSupervisor } from '../../../src/main/core/jobs/supervisor.ts';
import { Store } from '../../../src/main/core/store/index.ts';

let dir: string;
let store: Store;
let events: EventBus;
let supervisor: JobSupervisor;
const seen: AnyEvent[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lora-jobs-'));
  store = Store.open(join(dir, 'studio.sqlite'));
  events = new EventBus();
  events.subscribe((e) => seen.push(e));
  supervisor = new JobSupervisor({ store, events, dataDir: dir, cancelGraceMs: 300, termGraceMs: 300, workerEnv: { LORA_STUDIO_TEST_JOBS: '1' } });
});
afterAll(async () => {
  await supervisor.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const eventsOf = (jobId: string) =>
  seen.filter((e) => (e.topic === 'job.status' ? e.payload.id : e.payload.jobId) === jobId);

describe('job supervisor', () => {
  it('runs a job to success, streaming progress, logs and metrics', async () => {
    const job = supervisor.start('diagnostic.sleep', { steps: 4, stepMs: 20 });
    expect(job.status).toMatch(/queued|running/);
    const done = await supervisor.waitFor(job.id);
    expect(done).toMatchObject({ status: 'succeeded', progress: 1, exitCode: 0, error: null });
    expect(store.jobs.get(job.id)!.result).toEqual({ steps: 4 });

    const mine = eventsOf(job.id);
    const statuses = mine.filter((e) => e.topic === 'job.status').map((e) => (e.payload as Job).status);
    expect(statuses).toEqual(['queued', 'running', 'succeeded']);
    const progress = mine.flatMap((e) => (e.topic === 'job.progress' ? [e.payload.progress] : []));
    expect(progress).toEqual([0.25, 0.5, 0.75, 1]);
    const metrics = mine.flatMap((e) => (e.topic === 'job.metric' ? [[e.payload.step, e.payload.values.loss]] : []));
    expect(metrics).toEqual([[1, 1], [2, 0.5], [3, 1 / 3], [4, 0.25]]);
    expect(mine.filter((e) => e.topic === 'job.log').map((e) => (e.payload as { line: string }).line)).toContain('finished step 4');
    // Logs are also kept on disk.
    expect(readFileSync(join(dir, 'logs', `${job.id}.log`), 'utf8')).toMatch(/info finished step 2/);
  });

  it('an uncaught exception marks the job failed with its message and exit code 70', async () => {
    const job = supervisor.start('diagnostic.crash', { mode: 'exception', message: 'boom in a timer' });
    expect(await supervisor.waitFor(job.id)).toMatchObject({ status: 'failed', error: 'boom in a timer', exitCode: 70 });
  });

  it('process.exit(3) marks it failed with exit code 3 and the last stderr line', async () => {
    const job = supervisor.start('diagnostic.crash', { mode: 'exit', exitCode: 3, message: 'out of memory (pretend)' });
    const done = await supervisor.waitFor(job.id);
    expect(done).toMatchObject({ status: 'failed', exitCode: 3 });
    expect(done.error).toBe('out of memory (pretend) (the worker exited with code 3)');
  });

  it('a worker killed by a signal is failed, naming the signal', async () => {
    const job = supervisor.start('diagnostic.crash', { mode: 'signal' });
    const done = await supervisor.waitFor(job.id);
    expect(done).toMatchObject({ status: 'failed', exitCode: null });
    expect(done.error).toMatch(/killed by SIGKILL/);
  });

  it('a job that throws is failed with exit code 1', async () => {
    const job = supervisor.start('diagnostic.crash', { mode: 'throw', message: 'bad dataset row 7' });
    expect(await supervisor.waitFor(job.id)).toMatchObject({ status: 'failed', error: 'bad dataset row 7', exitCode: 1 });
  });

  it('unknown kinds and invalid params fail with a clear error', async () => {
    const unknown = await supervisor.waitFor(supervisor.start('no.such.kind', {}).id);
    expect(unknown).toMatchObject({ status: 'failed', exitCode: 2 });
    expect(unknown.error).toMatch(/unknown job kind "no.such.kind" \(known: .*diagnostic.sleep/);
    const invalid = await supervisor.waitFor(supervisor.start('diagnostic.sleep', { steps: 0 }).id);
    expect(invalid.error).toMatch(/^invalid params for diagnostic.sleep: steps: /);
  });

  it('cancel stops a running job quickly and marks it cancelled', async () => {
    const job = supervisor.start('diagnostic.sleep', { steps: 1000, stepMs: 50 });
    await new Promise<void>((resolve) => {
      const off = events.on('job.progress', (p) => p.jobId === job.id && (off(), resolve()));
    });
    const t0 = Date.now();
    expect(supervisor.cancel(job.id).message).toBe('cancelling…');
    const done = await supervisor.waitFor(job.id);
    // Exit code 0: the worker honoured the cancel message itself; no SIGTERM was needed.
    expect(done).toMatchObject({ status: 'cancelled', exitCode: 0 });
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('a job that ignores cancel is terminated after the grace period', async () => {
    const job = supervisor.start('diagnostic.sleep', { steps: 1000, stepMs: 50, ignoreCancel: true });
    await new Promise<void>((resolve) => {
      const off = events.on('job.progress', (p) => p.jobId === job.id && (off(), resolve()));
    });
    const t0 = Date.now();
    supervisor.cancel(job.id);
    const done = await supervisor.waitFor(job.id);
    // No exit code: the worker was ended by SIGTERM after the 300 ms grace.
    expect(done).toMatchObject({ status: 'cancelled', exitCode: null });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
  });

  it('queues beyond maxConcurrent, cancels a queued job at once, and keeps serving after crashes', async () => {
    const one = new JobSupervisor({ store, events, dataDir: dir, maxConcurrent: 1, workerEnv: { LORA_STUDIO_TEST_JOBS: '1' } });
    const first = one.start('diagnostic.sleep', { steps: 2, stepMs: 50 });
    const second = one.start('diagnostic.sleep', { steps: 1, stepMs: 0 });
    const third = one.start('diagnostic.sleep', { steps: 1, stepMs: 0 });
    expect(one.get(second.id).status).toBe('queued');
    expect(one.cancel(third.id)).toMatchObject({ status: 'cancelled', message: 'cancelled before it started' });
    expect((await one.waitFor(first.id)).status).toBe('succeeded');
    expect((await one.waitFor(second.id)).status).toBe('succeeded');
    expect(one.get(third.id).startedAt).toBeNull();
    await one.close();
  });

  it('marks jobs orphaned by a dead process as failed at start-up, and leaves live ones alone', async () => {
    const orphan = store.jobs.create({ kind: 'diagnostic.sleep', supervisorPid: 2 ** 22 + 12345 });
    store.jobs.update(orphan.id, { status: 'running' });
    const live = store.jobs.create({ kind: 'diagnostic.sleep', supervisorPid: process.ppid });
    const restarted = new JobSupervisor({ store, events, dataDir: dir });
    expect(store.jobs.get(orphan.id)).toMatchObject({ status: 'failed', error: 'the studio stopped before this job finished' });
    expect(store.jobs.get(live.id)!.status).toBe('queued');
    store.jobs.update(live.id, { status: 'cancelled' });
    await restarted.close();
  });

  it('hands metrics to the starting service and calls onEnd once', async () => {
    const p = store.projects.create({ name: 'hooks' });
    const run = store.runs.insert({ projectId: p.id, name: 'r', config: {}, seed: 0, appVersion: 't' });
    const ended: string[] = [];
    const job = supervisor.start('diagnostic.sleep', { steps: 3, stepMs: 0 }, {
      projectId: p.id,
      hooks: { onMetric: (_job, step, values) => store.runs.addMetric(run.id, step, values), onEnd: (j) => ended.push(j.status) },
    });
    await supervisor.waitFor(job.id);
    expect(store.runs.metrics(run.id).map((m) => m.step)).toEqual([1, 2, 3]);
    expect(ended).toEqual(['succeeded']);
    expect(existsSync(join(dir, 'logs'))).toBe(true);
  });
});
