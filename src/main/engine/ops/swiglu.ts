// SwiGLU gate of Llama-style MLPs: out = silu(gate) ⊙ up, silu(a) = a·σ(a).

export function swigluForward(out: Float64Array, gate: Float64Array, up: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) out[i] = (gate[i] / (1 + Math.exp(-gate[i]))) * up[i];
}

/** dgate = dout·up·σ(a)(1 + a(1 − σ(a))), dup = dout·silu(a). Both assigned. */
export function swigluBackward(
  dgate: Float64Array, dup: Float64Array, dout: Float64Array, gate: Float64Array, up: Float64Array, n: number,
): void {
  for (let i = 0; i < n; i++) {
    const a = gate[i];
    const s = 1 / (1 + Math.exp(-a));
    dup[i] = dout[i] * a * s;
    dgate[i] = dout[i] * up[i] * s * (1 + a * (1 - s));
  }
}
