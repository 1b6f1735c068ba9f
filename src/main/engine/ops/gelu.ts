// GELU, tanh approximation (GPT-2 "gelu_new", Gemma "gelu_pytorch_tanh"):
//   y = 0.5·x·(1 + tanh(k·(x + 0.044715·x³))),  k = √(2/π).
// The gated form (Gemma: gelu(gate) ⊙ up) composes this with a multiply in the model definition.
// Exact GELU (BERT-family "gelu", torch.nn.GELU()): y = x·Φ(x) = 0.5·x·(1 + erf(x/√2)), at the end of this file.

const K = Math.sqrt(2 / Math.PI);

export function geluTanhForward(out: Float64Array, x: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = x[i];
    out[i] = 0.5 * v * (1 + Math.tanh(K * (v + 0.044715 * v * v * v)));
  }
}

/** dx = dout · (0.5(1 + th) + 0.5·x·(1 − th²)·k(1 + 3·0.044715·x²)), assigned. */
export function geluTanhBackward(dx: Float64Array, dout: Float64Array, x: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = x[i];
    const th = Math.tanh(K * (v + 0.044715 * v * v * v));
    dx[i] = dout[i] * (0.5 * (1 + th) + 0.5 * v * (1 - th * th) * K * (1 + 3 * 0.044715 * v * v));
  }
}

/**
 * erf to float64 accuracy (JavaScript has none): for |x| < 3 the all-positive series
 * erf(x) = 2/√π·e^(−x²)·Σ 2ⁿx^(2n+1)/(1·3·…·(2n+1)) (no cancellation), beyond it 1 − erfc(x) with erfc from its
 * continued fraction e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))) evaluated bottom-up.
 */
export function erf(x: number): number {
  const a = Math.abs(x);
  let r: number;
  if (a < 3) {
    let term = a;
    let sum = a;
    for (let n = 1; term > 1e-17 * sum; n++) sum += term *= (2 * a * a) / (2 * n + 1);
    r = (2 / Math.sqrt(Math.PI)) * Math.exp(-a * a) * sum;
  } else {
    let cf = a;
    for (let k = 80; k >= 1; k--) cf = a + k / 2 / cf;
    r = 1 - Math.exp(-a * a) / (Math.sqrt(Math.PI) * cf);
  }
  return x < 0 ? -r : r;
}

export function geluErfForward(out: Float64Array, x: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) out[i] = 0.5 * x[i] * (1 + erf(x[i] / Math.SQRT2));
}

/** dx = dout · (Φ(x) + x·φ(x)), φ(x) = e^(−x²/2)/√(2π), assigned. */
export function geluErfBackward(dx: Float64Array, dout: Float64Array, x: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = x[i];
    dx[i] = dout[i] * (0.5 * (1 + erf(v / Math.SQRT2)) + (v * Math.exp(-0.5 * v * v)) / Math.sqrt(2 * Math.PI));
  }
}
