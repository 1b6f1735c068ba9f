// Learned combinations of frozen adapters end to end on the CPU engine (issue 15): a tiny Llama folder, two LoRA
// adapters trained on two tasks, then fusion runs on a mix of both. Weights mode writes a PEFT adapter that is the
// learned combination (its perplexity through an ordinary LoRA eval equals the fused program's), exact at the
// stacked rank and SVD-compressed with its error reported; attention mode writes a fusion folder that evaluation
// loads, and refuses once an adapter it was trained on changes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunConfig, type RunConfigInput } from '../../../src/common/api/runs.ts';
import { fineTune, type FineTuneReporter } from '../../../src/main/engine/trainer/fine-tune.ts';
import { evaluateRun } from '../../../src/main/engine/trainer/evaluate-run.ts';
import { readAdapter } from '../../../src/main/formats/peft/index.ts';
import { FUSION_CONFIG, FUSION_RECORD, isFusionFolder } from '../../../src/main/formats/fusion/index.ts';
import { FUSION_REPORT } from '../../../src/main/engine/fusion/report.ts';
import { makeTinyModel } from '../../fixtures/tiny-models.ts';

let root: string;
let modelDir: string;
const files: Record<'colours' | 'animals' | 'mix', string> = { colours: '', animals: '', mix: '' };
const adapters: string[] = [];

const reporter = (logs: string[] = []): FineTuneReporter => ({ log: (l) => logs.push(l), progress: () => {}, metric: () => {} });

function config(path: string, over: Partial<RunConfigInput> = {}): RunConfig {
  return RunConfig.parse({
    model: modelDir,
    dataset: { path, template: { kind: 'plain' }, eval_split: { kind: 'ratio', ratio: 0.25 } },
    lora: { r: 4, lora_alpha: 8, lora_dropout: 0 },
    learning_rate: 2e-2,
    max_steps: 16,
    micro_batch_size: 4,
    gradient_accumulation_steps: 1,
    max_seq_length: 32,
    warmup_steps: 1,
    ...over,
  });
}

async function run(name: string, c: RunConfig, logs: string[] = []) {
  const outputDir = join(root, name);
  const r = await fineTune({ config: c, outputDir, resume: false, signal: new AbortController().signal, reporter: reporter(logs) });
  expect(r.status).toBe('completed');
  return { outputDir, adapter: r.summary.adapterPath!, summary: r.summary };
}

async function perplexity(adapterPath: string, dataset: RunConfig['dataset']) {
  const e = await evaluateRun({
    params: { evaluationId: 'e', model: modelDir, adapterPath, dataset, trainOn: 'completion', maxSeqLength: 32, batchSize: 4, seed: 42, compareBase: false },
    signal: new AbortController().signal,
    reporter: reporter(),
  });
  return e.summary.adapterPerplexity!;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fuse-'));
  modelDir = join(root, 'model');
  await makeTinyModel(modelDir, 'llama', { seed: 3 });
  const colours = ['red', 'green', 'blue', 'black'];
  const animals = ['cat', 'dog', 'cow', 'hen'];
  const rowsOf = (kind: 'colours' | 'animals') =>
    Array.from({ length: 32 }, (_, i) => ({ prompt: `The ${kind === 'colours' ? 'colour' : 'animal'} of item ${i} is`, completion: ` ${(kind === 'colours' ? colours : animals)[i % 4]}.` }));
  for (const kind of ['colours', 'animals'] as const) {
    files[kind] = join(root, `${kind}.jsonl`);
    await writeFile(files[kind], rowsOf(kind).map((r) => JSON.stringify(r)).join('\n') + '\n');
  }
  files.mix = join(root, 'mix.jsonl');
  const mixed = rowsOf('colours').flatMap((r, i) => [r, rowsOf('animals')[i]]);
  await writeFile(files.mix, mixed.map((r) => JSON.stringify(r)).join('\n') + '\n');
  for (const kind of ['colours', 'animals'] as const) adapters.push((await run(`adapter-${kind}`, config(files[kind]))).adapter);
}, 240_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('fuse: learned weights (mergeable)', () => {
  it('writes one PEFT adapter that is the learned combination, with its parts, hashes and weights recorded', async () => {
    const logs: string[] = [];
    const c = config(files.mix, { learning_rate: 5e-2, max_steps: 12, fusion: { adapters, mode: 'weights' } });
    const r = await run('fuse-weights', c, logs);
    expect(logs.join('\n')).toMatch(/combining 2 frozen adapters \(weights mode\)/);
    expect(r.summary.trainableParameters).toBe(2); // one logit per adapter, nothing else trains
    const combined = await readAdapter(r.adapter);
    expect(combined.config.r).toBe(8); // ranks stacked: 4 + 4
    const record = JSON.parse(await readFile(join(r.adapter, FUSION_RECORD), 'utf8'));
    expect(record.adapters.map((a: { path: string }) => a.path)).toEqual(adapters);
    expect(record.adapters[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    const w = record.weights['*'] as number[];
    expect(w).toHaveLength(2);
    expect(w[0] + w[1]).toBeCloseTo(1, 6);
    const report = JSON.parse(await readFile(join(r.outputDir, FUSION_REPORT), 'utf8'));
    expect(report.comparison.single).toHaveLength(2);
    // the written adapter, evaluated as an ordinary LoRA adapter, is the fused program's learned combination
    const asLora = await perplexity(r.adapter, c.dataset);
    expect(Math.abs(asLora / report.comparison.learned - 1)).toBeLessThan(1e-4);
    // on the mix, the uniform average beats each adapter alone (each knows one task)
    expect(report.comparison.uniform).toBeLessThan(Math.min(...report.comparison.single.map((s: { perplexity: number }) => s.perplexity)));
  }, 240_000);

  it('per layer and SVD-compressed: rank as asked, the relative error reported', async () => {
    const c = config(files.mix, { learning_rate: 5e-2, max_steps: 4, fusion: { adapters, mode: 'weights', per_layer: true, rank: 2 } });
    const r = await run('fuse-svd', c);
    const combined = await readAdapter(r.adapter);
    expect(combined.config.r).toBe(2);
    const record = JSON.parse(await readFile(join(r.adapter, FUSION_RECORD), 'utf8'));
    expect(Object.keys(record.weights).sort()).toEqual(['model.layers.0', 'model.layers.1']);
    expect(record.svd_relative_error).toBeGreaterThan(0);
    expect(record.svd_relative_error).toBeLessThan(1);
  }, 240_000);
});

describe('fuse: AdapterFusion attention (not mergeable)', () => {
  it('writes a fusion folder evaluation loads, and refuses it once an adapter changed', async () => {
    const c = config(files.mix, { learning_rate: 2e-3, max_steps: 8, fusion: { adapters, mode: 'attention', attention_dim: 8 } });
    const r = await run('fuse-attention', c);
    expect(isFusionFolder(r.adapter)).toBe(true);
    const folder = JSON.parse(await readFile(join(r.adapter, FUSION_CONFIG), 'utf8'));
    expect(folder.adapters.map((a: { path: string }) => a.path)).toEqual(adapters);
    const report = JSON.parse(await readFile(join(r.outputDir, FUSION_REPORT), 'utf8'));
    expect(report.attention.layers.map((l: { block: string }) => l.block)).toEqual(['model.layers.0', 'model.layers.1']);
    for (const l of report.attention.layers) expect(l.mean[0] + l.mean[1]).toBeCloseTo(1, 6);
    expect(report.attention.picks[0] + report.attention.picks[1]).toBe(report.attention.tokens);
    expect(Math.abs((await perplexity(r.adapter, c.dataset)) / report.comparison.learned - 1)).toBeLessThan(1e-4);
    // merge, export and GGUF read adapters: a fusion folder is refused saying why and what to do instead
    await expect(readAdapter(r.adapter)).rejects.toThrow(/AdapterFusion attention folder.*cannot be merged.*lora-studio fuse --mode weights/);
    await appendFile(join(adapters[1], 'adapter_config.json'), '\n');
    await expect(perplexity(r.adapter, c.dataset)).rejects.toThrow(/changed since the fusion was trained/);
  }, 240_000);
});
