// First-token pooling (ops/pooling.ts): each sequence's first row broadcast over its T rows, forward and backward
// side by side. Rows are viewed as (B, T, W) through the batch's [B, T] shape.
import type { OpNode } from '../../../../model/ir.ts';
import type { LowerCtx } from './context.ts';

type Node = Extract<OpNode, { op: 'first_token' }>;

const shapeBTW = (c: LowerCtx, W: number) => c.g.op('Concat', [c.batch.shapeBT, c.g.i64([W])], { axis: 0 });

export function firstTokenForward(c: LowerCtx, n: Node): void {
  const { g } = c;
  const shape = shapeBTW(c, n.width);
  const first = g.op('Slice', [g.reshape(c.value(n.x), shape), g.i64([0]), g.i64([1]), g.i64([1])]); // (B, 1, W)
  c.setValue(n.out, g.reshape(g.op('Expand', [first, shape]), [-1, n.width]));
}

/** dx[b, 0] = Σ_t dout[b, t]; the other rows' gradient is 0. */
export function firstTokenBackward(c: LowerCtx, n: Node, dout: string): void {
  if (!c.needsGrad(n.x)) return;
  const { g } = c;
  const d3 = g.reshape(dout, shapeBTW(c, n.width));
  const summed = g.reduceSum(d3, [1]); // (B, 1, W)
  const rest = g.mul(g.op('Slice', [d3, g.i64([1]), g.i64([2 ** 62]), g.i64([1])]), g.scalar(0)); // (B, T − 1, W) zeros
  c.addGrad(n.x, g.reshape(g.op('Concat', [summed, rest], { axis: 1 }), [-1, n.width]));
}
