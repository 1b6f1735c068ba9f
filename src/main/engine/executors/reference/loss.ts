// The reference executor's loss over a program's logits: cross-entropy over rows (language modelling, and
// sequence classification with labels on first rows), or a task head's loss (Program.loss: regression MSE on each
// sequence's first row, extractive-QA span loss), forward and backward side by side on ops/*.ts. Per-sequence
// losses are reported on the sequence's first row of `nll`, so per-sequence sums read the same for every kind.

import type { Program } from '../../../model/ir.ts';
import type { BatchInputs } from '../../batch-inputs.ts';
import { crossEntropyBackward, crossEntropyForward } from '../../ops/cross-entropy.ts';
import { taskLossBackward, taskLossForward, type TaskTargets } from '../../ops/task-loss.ts';

export interface LossForward {
  lossSum: number;
  /** What lossSum is averaged over: trained tokens (cross-entropy), trained sequences (MSE, span). */
  tokens: number;
  nll: Float64Array; // (N)
  /** What backward needs (softmax probabilities for the cross-entropies). */
  probs: Float64Array;
}

const targetsOf = (inp: BatchInputs): TaskTargets => ({ targets: inp.regressionTargets, starts: inp.spanStarts, ends: inp.spanEnds });

export function lossForward(p: Program, logits: Float64Array, inp: BatchInputs): LossForward {
  const { B, T, N } = inp;
  if (p.loss) {
    const r = taskLossForward(p.loss, logits, B, T, targetsOf(inp));
    return { lossSum: r.lossSum, tokens: r.count, nll: r.nll, probs: r.probs };
  }
  const ce = crossEntropyForward(logits, inp.labels, N, p.vocab);
  return { lossSum: ce.lossSum, tokens: ce.tokens, nll: ce.nll, probs: ce.probs };
}

/** d lossSum / d logits, a fresh buffer. */
export function lossBackward(p: Program, logits: Float64Array, fwd: LossForward, inp: BatchInputs): Float64Array {
  const d = new Float64Array(logits.length);
  if (p.loss) taskLossBackward(p.loss, d, logits, fwd.probs, inp.B, inp.T, targetsOf(inp));
  else crossEntropyBackward(d, fwd.probs, inp.labels, inp.N, p.vocab);
  return d;
}
