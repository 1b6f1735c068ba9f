import { afterAll, describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchPlan } from '../../../src/main/engine/data/batches.ts';
import { train, planSteps, type TrainerHyperparameters } from '../../../src/main/engine/trainer/trainer.ts';
import { listCheckpoints, loadCheckpoint } from '../../../src/main/engine/trainer/checkpoint.ts';
import { RunConfig } from '../../../src/common/api/runs.ts';
import { BigramLoraDouble } from './bigram-lora-double.ts';
import { makeExamples, PAD, VOCAB } from './fixtures.ts';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'trainer-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const defaults = RunConfig.parse({ model: 'm', dataset: { path: 'd' } });
function hyper(overrides: Partial<TrainerHyperparameters> = {}): TrainerHyperparameters {
  return { ...defaults, learning_rate: 5e-2, gradient_accumulation_steps: 2, warmup_ratio: 0.1, save_steps: null, ...overrides };
}
const trainExamples = makeExamples(40, 1);
const evalExamples = makeExamples(10, 2);
const plan = (seed = 42, microBatchSize = 2) => new BatchPlan(trainExamples, { seed, microBatchSize, maxLength: 16, padId: PAD });
const evalPlan = () => new BatchPlan(evalExamples, { seed: 0, microBatchSize: 4, maxLength: 16, padId: PAD, shuffle: false });
const session = (dropout = 0.1) => new BigramLoraDouble({ vocab: VOCAB, rank: 4, alpha: 8, dropout, seed: 9 });

describe('trainer', () => {
  it('lowers the loss and the eval perplexity, logging every field the dashboard shows', async () => {
    const logs: Record<string, number>[] = [];
    const s = session();
    const before = (await s.evaluate(evalPlan().batchAt({ epoch: 0, microBatch: 0 }).batch)).nllPerSequence;
    const result = await train({ session: s, hyperparameters: hyper({ num_train_epochs: 3, eval_steps: 10 }), train: plan(), eval: evalPlan(), outputDir: await tempDir(), onLog: (e) => logs.push({ ...e }) });
    expect(result.status).toBe('completed');
    // 40 examples / micro-batch 2 = 20 micro-batches, / accumulation 2 = 10 updates per epoch.
    expect(result.totalSteps).toBe(30);
    expect(result.globalStep).toBe(30);
    expect(result.epoch).toBe(3);
    const trainLogs = logs.filter((l) => l.loss !== undefined);
    expect(trainLogs.map((l) => l.step)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    for (const l of trainLogs) {
      for (const key of ['lr', 'grad_norm', 'tokens_per_second', 'elapsed_seconds', 'eta_seconds', 'epoch']) expect(Number.isFinite(l[key]), key).toBe(true);
    }
    expect(trainLogs[0].lr).toBe(0); // warm-up: ceil(0.1·30) = 3 steps, the first at 0 as in transformers
    expect(trainLogs[1].lr).toBeCloseTo(5e-2 / 3, 12);
    expect(trainLogs.at(-1)!.eta_seconds).toBe(0);
    const first = trainLogs.slice(0, 3).reduce((a, l) => a + l.loss, 0) / 3;
    const last = trainLogs.slice(-3).reduce((a, l) => a + l.loss, 0) / 3;
    expect(last).toBeLessThan(first * 0.7);
    const evalLogs = logs.filter((l) => l.eval_loss !== undefined);
    expect(evalLogs.map((l) => l.step)).toEqual([10, 20, 30]);
    expect(evalLogs[2].eval_perplexity).toBeLessThan(evalLogs[0].eval_perplexity);
    const baseLoss = before.reduce((a, b) => a + b, 0);
    expect(result.evaluation!.loss * result.evaluation!.tokens).toBeLessThan(baseLoss);
    expect(result.adapterDir).toMatch(/adapter$/);
  });

  it('weights gradient accumulation by tokens: 4 micro-batches of 1 make the same update as 1 batch of 4', async () => {
    const examples = makeExamples(4, 3); // different answer lengths, so a per-micro-batch mean would differ
    const run = async (microBatchSize: number, accumulation: number) => {
      const s = session(0);
      const p = new BatchPlan(examples, { seed: 1, microBatchSize, maxLength: 16, padId: PAD });
      const result = await train({ session: s, hyperparameters: hyper({ max_steps: 1, gradient_accumulation_steps: accumulation, warmup_ratio: 0, lr_scheduler_type: 'constant' }), train: p, outputDir: await tempDir() });
      return { s, loss: result.logHistory[0].loss!, gradNorm: result.logHistory[0].grad_norm! };
    };
    const one = await run(4, 1);
    const four = await run(1, 4);
    expect(four.loss).toBeCloseTo(one.loss, 12);
    expect(four.gradNorm).toBeCloseTo(one.gradNorm, 12);
    const b1 = one.s.B;
    const b4 = four.s.B;
    for (let i = 0; i < b1.length; i++) expect(b4[i]).toBeCloseTo(b1[i], 6);
  });

  it('counts steps from epochs (partial last group included) or max_steps', () => {
    expect(planSteps({ num_train_epochs: 1, max_steps: null, gradient_accumulation_steps: 4 }, 10)).toEqual({ updatesPerEpoch: 3, totalSteps: 3 });
    expect(planSteps({ num_train_epochs: 2.5, max_steps: null, gradient_accumulation_steps: 4 }, 10)).toEqual({ updatesPerEpoch: 3, totalSteps: 8 });
    expect(planSteps({ num_train_epochs: 3, max_steps: 7, gradient_accumulation_steps: 4 }, 10).totalSteps).toBe(7);
  });

  it('resumes from a checkpoint and reproduces the uninterrupted loss curve', async () => {
    const hp = hyper({ max_steps: 20, save_steps: 5, save_total_limit: null });
    const straight = await train({ session: session(), hyperparameters: hp, train: plan(), outputDir: await tempDir() });
    const straightLosses = straight.logHistory.map((l) => l.loss);

    const out = await tempDir();
    const controller = new AbortController();
    const firstHalf = await train({
      session: session(),
      hyperparameters: hp,
      train: plan(),
      outputDir: out,
      signal: controller.signal,
      onLog: (e) => e.step === 12 && controller.abort(), // cancelled after step 12: the cancel saves checkpoint 12
    });
    expect(firstHalf.status).toBe('cancelled');
    expect(firstHalf.globalStep).toBe(12);
    expect((await listCheckpoints(out)).map((c) => c.step)).toEqual([5, 10, 12]);
    expect(firstHalf.lastCheckpoint).toMatch(/checkpoint-12$/);

    // A new process: fresh session (its adapter even initialised differently), fresh plan, resume from the checkpoint.
    const resumed = await train({ session: new BigramLoraDouble({ vocab: VOCAB, rank: 4, alpha: 8, dropout: 0.1, seed: 9, loraSeed: 1234 }), hyperparameters: hp, train: plan(), outputDir: out, resumeFrom: firstHalf.lastCheckpoint! });
    expect(resumed.status).toBe('completed');
    const resumedLosses = resumed.logHistory.map((l) => l.loss);
    expect(resumedLosses).toHaveLength(20);
    for (let i = 0; i < 20; i++) expect(resumedLosses[i]).toBeCloseTo(straightLosses[i]!, 6);
    expect(resumed.logHistory.slice(10).map((l) => l.lr)).toEqual(straight.logHistory.slice(10).map((l) => l.lr));
  });

  it('a cancel in the middle of an update, with no periodic checkpoints, saves one at the last finished update', async () => {
    const out = await tempDir();
    const controller = new AbortController();
    const s = session();
    const originalMicroStep = s.microStep.bind(s);
    s.microStep = async (batch, options) => {
      const r = await originalMicroStep(batch, options);
      if (s.microSteps === 9) controller.abort(); // in the middle of update 5's accumulation
      return r;
    };
    const result = await train({ session: s, hyperparameters: hyper({ max_steps: 20, save_steps: null }), train: plan(), outputDir: out, signal: controller.signal });
    expect(result.status).toBe('cancelled');
    expect((await listCheckpoints(out)).map((c) => c.step)).toEqual([4]);
    const checkpoint = await loadCheckpoint(result.lastCheckpoint!);
    expect(checkpoint.state.dataPosition).toEqual({ epoch: 0, microBatch: 8 }); // update 5 is redone on resume
    expect(checkpoint.optimizer.step).toBe(4);
  });

  it('a cancel after the last update keeps the trained adapter (only the final evaluation is skipped)', async () => {
    const out = await tempDir();
    const controller = new AbortController();
    const result = await train({
      session: session(),
      hyperparameters: hyper({ max_steps: 6, save_steps: null }),
      train: plan(),
      eval: evalPlan(),
      outputDir: out,
      signal: controller.signal,
      onLog: (e) => e.step === 6 && e.loss !== undefined && controller.abort(),
    });
    expect(result.status).toBe('completed');
    expect(result.adapterDir).not.toBeNull();
    expect(result.evaluation).toBeNull();
    expect((await listCheckpoints(out)).map((c) => c.step)).toEqual([6]);
  });

  it('refuses to resume with different settings, saying why', async () => {
    const out = await tempDir();
    const result = await train({ session: session(), hyperparameters: hyper({ max_steps: 2 }), train: plan(), outputDir: out });
    await expect(train({ session: session(), hyperparameters: hyper({ max_steps: 2, learning_rate: 1e-3 }), train: plan(), outputDir: out, resumeFrom: result.lastCheckpoint! })).rejects.toThrow(/different training settings/);
  });

  it('cancels within one micro-step and leaves the last checkpoint loadable', async () => {
    const out = await tempDir();
    const controller = new AbortController();
    const s = session();
    const originalMicroStep = s.microStep.bind(s);
    s.microStep = async (batch, options) => {
      const r = await originalMicroStep(batch, options);
      if (s.microSteps === 9) controller.abort(); // in the middle of update 5's accumulation
      return r;
    };
    const result = await train({ session: s, hyperparameters: hyper({ max_steps: 20, save_steps: 2 }), train: plan(), outputDir: out, signal: controller.signal });
    expect(result.status).toBe('cancelled');
    expect(s.microSteps).toBe(9);
    expect(result.globalStep).toBe(4); // update 5 was never applied
    expect(result.adapterDir).toBeNull();
    const checkpoint = await loadCheckpoint(result.lastCheckpoint!);
    expect(checkpoint.state.globalStep).toBe(4);
    expect(checkpoint.state.dataPosition).toEqual({ epoch: 0, microBatch: 8 });
    expect(checkpoint.optimizer.step).toBe(4);
  });

  it('keeps only save_total_limit checkpoints and ignores unfinished ones', async () => {
    const out = await tempDir();
    await mkdir(join(out, 'checkpoints', '.checkpoint-99.tmp-1-abcd'), { recursive: true }); // a crash mid-save
    await train({ session: session(), hyperparameters: hyper({ max_steps: 7, save_steps: 2, save_total_limit: 2 }), train: plan(), outputDir: out });
    expect((await listCheckpoints(out)).map((c) => c.step)).toEqual([6, 7]);
    expect(await readdir(join(out, 'checkpoints', 'checkpoint-7'))).toEqual(expect.arrayContaining(['trainables.safetensors', 'optimizer.safetensors', 'trainer_state.json', 'run_config.json']));
  });

  it('refuses packing on an executor that cannot keep packed examples apart', async () => {
    const s = session();
    Object.defineProperty(s, 'supportsPacking', { value: false });
    const packed = new BatchPlan(trainExamples, { seed: 1, microBatchSize: 2, maxLength: 16, padId: PAD, packing: true });
    await expect(train({ session: s, hyperparameters: hyper({ max_steps: 1 }), train: packed, outputDir: await tempDir() })).rejects.toThrow(/packing/);
  });
});
