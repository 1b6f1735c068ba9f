// GQA attention (causal, or bidirectional for encoders: only the bias input differs) without repeating K/V: the G query heads that share a KV head are stacked along the
// query axis, q4 (B, NKV, G·T, HD), so each KV head does one MatMul against its own k/v.
// Forward (scale = the node's, default 1/√HD): S = (q4·scale)·kᵀ + bias, P = softmax(S), O = P·v.
// Backward (softmax backward as P·(dP − Σ dP·P)): dP = dO·vᵀ, dv = Pᵀ·dO, dS = P·(dP − rowsum(dP·P)),
// dq = dS·k/√HD, dk = dSᵀ·(q4/√HD). dv and dk sum over the G stacked heads by construction.
import type { OpNode } from '../../../../model/ir.ts';
import type { LowerCtx } from './context.ts';

type Node = Extract<OpNode, { op: 'attention' }>;

/** (N, NH·HD) → (B, NKV, G·T, HD). */
function stackHeads(c: LowerCtx, x: string, n: Node): string {
  const { g } = c;
  const G = n.NH / n.NKV;
  const shape5 = g.op('Concat', [c.batch.shapeBT, g.i64([n.NKV, G, n.HD])], { axis: 0 });
  const x5 = g.transpose(g.reshape(x, shape5), [0, 2, 3, 1, 4]); // (B, NKV, G, T, HD)
  return g.reshape(x5, [0, 0, -1, n.HD]);
}
/** (B, NKV, G·T, HD) → (N, NH·HD). */
function unstackHeads(c: LowerCtx, x4: string, n: Node): string {
  const { g } = c;
  const G = n.NH / n.NKV;
  const x5 = g.transpose(g.reshape(x4, [0, 0, G, -1, n.HD]), [0, 3, 1, 2, 4]); // (B, T, NKV, G, HD)
  return g.reshape(x5, [-1, n.NH * n.HD]);
}
/** (N, NKV·HD) → (B, NKV, T, HD). */
function kvHeads(c: LowerCtx, x: string, n: Node): string {
  const { g } = c;
  const shape4 = g.op('Concat', [c.batch.shapeBT, g.i64([n.NKV, n.HD])], { axis: 0 });
  return g.transpose(g.reshape(x, shape4), [0, 2, 1, 3]);
}
/** (B, NKV, T, HD) → (N, NKV·HD). */
function kvUnheads(c: LowerCtx, x4: string, n: Node): string {
  return c.g.reshape(c.g.transpose(x4, [0, 2, 1, 3]), [-1, n.NKV * n.HD]);
}

export function attentionForward(c: LowerCtx, n: Node, idx: number): void {
  const { g } = c;
  const qs = g.mul(stackHeads(c, c.value(n.q), n), g.scalar(n.scale ?? 1 / Math.sqrt(n.HD))); // (B, NKV, G·T, HD)
  const k4 = kvHeads(c, c.value(n.k), n); // (B, NKV, T, HD)
  const v4 = kvHeads(c, c.value(n.v), n);
  const S = g.add(g.matmul(qs, g.transpose(k4, [0, 1, 3, 2])), c.batch.bias(n.window, n.causal ?? true)); // (B, NKV, G·T, T)
  const P = g.op('Softmax', [S], { axis: -1 });
  c.setValue(n.out, unstackHeads(c, g.matmul(P, v4), n));
  c.saved.set(idx, { qs, k4, v4, P });
}

export function attentionBackward(c: LowerCtx, n: Node, idx: number, dout: string): void {
  const { g } = c;
  const { qs, k4, v4, P } = c.saved.get(idx)!;
  const dO = stackHeads(c, dout, n); // (B, NKV, G·T, HD)
  const dP = g.matmul(dO, g.transpose(v4, [0, 1, 3, 2])); // (B, NKV, G·T, T)
  if (c.needsGrad(n.v)) c.addGrad(n.v, kvUnheads(c, g.matmul(g.transpose(P, [0, 1, 3, 2]), dO), n));
  const dS = g.mul(P, g.sub(dP, g.reduceSum(g.mul(dP, P), [-1])));
  if (c.needsGrad(n.q)) c.addGrad(n.q, unstackHeads(c, g.mul(g.matmul(dS, k4), g.scalar(n.scale ?? 1 / Math.sqrt(n.HD))), n));
  if (c.needsGrad(n.k)) c.addGrad(n.k, kvUnheads(c, g.matmul(g.transpose(dS, [0, 1, 3, 2]), qs), n));
}
