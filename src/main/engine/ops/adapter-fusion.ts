// AdapterFusion attention (Pfeiffer et al. 2020, arXiv 2005.00247) on LoRA adapters, per adapted linear and per
// token: the query comes from the linear's input, keys and values from each frozen adapter's output, softmax over
// the adapters present at this linear (M of them):
//   q = x·Q (N, D)            k_j = delta_j·Kw (N, D)         s_j = ⟨q, k_j⟩          α = softmax_j(s) (N, M)
//   out = base + (Σ_j α_j·delta_j)·V                           V (W, W), initialised to the identity
// base = x·Wᵀ is the frozen linear and delta_j = s_j·B_j·A_j·x adapter j's frozen branch (plain linears). The paper's
// keys read the adapter's whole output o_j = base + delta_j; o_j·Kw differs from delta_j·Kw by base·Kw, the same
// for every j, which softmax cancels — so reading the deltas is the same attention. Its values o_j·V would also
// rotate the frozen base; applying V to the mixed deltas keeps the base path exact (with V = I and equal weights
// the layer is exactly the uniform average of the adapters) and costs one (W, W) product per row instead of M.
// Not mergeable: α depends on each token. Shapes: x (N, IC), base/delta (N, W), Q (IC, D), Kw (W, D).

export interface FusionDims {
  N: number;
  IC: number;
  W: number;
  D: number;
}

export interface FusionSaved {
  q: Float64Array; // (N, D)
  keys: Float64Array[]; // M × (N, D)
  alpha: Float64Array; // (N, M)
  mix: Float64Array; // (N, W) Σ_j α_j·delta_j
}

/** a (R, P) · b (P, S) → (R, S), optionally accumulated into `into`. */
function matmul(a: Float64Array, b: Float64Array, R: number, P: number, S: number, into?: Float64Array): Float64Array {
  const out = into ?? new Float64Array(R * S);
  for (let r = 0; r < R; r++)
    for (let p = 0; p < P; p++) {
      const v = a[r * P + p];
      if (v === 0) continue;
      for (let s = 0; s < S; s++) out[r * S + s] += v * b[p * S + s];
    }
  return out;
}

/** a (R, P)ᵀ · b (R, S) → (P, S), accumulated into `into`. */
function matmulTA(a: Float64Array, b: Float64Array, R: number, P: number, S: number, into: Float64Array): void {
  for (let r = 0; r < R; r++)
    for (let p = 0; p < P; p++) {
      const v = a[r * P + p];
      if (v === 0) continue;
      for (let s = 0; s < S; s++) into[p * S + s] += v * b[r * S + s];
    }
}

/** a (R, S) · b (P, S)ᵀ → (R, P). */
function matmulTB(a: Float64Array, b: Float64Array, R: number, S: number, P: number): Float64Array {
  const out = new Float64Array(R * P);
  for (let r = 0; r < R; r++)
    for (let p = 0; p < P; p++) {
      let acc = 0;
      for (let s = 0; s < S; s++) acc += a[r * S + s] * b[p * S + s];
      out[r * P + p] = acc;
    }
  return out;
}

/** out (N, W) = base + (Σ_j α_j·delta_j)·V; returns what the backward needs (α is also the per-token weights). */
export function adapterFusionForward(
  out: Float64Array, x: Float64Array, base: Float64Array, deltas: readonly Float64Array[], Q: Float64Array, Kw: Float64Array, V: Float64Array, d: FusionDims,
): FusionSaved {
  const { N, IC, W, D } = d;
  const M = deltas.length;
  const q = matmul(x, Q, N, IC, D);
  const keys = deltas.map((dj) => matmul(dj, Kw, N, W, D));
  const alpha = new Float64Array(N * M);
  const mix = new Float64Array(N * W);
  for (let n = 0; n < N; n++) {
    let max = -Infinity;
    for (let j = 0; j < M; j++) {
      let s = 0;
      for (let e = 0; e < D; e++) s += q[n * D + e] * keys[j][n * D + e];
      alpha[n * M + j] = s;
      max = Math.max(max, s);
    }
    let sum = 0;
    for (let j = 0; j < M; j++) sum += alpha[n * M + j] = Math.exp(alpha[n * M + j] - max);
    for (let j = 0; j < M; j++) {
      const a = (alpha[n * M + j] /= sum);
      for (let i = 0; i < W; i++) mix[n * W + i] += a * deltas[j][n * W + i];
    }
  }
  out.set(base);
  matmul(mix, V, N, W, W, out);
  return { q, keys, alpha, mix };
}

export interface FusionGrads {
  dx: Float64Array | null; // (N, IC), assigned
  dbase: Float64Array | null; // (N, W), assigned
  ddeltas: (Float64Array | null)[]; // M × (N, W), assigned
  dQ: Float64Array | null; // (IC, D), accumulated (null = frozen)
  dK: Float64Array | null; // (W, D), accumulated
  dV: Float64Array | null; // (W, W), accumulated
}

/**
 * The chain back through out = base + mix·V, mix = Σ α_j·delta_j, α = softmax(⟨x·Q, delta_j·Kw⟩):
 * dmix = dout·Vᵀ, dV += mixᵀ·dout; dα_j = ⟨dmix, delta_j⟩; ds_j = α_j·(dα_j − Σ_l α_l·dα_l);
 * dq = Σ_j ds_j·k_j, dk_j = ds_j·q; ddelta_j = α_j·dmix + dk_j·Kwᵀ; dKw += Σ_j delta_jᵀ·dk_j; dQ += xᵀ·dq, dx = dq·Qᵀ.
 */
export function adapterFusionBackward(
  gr: FusionGrads, dout: Float64Array, x: Float64Array, deltas: readonly Float64Array[], Q: Float64Array, Kw: Float64Array, V: Float64Array, s: FusionSaved, d: FusionDims,
): void {
  const { N, IC, W, D } = d;
  const M = deltas.length;
  if (gr.dbase) gr.dbase.set(dout);
  if (gr.dV) matmulTA(s.mix, dout, N, W, W, gr.dV);
  const dmix = matmulTB(dout, V, N, W, W);
  const ds = new Float64Array(N * M);
  for (let n = 0; n < N; n++) {
    let mean = 0;
    const da = new Float64Array(M);
    for (let j = 0; j < M; j++) {
      let acc = 0;
      for (let i = 0; i < W; i++) acc += dmix[n * W + i] * deltas[j][n * W + i];
      da[j] = acc;
      mean += s.alpha[n * M + j] * acc;
    }
    for (let j = 0; j < M; j++) ds[n * M + j] = s.alpha[n * M + j] * (da[j] - mean);
  }
  const dq = new Float64Array(N * D);
  for (let j = 0; j < M; j++) {
    const dk = new Float64Array(N * D);
    for (let n = 0; n < N; n++) {
      const g = ds[n * M + j];
      for (let e = 0; e < D; e++) {
        dq[n * D + e] += g * s.keys[j][n * D + e];
        dk[n * D + e] = g * s.q[n * D + e];
      }
    }
    if (gr.dK) matmulTA(deltas[j], dk, N, W, D, gr.dK);
    const dd = gr.ddeltas[j];
    if (dd) {
      const back = matmulTB(dk, Kw, N, D, W);
      for (let n = 0; n < N; n++) {
        const a = s.alpha[n * M + j];
        for (let i = 0; i < W; i++) dd[n * W + i] = a * dmix[n * W + i] + back[n * W + i];
      }
    }
  }
  if (gr.dQ) matmulTA(x, dq, N, IC, D, gr.dQ);
  if (gr.dx) gr.dx.set(matmulTB(dq, Q, N, D, IC));
}
