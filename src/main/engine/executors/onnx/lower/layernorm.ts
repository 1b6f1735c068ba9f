// layernorm: y = x̂·w + b, x̂ = (x − mean)·rstd. Backward: dx = rstd·(g − mean(g) − x̂·mean(g·x̂)), g = dy·w.
import type { OpNode } from '../../../../model/ir.ts';
import type { LowerCtx } from './context.ts';

type Node = Extract<OpNode, { op: 'layernorm' }>;

export function layernormForward(c: LowerCtx, n: Node, idx: number): void {
  const { g } = c;
  const x = c.value(n.x);
  const xc = g.sub(x, g.reduceMean(x, [-1]));
  const rstd = g.op('Reciprocal', [g.op('Sqrt', [g.add(g.reduceMean(g.mul(xc, xc), [-1]), g.scalar(n.eps))])]);
  const xhat = g.mul(xc, rstd);
  c.setValue(n.out, g.add(g.mul(xhat, c.value(n.weight)), c.value(n.bias)));
  c.saved.set(idx, { xhat, rstd });
}

export function layernormBackward(c: LowerCtx, n: Node, idx: number, dout: string): void {
  const { g } = c;
  const { xhat, rstd } = c.saved.get(idx)!;
  if (c.needsGrad(n.weight)) c.addGrad(n.weight, g.reduceSum(g.mul(dout, xhat), [0], 0));
  if (c.needsGrad(n.bias)) c.addGrad(n.bias, g.reduceSum(dout, [0], 0));
  if (!c.needsGrad(n.x)) return;
  const gw = g.mul(dout, c.value(n.weight));
  const inner = g.sub(g.sub(gw, g.reduceMean(gw, [-1])), g.mul(xhat, g.reduceMean(g.mul(gw, xhat), [-1])));
  c.addGrad(n.x, g.mul(rstd, inner));
}
