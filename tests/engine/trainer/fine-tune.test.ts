// End to end on the real CPU engine: a generated tiny Llama folder (with the tiny BPE tokenizer), a JSONL
// dataset of prompt/completion pairs, fineTune → a PEFT adapter, then evaluateRun → perplexity before/after.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunConfig } from '../../../src/common/api/runs.ts';
import { fineTune, type FineTuneReporter } from '../../../src/main/engine/trainer/fine-tune.ts';
import { evaluateRun } from '../../../src/main/engine/trainer/evaluate-run.ts';
import { readAdapter } from '../../../src/main/formats/peft/index.ts';
import { makeTinyModel } from '../../fixtures/tiny-models.ts';

let root: string;
let modelDir: string;
let datasetPath: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fine-tune-'));
  modelDir = join(root, 'model');
  await makeTinyModel(modelDir, 'llama', { seed: 3 });
  const colours = ['red', 'green', 'blue', 'black', 'white', 'pink'];
  const rows = Array.from({ length: 36 }, (_, i) => ({ prompt: `The colour of item ${i} is`, completion: ` ${colours[i % colours.length]}.` }));
  datasetPath = join(root, 'colours.jsonl');
  await writeFile(datasetPath, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function recorder() {
  const metrics: { step: number; values: Record<string, number> }[] = [];
  const logs: string[] = [];
  const reporter: FineTuneReporter = { log: (line) => logs.push(line), progress: () => {}, metric: (step, values) => metrics.push({ step, values }) };
  return { metrics, logs, reporter };
}

describe('fine-tune on the CPU engine', () => {
  it('trains a LoRA adapter that lowers eval perplexity, and evaluates before/after', async () => {
    const config = RunConfig.parse({
      model: modelDir,
      dataset: { path: datasetPath, template: { kind: 'plain' }, eval_split: { kind: 'ratio', ratio: 0.2 } },
      lora: { r: 8, lora_alpha: 16, lora_dropout: 0 },
      learning_rate: 2e-2,
      max_steps: 24,
      micro_batch_size: 4,
      gradient_accumulation_steps: 1,
      max_seq_length: 32,
      eval_steps: 12,
      save_steps: 12,
      warmup_steps: 2,
    });
    const outputDir = join(root, 'run');
    const { metrics, logs, reporter } = recorder();
    const result = await fineTune({ config, outputDir, resume: false, signal: new AbortController().signal, reporter });
    expect(result.status).toBe('completed');
    expect(result.summary.steps).toBe(24);
    expect(logs.join('\n')).toMatch(/29 training and 7 eval examples/);
    const evals = metrics.filter((m) => 'eval_loss' in m.values);
    expect(evals.map((m) => m.step)).toEqual([12, 24]);
    const train = metrics.filter((m) => 'loss' in m.values);
    expect(train).toHaveLength(24);
    expect(train.slice(-4).reduce((a, m) => a + m.values.loss, 0)).toBeLessThan(train.slice(0, 4).reduce((a, m) => a + m.values.loss, 0));
    expect(result.summary.adapterPath).toBe(join(outputDir, 'adapter'));
    const adapter = await readAdapter(result.summary.adapterPath!);
    expect(adapter.layers.size).toBe(2 * 4); // 2 layers × q/k/v/o
    expect(adapter.config.r).toBe(8);
    expect(await readdir(join(outputDir, 'checkpoints', 'checkpoint-24'))).toEqual(expect.arrayContaining(['adapter_config.json', 'adapter_model.safetensors', 'trainer_state.json']));

    const evaluation = await evaluateRun({
      params: { evaluationId: 'e1', model: modelDir, adapterPath: result.summary.adapterPath!, dataset: config.dataset, trainOn: 'completion', maxSeqLength: 32, batchSize: 4, seed: config.seed, compareBase: true },
      signal: new AbortController().signal,
      reporter: recorder().reporter,
    });
    expect(evaluation.summary.examples).toBe(7);
    expect(evaluation.summary.adapterPerplexity!).toBeLessThan(evaluation.summary.basePerplexity!);
    expect(evaluation.summary.adapterLoss).toBeCloseTo(result.summary.evalLoss!, 4); // the run's final eval = this eval
    const tokens = evaluation.examples.reduce((a, e) => a + e.tokens, 0);
    expect(evaluation.summary.tokens).toBe(tokens);
    expect(evaluation.examples.reduce((a, e) => a + e.baseNll!, 0) / tokens).toBeCloseTo(evaluation.summary.baseLoss!, 6);
    expect(evaluation.examples[0].text).toContain('The colour of item');
  });

  it('resumes a cancelled run from its checkpoint with the uninterrupted losses (dropout on)', async () => {
    const config = RunConfig.parse({
      model: modelDir,
      dataset: { path: datasetPath, template: { kind: 'plain' }, eval_split: { kind: 'none' } },
      lora: { r: 4, lora_alpha: 8, lora_dropout: 0.1 },
      learning_rate: 1e-2,
      max_steps: 12,
      micro_batch_size: 2,
      gradient_accumulation_steps: 2,
      max_seq_length: 32,
      save_steps: 6,
    });
    const straight = recorder();
    await fineTune({ config, outputDir: join(root, 'straight'), resume: false, signal: new AbortController().signal, reporter: straight.reporter });

    const interrupted = recorder();
    const controller = new AbortController();
    const metric = interrupted.reporter.metric;
    interrupted.reporter.metric = (step, values) => {
      metric(step, values);
      if (step === 8) controller.abort();
    };
    const outputDir = join(root, 'interrupted');
    const first = await fineTune({ config, outputDir, resume: false, signal: controller.signal, reporter: interrupted.reporter });
    expect(first.status).toBe('cancelled');
    expect(first.summary.checkpointPath).toMatch(/checkpoint-8$/); // the cancel saved where it stopped
    const resumed = recorder();
    const second = await fineTune({ config, outputDir, resume: true, signal: new AbortController().signal, reporter: resumed.reporter });
    expect(second.status).toBe('completed');
    expect(resumed.logs.join('\n')).toMatch(/resuming from .*checkpoint-8/);
    const expected = straight.metrics.map((m) => m.values.loss);
    const got = [...interrupted.metrics.slice(0, 8), ...resumed.metrics].map((m) => m.values.loss);
    expect(resumed.metrics.map((m) => m.step)).toEqual([9, 10, 11, 12]);
    expect(got).toHaveLength(12);
    for (let i = 0; i < 12; i++) expect(got[i]).toBeCloseTo(expected[i], 5);
  });

  it('packs short examples into fewer rows (one epoch = fewer updates) and still learns', async () => {
    const base = {
      model: modelDir,
      dataset: { path: datasetPath, template: { kind: 'plain' as const }, eval_split: { kind: 'none' as const } },
      lora: { r: 4, lora_alpha: 8, lora_dropout: 0 },
      learning_rate: 2e-2,
      num_train_epochs: 3,
      micro_batch_size: 2,
      gradient_accumulation_steps: 1,
      max_seq_length: 64,
      warmup_steps: 1,
    };
    const unpacked = recorder();
    const u = await fineTune({ config: RunConfig.parse(base), outputDir: join(root, 'unpacked'), resume: false, signal: new AbortController().signal, reporter: unpacked.reporter });
    const packed = recorder();
    const p = await fineTune({ config: RunConfig.parse({ ...base, packing: true }), outputDir: join(root, 'packed'), resume: false, signal: new AbortController().signal, reporter: packed.reporter });
    expect(u.summary.totalSteps).toBe(3 * 18); // 36 rows / 2 per micro-batch
    expect(p.summary.totalSteps).toBeLessThan(u.summary.totalSteps / 2); // ~20-token examples, about 3 per 64-token row
    expect(p.summary.trainedTokens).toBe(u.summary.trainedTokens); // the same targets, none lost at the seams
    const losses = packed.metrics.map((m) => m.values.loss);
    expect(losses.slice(-3).reduce((a, b) => a + b)).toBeLessThan(losses.slice(0, 3).reduce((a, b) => a + b));
  });

  it('trains on chat data with the model chat template, learning only the assistant turns', async () => {
    const chats = Array.from({ length: 8 }, (_, i) => ({
      messages: [
        { role: 'system', content: 'You count.' },
        { role: 'user', content: `After ${i}?` },
        { role: 'assistant', content: `${i + 1}` },
      ],
    }));
    const path = join(root, 'chats.jsonl');
    await writeFile(path, chats.map((c) => JSON.stringify(c)).join('\n') + '\n');
    const common = { model: modelDir, dataset: { path, eval_split: { kind: 'none' as const } }, max_steps: 2, micro_batch_size: 4, gradient_accumulation_steps: 1, max_seq_length: 64 };
    const completion = await fineTune({ config: RunConfig.parse(common), outputDir: join(root, 'chat-c'), resume: false, signal: new AbortController().signal, reporter: recorder().reporter });
    const all = await fineTune({ config: RunConfig.parse({ ...common, train_on: 'all' }), outputDir: join(root, 'chat-a'), resume: false, signal: new AbortController().signal, reporter: recorder().reporter });
    expect(completion.status).toBe('completed');
    // Assistant answers and their end token are a small share of each rendered conversation.
    expect(completion.summary.trainedTokens).toBeGreaterThan(0);
    expect(completion.summary.trainedTokens * 4).toBeLessThan(all.summary.trainedTokens);
    // The adapter remembers the template it was trained with, so inference cannot silently use another.
    const adapter = await readAdapter(completion.summary.adapterPath!);
    expect(adapter.trainingTemplate?.template).toEqual({ type: 'chat' });
    expect(adapter.trainingTemplate?.chatTemplate).toContain('<|im_start|>');
  });
});

