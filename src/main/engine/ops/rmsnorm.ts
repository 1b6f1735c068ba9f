// RMSNorm over the last dimension: y = x / sqrt(mean(x²) + eps) · w, or · (1 + w) in Gemma's form.
// Also used per head for Qwen3/Gemma 3 q/k norms (rows = N·heads, width = HD).

/** out (R, W), rstd (R) saved for backward; x (R, W); w (W). */
export function rmsnormForward(
  out: Float64Array, rstd: Float64Array, x: Float64Array, w: Float64Array,
  R: number, W: number, eps: number, plusOne: boolean,
): void {
  for (let r = 0; r < R; r++) {
    const o = r * W;
    let ss = 0;
    for (let i = 0; i < W; i++) ss += x[o + i] * x[o + i];
    const s = 1 / Math.sqrt(ss / W + eps);
    rstd[r] = s;
    for (let i = 0; i < W; i++) out[o + i] = x[o + i] * s * (plusOne ? 1 + w[i] : w[i]);
  }
}

/**
 * dx (R, W) = rstd · (g − x̂ · mean(g · x̂)) with g = dout · w_eff and x̂ = x · rstd (the normalisation's Jacobian);
 * dw (W) += Σ_r dout · x̂ (null when frozen). The (1 + w) form has the same dw because d(1+w)/dw = 1.
 */
export function rmsnormBackward(
  dx: Float64Array, dw: Float64Array | null, dout: Float64Array, x: Float64Array, w: Float64Array, rstd: Float64Array,
  R: number, W: number, plusOne: boolean,
): void {
  for (let r = 0; r < R; r++) {
    const o = r * W;
    const s = rstd[r];
    let dot = 0; // Σ g·x̂
    for (let i = 0; i < W; i++) dot += dout[o + i] * (plusOne ? 1 + w[i] : w[i]) * x[o + i] * s;
    const mean = dot / W;
    for (let i = 0; i < W; i++) {
      const xhat = x[o + i] * s;
      const g = dout[o + i] * (plusOne ? 1 + w[i] : w[i]);
      dx[o + i] = s * (g - xhat * mean);
      if (dw) dw[i] += dout[o + i] * xhat;
    }
  }
}
