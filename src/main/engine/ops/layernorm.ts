// LayerNorm over the last dimension (GPT-2): y = (x − mean) / sqrt(var + eps) · w + b.

/** out (R, W); mean, rstd (R) saved for backward; x (R, W); w, b (W). */
export function layernormForward(
  out: Float64Array, mean: Float64Array, rstd: Float64Array, x: Float64Array, w: Float64Array, b: Float64Array,
  R: number, W: number, eps: number,
): void {
  for (let r = 0; r < R; r++) {
    const o = r * W;
    let m = 0;
    for (let i = 0; i < W; i++) m += x[o + i];
    m /= W;
    let v = 0;
    for (let i = 0; i < W; i++) v += (x[o + i] - m) ** 2;
    const s = 1 / Math.sqrt(v / W + eps);
    mean[r] = m;
    rstd[r] = s;
    for (let i = 0; i < W; i++) out[o + i] = (x[o + i] - m) * s * w[i] + b[i];
  }
}

/** dx (R, W) = rstd · (g − mean(g) − x̂ · mean(g · x̂)), g = dout · w; dw += Σ dout · x̂; db += Σ dout. */
export function layernormBackward(
  dx: Float64Array, dw: Float64Array | null, db: Float64Array | null, dout: Float64Array, x: Float64Array,
  w: Float64Array, mean: Float64Array, rstd: Float64Array, R: number, W: number,
): void {
  for (let r = 0; r < R; r++) {
    const o = r * W;
    const s = rstd[r];
    let gMean = 0;
    let gxMean = 0;
    for (let i = 0; i < W; i++) {
      const g = dout[o + i] * w[i];
      gMean += g;
      gxMean += g * (x[o + i] - mean[r]) * s;
    }
    gMean /= W;
    gxMean /= W;
    for (let i = 0; i < W; i++) {
      const xhat = (x[o + i] - mean[r]) * s;
      dx[o + i] = s * (dout[o + i] * w[i] - gMean - xhat * gxMean);
      if (dw) dw[i] += dout[o + i] * xhat;
      if (db) db[i] += dout[o + i];
    }
  }
}
