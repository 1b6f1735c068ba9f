// Losses of encoder task heads besides cross-entropy over rows (cross-entropy.ts, which is already the
// sequence-classification loss when the batch puts each sequence's label on its first row, after first-token
// pooling, and −100 on the others). Like cross-entropy.ts they return a SUM and a count; the caller averages.
// - regression (num_labels = 1): transformers' MSELoss, (logit − target)², over one row per sequence;
// - extractive QA (transformers' …ForQuestionAnswering): logits (N, 2) → start/end logits per position,
//   cross-entropy of each over the T positions of its sequence, loss = (start + end) / 2. A gold position outside
//   [0, T) was clamped by transformers to T = its ignore_index: that side of that sequence is not trained.

/**
 * What each sequence adds to a task loss's count (lossSum / Σ count is the mean the optimizer uses): MSE 1 per
 * trained target; span ½ per trained side.
 */
export function taskCounts(loss: 'mse' | 'span', B: number, T: number, t: { targets?: Float64Array | null; starts?: Int32Array | null; ends?: Int32Array | null }): Float64Array {
  const inRange = (x: number) => (x >= 0 && x < T ? 0.5 : 0);
  return Float64Array.from({ length: B }, (_, b) => (loss === 'mse' ? (Number.isNaN(t.targets![b]) ? 0 : 1) : inRange(t.starts![b]) + inRange(t.ends![b])));
}

/** Sum of (pred[rows[b]] − target[b])² over sequences whose target is not NaN (NaN = not trained). */
export function mseForward(pred: Float64Array, rows: Int32Array, target: Float64Array): { lossSum: number; count: number } {
  let lossSum = 0;
  let count = 0;
  for (let b = 0; b < rows.length; b++) {
    if (Number.isNaN(target[b])) continue;
    const d = pred[rows[b]] - target[b];
    lossSum += d * d;
    count++;
  }
  return { lossSum, count };
}

/** dpred (N) assigned: 2·(pred − target)·dloss on each trained sequence's row, 0 elsewhere. */
export function mseBackward(dpred: Float64Array, pred: Float64Array, rows: Int32Array, target: Float64Array, dloss = 1): void {
  dpred.fill(0);
  for (let b = 0; b < rows.length; b++) if (!Number.isNaN(target[b])) dpred[rows[b]] = 2 * (pred[rows[b]] - target[b]) * dloss;
}

export interface SpanLossResult {
  /** Σ over sequences of (start NLL + end NLL) / 2, each side only where its position is in range. */
  lossSum: number;
  /** Trained sides / 2: lossSum / count is transformers' (start_loss + end_loss) / 2 when both sides are trained. */
  count: number;
  probs: Float64Array; // (B, 2, T) softmax over positions, saved for backward
  perSequence: Float64Array; // (B) each sequence's share of lossSum
}

/** logits (B·T, 2): column 0 start, column 1 end; starts, ends (B) gold positions within the sequence. */
export function spanLossForward(logits: Float64Array, starts: Int32Array, ends: Int32Array, B: number, T: number): SpanLossResult {
  const probs = new Float64Array(B * 2 * T);
  const perSequence = new Float64Array(B);
  let lossSum = 0;
  let sides = 0;
  for (let b = 0; b < B; b++)
    for (let side = 0; side < 2; side++) {
      const gold = (side === 0 ? starts : ends)[b];
      const p = probs.subarray((b * 2 + side) * T, (b * 2 + side + 1) * T);
      let max = -Infinity;
      for (let t = 0; t < T; t++) max = Math.max(max, logits[(b * T + t) * 2 + side]);
      let sum = 0;
      for (let t = 0; t < T; t++) sum += p[t] = Math.exp(logits[(b * T + t) * 2 + side] - max);
      for (let t = 0; t < T; t++) p[t] /= sum;
      if (gold < 0 || gold >= T) continue;
      const half = (Math.log(sum) + max - logits[(b * T + gold) * 2 + side]) / 2;
      perSequence[b] += half;
      lossSum += half;
      sides++;
    }
  return { lossSum, count: sides / 2, probs, perSequence };
}

/** dlogits (B·T, 2) assigned: dloss/2 · (softmax − onehot(gold)) over each trained side's positions, else 0. */
export function spanLossBackward(
  dlogits: Float64Array, probs: Float64Array, starts: Int32Array, ends: Int32Array, B: number, T: number, dloss = 1,
): void {
  dlogits.fill(0);
  for (let b = 0; b < B; b++)
    for (let side = 0; side < 2; side++) {
      const gold = (side === 0 ? starts : ends)[b];
      if (gold < 0 || gold >= T) continue;
      for (let t = 0; t < T; t++) dlogits[(b * T + t) * 2 + side] = (dloss / 2) * (probs[(b * 2 + side) * T + t] - (t === gold ? 1 : 0));
    }
}

export interface TaskTargets {
  targets?: Float64Array | null; // (B) regression
  starts?: Int32Array | null; // (B) span
  ends?: Int32Array | null;
}

/**
 * A task loss as every executor reports it: the sum and its count, and each sequence's loss on its first row of
 * `nll` (N) so per-sequence sums read the same as cross-entropy's per-token NLL; `probs` is what backward needs.
 */
export function taskLossForward(loss: 'mse' | 'span', logits: Float64Array, B: number, T: number, t: TaskTargets) {
  const nll = new Float64Array(B * T);
  if (loss === 'mse') {
    const target = t.targets!;
    for (let b = 0; b < B; b++) if (!Number.isNaN(target[b])) nll[b * T] = (logits[b * T] - target[b]) ** 2;
    const r = mseForward(logits, firstRows(B, T), target);
    return { lossSum: r.lossSum, count: r.count, nll, probs: new Float64Array(0) };
  }
  const r = spanLossForward(logits, t.starts!, t.ends!, B, T);
  r.perSequence.forEach((x, b) => (nll[b * T] = x));
  return { lossSum: r.lossSum, count: r.count, nll, probs: r.probs };
}

/** dlogits assigned: d lossSum / d logits of a task loss, from taskLossForward's probs. */
export function taskLossBackward(loss: 'mse' | 'span', dlogits: Float64Array, logits: Float64Array, probs: Float64Array, B: number, T: number, t: TaskTargets): void {
  if (loss === 'mse') mseBackward(dlogits, logits, firstRows(B, T), t.targets!);
  else spanLossBackward(dlogits, probs, t.starts!, t.ends!, B, T);
}

const firstRows = (B: number, T: number) => Int32Array.from({ length: B }, (_, b) => b * T);
