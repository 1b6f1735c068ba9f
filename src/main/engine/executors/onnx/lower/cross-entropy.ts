// Cross-entropy on logits (N, V): nll = (logsumexp − logit[label])·valid, summed. Backward (dloss = 1):
// dlogits = softmax·valid − onehot(label)·valid, the one-hot subtracted with ScatterElements(reduction=add).
import type { LowerCtx } from './context.ts';

export interface CeValues {
  nll: string; // (N, 1)
  lossSum: string; // scalar
  e: string; // exp(logits − max) (N, V)
  s: string; // Σ e (N, 1)
}

export function crossEntropyForward(c: LowerCtx, logits: string): CeValues {
  const { g } = c;
  const m = g.reduceMax(logits, [-1]);
  const e = g.op('Exp', [g.sub(logits, m)]);
  const s = g.reduceSum(e, [-1]);
  const lse = g.add(g.op('Log', [s]), m);
  const picked = g.op('GatherElements', [logits, c.batch.labelIdx], { axis: 1 });
  const nll = g.mul(g.sub(lse, picked), c.batch.labelValid);
  const lossSum = g.op('ReduceSum', [nll], { keepdims: 0 });
  return { nll, lossSum, e, s };
}

export function crossEntropyBackward(c: LowerCtx, ce: CeValues): string {
  const { g } = c;
  const valid = c.batch.labelValid;
  const p = g.mul(g.div(ce.e, ce.s), valid);
  return g.op('ScatterElements', [p, c.batch.labelIdx, g.op('Neg', [valid])], { axis: 1, reduction: 'add' });
}
