// `lora-studio eval --run <fusion run> --singles`: the fusion.evaluate job through the CLI (core → worker) gives the
// same numbers as the engine's evaluateFusionRun called here, per eval file; the table names each adapter, the
// uniform average and the learned combination; a run that is not a combination is refused naming why.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunConfig } from '../../src/common/api/runs.ts';
import { FusionEvalResult } from '../../src/common/api/fusion-eval.ts';
import { createStudioCore } from '../../src/main/core/index.ts';
import { runOutputDir } from '../../src/main/core/api/handlers/runs.ts';
import { evaluateFusionRun } from '../../src/main/engine/trainer/evaluate-fusion.ts';
import { FUSION_RECORD, fusionParts } from '../../src/main/formats/fusion/index.ts';
import { makeChatFixture, type ChatFixture } from '../engine/generate/fixtures.ts';

const bin = resolve(import.meta.dirname, '../../bin/lora-studio.js');
const root = mkdtempSync(join(tmpdir(), 'lora-cli-singles-'));
const dataDir = join(root, 'data');
let fx: ChatFixture;
let runId: string;
let plainRunId: string;
let config: RunConfig;
const files: string[] = [];

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = execFile(process.execPath, [bin, '--data-dir', dataDir, ...args], { timeout: 240_000 }, (error, stdout, stderr) =>
      done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end();
  });
}

beforeAll(async () => {
  fx = await makeChatFixture(join(root, 'fx'), { adapters: 2 });
  for (const [i, words] of [['red', 'blue', 'green'], ['cat', 'dog', 'hen']].entries()) {
    const f = join(root, `task-${i}.jsonl`);
    writeFileSync(f, Array.from({ length: 8 }, (_, j) => JSON.stringify({ prompt: `item ${j} is`, completion: ` ${words[j % 3]}` })).join('\n') + '\n');
    files.push(f);
  }
  config = RunConfig.parse({
    model: fx.model.dir,
    dataset: { path: files[0], template: { kind: 'plain' }, eval_split: { kind: 'ratio', ratio: 0.5 } },
    fusion: { adapters: fx.adapters, mode: 'weights' },
    micro_batch_size: 4,
    max_seq_length: 24,
  });
  const core = createStudioCore({ dataDir });
  const project = await core.call('projects.create', { name: 'p' });
  const insert = (name: string, c: RunConfig) => core.store.runs.insert({ projectId: project.id, name, config: c, seed: 42, appVersion: 'test', status: 'succeeded' }).id;
  runId = insert('colours + animals', config);
  plainRunId = insert('plain', RunConfig.parse({ model: fx.model.dir, dataset: { path: files[0] } }));
  const adapterDir = join(runOutputDir(dataDir, runId), 'adapter');
  mkdirSync(adapterDir, { recursive: true });
  writeFileSync(join(adapterDir, FUSION_RECORD), JSON.stringify({ mode: 'weights', adapters: await fusionParts(fx.adapters), weights: { '*': [0.8, 0.2] } }));
  await core.close();
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('lora-studio eval --singles', () => {
  it('measures each eval file through the job, with the engine’s numbers', async () => {
    const r = await cli('eval', '--run', runId, '--singles', '--task-eval', files[0], '--task-eval', files[1], '--json');
    expect(r.stderr.split('\n').filter((l) => /error/i.test(l))).toEqual([]);
    expect(r.code).toBe(0);
    const got = FusionEvalResult.parse(JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))));
    const want = await evaluateFusionRun({
      params: { runId, config, runDir: runOutputDir(dataDir, runId), datasets: files },
      signal: new AbortController().signal,
      reporter: { log: () => {}, progress: () => {} },
    });
    expect(got.tables.map((t) => t.path)).toEqual(files);
    got.tables.forEach((t, i) => {
      expect(t.single.map((s) => s.perplexity)).toEqual(want.tables[i].single.map((s) => s.perplexity));
      expect([t.uniform, t.learned]).toEqual([want.tables[i].uniform, want.tables[i].learned]);
    });
    const text = await cli('eval', '--run', runId, '--singles');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/fusion vs singles \(run .*weights mode\)/);
    expect(text.stdout).toMatch(/alone: .*adapter-0 +\d+\.\d{3}/);
    expect(text.stdout).toMatch(/uniform average +\d+\.\d{3}/);
    expect(text.stdout).toMatch(/learned \(weights\) +\d+\.\d{3}/);
  }, 480_000);

  it('refuses a run that is not a combination', async () => {
    const r = await cli('eval', '--run', plainRunId, '--singles');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/run "plain" is not a combination of adapters/);
  }, 120_000);
});
