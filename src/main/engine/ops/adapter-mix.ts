// Learned adapter weights (issue 15, the mergeable combination): the output of a linear whose frozen LoRA
// adapters are mixed by trained scalars,
//   out = base + Σ_j w[a_j] · delta_j,   w = softmax(θ) or θ itself (unconstrained),
// where base = x·Wᵀ (frozen), delta_j = s_j·B_j·A_j·x (adapter a_j's frozen branch, computed by plain linears) and
// θ (K) is one logit per adapter — shared by every linear (one weight per adapter) or by the linears of one
// decoder layer (per-layer weights). A linear an adapter does not target simply has no delta for it.
// Because the result is Σ_k w_k·ΔW_k, it merges into one PEFT adapter (fusion/combine.ts).

/** The mixing weights of θ (K): softmax(θ) or θ. */
export function mixWeights(theta: Float64Array, softmax: boolean): Float64Array {
  if (!softmax) return Float64Array.from(theta);
  let max = -Infinity;
  for (const t of theta) max = Math.max(max, t);
  const w = theta.map((t) => Math.exp(t - max));
  const sum = w.reduce((a, b) => a + b, 0);
  return w.map((v) => v / sum);
}

/** out (N, W) = base + Σ_j w[adapters[j]]·deltas[j]; returns the weights w (K) for the backward. */
export function adapterMixForward(
  out: Float64Array, base: Float64Array, deltas: readonly Float64Array[], adapters: readonly number[], theta: Float64Array, softmax: boolean,
): Float64Array {
  const w = mixWeights(theta, softmax);
  out.set(base);
  deltas.forEach((d, j) => {
    const wj = w[adapters[j]];
    for (let i = 0; i < out.length; i++) out[i] += wj * d[i];
  });
  return w;
}

/**
 * dbase = dout; ddeltas[j] = w[a_j]·dout (assigned; null = not wanted); dθ (K) += the weights' gradient
 * dw_k = Σ_{j: a_j = k} ⟨dout, delta_j⟩, through softmax's Jacobian when softmax (dθ_k = w_k·(dw_k − Σ_l w_l·dw_l)).
 */
export function adapterMixBackward(
  dbase: Float64Array | null, ddeltas: readonly (Float64Array | null)[], dtheta: Float64Array | null, dout: Float64Array,
  deltas: readonly Float64Array[], adapters: readonly number[], w: Float64Array, softmax: boolean,
): void {
  if (dbase) dbase.set(dout);
  ddeltas.forEach((dd, j) => {
    if (!dd) return;
    const wj = w[adapters[j]];
    for (let i = 0; i < dout.length; i++) dd[i] = wj * dout[i];
  });
  if (!dtheta) return;
  const dw = new Float64Array(w.length);
  deltas.forEach((d, j) => {
    let s = 0;
    for (let i = 0; i < dout.length; i++) s += dout[i] * d[i];
    dw[adapters[j]] += s;
  });
  if (!softmax) {
    for (let k = 0; k < w.length; k++) dtheta[k] += dw[k];
    return;
  }
  let wdw = 0;
  for (let k = 0; k < w.length; k++) wdw += w[k] * dw[k];
  for (let k = 0; k < w.length; k++) dtheta[k] += w[k] * (dw[k] - wdw);
}
