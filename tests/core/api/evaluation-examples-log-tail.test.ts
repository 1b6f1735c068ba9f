// evaluations.examples (per-example perplexity before/after, sorted and paged) and jobs.logTail (the last
// lines of a job's log file) through the real core: examples recorded in the store as an eval job records
// them, and a diagnostic job in a worker process writing its log.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../../src/common/api/jobs.ts';
import type { EvaluationExampleRow } from '../../../src/common/api/runs.ts';
import { createStudioCore, type StudioCore } from '../../../src/main/core/index.ts';
import { logEntries } from '../../../src/main/core/api/handlers/jobs.ts';

let dir: string;
let core: StudioCore;
let projectId: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lora-eval-examples-'));
  core = createStudioCore({ dataDir: join(dir, 'data'), testJobs: true });
  projectId = ((await core.invoke('projects.create', { name: 'examples' })) as { id: string }).id;
});
afterAll(async () => {
  await core.close();
  rmSync(dir, { recursive: true, force: true });
});

type Page = { total: number; examples: EvaluationExampleRow[] };

describe('evaluations.examples', () => {
  // (tokens, base NLL, tuned NLL): per-token perplexity exp(nll / tokens) before and after.
  const measured: [number, number | null, number | null][] = [
    [4, 8, 4], // e^2 → e^1: change e^-1 − 1 ≈ −0.632 (most improved)
    [2, 2, 4], // e^1 → e^2: change e − 1 ≈ +1.718 (got worse)
    [5, 5, 5], // unchanged
    [3, null, 3], // no base measurement: no change, goes last
    [10, 10, 5], // e^1 → e^0.5: change ≈ −0.393
  ];
  let evaluationId: string;

  beforeAll(() => {
    evaluationId = core.store.evaluations.insert({ projectId }).id;
    core.store.evaluations.addExamples(
      evaluationId,
      measured.map(([tokens, baseNll, adapterNll], idx) => ({
        idx,
        input: `example ${idx}`,
        expected: null,
        output: '',
        scores: { tokens, ...(baseNll !== null ? { baseNll } : {}), ...(adapterNll !== null ? { adapterNll } : {}) },
      })),
    );
  });

  it('gives each example its perplexity before and after and sorts by change, most improved first, unmeasured last', async () => {
    const page = (await core.invoke('evaluations.examples', { id: evaluationId })) as Page;
    expect(page.total).toBe(5);
    expect(page.examples.map((x) => x.index)).toEqual([0, 4, 2, 1, 3]);
    const first = page.examples[0];
    expect(first).toMatchObject({ index: 0, tokens: 4, baseNll: 8, adapterNll: 4, text: 'example 0' });
    expect(first.basePerplexity).toBeCloseTo(Math.E ** 2, 10);
    expect(first.adapterPerplexity).toBeCloseTo(Math.E, 10);
    expect(first.change).toBeCloseTo(1 / Math.E - 1, 10);
    expect(page.examples[2].change).toBe(0);
    expect(page.examples[4]).toMatchObject({ index: 3, basePerplexity: null, change: null });
    expect(page.examples[4].adapterPerplexity).toBeCloseTo(Math.E, 10);
  });

  it('sorts descending (null still last), by other keys, and pages', async () => {
    const worst = (await core.invoke('evaluations.examples', { id: evaluationId, order: 'desc' })) as Page;
    expect(worst.examples.map((x) => x.index)).toEqual([1, 2, 4, 0, 3]);
    const byBase = (await core.invoke('evaluations.examples', {
      id: evaluationId,
      sort: 'basePerplexity',
      order: 'desc',
    })) as Page;
    expect(byBase.examples.map((x) => x.index)).toEqual([0, 1, 2, 4, 3]);
    const page2 = (await core.invoke('evaluations.examples', {
      id: evaluationId,
      sort: 'index',
      offset: 2,
      limit: 2,
    })) as Page;
    expect(page2).toMatchObject({ total: 5 });
    expect(page2.examples.map((x) => x.index)).toEqual([2, 3]);
  });

  it('names an unknown evaluation, and refuses a page size out of range', async () => {
    await expect(core.invoke('evaluations.examples', { id: 'nope' })).rejects.toThrow(/evaluation.*nope/);
    await expect(core.invoke('evaluations.examples', { id: evaluationId, limit: 0 })).rejects.toThrow(/limit/);
  });
});

describe('jobs.logTail', () => {
  it('returns the last lines a job logged, oldest first, with level and time', async () => {
    const job = (await core.invoke('jobs.startDiagnostic', {
      kind: 'diagnostic.sleep',
      projectId,
      steps: 6,
      stepMs: 0,
    })) as Job;
    expect((await core.jobs.waitFor(job.id)).status).toBe('succeeded');
    const all = (await core.invoke('jobs.logTail', { id: job.id })) as { at: string; level: string; line: string }[];
    const steps = all.filter((entry) => entry.line.startsWith('finished step'));
    expect(steps.map((entry) => entry.line)).toEqual([1, 2, 3, 4, 5, 6].map((n) => `finished step ${n}`));
    for (const entry of all) {
      expect(entry.at).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(['debug', 'info', 'warn', 'error']).toContain(entry.level);
    }
    const tail = (await core.invoke('jobs.logTail', { id: job.id, lines: 2 })) as { line: string }[];
    expect(tail).toEqual(all.slice(-2));
  });

  it('keeps a failed job’s stack frames in the file and off the pages; the message stays', async () => {
    const job = (await core.invoke('jobs.startDiagnostic', { kind: 'diagnostic.crash', projectId, mode: 'throw', afterMs: 0 })) as Job;
    expect((await core.jobs.waitFor(job.id)).status).toBe('failed');
    const file = readFileSync(join(dir, 'data', 'logs', `${job.id}.log`), 'utf8');
    expect(file).toMatch(/\n\s+at \S/); // the details are in the file
    const all = (await core.invoke('jobs.logTail', { id: job.id })) as { level: string; line: string }[];
    expect(all.some((e) => e.level === 'error' && e.line.includes('diagnostic crash'))).toBe(true);
    for (const e of all) expect(e.line).not.toMatch(/^\s+at \S/m);
  });

  it('folds a multi-line entry into one and drops only stack frames and the error’s class', () => {
    const text = '2026-01-01T00:00:00.000Z info first\nsecond line\n2026-01-01T00:00:01.000Z error Error: bad row\n    at read (x.ts:1:2)\n    at main (y.ts:3:4)\n';
    expect(logEntries(text)).toEqual([
      { at: '2026-01-01T00:00:00.000Z', level: 'info', line: 'first\nsecond line' },
      { at: '2026-01-01T00:00:01.000Z', level: 'error', line: 'bad row' },
    ]);
  });

  it('names an unknown job', async () => {
    await expect(core.invoke('jobs.logTail', { id: 'no-such-job' })).rejects.toThrow(/no-such-job/);
  });
});
