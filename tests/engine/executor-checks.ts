// The checks a program with new ops goes through on every executor, shared by the op tests that build small
// programs (tanh, encoder ops): reference gradients against central finite differences, the ONNX training graph's
// loss and gradients against the reference, and the device plan replayed by the float64 harness against it.
import { expect } from 'vitest';
import type { Program } from '../../src/main/model/ir.ts';
import { peftKey } from '../../src/main/model/ir.ts';
import type { Batch } from '../../src/main/engine/session.ts';
import type { BatchInputs } from '../../src/main/engine/batch-inputs.ts';
import { ReferenceExecutor, type ReferenceForward } from '../../src/main/engine/executors/reference/executor.ts';
import { prepareBatch } from '../../src/main/engine/batch-inputs.ts';
import { randomWeights } from './tiny.ts';
import { createCpuTrainingSession } from '../../src/main/engine/executors/onnx/session.ts';
import { lowerProgram, trainableOffsets, type Plan } from '../../src/main/engine/executors/plan/plan.ts';
import { PlanHarness } from '../../src/main/engine/executors/plan/harness.ts';
import { relErr } from './helpers.ts';

type Grads = Map<string, Float64Array>;

/**
 * A program's reference run on a batch: random float32-representable weights (so the float32 trainables map of a
 * session holds the reference's exact values), the prepared inputs, the forward and the gradients.
 */
export function referenceRun(p: Program, seed: number, batch: Batch) {
  const weights = new Map([...randomWeights(p, seed, 0.8)].map(([k, v]) => [k, Float64Array.from(Float32Array.from(v))]));
  const inp = prepareBatch(p, batch);
  const ref = new ReferenceExecutor(p, weights);
  const fwd = ref.forward(inp);
  const grads = ref.backward(inp, fwd);
  return { weights, inp, ref, fwd, grads, trainables: p.params.filter((d) => d.trainable) };
}

/** Each named param's reference gradient (every `stride`-th entry) against central differences of lossSum. */
export function expectFiniteDifferences(ref: ReferenceExecutor, inp: BatchInputs, grads: Grads, names: string[], stride = 3): void {
  for (const name of names) {
    const w = ref.weights.get(name)!;
    const g = grads.get(name)!;
    expect(Math.max(...g.map(Math.abs)), name).toBeGreaterThan(0);
    for (let i = 0; i < w.length; i += stride) {
      const old = w[i];
      const at = (x: number) => ((w[i] = x), ref.forward(inp).lossSum);
      const num = (at(old + 1e-6) - at(old - 1e-6)) / 2e-6;
      w[i] = old;
      expect(Math.abs(g[i] - num), `${name}[${i}]`).toBeLessThan(1e-6 * Math.max(1, Math.abs(num)));
    }
  }
}

/**
 * One ONNX training micro-step's loss and accumulated gradients against the reference. The gradients come back
 * as float32 whatever the graph's precision (6e-8 relative rounding), hence gradTol; the loss is checked to lossTol.
 */
export async function expectOnnxMatches(
  p: Program, weights: Grads, batch: Batch, fwd: ReferenceForward, grads: Grads,
  o: { elem: 'float32' | 'float64'; lossTol: number; gradTol: number; names?: string[] },
): Promise<void> {
  const trainables = p.params.filter((d) => d.trainable);
  const s = await createCpuTrainingSession({ program: p, weights, seed: 0, elem: o.elem, threads: 1 });
  try {
    s.setTrainables(new Map(trainables.map((d) => [peftKey(d.name), { shape: d.shape, data: Float32Array.from(weights.get(d.name)!) }])));
    const r = await s.microStep(batch);
    expect(r.tokens).toBe(fwd.tokens);
    expect(Math.abs(r.lossSum - fwd.lossSum)).toBeLessThan(o.lossTol * Math.abs(fwd.lossSum));
    const acc = s.getAccumulatedGradients();
    for (const name of o.names ?? trainables.map((d) => d.name)) expect(relErr(acc.get(peftKey(name))!.data, grads.get(name)!), name).toBeLessThan(o.gradTol);
  } finally {
    await s.dispose();
  }
}

/** The device plan (train mode) replayed by the float64 harness: NLL and every trainable's gradient as the reference's. */
export function expectPlanMatches(p: Program, weights: Grads, batch: Batch, inp: BatchInputs, fwd: ReferenceForward, grads: Grads, checkpointing: boolean): Plan {
  const plan = lowerProgram(p, { mode: 'train', checkpointing, chunkRows: 4 });
  const { offsets, total } = trainableOffsets(p);
  const flat = new Float64Array(total);
  for (const [name, off] of offsets) flat.set(weights.get(name)!, off);
  const h = new PlanHarness(plan, p, weights, flat);
  const out = h.run({
    B: batch.B, T: batch.T, ids: batch.inputIds, labels: batch.labels, mask: batch.attentionMask, positions: inp.positions, tokenTypes: inp.tokenTypes,
    regressionTargets: inp.regressionTargets, spanStarts: inp.spanStarts, spanEnds: inp.spanEnds, cos: null, sin: null,
  });
  expect(relErr(out.nll, fwd.nll)).toBeLessThan(1e-12);
  for (const [name, off] of offsets) expect(relErr(h.gradAcc.subarray(off, off + grads.get(name)!.length), grads.get(name)!), name).toBeLessThan(1e-10);
  return plan;
}
