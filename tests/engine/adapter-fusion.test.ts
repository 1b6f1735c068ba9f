// Learned adapter weights (adapter_mix) and AdapterFusion attention (adapter_fusion), issue 15: each op's backward
// against central finite differences, then a small program built by fusion/program.ts (two frozen adapters on two
// linears in a block, one adapter missing from one linear) on every executor: reference gradients against finite
// differences, the float64 ONNX training graph against the reference, and the device plan's lowering.
import { describe, expect, it } from 'vitest';
import { dot, numericGrad, randn, relErr } from './helpers.ts';
import type { OpNode, ParamDecl, Program } from '../../src/main/model/ir.ts';
import { adapterMixBackward, adapterMixForward } from '../../src/main/engine/ops/adapter-mix.ts';
import { adapterFusionBackward, adapterFusionForward } from '../../src/main/engine/ops/adapter-fusion.ts';
import { fuseProgram, type FrozenAdapter } from '../../src/main/engine/fusion/program.ts';
import { ReferenceExecutor } from '../../src/main/engine/executors/reference/executor.ts';
import { lowerProgram } from '../../src/main/engine/executors/plan/plan.ts';
import { tinyBatch } from './tiny.ts';
import { expectFiniteDifferences, expectOnnxMatches, referenceRun } from './executor-checks.ts';

const TOL = 1e-7;

describe('adapter_mix: backward vs finite differences (float64)', () => {
  for (const softmax of [true, false])
    it(`${softmax ? 'softmax' : 'unconstrained'} weights, an adapter used twice and one absent`, () => {
      const N = 3, W = 4, K = 3;
      const adapters = [0, 2, 0];
      const base = randn(N * W, 1), deltas = adapters.map((_a, j) => randn(N * W, 2 + j)), theta = randn(K, 9), dout = randn(N * W, 10);
      const loss = () => { const o = new Float64Array(N * W); adapterMixForward(o, base, deltas, adapters, theta, softmax); return dot(o, dout); };
      const w = adapterMixForward(new Float64Array(N * W), base, deltas, adapters, theta, softmax);
      const dbase = new Float64Array(N * W), dd = deltas.map(() => new Float64Array(N * W)), dtheta = new Float64Array(K);
      adapterMixBackward(dbase, dd, dtheta, dout, deltas, adapters, w, softmax);
      expect(relErr(dbase, numericGrad(loss, base))).toBeLessThan(TOL);
      deltas.forEach((d, j) => expect(relErr(dd[j], numericGrad(loss, d))).toBeLessThan(TOL));
      expect(relErr(dtheta, numericGrad(loss, theta))).toBeLessThan(TOL);
      if (softmax) expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    });
});

describe('adapter_fusion: backward vs finite differences (float64)', () => {
  it('query, key, value factors, x, base and every delta', () => {
    const d = { N: 4, IC: 3, W: 5, D: 2, R: 2 };
    const M = 3;
    const x = randn(d.N * d.IC, 1), base = randn(d.N * d.W, 2), deltas = Array.from({ length: M }, (_v, j) => randn(d.N * d.W, 3 + j));
    const Q = randn(d.IC * d.D, 7), Kw = randn(d.W * d.D, 8), V = { down: randn(d.W * d.R, 9), up: randn(d.W * d.R, 11) }, dout = randn(d.N * d.W, 10);
    const loss = () => { const o = new Float64Array(d.N * d.W); adapterFusionForward(o, x, base, deltas, Q, Kw, V, d); return dot(o, dout); };
    const saved = adapterFusionForward(new Float64Array(d.N * d.W), x, base, deltas, Q, Kw, V, d);
    for (let n = 0; n < d.N; n++) expect(saved.alpha.subarray(n * M, (n + 1) * M).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    const gr = {
      dx: new Float64Array(x.length), dbase: new Float64Array(base.length), ddeltas: deltas.map((v) => new Float64Array(v.length)),
      dQ: new Float64Array(Q.length), dK: new Float64Array(Kw.length), dVd: new Float64Array(V.down.length), dVu: new Float64Array(V.up.length),
    };
    adapterFusionBackward(gr, dout, x, deltas, Q, Kw, V, saved, d);
    expect(relErr(gr.dx, numericGrad(loss, x))).toBeLessThan(TOL);
    expect(relErr(gr.dbase, numericGrad(loss, base))).toBeLessThan(TOL);
    deltas.forEach((v, j) => expect(relErr(gr.ddeltas[j], numericGrad(loss, v))).toBeLessThan(TOL));
    expect(relErr(gr.dQ, numericGrad(loss, Q))).toBeLessThan(TOL);
    expect(relErr(gr.dK, numericGrad(loss, Kw))).toBeLessThan(TOL);
    expect(relErr(gr.dVd, numericGrad(loss, V.down))).toBeLessThan(TOL);
    expect(relErr(gr.dVu, numericGrad(loss, V.up))).toBeLessThan(TOL);
  });

  it('with V = I (Vu = 0) and equal scores it is the uniform average of the adapters', () => {
    const d = { N: 2, IC: 3, W: 4, D: 2, R: 1 };
    const x = randn(d.N * d.IC, 1), base = randn(d.N * d.W, 2), deltas = [randn(d.N * d.W, 3), randn(d.N * d.W, 4)];
    const out = new Float64Array(d.N * d.W);
    adapterFusionForward(out, x, base, deltas, new Float64Array(d.IC * d.D), new Float64Array(d.W * d.D), { down: randn(d.W, 5), up: new Float64Array(d.W) }, d);
    expect(relErr(out, base.map((b, i) => b + (deltas[0][i] + deltas[1][i]) / 2))).toBeLessThan(1e-15);
  });
});

const V = 11;
const C = 6;

/** embed → [rmsnorm → up (C→8) → down (8→C) → + residual] → lm_head, the bracket one block. */
function baseProgram(): Program {
  const param = (name: string, shape: number[], noDecay = false): ParamDecl => ({ name, shape, trainable: false, noDecay });
  const params = [param('embed.weight', [V, C]), param('l0.norm.weight', [C], true), param('l0.up.weight', [8, C]), param('l0.down.weight', [C, 8]), param('lm_head.weight', [V, C])];
  const nodes: OpNode[] = [
    { op: 'embedding', weight: 'embed.weight', out: 'e', width: C, scale: 1 },
    { op: 'rmsnorm', x: 'e', weight: 'l0.norm.weight', out: 'h', width: C, eps: 1e-6, plusOne: false },
    { op: 'linear', module: 'l0.up', x: 'h', weight: 'l0.up.weight', bias: null, lora: null, out: 'u', inF: C, outF: 8 },
    { op: 'linear', module: 'l0.down', x: 'u', weight: 'l0.down.weight', bias: null, lora: null, out: 'dn', inF: 8, outF: C },
    { op: 'add', a: 'e', b: 'dn', out: 'r', width: C },
    { op: 'linear', module: 'lm_head', x: 'r', weight: 'lm_head.weight', bias: null, lora: null, out: 'logits', inF: C, outF: V },
  ];
  const widths = new Map([['e', C], ['h', C], ['u', 8], ['dn', C], ['r', C], ['logits', V]]);
  return { family: 'test', params, nodes, widths, blocks: [{ name: 'l0', start: 1, end: 5 }], logits: 'logits', vocab: V, rope: null };
}

/** Adapter 0 on up and down (rank 2), adapter 1 on down only (rank 3). */
function adapters(): FrozenAdapter[] {
  const layer = (r: number, IC: number, OC: number, seed: number) => ({ r, A: randn(r * IC, seed), B: randn(OC * r, seed + 1), scale: 0.5 });
  return [
    { name: 'a', layers: new Map([['l0.up', layer(2, C, 8, 20)], ['l0.down', layer(2, 8, C, 22)]]) },
    { name: 'b', layers: new Map([['l0.down', layer(3, 8, C, 24)]]) },
  ];
}

describe('fused programs on every executor', () => {
  const batch = tinyBatch(V, 5);
  for (const o of [
    { mode: 'weights' as const, perLayer: false, softmax: true },
    { mode: 'weights' as const, perLayer: true, softmax: false },
    { mode: 'attention' as const, perLayer: false, softmax: true },
  ]) {
    const label = o.mode === 'weights' ? `weights (${o.perLayer ? 'per layer' : 'global'}, ${o.softmax ? 'softmax' : 'unconstrained'})` : 'attention';
    const fused = fuseProgram(baseProgram(), adapters(), { ...o, attentionDim: 3, valueRank: 2, seed: 1 });
    const p = fused.program;
    const { weights, inp, ref, fwd, grads, trainables } = referenceRun(p, 5, batch);

    it(`${label}: the program trains only the combination, block bounds follow the inserted nodes`, () => {
      expect(fused.modules).toEqual([{ module: 'l0.up', block: 'l0', adapters: [0] }, { module: 'l0.down', block: 'l0', adapters: [0, 1] }]);
      const names = trainables.map((d) => d.name);
      if (o.mode === 'weights') expect(names).toEqual([o.perLayer ? 'fusion.l0.weights' : 'fusion.weights']);
      else expect(names).toEqual(['up', 'down'].flatMap((m) => ['query', 'key', 'value_down', 'value_up'].map((p) => `l0.${m}.fusion.${p}`)));
      expect(p.nodes[p.blocks[0].start].op).toBe('rmsnorm');
      expect(p.nodes[p.blocks[0].end - 1].op).toBe('add');
      expect(p.nodes.at(-1)!.out).toBe('logits');
    });

    // l0.up has one adapter: its softmax is 1 whatever the scores, so its query and key get no gradient (only V)
    const probed = trainables.map((d) => d.name).filter((n) => !/^l0\.up\.fusion\.(query|key)$/.test(n));
    it(`${label}: reference gradients match finite differences`, () => expectFiniteDifferences(ref, inp, grads, probed, 2));

    it(`${label}: the float64 ONNX training graph gives the reference loss and gradients`, () =>
      expectOnnxMatches(p, weights, batch, fwd, grads, { elem: 'float64', lossTol: 1e-10, gradTol: 1e-6 }));

    it(`${label}: the device plan lowers it (replayed against the reference in tests/native/fusion-plan.test.ts)`, () => {
      expect(() => lowerProgram(p, { mode: 'train', checkpointing: false, chunkRows: 4 })).not.toThrow();
    });
  }

  it('starts as the uniform average of the adapters (weights and attention alike)', () => {
    const base = baseProgram();
    const baseWeights = referenceRun(base, 5, batch).weights;
    const inp = referenceRun(base, 5, batch).inp;
    const losses = (['weights', 'attention'] as const).map((mode) => {
      // both adapters on both linears: attention is over the adapters present at a linear, while a weight's
      // softmax spans all of them (a module an adapter lacks counts as a zero delta there)
      const both = adapters();
      both[1].layers.set('l0.up', { r: 1, A: randn(C, 30), B: randn(8, 31), scale: 2 });
      const f = fuseProgram(base, both, { mode, perLayer: false, softmax: true, attentionDim: 3, valueRank: 2, seed: 1 });
      const w = new Map(baseWeights);
      for (const [k, v] of f.weights) w.set(k, Float64Array.from(v));
      // attention starts with small random query/key: scores near 0, so close to (not exactly) uniform; zero the
      // query to make it exact
      for (const d of f.program.params) if (d.name.endsWith('.query')) w.get(d.name)!.fill(0);
      return new ReferenceExecutor(f.program, w).forward(inp).lossSum;
    });
    expect(Math.abs(losses[0] - losses[1])).toBeLessThan(1e-9 * Math.abs(losses[0]));
  });

  it('refuses an adapter for another base, naming it and the module', () => {
    const bad: FrozenAdapter = { name: 'other', layers: new Map([['l0.side', { r: 1, A: [1], B: [1], scale: 1 }]]) };
    expect(() => fuseProgram(baseProgram(), [adapters()[0], bad], { mode: 'weights', perLayer: false, softmax: true, attentionDim: 2, seed: 1 })).toThrow(/adapter other adapts l0\.side/);
  });
});
