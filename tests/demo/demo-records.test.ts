// What `lora-studio demo` leaves in a data dir is what the studio reads: its core part (a few steps on a subset of
// the bundled model's demo data) on a fresh data dir, then every list and get method of the API on it. The
// router checks each output against the contract, so a record the demo wrote outside the API fails here.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStudioCore, type StudioCore } from '../../src/main/core/index.ts';
import { DEFAULT_MODEL_DIR, type DemoResult } from '../../src/main/cli/commands/demo.ts';
import { runShortDemo } from '../fixtures/short-demo.ts';

const root = mkdtempSync(join(tmpdir(), 'lora-demo-records-'));
const dataDir = join(root, 'data');
let core: StudioCore;
let demo: DemoResult;

beforeAll(async () => {
  core = createStudioCore({ dataDir });
  demo = await runShortDemo(core, dataDir);
}, 300_000);

afterAll(async () => {
  await core?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('the demo writes only records the API reads back', () => {
  it('every list and get method answers on its data dir', async () => {
    const projects = await core.call('projects.list', {});
    expect(projects.map((p) => p.name)).toEqual(['Demo']);
    const projectId = projects[0]!.id;
    expect((await core.call('projects.get', { id: projectId })).id).toBe(projectId);

    const models = await core.call('models.list', {});
    expect(models.map((m) => m.path)).toEqual([DEFAULT_MODEL_DIR]);
    expect((await core.call('models.get', { id: models[0]!.id })).architecture).toBe(models[0]!.architecture);

    const datasets = await core.call('datasets.list', { projectId });
    expect(datasets).toHaveLength(1);
    expect(datasets[0]!.columns).toMatchObject({ messages: 'messages' });
    const preview = await core.call('datasets.preview', { id: datasets[0]!.id, rows: 2 });
    expect(preview.rows).toHaveLength(2);
    expect(JSON.stringify(preview)).not.toContain('(not set)');
    expect((await core.call('datasets.get', { id: datasets[0]!.id })).examples).toBe(32);

    const runs = await core.call('runs.list', { projectId });
    expect(runs.map((r) => [r.id, r.status])).toEqual([[demo.runId, 'succeeded']]);
    expect((await core.call('runs.get', { id: demo.runId })).summary?.steps).toBe(4);
    expect(
      (await core.call('runs.metrics', { id: demo.runId })).filter((m) => m.values.loss !== undefined),
    ).toHaveLength(4);

    // One evaluation row holds base and tuned, and per example both columns with the change.
    const evaluations = await core.call('evaluations.list', { projectId });
    expect(evaluations).toHaveLength(1);
    const evaluation = evaluations[0]!;
    expect(evaluation.runId).toBe(demo.runId);
    expect(evaluation.basePerplexity).toBeCloseTo(demo.pplBefore, 6);
    expect(evaluation.adapterPerplexity).toBeCloseTo(demo.pplAfter, 6);
    const { examples } = await core.call('evaluations.get', { id: evaluation.id });
    expect(examples).toHaveLength(8);
    const page = await core.call('evaluations.examples', { id: evaluation.id });
    expect(
      page.examples.every((e) => e.basePerplexity !== null && e.adapterPerplexity !== null && e.change !== null),
    ).toBe(true);

    const adapters = await core.call('adapters.list', { projectId });
    expect(adapters.map((a) => a.runId)).toEqual([demo.runId]);
    expect((await core.call('adapters.get', { id: adapters[0]!.id })).id).toBe(adapters[0]!.id);

    const exports = await core.call('exports.list', { projectId });
    expect(exports.map((e) => [e.format, e.status]).sort()).toEqual([
      ['gguf', 'succeeded'],
      ['hf', 'succeeded'],
    ]);
    expect(exports.map((e) => e.path).sort()).toEqual([demo.ggufPath, demo.mergedDir].sort());
    for (const e of exports) expect((await core.call('exports.get', { id: e.id })).sizeBytes).toBeGreaterThan(0);

    const chats = await core.call('chat.list', { projectId });
    expect(chats).toHaveLength(3);
    for (const chat of chats) {
      const { messages } = await core.call('chat.get', { id: chat.id });
      expect(
        messages
          .filter((m) => m.role === 'assistant')
          .map((m) => m.pane)
          .sort(),
      ).toEqual(['base', 'tuned']);
    }

    const jobs = await core.call('jobs.list', {});
    expect(jobs.every((j) => j.status === 'succeeded')).toBe(true);
    for (const job of jobs) expect((await core.call('jobs.get', { id: job.id })).id).toBe(job.id);
    expect(await core.call('system.unreadable', {})).toEqual([]);
  });
});
