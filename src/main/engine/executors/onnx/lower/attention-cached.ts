// Attention for generation with a KV cache: the T new tokens' k/v are appended to the layer's past K/V
// (B, NKV, P, HD) and the new queries attend over all P + T keys. Same math as attention.ts's forward (GQA heads
// stacked along the query axis, additive bias, softmax), with the bias (B, 1, G·T, P + T) built by the caller for
// the absolute positions P … P+T−1. P = 0 is the prefill; T = 1 a decode step.
import type { OpNode } from '../../../../model/ir.ts';
import type { LowerCtx } from './context.ts';

type Node = Extract<OpNode, { op: 'attention' }>;

/** The q·k multiplier: the node's own (Gemma 3) or 1/√HD. */
export function attentionScale(n: Node): number {
  const s = (n as { scale?: unknown }).scale;
  return typeof s === 'number' ? s : 1 / Math.sqrt(n.HD);
}

export interface CachedKv {
  presentK: string; // (B, NKV, P+T, HD)
  presentV: string;
}

export function attentionForwardCached(c: LowerCtx, n: Node, pastK: string, pastV: string): CachedKv {
  const { g } = c;
  const G = n.NH / n.NKV;
  // (N, NH·HD) → (B, T, NKV, G, HD) → (B, NKV, G, T, HD) → (B, NKV, G·T, HD)
  const shape5 = g.op('Concat', [c.batch.shapeBT, g.i64([n.NKV, G, n.HD])], { axis: 0 });
  const q4 = g.reshape(g.transpose(g.reshape(c.value(n.q), shape5), [0, 2, 3, 1, 4]), [0, 0, -1, n.HD]);
  const qs = g.mul(q4, g.scalar(attentionScale(n)));
  const shape4 = g.op('Concat', [c.batch.shapeBT, g.i64([n.NKV, n.HD])], { axis: 0 });
  const heads = (x: string) => g.transpose(g.reshape(x, shape4), [0, 2, 1, 3]); // (B, NKV, T, HD)
  const presentK = g.op('Concat', [pastK, heads(c.value(n.k))], { axis: 2 });
  const presentV = g.op('Concat', [pastV, heads(c.value(n.v))], { axis: 2 });
  const S = g.add(g.matmul(qs, g.transpose(presentK, [0, 1, 3, 2])), c.batch.bias(n.window)); // (B, NKV, G·T, P+T)
  const O = g.matmul(g.op('Softmax', [S], { axis: -1 }), presentV); // (B, NKV, G·T, HD)
  const o5 = g.transpose(g.reshape(O, [0, 0, G, -1, n.HD]), [0, 3, 1, 2, 4]); // (B, T, NKV, G, HD)
  c.setValue(n.out, g.reshape(o5, [-1, n.NH * n.HD]));
  return { presentK, presentV };
}
