// Packed rows (Batch.segmentIds): attention stays inside each example and positions restart, so a row holding
// two examples gives exactly the NLL and gradient of the two examples run apart. And MicroStepOptions.dropoutSeed
// decides the dropout masks.
import { describe, expect, it } from 'vitest';
import { buildLlamaProgram } from '../../../src/main/model/families/llama/program.ts';
import { applyLora } from '../../../src/main/engine/lora/model.ts';
import { createCpuTrainingSession } from '../../../src/main/engine/executors/onnx/session.ts';
import type { Batch } from '../../../src/main/engine/session.ts';
import { relErr } from '../helpers.ts';
import { randomWeights, tinyConfig } from '../tiny.ts';

const row = (ids: number[], labels: number[], T: number, segs?: number[]): Batch => {
  const pad = T - ids.length;
  return {
    B: 1, T,
    inputIds: Int32Array.from([...ids, ...Array(pad).fill(0)]),
    attentionMask: Uint8Array.from([...ids.map(() => 1), ...Array(pad).fill(0)]),
    labels: Int32Array.from([...labels, ...Array(pad).fill(-100)]),
    segmentIds: segs ? Int32Array.from([...segs, ...Array(pad).fill(0)]) : undefined,
  };
};

describe('packed rows and dropout seeds', () => {
  const cfg = tinyConfig('qwen3');
  const base = buildLlamaProgram(cfg);
  const weights = new Map([...randomWeights(base, 5)].map(([k, v]) => [k, Float32Array.from(v)]));

  it('a packed row equals its examples run apart (loss and gradient)', async () => {
    const s = await createCpuTrainingSession({ program: applyLora(base, { r: 2, alpha: 4, dropout: 0, targetModules: 'all-linear', bias: 'none', useRslora: false }).program, weights, seed: 3 });
    const t = s.getTrainables();
    for (const [k, v] of t) if (k.endsWith('lora_B.weight')) v.data.fill(0.05);
    s.setTrainables(t);
    const a = { ids: [1, 2, 3, 4], labels: [2, 3, 4, -100] };
    const b = { ids: [7, 8, 9], labels: [8, 9, -100] };
    const ra = await s.microStep(row(a.ids, a.labels, 4));
    const rb = await s.microStep(row(b.ids, b.labels, 3));
    const apart = s.getAccumulatedGradients();
    s.setOptimizerState(s.getOptimizerState()); // zero the accumulator
    const packed = await s.microStep(row([...a.ids, ...b.ids], [...a.labels, ...b.labels], 9, [1, 1, 1, 1, 2, 2, 2]));
    expect(packed.tokens).toBe(ra.tokens + rb.tokens);
    expect(packed.lossSum).toBeCloseTo(ra.lossSum + rb.lossSum, 4);
    for (const [k, v] of s.getAccumulatedGradients()) expect(relErr(v.data, apart.get(k)!.data), k).toBeLessThan(1e-4);
    // without segment ids the second example would see the first: the loss changes
    const unsegmented = await s.microStep(row([...a.ids, ...b.ids], [...a.labels, ...b.labels], 9));
    expect(Math.abs(unsegmented.lossSum - packed.lossSum)).toBeGreaterThan(1e-3);
    await s.dispose();
  });

  it('MicroStepOptions.dropoutSeed decides the masks', async () => {
    const program = applyLora(base, { r: 2, alpha: 4, dropout: 0.5, targetModules: 'all-linear', bias: 'none', useRslora: false }).program;
    const s = await createCpuTrainingSession({ program, weights, seed: 3 });
    const t = s.getTrainables();
    for (const [k, v] of t) if (k.endsWith('lora_B.weight')) v.data.fill(0.2);
    s.setTrainables(t);
    const batch = row([1, 2, 3, 4, 5], [2, 3, 4, 5, -100], 5);
    const l1 = (await s.microStep(batch, { dropoutSeed: 42 })).lossSum;
    const l2 = (await s.microStep(batch, { dropoutSeed: 42 })).lossSum;
    const l3 = (await s.microStep(batch, { dropoutSeed: 43 })).lossSum;
    expect(l2).toBe(l1);
    expect(l3).not.toBe(l1);
    await s.dispose();
  });
});
