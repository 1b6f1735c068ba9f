// Reading a trainer's output folder in the layouts transformers' Trainer leaves: the final adapter and
// trainer_state.json at the top (TRL after save_model + save_state), or only in checkpoint-N/ (a run stopped early,
// or a trainer that never calls save_state); log_history turned into the studio's curves; and malformed state
// files refused with the file and the entry named.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  curvesFromLogHistory,
  parseTrainerState,
  readTrainerOutput,
} from '../../../src/main/formats/bundle/trainer-output.ts';
import { makeTinyModel } from '../../fixtures/tiny-models.ts';
import { logHistory, writeTrainerOutput } from '../../fixtures/trainer-output.ts';

let dir: string;
let model: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lora-trainer-output-'));
  model = join(dir, 'model');
  await makeTinyModel(model, 'llama', { seed: 2 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readTrainerOutput', () => {
  it('takes the final adapter and state from the top of the folder, listing checkpoints by step', async () => {
    const out = join(dir, 'full');
    await writeTrainerOutput(out, { baseModel: model, steps: 20, saveEvery: 5, trainingArgs: { max_length: 64 } });
    const read = await readTrainerOutput(out);
    expect(read.adapterDir).toBe(out);
    expect(read.stateFile).toBe(join(out, 'trainer_state.json'));
    expect(read.checkpoints).toEqual(['checkpoint-5', 'checkpoint-10', 'checkpoint-15', 'checkpoint-20']); // by step, not by name
    expect(read.state).toMatchObject({
      global_step: 20,
      max_steps: 20,
      train_batch_size: 2,
      logging_steps: 1,
      save_steps: 5,
    });
    expect(read.trainer).toBe('TRL SFTTrainer');
  });

  it('falls back to the newest checkpoint when the top holds no adapter or no trainer_state.json', async () => {
    const out = join(dir, 'stopped');
    await writeTrainerOutput(out, { baseModel: model, steps: 6, saveEvery: 3, trainingArgs: null });
    for (const f of ['adapter_config.json', 'adapter_model.safetensors', 'trainer_state.json']) rmSync(join(out, f));
    const read = await readTrainerOutput(out);
    expect(read.adapterDir).toBe(join(out, 'checkpoint-6'));
    expect(read.stateFile).toBe(join(out, 'checkpoint-6', 'trainer_state.json'));
    expect(read.state.global_step).toBe(6);
    expect(read.trainingArgs).toBeNull();
    expect(read.trainer).toBe('a transformers Trainer (TRL, Axolotl, …)');
  });

  it('refuses a state file that is not transformers’ TrainerState, naming the entry', () => {
    expect(() => parseTrainerState([], 'ts.json')).toThrow('ts.json: must be a JSON object');
    expect(() => parseTrainerState({ global_step: 1 }, 'ts.json')).toThrow('ts.json: log_history must be a list');
    expect(() =>
      parseTrainerState(
        {
          global_step: 2,
          log_history: [
            { step: 1, loss: 2 },
            { loss: 1.5, step: 'two' },
          ],
        },
        'ts.json',
      ),
    ).toThrow('ts.json: log_history[1].step must be a whole number ≥ 0, got "two"');
  });
});

describe('curvesFromLogHistory', () => {
  it('maps training and eval entries to loss/lr/grad_norm and eval_loss/perplexity, keeping the closing summary apart', () => {
    const log = [
      ...logHistory({ steps: 4, evalEvery: 2, learningRate: 1e-3 }),
      { epoch: 1, step: 4, train_loss: 1.2, train_runtime: 9.5 },
    ];
    const { points, final } = curvesFromLogHistory(
      parseTrainerState({ global_step: 4, log_history: log }, 'x').log_history,
    );
    expect(final).toMatchObject({ train_loss: 1.2, train_runtime: 9.5 });
    expect(points.filter((p) => p.split === 'train')).toHaveLength(4);
    const first = points[0];
    expect(first).toEqual({
      step: 1,
      split: 'train',
      values: { loss: log[0].loss, lr: 1e-3, grad_norm: log[0].grad_norm, epoch: 0.25 },
    });
    const evals = points.filter((p) => p.split === 'eval');
    expect(evals.map((p) => p.step)).toEqual([2, 4]);
    expect(evals[0].values.eval_perplexity).toBeCloseTo(Math.exp(evals[0].values.eval_loss), 12);
  });
});
