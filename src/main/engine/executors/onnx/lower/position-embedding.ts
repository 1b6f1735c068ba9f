// Tables read by a per-token batch index rather than the token id: learned absolute positions (GPT-2, BERT;
// RoBERTa's offset past its padding row) and token types (BERT's segment embeddings). Gather rows of the table by
// the index input (derived from the batch like rope's tables); backward scatters into the table when trainable.
import type { OpNode } from '../../../../model/ir.ts';
import type { LowerCtx } from './context.ts';

type Node = Extract<OpNode, { op: 'position_embedding' }>;
type TokenTypeNode = Extract<OpNode, { op: 'token_type_embedding' }>;

function positionIds(c: LowerCtx, n: Node): string {
  if (!c.batch.positions) throw new Error('ONNX lowering: this graph has no position ids input for a learned position table');
  const ids = c.batch.positions();
  return n.offset ? c.g.op('Add', [ids, c.g.i64([n.offset])]) : ids;
}

function tokenTypeIds(c: LowerCtx): string {
  if (!c.batch.tokenTypes) throw new Error('ONNX lowering: this graph has no token type ids input for a token-type table');
  return c.batch.tokenTypes();
}

function gatherForward(c: LowerCtx, n: Node | TokenTypeNode, idx: string): void {
  c.setValue(n.out, c.g.op('Gather', [c.value(n.weight), idx], { axis: 0 })); // (N, C)
}

function scatterBackward(c: LowerCtx, n: Node | TokenTypeNode, idx: string, dout: string): void {
  if (!c.needsGrad(n.weight)) return;
  const { g } = c;
  const zeros = g.op('Mul', [c.value(n.weight), g.scalar(0)]);
  c.addGrad(n.weight, g.op('ScatterND', [zeros, g.op('Unsqueeze', [idx, g.i64([1])]), dout], { reduction: 'add' }));
}

export const positionEmbeddingForward = (c: LowerCtx, n: Node) => gatherForward(c, n, positionIds(c, n));
export const positionEmbeddingBackward = (c: LowerCtx, n: Node, dout: string) => scatterBackward(c, n, positionIds(c, n), dout);
export const tokenTypeEmbeddingForward = (c: LowerCtx, n: TokenTypeNode) => gatherForward(c, n, tokenTypeIds(c));
export const tokenTypeEmbeddingBackward = (c: LowerCtx, n: TokenTypeNode, dout: string) => scatterBackward(c, n, tokenTypeIds(c), dout);
