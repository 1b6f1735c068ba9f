// A LoRA adapter compressed to a lower rank by truncated SVD of each module's delta ΔW = s·B·A (PEFT's "svd"
// combination does the same on the dense delta). ΔW has rank ≤ r, so it is never formed: with B = Q_b·R_b and
// Aᵀ = Q_a·R_a (thin QR), ΔW = Q_b·(s·R_b·R_aᵀ)·Q_aᵀ and the SVD of the small r×r middle matrix gives ΔW's. The
// best rank-k approximation keeps the k largest singular values; its relative Frobenius error is
// √(Σ_{i>k} σᵢ²) / √(Σ σᵢ²), reported per module and over the whole adapter.
import { AdapterError, layerScale, type LoraAdapter, type LoraLayer } from './adapter.ts';

/** Thin QR of X (rows, cols) by modified Gram–Schmidt, twice for stability: Q (rows, cols), R (cols, cols). */
function thinQr(X: Float64Array, rows: number, cols: number): { Q: Float64Array; R: Float64Array } {
  const Q = Float64Array.from(X);
  const R = new Float64Array(cols * cols);
  for (let j = 0; j < cols; j++) {
    for (let pass = 0; pass < 2; pass++)
      for (let l = 0; l < j; l++) {
        let d = 0;
        for (let i = 0; i < rows; i++) d += Q[i * cols + l] * Q[i * cols + j];
        R[l * cols + j] += d;
        for (let i = 0; i < rows; i++) Q[i * cols + j] -= d * Q[i * cols + l];
      }
    let norm = 0;
    for (let i = 0; i < rows; i++) norm += Q[i * cols + j] ** 2;
    norm = Math.sqrt(norm);
    R[j * cols + j] = norm;
    // a column already spanned (a zero block of a stacked adapter): its direction adds nothing
    for (let i = 0; i < rows; i++) Q[i * cols + j] = norm > 1e-300 ? Q[i * cols + j] / norm : 0;
  }
  return { Q, R };
}

/** SVD of a small square M (n, n) by one-sided Jacobi: M = U·diag(S)·Vᵀ, singular values descending. */
export function smallSvd(M: Float64Array, n: number): { U: Float64Array; S: Float64Array; V: Float64Array } {
  const U = Float64Array.from(M);
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let p = 0; p < n - 1; p++)
      for (let q = p + 1; q < n; q++) {
        let a = 0, b = 0, c = 0;
        for (let i = 0; i < n; i++) {
          a += U[i * n + p] ** 2;
          b += U[i * n + q] ** 2;
          c += U[i * n + p] * U[i * n + q];
        }
        if (Math.abs(c) <= 1e-15 * Math.sqrt(a * b) || c === 0) continue;
        off = Math.max(off, Math.abs(c) / Math.sqrt(a * b));
        const zeta = (b - a) / (2 * c);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const cs = 1 / Math.sqrt(1 + t * t), sn = cs * t;
        for (const X of [U, V])
          for (let i = 0; i < n; i++) {
            const xp = X[i * n + p], xq = X[i * n + q];
            X[i * n + p] = cs * xp - sn * xq;
            X[i * n + q] = sn * xp + cs * xq;
          }
      }
    if (off < 1e-14) break;
  }
  const S = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += U[i * n + j] ** 2;
    S[j] = Math.sqrt(s);
    for (let i = 0; i < n; i++) U[i * n + j] = S[j] > 1e-300 ? U[i * n + j] / S[j] : 0;
  }
  const order = [...S.keys()].sort((x, y) => S[y] - S[x]);
  const perm = (X: Float64Array) => {
    const out = new Float64Array(n * n);
    for (let i = 0; i < n; i++) order.forEach((j, k) => (out[i * n + k] = X[i * n + j]));
    return out;
  };
  return { U: perm(U), S: Float64Array.from(order, (j) => S[j]), V: perm(V) };
}

export interface CompressedLayer {
  layer: LoraLayer; // rank k, scale 1 (alpha = k)
  /** ‖ΔW − ΔW_k‖_F and ‖ΔW‖_F. */
  error: number;
  norm: number;
}

/** One module's delta s·B·A at rank k (k ≥ the layer's rank keeps it exact): B' = U_k·S_k, A' = V_kᵀ. */
export function compressLayer(layer: LoraLayer, scale: number, k: number): CompressedLayer {
  const { r, inFeatures: IC, outFeatures: OC } = layer;
  const B = Float64Array.from(layer.B), At = new Float64Array(IC * r);
  for (let j = 0; j < r; j++) for (let i = 0; i < IC; i++) At[i * r + j] = layer.A[j * IC + i];
  const qb = thinQr(B, OC, r), qa = thinQr(At, IC, r);
  const M = new Float64Array(r * r); // s·R_b·R_aᵀ
  for (let i = 0; i < r; i++) for (let j = 0; j < r; j++) {
    let acc = 0;
    for (let l = 0; l < r; l++) acc += qb.R[i * r + l] * qa.R[j * r + l];
    M[i * r + j] = scale * acc;
  }
  const { U, S, V } = smallSvd(M, r);
  const keep = Math.min(k, r);
  let total = 0, dropped = 0;
  S.forEach((s, i) => ((total += s * s), i >= keep && (dropped += s * s)));
  const outB = new Float32Array(OC * k), outA = new Float32Array(k * IC);
  for (let c = 0; c < keep; c++) {
    for (let o = 0; o < OC; o++) {
      let acc = 0;
      for (let l = 0; l < r; l++) acc += qb.Q[o * r + l] * U[l * r + c];
      outB[o * k + c] = acc * S[c];
    }
    for (let i = 0; i < IC; i++) {
      let acc = 0;
      for (let l = 0; l < r; l++) acc += qa.Q[i * r + l] * V[l * r + c];
      outA[c * IC + i] = acc;
    }
  }
  return { layer: { ...layer, r: k, A: outA, B: outB }, error: Math.sqrt(dropped), norm: Math.sqrt(total) };
}

export interface CompressedAdapter {
  adapter: LoraAdapter;
  /** ‖ΔW − ΔW_k‖_F / ‖ΔW‖_F over every module together, and per module. */
  relativeError: number;
  perModule: Record<string, number>;
}

/** Every module of an adapter at rank k (scale 1: lora_alpha = k, no rsLoRA, no rank/alpha patterns). */
export function compressAdapter(adapter: LoraAdapter, k: number): CompressedAdapter {
  if (!Number.isInteger(k) || k < 1) throw new AdapterError(`compression rank must be a positive integer (got ${k})`);
  if (adapter.extra.size) throw new AdapterError('an adapter that also trains biases or modules_to_save cannot be compressed by SVD');
  const layers = new Map<string, LoraLayer>();
  const perModule: Record<string, number> = {};
  let err2 = 0, norm2 = 0;
  for (const [module, layer] of adapter.layers) {
    const c = compressLayer(layer, layerScale(adapter.config, layer), k);
    layers.set(module, c.layer);
    perModule[module] = c.norm > 0 ? c.error / c.norm : 0;
    err2 += c.error ** 2;
    norm2 += c.norm ** 2;
  }
  const config = { ...adapter.config, r: k, lora_alpha: k, use_rslora: false, rank_pattern: {}, alpha_pattern: {} };
  return { adapter: { ...adapter, config, layers }, relativeError: norm2 > 0 ? Math.sqrt(err2 / norm2) : 0, perModule };
}
