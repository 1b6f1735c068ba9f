// Adapter combinations (issue 15) on the device plan: a tiny Llama and a tiny GPT-2 with two frozen LoRA adapters
// (one on more modules than the other), fused in both modes by engine/fusion/program.ts, are accepted by the CUDA
// executor; their device-neutral plan, replayed on the CPU by the float64 harness (the combination steps written
// from their own definitions, plan/harness-fusion.ts), gives the reference executor's per-token NLL, logits and
// the gradient of every trained parameter (θ; query, key, value factors), with and without checkpointing, and in
// eval mode. The CUDA kernels implementing the same steps (native/cuda/adapter_fusion.cu) compile in
// `npm run test:native`; bench/gpu-check.ts checks them against this harness on a GPU.
import { describe, expect, it } from 'vitest';
import { buildLlamaProgram } from '../../src/main/model/families/llama/program.ts';
import type { Program } from '../../src/main/model/ir.ts';
import type { Batch } from '../../src/main/engine/session.ts';
import { prepareBatch } from '../../src/main/engine/batch-inputs.ts';
import { ReferenceExecutor } from '../../src/main/engine/executors/reference/executor.ts';
import { checkSupported, lowerProgram, trainableOffsets } from '../../src/main/engine/executors/plan/plan.ts';
import { PlanHarness } from '../../src/main/engine/executors/plan/harness.ts';
import { fuseProgram, type FrozenAdapter, type FusionOptions } from '../../src/main/engine/fusion/program.ts';
import { randomWeights, tinyBatch, tinyConfig } from '../engine/tiny.ts';
import { randn, relErr } from '../engine/helpers.ts';
import { tinyModelConfig } from '../fixtures/tiny-models.ts';
import { specFromConfig } from '../../src/main/formats/model/index.ts';
import { buildProgramFromSpec } from '../../src/main/model/families/index.ts';

/** Adapter a on every attention/MLP projection it finds of `modules`, adapter b on every other one (ranks 2 and 3). */
function adaptersFor(base: Program, modules: RegExp): FrozenAdapter[] {
  const linears = base.nodes.filter((n) => n.op === 'linear' && modules.test(n.module)) as Extract<Program['nodes'][number], { op: 'linear' }>[];
  const layer = (r: number, IC: number, OC: number, seed: number) => ({ r, A: randn(r * IC, seed, 0.5), B: randn(OC * r, seed + 1, 0.5), scale: 1.5 });
  return [
    { name: 'a', layers: new Map(linears.map((n, i) => [n.module, layer(2, n.inF, n.outF, 100 + 2 * i)])) },
    { name: 'b', layers: new Map(linears.filter((_n, i) => i % 2 === 0).map((n, i) => [n.module, layer(3, n.inF, n.outF, 500 + 2 * i)])) },
  ];
}

function replay(p: Program, batch: Batch, mode: 'train' | 'eval' | 'logits', checkpointing: boolean) {
  const weights = randomWeights(p, 7, 0.4);
  const { offsets, total } = trainableOffsets(p);
  const flat = new Float64Array(total);
  for (const [name, off] of offsets) flat.set(weights.get(name)!, off);
  const inp = prepareBatch(p, batch);
  const ref = new ReferenceExecutor(p, weights);
  const fwd = ref.forward(inp);
  const grads = ref.backward(inp, fwd);
  const plan = lowerProgram(p, { mode, checkpointing, chunkRows: 3 });
  const h = new PlanHarness(plan, p, weights, flat);
  const out = h.run({ B: batch.B, T: batch.T, ids: batch.inputIds, labels: batch.labels, mask: batch.attentionMask, positions: inp.positions, cos: inp.cos, sin: inp.sin });
  return { plan, out, fwd, grads, offsets, h };
}

const families: [string, () => Program, RegExp][] = [
  ['llama', () => buildLlamaProgram(tinyConfig('llama')), /(q_proj|v_proj|o_proj|up_proj|down_proj)$/],
  ['gpt2', () => buildProgramFromSpec(specFromConfig(tinyModelConfig('gpt2'))), /(c_attn|c_fc)$/],
];
const modes: [string, Omit<FusionOptions, 'seed'>][] = [
  ['weights (global, softmax)', { mode: 'weights', perLayer: false, softmax: true, attentionDim: 1 }],
  ['weights (per layer, unconstrained)', { mode: 'weights', perLayer: true, softmax: false, attentionDim: 1 }],
  ['attention', { mode: 'attention', perLayer: false, softmax: true, attentionDim: 3, valueRank: 2 }],
];

describe('adapter combinations on the device plan (harness) vs the reference executor', () => {
  for (const [family, build, modules] of families)
    for (const [label, o] of modes) {
      const base = build();
      const fused = fuseProgram(base, adaptersFor(base, modules), { ...o, seed: 3 });
      const p = fused.program;
      const batch = tinyBatch(p.vocab, 6);

      it(`${family}, ${label}: accepted by the CUDA executor`, () => {
        expect(() => checkSupported(p)).not.toThrow();
        expect(fused.modules.some((m) => m.adapters.length === 2) && fused.modules.some((m) => m.adapters.length === 1)).toBe(true);
      });

      for (const checkpointing of [false, true])
        it(`${family}, ${label}${checkpointing ? ', checkpointing' : ''}: plan NLL and every trained gradient = reference`, () => {
          const { plan, out, fwd, grads, offsets, h } = replay(p, batch, 'train', checkpointing);
          expect(plan.steps.some((s) => s.kind.startsWith(o.mode === 'weights' ? 'mix_' : 'fusion_'))).toBe(true);
          expect(relErr(out.nll, fwd.nll)).toBeLessThan(1e-10);
          expect(offsets.size).toBe(p.params.filter((d) => d.trainable).length);
          // a linear with one adapter: its softmax is 1 whatever the scores, so its query and key get no gradient
          const single = new Set(fused.modules.filter((m) => m.adapters.length === 1).flatMap((m) => [`${m.module}.fusion.query`, `${m.module}.fusion.key`]));
          for (const [name, off] of offsets) {
            const g = grads.get(name)!;
            if (!single.has(name)) expect(Math.max(...g.map(Math.abs)), `${name} has a gradient`).toBeGreaterThan(0);
            expect(relErr(h.gradAcc.subarray(off, off + g.length), g), name).toBeLessThan(1e-9);
          }
        });

      it(`${family}, ${label}: eval and logits plans = reference NLL and logits`, () => {
        const ev = replay(p, batch, 'eval', false);
        expect(relErr(ev.out.nll, ev.fwd.nll)).toBeLessThan(1e-10);
        expect(ev.plan.steps.some((s) => s.kind.endsWith('_bwd'))).toBe(false);
        const lg = replay(p, batch, 'logits', false);
        expect(relErr(lg.out.logits!, lg.fwd.logits)).toBeLessThan(1e-10);
      });
    }
});
