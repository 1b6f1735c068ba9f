// Learned absolute positions (GPT-2): Gather rows of the position table by each token's position id (a batch
// input derived from the attention mask, like rope's tables). Backward scatters into the table when trainable.
import type { OpNode } from '../../../../model/ir.ts';
import type { LowerCtx } from './context.ts';

type Node = Extract<OpNode, { op: 'position_embedding' }>;

function positionIds(c: LowerCtx): string {
  if (!c.batch.positions) throw new Error('ONNX lowering: this graph has no position ids input for a learned position table');
  return c.batch.positions();
}

export function positionEmbeddingForward(c: LowerCtx, n: Node): void {
  c.setValue(n.out, c.g.op('Gather', [c.value(n.weight), positionIds(c)], { axis: 0 })); // (N, C)
}

export function positionEmbeddingBackward(c: LowerCtx, n: Node, dout: string): void {
  if (!c.needsGrad(n.weight)) return;
  const { g } = c;
  const zeros = g.op('Mul', [c.value(n.weight), g.scalar(0)]);
  const idx = g.op('Unsqueeze', [positionIds(c), g.i64([1])]); // (N, 1)
  c.addGrad(n.weight, g.op('ScatterND', [zeros, idx, dout], { reduction: 'add' }));
}
