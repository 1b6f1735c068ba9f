// ReLU, y = max(0, x) (DistilBERT's classification head: pre_classifier → ReLU → classifier).
// The derivative at exactly 0 is taken as 0, as torch's relu backward does (grad · (y > 0)).

export function reluForward(out: Float64Array, x: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) out[i] = x[i] > 0 ? x[i] : 0;
}

/** dx = dout · [x > 0], assigned. */
export function reluBackward(dx: Float64Array, dout: Float64Array, x: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) dx[i] = x[i] > 0 ? dout[i] : 0;
}
