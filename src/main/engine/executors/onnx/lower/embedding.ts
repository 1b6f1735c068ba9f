// embedding: Gather rows of the table. Backward (only for a trainable table, i.e. full fine-tuning) scatters
// with ScatterND reduction=add into zeros of the table's shape.
import type { OpNode } from '../../../../model/ir.ts';
import type { LowerCtx } from './context.ts';

type Node = Extract<OpNode, { op: 'embedding' }>;

export function embeddingForward(c: LowerCtx, n: Node): void {
  const { g } = c;
  let y = g.op('Gather', [c.value(n.weight), c.batch.ids], { axis: 0 }); // (N, C)
  if (n.scale !== 1) y = g.mul(y, g.scalar(n.scale));
  c.setValue(n.out, y);
}

export function embeddingBackward(c: LowerCtx, n: Node, dout: string): void {
  if (!c.needsGrad(n.weight)) return;
  const { g } = c;
  const d = n.scale !== 1 ? g.mul(dout, g.scalar(n.scale)) : dout;
  const zeros = g.op('Mul', [c.value(n.weight), g.scalar(0)]);
  const idx = g.op('Unsqueeze', [c.batch.ids, g.i64([1])]); // (N, 1)
  c.addGrad(n.weight, g.op('ScatterND', [zeros, idx, d], { reduction: 'add' }));
}
