// The CUDA executor's TypeScript half on encoder programs, the addon replaced by the float64 plan harness
// (fake-addon.ts), against the CPU executor: token types, offset positions and a task's targets reach the device
// batch, and the loss, its count, the gradients, one AdamW step and the per-sequence evaluation agree for
// sequence classification (cross-entropy fused with a biased classifier), regression (MSE) and extractive QA (span).
import { describe, expect, it } from 'vitest';
import type { Program } from '../../src/main/model/ir.ts';
import type { Batch, TensorMap } from '../../src/main/engine/session.ts';
import { createCpuTrainingSession } from '../../src/main/engine/executors/onnx/session.ts';
import { createCudaTrainingSession } from '../../src/main/engine/executors/cuda/index.ts';
import { openExecutor } from '../../src/main/engine/executors/index.ts';
import { randomWeights } from '../engine/tiny.ts';
import { relErr } from '../engine/helpers.ts';
import { classifierProgram, pairBatch, taskProgram } from '../engine/encoder-programs.ts';
import { fakeAddon } from './fake-addon.ts';

const T = 5;
const update = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, maxGradNorm: 1 };

function classificationBatch(): Batch {
  const labels = new Int32Array(2 * T).fill(-100);
  labels[0] = 2;
  labels[T] = 0;
  return { ...pairBatch(), labels };
}

const cases: [string, Program, Batch][] = [
  ['sequence classification', classifierProgram(3), classificationBatch()],
  // the second sequence's regression target is NaN (not trained), its span end out of range (not trained)
  ['regression (MSE)', taskProgram('mse'), { ...pairBatch(), regressionTargets: Float64Array.of(0.7, Number.NaN) }],
  [
    'extractive QA (span)',
    taskProgram('span'),
    { ...pairBatch(), spanStarts: Int32Array.of(1, 0), spanEnds: Int32Array.of(3, T) },
  ],
  // PEFT's SEQ_CLS / QUESTION_ANS: the head trains in full (modules_to_save), biases of LoRA'd modules too
  [
    'sequence classification, classifier in modules_to_save, bias lora_only',
    classifierProgram(3, 'relu', { modulesToSave: ['classifier'], bias: 'lora_only' }),
    classificationBatch(),
  ],
  [
    'extractive QA (span), its head in modules_to_save',
    taskProgram('span', { modulesToSave: ['classifier'] }),
    { ...pairBatch(), spanStarts: Int32Array.of(1, 0), spanEnds: Int32Array.of(3, 2) },
  ],
];

function expectSameTensors(a: TensorMap, b: TensorMap, tol: number) {
  expect([...a.keys()]).toEqual([...b.keys()]);
  for (const [k, t] of a) expect(relErr(t.data, b.get(k)!.data), k).toBeLessThanOrEqual(tol);
}

describe('CudaTrainingSession on encoder programs (plan harness in place of the GPU) vs CpuTrainingSession', () => {
  for (const [name, p, batch] of cases)
    it(`${name}: loss, count, gradients, an AdamW step and evaluation as the CPU executor`, async () => {
      const weights = randomWeights(p, 7, 0.8);
      const addon = fakeAddon(p);
      expect(openExecutor('auto', { addon, program: p }).name).toBe('cuda'); // nothing in an encoder keeps it off the device
      const cpu = await createCpuTrainingSession({ program: p, weights, seed: 4, elem: 'float64', threads: 1 });
      const gpu = await createCudaTrainingSession({ program: p, weights, seed: 4, capacityTokens: 2 * T, addon });
      try {
        // B starts at zero: train once so that LoRA B (and the gradients of A) are not zero
        for (const s of [cpu, gpu]) {
          await s.microStep(batch);
          await s.applyUpdate(update);
        }
        const [a, b] = [await cpu.microStep(batch), await gpu.microStep(batch)];
        expect(b.tokens).toBe(a.tokens);
        expect(a.tokens).toBe(name === 'extractive QA (span)' ? 1.5 : name.startsWith('regression') ? 1 : 2);
        // what trains: LoRA A/B, and the head's weight and bias (and LoRA'd biases) where the config says so
        const trained = [...gpu.getTrainables().keys()];
        if (name.includes('modules_to_save')) expect(trained.filter((k) => !k.includes('lora_'))).toEqual(expect.arrayContaining([expect.stringMatching(/classifier\.weight$/)]));
        expect(Math.abs(b.lossSum - a.lossSum) / a.lossSum).toBeLessThan(1e-5);
        expectSameTensors(gpu.getAccumulatedGradients(), cpu.getAccumulatedGradients(), 1e-5);
        const [ua, ub] = [await cpu.applyUpdate(update), await gpu.applyUpdate(update)];
        expect(Math.abs(ub.gradNorm - ua.gradNorm) / ua.gradNorm).toBeLessThan(1e-5);
        expectSameTensors(gpu.getTrainables(), cpu.getTrainables(), 1e-4);
        const [ea, eb] = [await cpu.evaluate(batch), await gpu.evaluate(batch)];
        expect([...eb.tokensPerSequence]).toEqual([...ea.tokensPerSequence]);
        expect(relErr(eb.nllPerSequence, ea.nllPerSequence)).toBeLessThan(1e-5);
        // token types reach the device batch: without them the losses change
        const untyped = await gpu.evaluate({ ...batch, tokenTypeIds: undefined });
        expect(relErr(untyped.nllPerSequence, eb.nllPerSequence)).toBeGreaterThan(1e-6);
      } finally {
        await cpu.dispose();
        await gpu.dispose();
      }
    });
});
