// Soft-capping (Gemma's final_logit_softcapping): y = cap · tanh(x / cap), smooth and bounded by ±cap.

export function softcapForward(out: Float64Array, x: Float64Array, n: number, cap: number): void {
  for (let i = 0; i < n; i++) out[i] = cap * Math.tanh(x[i] / cap);
}

/** dx = dout · (1 − tanh²(x / cap)), assigned. */
export function softcapBackward(dx: Float64Array, dout: Float64Array, x: Float64Array, n: number, cap: number): void {
  for (let i = 0; i < n; i++) {
    const t = Math.tanh(x[i] / cap);
    dx[i] = dout[i] * (1 - t * t);
  }
}
