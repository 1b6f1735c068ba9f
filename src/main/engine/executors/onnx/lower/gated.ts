// Gemma's pieces built from the same elementwise forms: GeGLU (gelu_tanh(gate) ⊙ up) and final logit
// soft-capping (cap · tanh(x / cap)), forward and backward side by side.
import type { OpNode } from '../../../../model/ir.ts';
import type { LowerCtx } from './context.ts';

type Geglu = Extract<OpNode, { op: 'geglu' }>;
type Softcap = Extract<OpNode, { op: 'softcap' }>;

const K = Math.sqrt(2 / Math.PI);

export function gegluForward(c: LowerCtx, n: Geglu, idx: number): void {
  const { g } = c;
  const a = c.value(n.gate);
  const a2 = g.mul(a, a);
  const th = g.op('Tanh', [g.mul(g.scalar(K), g.add(a, g.mul(g.scalar(0.044715), g.mul(a2, a))))]);
  const gelu = g.mul(g.mul(g.scalar(0.5), a), g.add(g.scalar(1), th));
  c.setValue(n.out, g.mul(gelu, c.value(n.up)));
  c.saved.set(idx, { th, a2, gelu });
}

/** dup = dy·gelu(a); dgate = dy·up·(0.5(1 + th) + 0.5·a·(1 − th²)·k·(1 + 3·0.044715·a²)). */
export function gegluBackward(c: LowerCtx, n: Geglu, idx: number, dout: string): void {
  const { g } = c;
  const { th, a2, gelu } = c.saved.get(idx)!;
  if (c.needsGrad(n.up)) c.addGrad(n.up, g.mul(dout, gelu));
  if (!c.needsGrad(n.gate)) return;
  const a = c.value(n.gate);
  const left = g.mul(g.scalar(0.5), g.add(g.scalar(1), th));
  const sech2 = g.sub(g.scalar(1), g.mul(th, th));
  const inner = g.mul(g.scalar(K), g.add(g.scalar(1), g.mul(g.scalar(3 * 0.044715), a2)));
  const right = g.mul(g.mul(g.scalar(0.5), a), g.mul(sech2, inner));
  c.addGrad(n.gate, g.mul(g.mul(dout, c.value(n.up)), g.add(left, right)));
}

export function softcapForward(c: LowerCtx, n: Softcap, idx: number): void {
  const { g } = c;
  const t = g.op('Tanh', [g.mul(c.value(n.x), g.scalar(1 / n.cap))]);
  c.setValue(n.out, g.mul(t, g.scalar(n.cap)));
  c.saved.set(idx, { t });
}

/** dx = dy·(1 − tanh²(x / cap)). */
export function softcapBackward(c: LowerCtx, n: Softcap, idx: number, dout: string): void {
  if (!c.needsGrad(n.x)) return;
  const { g } = c;
  const { t } = c.saved.get(idx)!;
  c.addGrad(n.x, g.mul(dout, g.sub(g.scalar(1), g.mul(t, t))));
}
