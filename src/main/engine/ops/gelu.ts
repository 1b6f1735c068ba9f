// GELU, tanh approximation (GPT-2 "gelu_new", Gemma "gelu_pytorch_tanh"):
//   y = 0.5·x·(1 + tanh(k·(x + 0.044715·x³))),  k = √(2/π).
// The gated form (Gemma: gelu(gate) ⊙ up) composes this with a multiply in the model definition.

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
