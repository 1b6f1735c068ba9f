// The reference executor's loss over a program's logits: cross-entropy over rows (language modelling, and
// sequence classification with labels on first rows), or a task head's loss (Program.loss: regression MSE on each
// sequence's first row, extractive-QA span loss), forward and backward side by side on ops/*.ts. Per-sequence
// losses are reported on the sequence's first row of `nll`, so per-sequence sums read the same for every kind.

import type { Program } from '../../../model/ir.ts';
import type { BatchInputs } from '../../batch-inputs.ts';
import { crossEntropyBackward, crossEntropyForward } from '../../ops/cross-entropy.ts';
import { mseBackward, mseForward, spanLossBackward, spanLossForward } from '../../ops/task-loss.ts';

export interface LossForward {
  lossSum: number;
  /** What lossSum is averaged over: trained tokens (cross-entropy), trained sequences (MSE, span). */
  tokens: number;
  nll: Float64Array; // (N)
  /** What backward needs (softmax probabilities for the cross-entropies). */
  probs: Float64Array;
}

const firstRows = (inp: BatchInputs) => Int32Array.from({ length: inp.B }, (_, b) => b * inp.T);

export function lossForward(p: Program, logits: Float64Array, inp: BatchInputs): LossForward {
  const { B, T, N } = inp;
  const nll = new Float64Array(N);
  if (p.loss === 'mse') {
    const rows = firstRows(inp);
    const t = inp.regressionTargets!;
    for (let b = 0; b < B; b++) if (!Number.isNaN(t[b])) nll[rows[b]] = (logits[rows[b]] - t[b]) ** 2;
    const r = mseForward(logits, rows, t);
    return { lossSum: r.lossSum, tokens: r.count, nll, probs: new Float64Array(0) };
  }
  if (p.loss === 'span') {
    const r = spanLossForward(logits, inp.spanStarts!, inp.spanEnds!, B, T);
    for (let b = 0; b < B; b++) {
      const one = spanLossForward(logits.subarray(b * T * 2, (b + 1) * T * 2), inp.spanStarts!.subarray(b, b + 1), inp.spanEnds!.subarray(b, b + 1), 1, T);
      nll[b * T] = one.lossSum;
    }
    return { lossSum: r.lossSum, tokens: r.count, nll, probs: r.probs };
  }
  const ce = crossEntropyForward(logits, inp.labels, N, p.vocab);
  return { lossSum: ce.lossSum, tokens: ce.tokens, nll: ce.nll, probs: ce.probs };
}

/** d lossSum / d logits, a fresh buffer. */
export function lossBackward(p: Program, logits: Float64Array, fwd: LossForward, inp: BatchInputs): Float64Array {
  const d = new Float64Array(logits.length);
  if (p.loss === 'mse') mseBackward(d, logits, firstRows(inp), inp.regressionTargets!);
  else if (p.loss === 'span') spanLossBackward(d, fwd.probs, inp.spanStarts!, inp.spanEnds!, inp.B, inp.T);
  else crossEntropyBackward(d, fwd.probs, inp.labels, inp.N, p.vocab);
  return d;
}
