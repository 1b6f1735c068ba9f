// AdapterFusion attention (Pfeiffer et al. 2020, arXiv 2005.00247) on LoRA adapters, per adapted linear and per
// token: the query comes from the linear's input, keys and values from each frozen adapter's output, softmax over
// the adapters present at this linear (M of them):
//   q = x·Q (N, D)            k_j = delta_j·Kw (N, D)         s_j = ⟨q, k_j⟩          α = softmax_j(s) (N, M)
//   mix = Σ_j α_j·delta_j     out = base + mix·V,   V = I + Vd·Vuᵀ (Vd, Vu (W, R)), the identity at first (Vu = 0)
// base = x·Wᵀ is the frozen linear and delta_j = s_j·B_j·A_j·x adapter j's frozen branch (plain linears). The paper's
// keys read the adapter's whole output o_j = base + delta_j; o_j·Kw differs from delta_j·Kw by base·Kw, the same
// for every j, which softmax cancels — so reading the deltas is the same attention. Its values o_j·V would also
// rotate the frozen base; applying V to the mixed deltas keeps the base path exact (with V = I and equal weights
// the layer is exactly the uniform average of the adapters) and costs one product per row instead of M. The
// paper's V is a full (W, W) matrix initialised to the identity; here it is the identity plus a rank-R correction
// (a full V on every adapted linear costs W² per row — on an MLP's up projection three times the linear itself —
// and makes the fusion train several times slower than the adapters did): it starts at the same identity.
// Not mergeable: α depends on each token. Shapes: x (N, IC), base/delta (N, W), Q (IC, D), Kw (W, D), Vd/Vu (W, R).

export interface FusionDims {
  N: number;
  IC: number;
  W: number;
  D: number;
  R: number; // rank of the value's correction
}

/** The value of the mixed deltas: V = I + Vd·Vuᵀ. */
export interface FusionValue {
  down: Float64Array; // Vd (W, R)
  up: Float64Array; // Vu (W, R)
}

export interface FusionSaved {
  q: Float64Array; // (N, D)
  keys: Float64Array[]; // M × (N, D)
  alpha: Float64Array; // (N, M)
  mix: Float64Array; // (N, W) Σ_j α_j·delta_j
  low: Float64Array; // (N, R) mix·Vd
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

/** a (R, S)ᵀ as (S, R). */
function transpose(a: Float64Array, R: number, S: number): Float64Array {
  const t = new Float64Array(R * S);
  for (let r = 0; r < R; r++) for (let s = 0; s < S; s++) t[s * R + r] = a[r * S + s];
  return t;
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

/** out (N, W) = base + mix·(I + Vd·Vuᵀ); returns what the backward needs (α is also the per-token weights). */
export function adapterFusionForward(
  out: Float64Array, x: Float64Array, base: Float64Array, deltas: readonly Float64Array[], Q: Float64Array, Kw: Float64Array, V: FusionValue, d: FusionDims,
): FusionSaved {
  const { N, IC, W, D, R } = d;
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
  for (let i = 0; i < out.length; i++) out[i] = base[i] + mix[i];
  const low = matmul(mix, V.down, N, W, R);
  matmul(low, transpose(V.up, W, R), N, R, W, out);
  return { q, keys, alpha, mix, low };
}

export interface FusionGrads {
  dx: Float64Array | null; // (N, IC), assigned
  dbase: Float64Array | null; // (N, W), assigned
  ddeltas: (Float64Array | null)[]; // M × (N, W), assigned
  dQ: Float64Array | null; // (IC, D), accumulated (null = frozen)
  dK: Float64Array | null; // (W, D), accumulated
  dVd: Float64Array | null; // (W, R), accumulated
  dVu: Float64Array | null; // (W, R), accumulated
}

/**
 * The chain back through out = base + mix + (mix·Vd)·Vuᵀ, mix = Σ α_j·delta_j, α = softmax(⟨x·Q, delta_j·Kw⟩):
 * g = dout·Vu (N, R), dmix = dout + g·Vdᵀ, dVd += mixᵀ·g, dVu += doutᵀ·(mix·Vd); dα_j = ⟨dmix, delta_j⟩; ds_j = α_j·(dα_j − Σ_l α_l·dα_l);
 * dq = Σ_j ds_j·k_j, dk_j = ds_j·q; ddelta_j = α_j·dmix + dk_j·Kwᵀ; dKw += Σ_j delta_jᵀ·dk_j; dQ += xᵀ·dq, dx = dq·Qᵀ.
 */
export function adapterFusionBackward(
  gr: FusionGrads, dout: Float64Array, x: Float64Array, deltas: readonly Float64Array[], Q: Float64Array, Kw: Float64Array, V: FusionValue, s: FusionSaved, d: FusionDims,
): void {
  const { N, IC, W, D, R } = d;
  const M = deltas.length;
  if (gr.dbase) gr.dbase.set(dout);
  const g = matmul(dout, V.up, N, W, R);
  if (gr.dVd) matmulTA(s.mix, g, N, W, R, gr.dVd);
  if (gr.dVu) matmulTA(dout, s.low, N, W, R, gr.dVu);
  const dmix = matmulTB(g, V.down, N, R, W);
  for (let i = 0; i < dmix.length; i++) dmix[i] += dout[i];
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
