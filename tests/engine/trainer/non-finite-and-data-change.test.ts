// The trainer stops at the first non-finite loss or gradient norm, keeping the last good checkpoint (nothing
// written after the bad update), and a resume on a dataset whose content hash changed is refused unless accepted.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchPlan } from '../../../src/main/engine/data/batches.ts';
import { train, type TrainerHyperparameters } from '../../../src/main/engine/trainer/trainer.ts';
import { listCheckpoints, loadCheckpoint } from '../../../src/main/engine/trainer/checkpoint.ts';
import { RunConfig } from '../../../src/common/api/runs.ts';
import { BigramLoraDouble } from './bigram-lora-double.ts';
import { makeExamples, PAD, VOCAB } from './fixtures.ts';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'trainer-nan-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const defaults = RunConfig.parse({ model: 'm', dataset: { path: 'd' } });
const hyper = (overrides: Partial<TrainerHyperparameters> = {}): TrainerHyperparameters => ({
  ...defaults,
  learning_rate: 5e-2,
  gradient_accumulation_steps: 2,
  max_steps: 10,
  save_steps: 2,
  save_total_limit: null,
  ...overrides,
});
const plan = () => new BatchPlan(makeExamples(40, 1), { seed: 42, microBatchSize: 2, maxLength: 16, padId: PAD });
const session = () => new BigramLoraDouble({ vocab: VOCAB, rank: 4, alpha: 8, dropout: 0, seed: 9 });

function allFinite(tensors: Map<string, { data: Float32Array }>): boolean {
  return [...tensors.values()].every((t) => t.data.every((x) => Number.isFinite(x)));
}

describe('non-finite values stop the run', () => {
  it('a NaN loss in update 5 fails the run naming the last good checkpoint (step 4), which stays loadable', async () => {
    const out = await tempDir();
    const s = session();
    const microStep = s.microStep.bind(s);
    s.microStep = async (batch, options) => {
      const r = await microStep(batch, options);
      return s.microSteps === 10 ? { ...r, lossSum: Number.NaN } : r; // the 2nd micro-batch of update 5
    };
    await expect(train({ session: s, hyperparameters: hyper(), train: plan(), outputDir: out })).rejects.toThrow(
      /update 5: the loss is NaN \(not a finite number\), so training stopped; the last good checkpoint, .*checkpoint-4, is kept/,
    );
    expect((await listCheckpoints(out)).map((c) => c.step)).toEqual([2, 4]);
    const kept = await loadCheckpoint(join(out, 'checkpoints', 'checkpoint-4'));
    expect(kept.state.globalStep).toBe(4);
    expect(allFinite(kept.trainables)).toBe(true);
  });

  it('an infinite gradient norm at update 3 stops before the update is checkpointed', async () => {
    const out = await tempDir();
    const s = session();
    const applyUpdate = s.applyUpdate.bind(s);
    let updates = 0;
    s.applyUpdate = async (options) => {
      const r = await applyUpdate(options);
      return ++updates === 3 ? { ...r, gradNorm: Number.POSITIVE_INFINITY } : r;
    };
    await expect(train({ session: s, hyperparameters: hyper(), train: plan(), outputDir: out })).rejects.toThrow(
      /update 3: the gradient norm is Infinity .*checkpoint-2, is kept/,
    );
    expect((await listCheckpoints(out)).map((c) => c.step)).toEqual([2]);
  });

  it('with no checkpoint yet, says so', async () => {
    const s = session();
    const microStep = s.microStep.bind(s);
    s.microStep = async (batch, options) => ({ ...(await microStep(batch, options)), lossSum: Number.POSITIVE_INFINITY });
    await expect(train({ session: s, hyperparameters: hyper(), train: plan(), outputDir: await tempDir() })).rejects.toThrow(
      /update 1: the loss is Infinity .*no checkpoint was saved before it/,
    );
  });
});

describe('dataset content hash on resume', () => {
  it('is recorded in checkpoints; a changed hash is refused, or accepted (with a warning) and recorded when asked', async () => {
    const out = await tempDir();
    const controller = new AbortController();
    const first = await train({
      session: session(),
      hyperparameters: hyper(),
      train: plan(),
      outputDir: out,
      datasetHash: 'sha256:aaa',
      signal: controller.signal,
      onLog: (e) => e.step === 4 && controller.abort(),
    });
    expect(first.status).toBe('cancelled');
    expect((await loadCheckpoint(first.lastCheckpoint!)).state.datasetHash).toBe('sha256:aaa');
    const resume = { hyperparameters: hyper(), train: plan(), outputDir: out, resumeFrom: first.lastCheckpoint!, datasetHash: 'sha256:bbb' };
    await expect(train({ session: session(), ...resume })).rejects.toThrow(
      /the dataset's content changed since .*checkpoint-4 was saved \(hash sha256:aaa, now sha256:bbb\): resuming would continue on different text.*--accept-dataset-change/,
    );
    const warnings: string[] = [];
    const accepted = await train({ session: session(), ...resume, acceptDatasetChange: true, onWarning: (w) => warnings.push(w) });
    expect(accepted.status).toBe('completed');
    expect(warnings.join('\n')).toMatch(/continuing on the new content as asked/);
    expect((await loadCheckpoint(accepted.lastCheckpoint!)).state.datasetHash).toBe('sha256:bbb');
    // The same content resumes without a word.
    expect((await train({ session: session(), ...resume, resumeFrom: first.lastCheckpoint!, datasetHash: 'sha256:aaa', outputDir: await tempDir() })).status).toBe('completed');
  });
});
