// The attention-mode heat map (issue 15) read from the session's own evaluation graph: the CPU session's α output
// (onnxruntime, float32) per adapter_fusion node gives the float64 reference executor's α token by token, so the
// map (each adapter's mean weight per layer, the picks) is the one the reference forward gives; a session that has
// no α output (the CUDA executor's, here with the plan-harness addon) gets the same map through a CPU session over
// its trained tensors.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuseProgram, type FusedProgram } from '../../../src/main/engine/fusion/program.ts';
import { frozen, fusedSession, readFusionInputs, type FusionInputs } from '../../../src/main/engine/fusion/session.ts';
import { attentionMap } from '../../../src/main/engine/fusion/report.ts';
import { ReferenceExecutor } from '../../../src/main/engine/executors/reference/executor.ts';
import { openExecutor } from '../../../src/main/engine/executors/index.ts';
import { prepareBatch } from '../../../src/main/engine/batch-inputs.ts';
import type { FusionSaved } from '../../../src/main/engine/ops/adapter-fusion.ts';
import type { BatchPlan } from '../../../src/main/engine/data/batches.ts';
import type { Batch, TensorMap } from '../../../src/main/engine/session.ts';
import { peftKey } from '../../../src/main/model/ir.ts';
import { makeChatFixture, type ChatFixture } from '../generate/fixtures.ts';
import { seededRandom } from '../../fixtures/tiny-models.ts';
import { tinyBatch } from '../tiny.ts';
import { fakeAddon } from '../../native/fake-addon.ts';

let root: string;
let fx: ChatFixture;
let inputs: FusionInputs;
let fused: FusedProgram;
let trained: TensorMap;
const batches: Batch[] = [];

/** Two micro-batches of two rows each (the second row right-padded), as an eval plan hands them out. */
const plan = () =>
  ({
    microBatchesInEpoch: () => batches.length,
    batchAt: ({ microBatch }: { microBatch: number }) => ({ batch: batches[microBatch], exampleIndices: [2 * microBatch, 2 * microBatch + 1] }),
  }) as unknown as BatchPlan;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'attention-map-'));
  fx = await makeChatFixture(root, { adapters: 2 });
  inputs = await readFusionInputs(fx.model.dir, fx.adapters);
  fused = fuseProgram(inputs.base, frozen(inputs), { mode: 'attention', perLayer: false, softmax: true, attentionDim: 4, valueRank: 2, seed: 1 });
  // trained-looking tensors: query/key far from their small start, so α is far from uniform
  const random = seededRandom(9);
  trained = new Map();
  for (const d of fused.program.params) if (d.trainable) trained.set(peftKey(d.name), { shape: d.shape, data: Float32Array.from(fused.weights.get(d.name)!, () => (random() - 0.5) * 3) });
  const V = fx.model.spec.vocabSize;
  batches.push(tinyBatch(V, 6), { ...tinyBatch(V, 6), inputIds: tinyBatch(V, 6).inputIds.map((x) => (x * 5 + 2) % V) });
}, 120_000);
afterAll(() => rm(root, { recursive: true, force: true }));

/** The map as the float64 reference forward gives it (what the report computed before, slowly). */
function referenceMap() {
  const w64 = new Map<string, Float64Array>();
  const weights = new Map([...inputs.baseWeights, ...fused.weights]);
  for (const d of fused.program.params) w64.set(d.name, Float64Array.from(trained.get(peftKey(d.name))?.data ?? weights.get(d.name)!));
  const ref = new ReferenceExecutor(fused.program, w64);
  const alphas = batches.map((b) => {
    const fwd = ref.forward(prepareBatch(fused.program, b));
    return new Map(fused.program.nodes.flatMap((n, idx) => (n.op === 'adapter_fusion' ? [[idx, (fwd.saved.get(idx) as FusionSaved).alpha] as const] : [])));
  });
  return alphas;
}

describe('attention heat map from the evaluation graph', () => {
  it('the CPU session outputs the reference executor’s α for every fusion node and token; the map is the reference one', async () => {
    const session = await fusedSession(inputs, fused, 1);
    try {
      session.setTrainables(trained);
      const reference = referenceMap();
      const own = session as unknown as { fusionAlphas(b: Batch): Promise<Map<number, Float32Array>> };
      for (const [i, b] of batches.entries()) {
        const got = await own.fusionAlphas(b);
        expect([...got.keys()]).toEqual([...reference[i].keys()]);
        expect(got.size).toBe(fused.modules.length);
        for (const [idx, a] of reference[i]) {
          const g = got.get(idx)!;
          expect(g.length).toBe(a.length);
          let worst = 0;
          for (let j = 0; j < a.length; j++) worst = Math.max(worst, Math.abs(g[j] - a[j]));
          expect(worst, `node ${idx}`).toBeLessThan(1e-4);
        }
      }
      // the map from those α, against the one summed here from the reference's α
      const map = await attentionMap(session, fused, () => new Map([...inputs.baseWeights, ...fused.weights]), plan());
      const blocks = [...new Set(fused.modules.map((m) => m.block!))];
      expect(map.layers.map((l) => l.block)).toEqual(blocks);
      let tokens = 0;
      const sums = new Map(blocks.map((b) => [b, { w: [0, 0], n: 0 }]));
      const picks = [0, 0];
      for (const [i, b] of batches.entries())
        for (let t = 0; t < b.B * b.T; t++) {
          if (!b.attentionMask[t]) continue;
          tokens++;
          const avg = [0, 0];
          for (const m of fused.modules) {
            const idx = fused.program.nodes.findIndex((n) => n.op === 'adapter_fusion' && n.query === `${m.module}.fusion.query`);
            const a = reference[i].get(idx)!;
            const s = sums.get(m.block!)!;
            m.adapters.forEach((k, j) => {
              s.w[k] += a[t * m.adapters.length + j];
              avg[k] += a[t * m.adapters.length + j] / fused.modules.length;
            });
            s.n++;
          }
          picks[avg[0] >= avg[1] ? 0 : 1]++;
        }
      expect(map.tokens).toBe(tokens);
      expect(map.picks).toEqual(picks);
      for (const l of map.layers) {
        const s = sums.get(l.block)!;
        l.mean.forEach((v, k) => expect(v).toBeCloseTo(s.w[k] / s.n, 5));
      }
      // α is not uniform here: the map says something
      expect(Math.max(...map.layers.flatMap((l) => l.mean.map((v) => Math.abs(v - 0.5))))).toBeGreaterThan(0.05);
      expect(map.examples.map((e) => e.index)).toEqual([0, 1, 2, 3]);
    } finally {
      await session.dispose();
    }
  }, 120_000);

  it('a CUDA session (no α output) gets the same map through a CPU session over its trained tensors', async () => {
    const cpu = await fusedSession(inputs, fused, 1);
    const gpu = await fusedSession(inputs, fused, 1, undefined, { open: (p) => openExecutor('cuda', { addon: fakeAddon(p), program: p }), capacityTokens: 12 });
    try {
      cpu.setTrainables(trained);
      gpu.setTrainables(trained);
      expect(typeof (gpu as unknown as { fusionAlphas?: unknown }).fusionAlphas).toBe('undefined');
      const weights = () => new Map([...inputs.baseWeights, ...fused.weights]);
      const [a, b] = [await attentionMap(cpu, fused, weights, plan()), await attentionMap(gpu, fused, weights, plan())];
      expect(b.picks).toEqual(a.picks);
      b.layers.forEach((l, i) => l.mean.forEach((v, k) => expect(v).toBeCloseTo(a.layers[i].mean[k], 6)));
    } finally {
      await cpu.dispose();
      await gpu.dispose();
    }
  }, 120_000);
});
