// First-token pooling (BERT's pooler input, the [CLS] / <s> row): every row of a sequence gets that sequence's
// first row, so activations stay (N, width) like every other op's and a head run after it gives each row its
// sequence's pooled result (the loss reads one row per sequence: the first, where the batch puts the label).
// Rows of a sequence are B blocks of T consecutive rows; sequences are right-padded, so row b·T is a real token.

/** out (B·T, W): out[b, t] = x[b, 0]. */
export function firstTokenForward(out: Float64Array, x: Float64Array, B: number, T: number, W: number): void {
  for (let b = 0; b < B; b++) {
    const first = x.subarray(b * T * W, b * T * W + W);
    for (let t = 0; t < T; t++) out.set(first, (b * T + t) * W);
  }
}

/** dx (B·T, W) assigned: dx[b, 0] = Σ_t dout[b, t], other rows 0 (they are read by nobody downstream). */
export function firstTokenBackward(dx: Float64Array, dout: Float64Array, B: number, T: number, W: number): void {
  dx.fill(0);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++) {
      const o = (b * T + t) * W;
      for (let i = 0; i < W; i++) dx[b * T * W + i] += dout[o + i];
    }
}
