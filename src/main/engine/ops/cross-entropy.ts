// Cross-entropy over already-shifted labels (label[n] is the target of row n; −100 = not trained).
// Returns the SUMMED negative log-likelihood and the trained-token count: averaging happens once per optimizer
// update over all micro-batches (token-weighted gradient accumulation), not per micro-batch.

export const IGNORE_INDEX = -100;

export interface CrossEntropyResult {
  lossSum: number;
  tokens: number;
  nll: Float64Array; // (N) per row, 0 where ignored
  probs: Float64Array; // (N, V) softmax, saved for backward
}

export function crossEntropyForward(logits: Float64Array, labels: Int32Array, N: number, V: number): CrossEntropyResult {
  const nll = new Float64Array(N);
  const probs = new Float64Array(N * V);
  let lossSum = 0;
  let tokens = 0;
  for (let n = 0; n < N; n++) {
    const o = n * V;
    let max = -Infinity;
    for (let c = 0; c < V; c++) if (logits[o + c] > max) max = logits[o + c];
    let sum = 0;
    for (let c = 0; c < V; c++) sum += probs[o + c] = Math.exp(logits[o + c] - max);
    for (let c = 0; c < V; c++) probs[o + c] /= sum;
    const y = labels[n];
    if (y === IGNORE_INDEX) continue;
    if (y < 0 || y >= V) throw new Error(`cross-entropy: label ${y} at row ${n} is outside [0, ${V}) and is not ${IGNORE_INDEX}`);
    nll[n] = Math.log(sum) + max - logits[o + y];
    lossSum += nll[n];
    tokens++;
  }
  return { lossSum, tokens, nll, probs };
}

/** dlogits (N, V) = dloss · (softmax − onehot(label)) on trained rows, 0 on ignored rows. Assigned. */
export function crossEntropyBackward(
  dlogits: Float64Array, probs: Float64Array, labels: Int32Array, N: number, V: number, dloss = 1,
): void {
  for (let n = 0; n < N; n++) {
    const o = n * V;
    const y = labels[n];
    if (y === IGNORE_INDEX) {
      dlogits.fill(0, o, o + V);
      continue;
    }
    for (let c = 0; c < V; c++) dlogits[o + c] = dloss * probs[o + c];
    dlogits[o + y] -= dloss;
  }
}
