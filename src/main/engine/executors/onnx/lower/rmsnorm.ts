// rmsnorm: y = x̂·w_eff, x̂ = x·rstd, rstd = 1/√(mean(x²)+eps); per-head norms reshape rows to (·, HD) first.
// Backward: dx = rstd·(g − x̂·mean(g·x̂)), g = dy·w_eff; dw = Σ_rows dy·x̂.
import type { OpNode } from '../../../../model/ir.ts';
import type { LowerCtx } from './context.ts';

type Node = Extract<OpNode, { op: 'rmsnorm' }>;

function weightEff(c: LowerCtx, n: Node): string {
  return n.plusOne ? c.g.add(c.value(n.weight), c.g.scalar(1)) : c.value(n.weight);
}

export function rmsnormForward(c: LowerCtx, n: Node, idx: number, rowWidth: number): void {
  const { g } = c;
  const perHead = rowWidth !== n.width;
  const x = perHead ? g.reshape(c.value(n.x), [-1, n.width]) : c.value(n.x); // (R, W)
  const ms = g.reduceMean(g.mul(x, x), [-1]);
  const rstd = g.op('Pow', [g.add(ms, g.scalar(n.eps)), g.scalar(-0.5)]); // (R, 1)
  const xhat = g.mul(x, rstd);
  let y = g.mul(xhat, weightEff(c, n));
  if (perHead) y = g.reshape(y, [-1, rowWidth]);
  c.setValue(n.out, y);
  c.saved.set(idx, { xhat, rstd });
}

export function rmsnormBackward(c: LowerCtx, n: Node, idx: number, dout: string, rowWidth: number): void {
  const { g } = c;
  const { xhat, rstd } = c.saved.get(idx)!;
  const perHead = rowWidth !== n.width;
  const dy = perHead ? g.reshape(dout, [-1, n.width]) : dout;
  if (c.needsGrad(n.weight)) c.addGrad(n.weight, g.reduceSum(g.mul(dy, xhat), [0], 0));
  if (!c.needsGrad(n.x)) return;
  const gw = g.mul(dy, weightEff(c, n));
  const mean = g.reduceMean(g.mul(gw, xhat), [-1]);
  let dx = g.mul(rstd, g.sub(gw, g.mul(xhat, mean)));
  if (perHead) dx = g.reshape(dx, [-1, rowWidth]);
  c.addGrad(n.x, dx);
}
