// "Fusion vs singles" (issue 15): the fusion.evaluate job's numbers against independent measurements through the
// ordinary eval job's code (evaluateRun): each adapter alone = that PEFT adapter's perplexity; the uniform average =
// the adapters combined at 1/2 each as one PEFT adapter; weights mode's learned = the adapter combined with the
// recorded learned weights; attention mode's learned = the fusion folder evaluated as eval does. On the run's eval
// split and on two eval files at once (one table each, per task). A changed adapter is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunConfig } from '../../../src/common/api/runs.ts';
import { FUSION_EVAL_FILE, FusionEvalResult } from '../../../src/common/api/fusion-eval.ts';
import { evaluateFusionRun } from '../../../src/main/engine/trainer/evaluate-fusion.ts';
import { evaluateRun } from '../../../src/main/engine/trainer/evaluate-run.ts';
import { fuseProgram } from '../../../src/main/engine/fusion/program.ts';
import { frozen, readFusionInputs } from '../../../src/main/engine/fusion/session.ts';
import { FUSION_RECORD, fusionParts, writeFusionFolder } from '../../../src/main/formats/fusion/index.ts';
import { combineAdapters, readAdapter, writeAdapter } from '../../../src/main/formats/peft/index.ts';
import { readModelSpec } from '../../../src/main/formats/model/index.ts';
import { peftKey } from '../../../src/main/model/ir.ts';
import { makeChatFixture, type ChatFixture } from '../generate/fixtures.ts';
import { seededRandom } from '../../fixtures/tiny-models.ts';

let root: string;
let fx: ChatFixture;
const files: string[] = [];
const reporter = { log: () => {}, progress: () => {}, metric: () => {} };
const signal = new AbortController().signal;
const LEARNED = [0.7, 0.3];

function config(mode: 'weights' | 'attention') {
  return RunConfig.parse({
    model: fx.model.dir,
    dataset: { path: files[0], template: { kind: 'plain' }, eval_split: { kind: 'ratio', ratio: 0.5 } },
    fusion: { adapters: fx.adapters, mode, attention_dim: 4, value_rank: 2 },
    micro_batch_size: 4,
    max_seq_length: 24,
    max_steps: 1,
  });
}

/** Perplexity of an adapter folder (PEFT or fusion) through the eval job's code, on a file's split or whole. */
async function ppl(adapterPath: string, dataset: RunConfig['dataset']) {
  const r = await evaluateRun({
    params: { evaluationId: 'e', model: fx.model.dir, adapterPath, dataset, trainOn: 'completion', maxSeqLength: 24, batchSize: 3, seed: 42, compareBase: false },
    signal, reporter,
  });
  return r.summary.adapterPerplexity!;
}

async function combined(name: string, weights: number[]) {
  const { spec } = await readModelSpec(fx.model.dir);
  const parts = await Promise.all(fx.adapters.map(async (p, k) => ({ adapter: await readAdapter(p, spec), weight: weights[k], name: `a${k}` })));
  const dir = join(root, name);
  await writeAdapter(dir, combineAdapters(parts, fx.model.dir));
  return dir;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fusion-eval-'));
  fx = await makeChatFixture(root, { adapters: 2 });
  for (const [i, words] of [['red', 'blue', 'green'], ['cat', 'dog', 'hen']].entries()) {
    const f = join(root, `task-${i}.jsonl`);
    await writeFile(f, Array.from({ length: 12 }, (_, j) => JSON.stringify({ prompt: `item ${j} is`, completion: ` ${words[j % 3]} and ${words[(j + 1) % 3]}` })).join('\n') + '\n');
    files.push(f);
  }
  // the runs' results as `fuse` leaves them: weights mode's record of its learned weights, attention's fusion folder
  const parts = await fusionParts(fx.adapters);
  const wdir = join(root, 'run-weights', 'adapter');
  await mkdir(wdir, { recursive: true });
  await writeFile(join(wdir, FUSION_RECORD), JSON.stringify({ format: 'lora-studio.fusion-weights/1', mode: 'weights', adapters: parts, weights: { '*': LEARNED } }));
  await writeFile(join(wdir, 'adapter_config.json'), '{}'); // (the merged adapter itself is not read by the comparison)
  const inputs = await readFusionInputs(fx.model.dir, fx.adapters);
  const fused = fuseProgram(inputs.base, frozen(inputs), { mode: 'attention', perLayer: false, softmax: true, attentionDim: 4, valueRank: 2, seed: 1 });
  const random = seededRandom(5);
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const d of fused.program.params) if (d.trainable) tensors.set(peftKey(d.name), { shape: d.shape, data: Float32Array.from(fused.weights.get(d.name)!, () => (random() - 0.5)) });
  await writeFusionFolder(join(root, 'run-attention', 'adapter'), { mode: 'attention', base_model: fx.model.dir, attention_dim: 4, value_rank: 2, adapters: parts, training_template: null }, tensors);
}, 120_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const close = (a: number, b: number) => expect(Math.abs(a - b) / b).toBeLessThan(1e-4);

describe('fusion vs singles (fusion.evaluate)', () => {
  it('weights mode, the run’s eval split: singles, uniform and learned = the eval job on the equivalent PEFT adapters', async () => {
    const c = config('weights');
    const r = await evaluateFusionRun({ params: { runId: 'w', config: c, runDir: join(root, 'run-weights'), datasets: [] }, signal, reporter });
    expect(r.tables).toHaveLength(1);
    const t = r.tables[0];
    expect(t.path).toBeNull();
    expect(t.single.map((s) => s.path)).toEqual(fx.adapters);
    for (const [k, s] of t.single.entries()) close(s.perplexity, await ppl(fx.adapters[k], c.dataset));
    close(t.uniform, await ppl(await combined('uniform', [0.5, 0.5]), c.dataset));
    close(t.learned, await ppl(await combined('learned', LEARNED), c.dataset));
    expect(new Set([...t.single.map((s) => s.perplexity), t.uniform, t.learned]).size).toBe(4); // four different models
    // written beside the run for fusionEval.get
    expect(FusionEvalResult.parse(JSON.parse(await readFile(join(root, 'run-weights', FUSION_EVAL_FILE), 'utf8'))).tables[0].learned).toBe(t.learned);
  }, 300_000);

  it('attention mode on two eval files: one table per file, learned = the fusion folder through eval', async () => {
    const c = config('attention');
    const r = await evaluateFusionRun({ params: { runId: 'a', config: c, runDir: join(root, 'run-attention'), datasets: files }, signal, reporter });
    expect(r.tables.map((t) => t.path)).toEqual(files);
    for (const [i, t] of r.tables.entries()) {
      const whole = { ...c.dataset, path: files[i], eval_split: { kind: 'none' as const } };
      expect(t.examples).toBe(12);
      close(t.single[1].perplexity, await ppl(fx.adapters[1], whole));
      close(t.learned, await ppl(join(root, 'run-attention', 'adapter'), whole));
    }
    expect(r.tables[0].uniform).not.toBe(r.tables[1].uniform);
  }, 300_000);

  it('refuses when an adapter changed since the combination was trained', async () => {
    await appendFile(join(fx.adapters[0], 'adapter_config.json'), '\n');
    await expect(evaluateFusionRun({ params: { runId: 'w', config: config('weights'), runDir: join(root, 'run-weights'), datasets: [] }, signal, reporter })).rejects.toThrow(/changed since the combination was trained/);
  }, 60_000);
});
