// Combining frozen LoRA adapters with trained weights: adapter_mix (learned weights, mergeable) and adapter_fusion
// (AdapterFusion attention, per token) — forward and backward side by side, as engine/ops/adapter-{mix,fusion}.ts.
import type { OpNode } from '../../../../model/ir.ts';
import type { LowerCtx } from './context.ts';

type Mix = Extract<OpNode, { op: 'adapter_mix' }>;
type Fusion = Extract<OpNode, { op: 'adapter_fusion' }>;

/** Σ of a list of values (they all exist). */
const sum = (c: LowerCtx, vs: string[]) => vs.reduce((a, b) => c.g.add(a, b));

export function adapterMixForward(c: LowerCtx, n: Mix, idx: number): void {
  const { g } = c;
  const theta = c.value(n.weight);
  const w = n.softmax ? g.op('Softmax', [theta], { axis: 0 }) : theta; // (K)
  const wj = n.adapters.map((a) => g.op('Slice', [w, g.i64([a]), g.i64([a + 1]), g.i64([0])])); // (1) each
  c.setValue(n.out, sum(c, [c.value(n.base), ...n.deltas.map((d, j) => g.mul(c.value(d), wj[j]))]));
  c.saved.set(idx, Object.fromEntries([['w', w], ...wj.map((v, j) => [`w${j}`, v])]));
}

/** dbase = dout; ddelta_j = w_j·dout; dθ from dw_k = Σ_{a_j = k} ⟨dout, delta_j⟩ (through softmax's Jacobian). */
export function adapterMixBackward(c: LowerCtx, n: Mix, idx: number, dout: string): void {
  const { g } = c;
  const saved = c.saved.get(idx)!;
  if (c.needsGrad(n.base)) c.addGrad(n.base, dout);
  n.deltas.forEach((d, j) => c.needsGrad(d) && c.addGrad(d, g.mul(dout, saved[`w${j}`])));
  if (!c.needsGrad(n.weight)) return;
  const perDelta = n.deltas.map((d) => g.reshape(g.op('ReduceSum', [g.mul(dout, c.value(d))], { keepdims: 0 }), [1]));
  const dw = g.op(
    'Concat',
    Array.from({ length: n.count }, (_, k) => {
      const terms = perDelta.filter((_v, j) => n.adapters[j] === k);
      return terms.length ? sum(c, terms) : g.reshape(g.scalar(0), [1]);
    }),
    { axis: 0 },
  ); // (K)
  if (!n.softmax) return c.addGrad(n.weight, dw);
  const w = saved.w;
  const wdw = g.reduceSum(g.mul(w, dw), [0], 1); // (1)
  c.addGrad(n.weight, g.mul(w, g.sub(dw, wdw)));
}

export function adapterFusionForward(c: LowerCtx, n: Fusion, idx: number): void {
  const { g } = c;
  const q = g.matmul(c.value(n.x), c.value(n.query)); // (N, D)
  const keys = n.deltas.map((d) => g.matmul(c.value(d), c.value(n.key))); // (N, D) each
  const scores = g.op('Concat', keys.map((k) => g.reduceSum(g.mul(q, k), [1], 1)), { axis: 1 }); // (N, M)
  const alpha = g.op('Softmax', [scores], { axis: 1 });
  const aj = n.deltas.map((_d, j) => g.op('Slice', [alpha, g.i64([j]), g.i64([j + 1]), g.i64([1])])); // (N, 1)
  const mix = sum(c, n.deltas.map((d, j) => g.mul(aj[j], c.value(d))));
  const low = g.matmul(mix, c.value(n.valueDown)); // (N, R)
  c.setValue(n.out, g.add(g.add(c.value(n.base), mix), g.op('Gemm', [low, c.value(n.valueUp)], { transB: 1 })));
  c.saved.set(idx, { q, mix, low, alpha, ...Object.fromEntries(keys.map((k, j) => [`k${j}`, k])), ...Object.fromEntries(aj.map((a, j) => [`a${j}`, a])) });
}

/** The chain of ops/adapter-fusion.ts adapterFusionBackward, in graph ops. */
export function adapterFusionBackward(c: LowerCtx, n: Fusion, idx: number, dout: string): void {
  const { g } = c;
  const s = c.saved.get(idx)!;
  const deltas = n.deltas.map((d) => c.value(d));
  if (c.needsGrad(n.base)) c.addGrad(n.base, dout);
  const gu = g.matmul(dout, c.value(n.valueUp)); // (N, R)
  if (c.needsGrad(n.valueDown)) c.addGrad(n.valueDown, g.op('Gemm', [s.mix, gu], { transA: 1 })); // (W, R)
  if (c.needsGrad(n.valueUp)) c.addGrad(n.valueUp, g.op('Gemm', [dout, s.low], { transA: 1 })); // (W, R)
  const dmix = g.add(dout, g.op('Gemm', [gu, c.value(n.valueDown)], { transB: 1 })); // (N, W)
  const da = deltas.map((d) => g.reduceSum(g.mul(dmix, d), [1], 1)); // (N, 1) each
  const mean = sum(c, da.map((v, j) => g.mul(s[`a${j}`], v)));
  const ds = da.map((v, j) => g.mul(s[`a${j}`], g.sub(v, mean))); // (N, 1)
  const dk = ds.map((v) => g.mul(v, s.q)); // (N, D)
  n.deltas.forEach((d, j) => {
    if (c.needsGrad(d)) c.addGrad(d, g.add(g.mul(s[`a${j}`], dmix), g.op('Gemm', [dk[j], c.value(n.key)], { transB: 1 })));
  });
  if (c.needsGrad(n.key)) c.addGrad(n.key, sum(c, deltas.map((d, j) => g.op('Gemm', [d, dk[j]], { transA: 1 }))));
  if (!c.needsGrad(n.query) && !c.needsGrad(n.x)) return;
  const dq = sum(c, ds.map((v, j) => g.mul(v, s[`k${j}`]))); // (N, D)
  if (c.needsGrad(n.query)) c.addGrad(n.query, g.op('Gemm', [c.value(n.x), dq], { transA: 1 }));
  if (c.needsGrad(n.x)) c.addGrad(n.x, g.op('Gemm', [dq, c.value(n.query)], { transB: 1 }));
}
