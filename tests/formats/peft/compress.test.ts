// SVD compression of a LoRA adapter (fusion's learned-weights result at a chosen rank): against a dense delta
// built with known singular values, the kept part reproduces ΔW's best rank-k approximation and the reported
// relative error is both the true residual and √(Σ dropped σ²) / √(Σ σ²).
import { describe, expect, it } from 'vitest';
import { compressAdapter, compressLayer, smallSvd } from '../../../src/main/formats/peft/compress.ts';
import type { LoraAdapter, LoraLayer } from '../../../src/main/formats/peft/adapter.ts';
import { randn } from '../../engine/helpers.ts';

/** Orthonormal columns (rows, cols) from a seeded random matrix (Gram–Schmidt). */
function orthonormal(rows: number, cols: number, seed: number): Float64Array {
  const X = randn(rows * cols, seed);
  for (let j = 0; j < cols; j++) {
    for (let l = 0; l < j; l++) {
      let d = 0;
      for (let i = 0; i < rows; i++) d += X[i * cols + l] * X[i * cols + j];
      for (let i = 0; i < rows; i++) X[i * cols + j] -= d * X[i * cols + l];
    }
    let n = 0;
    for (let i = 0; i < rows; i++) n += X[i * cols + j] ** 2;
    for (let i = 0; i < rows; i++) X[i * cols + j] /= Math.sqrt(n);
  }
  return X;
}

/** dense s·B·A (OC, IC) */
function dense(l: LoraLayer, scale: number): Float64Array {
  const d = new Float64Array(l.outFeatures * l.inFeatures);
  for (let o = 0; o < l.outFeatures; o++) for (let k = 0; k < l.r; k++) for (let i = 0; i < l.inFeatures; i++) d[o * l.inFeatures + i] += scale * l.B[o * l.r + k] * l.A[k * l.inFeatures + i];
  return d;
}

const frob = (a: Float64Array, b?: Float64Array) => Math.sqrt(a.reduce((s, v, i) => s + (v - (b ? b[i] : 0)) ** 2, 0));

describe('SVD compression of LoRA deltas', () => {
  const OC = 7, IC = 9, r = 4;
  const sigma = [5, 3, 1, 0.5];
  const U = orthonormal(OC, r, 1), Vt = orthonormal(IC, r, 2);
  // B = U·diag(σ) (OC, r), A = Vᵀ (r, IC), with the columns shuffled so the SVD has to sort them
  const perm = [2, 0, 3, 1];
  const B = new Float32Array(OC * r), A = new Float32Array(r * IC);
  perm.forEach((p, c) => {
    for (let o = 0; o < OC; o++) B[o * r + c] = U[o * r + p] * sigma[p];
    for (let i = 0; i < IC; i++) A[c * IC + i] = Vt[i * r + p];
  });
  const layer: LoraLayer = { module: 'm.q_proj', r, inFeatures: IC, outFeatures: OC, A, B };

  it('small SVD reconstructs its matrix with sorted singular values', () => {
    const M = randn(16, 3);
    const { U: u, S, V } = smallSvd(M, 4);
    for (let i = 0; i < 3; i++) expect(S[i]).toBeGreaterThanOrEqual(S[i + 1]);
    const back = new Float64Array(16);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) for (let k = 0; k < 4; k++) back[i * 4 + j] += u[i * 4 + k] * S[k] * V[j * 4 + k];
    expect(frob(back, M)).toBeLessThan(1e-12);
  });

  it('full rank is exact; rank k keeps the k largest singular values and reports the true error', () => {
    const full = dense(layer, 2);
    const exact = compressLayer(layer, 2, r);
    expect(frob(dense(exact.layer, 1), full) / frob(full)).toBeLessThan(1e-6); // float32 factors
    for (const k of [1, 2, 3]) {
      const c = compressLayer(layer, 2, k);
      expect(c.layer.r).toBe(k);
      const expected = Math.sqrt(sigma.slice(k).reduce((s, v) => s + (2 * v) ** 2, 0)) / Math.sqrt(sigma.reduce((s, v) => s + (2 * v) ** 2, 0));
      expect(c.error / c.norm).toBeCloseTo(expected, 6);
      expect(frob(dense(c.layer, 1), full) / frob(full)).toBeCloseTo(expected, 5);
    }
  });

  it('a stacked adapter with a zero block (a module one part lacks) compresses without NaN', () => {
    const padded: LoraLayer = { ...layer, r: r + 2, A: new Float32Array((r + 2) * IC), B: new Float32Array(OC * (r + 2)) };
    padded.A.set(A);
    for (let o = 0; o < OC; o++) for (let c = 0; c < r; c++) padded.B[o * (r + 2) + c] = B[o * r + c];
    const adapter = { config: { r: r + 2, lora_alpha: r + 2, use_rslora: false, rank_pattern: {}, alpha_pattern: {} }, layers: new Map([['m.q_proj', padded]]), extra: new Map(), trainingTemplate: null } as unknown as LoraAdapter;
    const c = compressAdapter(adapter, 2);
    expect(c.adapter.config.r).toBe(2);
    expect(c.adapter.config.lora_alpha).toBe(2);
    expect(Number.isFinite(c.relativeError)).toBe(true);
    expect(c.relativeError).toBeCloseTo(Math.sqrt(1 + 0.25) / Math.sqrt(25 + 9 + 1 + 0.25), 6);
    expect(() => compressAdapter(adapter, 0)).toThrow(/positive integer/);
  });
});
