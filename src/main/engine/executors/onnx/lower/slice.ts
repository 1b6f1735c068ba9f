// Column slice of a 2-D activation (GPT-2's fused c_attn output split into q, k, v). Backward pads the slice's
// gradient back to the input width with zeros; the three slices' gradients then sum into c_attn's output.
import type { OpNode } from '../../../../model/ir.ts';
import type { LowerCtx } from './context.ts';

type Node = Extract<OpNode, { op: 'slice' }>;

export function sliceForward(c: LowerCtx, n: Node): void {
  const { g } = c;
  c.setValue(n.out, g.op('Slice', [c.value(n.x), g.i64([n.start]), g.i64([n.start + n.width]), g.i64([1])]));
}

export function sliceBackward(c: LowerCtx, n: Node, dout: string): void {
  if (!c.needsGrad(n.x)) return;
  const { g } = c;
  const pads = g.i64([0, n.start, 0, n.inWidth - n.start - n.width]); // (begin rows, begin cols, end rows, end cols)
  c.addGrad(n.x, g.op('Pad', [dout, pads]));
}
