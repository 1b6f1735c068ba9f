// rope on (N, H·HD) viewed as (N, H, HD): y = x·cos + rotate_half(x)·sin with cos/sin (N, 1, HD) batch inputs.
// rotate_half(x) = [−x2, x1] is written as x·R with a constant (HD, HD) signed permutation R: one small MatMul
// instead of Slice/Slice/Neg/Concat — fewer kernels per layer, which is what costs on a busy CPU.
// Backward applies the transposed rotation: dx = dy·cos + (dy·sin)·Rᵀ.
import type { OpNode } from '../../../../model/ir.ts';
import type { LowerCtx } from './context.ts';

type Node = Extract<OpNode, { op: 'rope' }>;

/** R (HD, HD) with x·R = [−x2, x1]: column j < h takes −x[j + h], column j ≥ h takes x[j − h]. */
function rotation(c: LowerCtx, HD: number, transpose: boolean): string {
  const h = HD / 2;
  const R = new Float64Array(HD * HD);
  for (let j = 0; j < h; j++) {
    R[(j + h) * HD + j] = -1; // row j+h, column j
    R[j * HD + (j + h)] = 1; // row j, column j+h
  }
  const M = transpose ? R.map((_, i) => R[(i % HD) * HD + Math.floor(i / HD)]) : R;
  return c.g.floatInit(c.g.fresh(transpose ? 'rope_rotT' : 'rope_rot'), [HD, HD], M);
}

/** cos/sin (N, 1, HD): the program's global tables, or its local ones (Gemma 3 sliding layers). */
function tables(c: LowerCtx, n: Node): [string, string] {
  return n.local ? [c.batch.cosLocal!, c.batch.sinLocal!] : [c.batch.cos!, c.batch.sin!];
}

const rots = new WeakMap<LowerCtx, Map<string, string>>();
function cachedRotation(c: LowerCtx, HD: number, transpose: boolean): string {
  let m = rots.get(c);
  if (!m) rots.set(c, (m = new Map()));
  const key = `${HD}:${transpose}`;
  if (!m.has(key)) m.set(key, rotation(c, HD, transpose));
  return m.get(key)!;
}

export function ropeForward(c: LowerCtx, n: Node): void {
  const { g } = c;
  const [cos, sin] = tables(c, n);
  const x = g.reshape(c.value(n.x), [-1, n.heads, n.headDim]);
  const rot = g.matmul(x, cachedRotation(c, n.headDim, false));
  const y = g.add(g.mul(x, cos), g.mul(rot, sin));
  c.setValue(n.out, g.reshape(y, [-1, n.heads * n.headDim]));
}

export function ropeBackward(c: LowerCtx, n: Node, dout: string): void {
  if (!c.needsGrad(n.x)) return;
  const { g } = c;
  const [cos, sin] = tables(c, n);
  const dy = g.reshape(dout, [-1, n.heads, n.headDim]);
  const back = g.matmul(g.mul(dy, sin), cachedRotation(c, n.headDim, true));
  c.addGrad(n.x, g.reshape(g.add(g.mul(dy, cos), back), [-1, n.heads * n.headDim]));
}
