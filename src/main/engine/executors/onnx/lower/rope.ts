// rope on (N, H·HD) viewed as (N, H, HD): y = x·cos + [−x2, x1]·sin with cos/sin (N, 1, HD) batch inputs.
// Backward applies the transposed rotation: dx = dy·cos + [u2, −u1], u = dy·sin.
import type { OpNode } from '../../../ir.ts';
import type { LowerCtx } from './context.ts';

type Node = Extract<OpNode, { op: 'rope' }>;

function halves(c: LowerCtx, x: string, HD: number): [string, string] {
  const { g } = c;
  const h = HD / 2;
  return [
    g.op('Slice', [x, g.i64([0]), g.i64([h]), g.i64([2])]),
    g.op('Slice', [x, g.i64([h]), g.i64([HD]), g.i64([2])]),
  ];
}

/** cos/sin (N, 1, HD): the program's global tables, or its local ones (Gemma 3 sliding layers). */
function tables(c: LowerCtx, n: Node): [string, string] {
  return n.local ? [c.batch.cosLocal!, c.batch.sinLocal!] : [c.batch.cos!, c.batch.sin!];
}

export function ropeForward(c: LowerCtx, n: Node): void {
  const { g } = c;
  const [cos, sin] = tables(c, n);
  const x = g.reshape(c.value(n.x), [-1, n.heads, n.headDim]);
  const [x1, x2] = halves(c, x, n.headDim);
  const rot = g.op('Concat', [g.op('Neg', [x2]), x1], { axis: 2 });
  const y = g.add(g.mul(x, cos), g.mul(rot, sin));
  c.setValue(n.out, g.reshape(y, [-1, n.heads * n.headDim]));
}

export function ropeBackward(c: LowerCtx, n: Node, dout: string): void {
  if (!c.needsGrad(n.x)) return;
  const { g } = c;
  const [cos, sin] = tables(c, n);
  const dy = g.reshape(dout, [-1, n.heads, n.headDim]);
  const [u1, u2] = halves(c, g.mul(dy, sin), n.headDim);
  const dx = g.add(g.mul(dy, cos), g.op('Concat', [u2, g.op('Neg', [u1])], { axis: 2 }));
  c.addGrad(n.x, g.reshape(dx, [-1, n.heads * n.headDim]));
}
