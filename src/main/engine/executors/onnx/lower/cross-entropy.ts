// Cross-entropy on logits (N, V): lp = LogSoftmax(logits) (one fused kernel), nll = −lp[label]·valid, summed.
// Backward (dloss = 1): dlogits = exp(lp)·valid − onehot(label)·valid, the one-hot subtracted with
// ScatterElements(reduction=add). Reusing lp avoids a second max/sum pass over the (N, V) logits.
import type { LowerCtx } from './context.ts';

export interface CeValues {
  nll: string; // (N, 1)
  lossSum: string; // scalar
  lp: string; // log-probabilities (N, V)
}

export function crossEntropyForward(c: LowerCtx, logits: string): CeValues {
  const { g } = c;
  const lp = g.op('LogSoftmax', [logits], { axis: -1 });
  const picked = g.op('GatherElements', [lp, c.batch.labelIdx], { axis: 1 });
  const nll = g.mul(g.op('Neg', [picked]), c.batch.labelValid);
  const lossSum = g.op('ReduceSum', [nll], { keepdims: 0 });
  return { nll, lossSum, lp };
}

/**
 * The input gradient of a frozen, bias-free head y = x·Wᵀ under this loss, without building dlogits:
 * dx = (softmax − onehot(label))·valid · W = valid ⊙ (softmax·W − W[label]). The one-hot becomes a Gather of N rows
 * of W (N, C) and the label mask a product over (N, C), instead of a Mul and a ScatterElements pass over (N, V).
 */
export function headLossInputGrad(c: LowerCtx, ce: CeValues, W: string, C: number): string {
  const { g } = c;
  const p = g.op('Exp', [ce.lp]); // (N, V)
  const picked = g.reshape(g.op('Gather', [W, c.batch.labelIdx], { axis: 0 }), [-1, C]); // (N, C): W[label]
  return g.mul(g.sub(g.matmul(p, W), picked), c.batch.labelValid);
}

export function crossEntropyBackward(c: LowerCtx, ce: CeValues): string {
  const { g } = c;
  const valid = c.batch.labelValid;
  const p = g.mul(g.op('Exp', [ce.lp]), valid);
  return g.op('ScatterElements', [p, c.batch.labelIdx, g.op('Neg', [valid])], { axis: 1, reduction: 'add' });
}
