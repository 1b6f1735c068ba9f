// Token embedding: out[n] = wte[ids[n]]. Backward scatters dout rows back into the table (only when trainable).

/** out (N, C) ← wte (V, C) rows picked by ids (N). Throws on an id outside [0, V). */
export function embeddingForward(out: Float64Array, ids: Int32Array, wte: Float64Array, N: number, C: number, V: number): void {
  for (let n = 0; n < N; n++) {
    const id = ids[n];
    if (id < 0 || id >= V) throw new Error(`embedding: token id ${id} at position ${n} is outside the vocabulary [0, ${V})`);
    out.set(wte.subarray(id * C, id * C + C), n * C);
  }
}

/** dwte (V, C) += dout (N, C) scattered by ids (N); a repeated id sums its rows. */
export function embeddingBackward(dwte: Float64Array, dout: Float64Array, ids: Int32Array, N: number, C: number): void {
  for (let n = 0; n < N; n++) {
    const base = ids[n] * C;
    for (let c = 0; c < C; c++) dwte[base + c] += dout[n * C + c];
  }
}
