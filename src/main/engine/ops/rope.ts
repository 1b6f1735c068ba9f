// Rotary position embedding, "rotate-half" layout (HF Llama): for each head, with x = [x1, x2] split in halves,
//   y = x·cos + rotate_half(x)·sin,  rotate_half(x) = [−x2, x1].
// cos/sin tables (N, HD) hold each row's angles pos·inv_freq duplicated over both halves; they are computed once
// per batch (from positions) and shared by every layer and every executor.

import type { RopeConfig } from '../../model/ir.ts';

export type { RopeConfig } from '../../model/ir.ts';
export type { RopeScaling } from '../../model/spec.ts';

/** inv_freq (HD/2), with Llama-3 or linear scaling applied as transformers' rope init functions do. */
export function ropeInvFreq(cfg: RopeConfig): Float64Array {
  const half = cfg.headDim / 2;
  const inv = new Float64Array(half);
  for (let j = 0; j < half; j++) inv[j] = 1 / Math.pow(cfg.theta, (2 * j) / cfg.headDim);
  const s = cfg.scaling;
  if (s?.type === 'linear') for (let j = 0; j < half; j++) inv[j] /= s.factor;
  if (s?.type === 'llama3') {
    const lowWavelen = s.originalMaxPositions / s.lowFreqFactor;
    const highWavelen = s.originalMaxPositions / s.highFreqFactor;
    for (let j = 0; j < half; j++) {
      const wavelen = (2 * Math.PI) / inv[j];
      if (wavelen > lowWavelen) inv[j] /= s.factor; // long wavelengths: fully interpolated
      else if (wavelen >= highWavelen) {
        // in between: blend interpolated and original frequencies
        const smooth = (s.originalMaxPositions / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
        inv[j] = (1 - smooth) * (inv[j] / s.factor) + smooth * inv[j];
      }
    }
  }
  return inv;
}

/**
 * positions (B·T) from an attention mask (B, T) as transformers derives them for padded batches:
 * cumsum(mask) − 1 on real tokens, 1 on padding (those rows are never attended nor trained). No mask: 0..T−1.
 * With segment ids (packed rows) the count restarts at each example.
 */
export function positionsFromMask(mask: Uint8Array | null, B: number, T: number, segments?: Int32Array): Int32Array {
  const pos = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    let c = 0;
    for (let t = 0; t < T; t++) {
      const i = b * T + t;
      const real = mask ? mask[i] !== 0 : true;
      // packed rows: positions restart at the first token of each example
      if (segments && t > 0 && segments[i] !== segments[i - 1]) c = 0;
      if (real) c++;
      pos[i] = real ? c - 1 : 1;
    }
  }
  return pos;
}

/** cos, sin (N, HD) for the given positions (N). */
export function ropeTables(cfg: RopeConfig, positions: Int32Array): { cos: Float64Array; sin: Float64Array } {
  const HD = cfg.headDim;
  const half = HD / 2;
  const inv = ropeInvFreq(cfg);
  const N = positions.length;
  const cos = new Float64Array(N * HD);
  const sin = new Float64Array(N * HD);
  for (let n = 0; n < N; n++)
    for (let j = 0; j < half; j++) {
      const a = positions[n] * inv[j];
      cos[n * HD + j] = cos[n * HD + j + half] = Math.cos(a);
      sin[n * HD + j] = sin[n * HD + j + half] = Math.sin(a);
    }
  return { cos, sin };
}

/** out (N, H·HD) = rope(x (N, H·HD)) with cos, sin (N, HD). */
export function ropeForward(
  out: Float64Array, x: Float64Array, cos: Float64Array, sin: Float64Array, N: number, H: number, HD: number,
): void {
  const half = HD / 2;
  for (let n = 0; n < N; n++)
    for (let h = 0; h < H; h++) {
      const o = (n * H + h) * HD;
      const t = n * HD;
      for (let j = 0; j < half; j++) {
        const x1 = x[o + j];
        const x2 = x[o + j + half];
        out[o + j] = x1 * cos[t + j] - x2 * sin[t + j];
        out[o + j + half] = x2 * cos[t + j + half] + x1 * sin[t + j + half];
      }
    }
}

/** dx = dy·cos + rotate_halfᵀ(dy·sin), rotate_halfᵀ(u) = [u2, −u1] (the rotation's transpose). Assigned. */
export function ropeBackward(
  dx: Float64Array, dout: Float64Array, cos: Float64Array, sin: Float64Array, N: number, H: number, HD: number,
): void {
  const half = HD / 2;
  for (let n = 0; n < N; n++)
    for (let h = 0; h < H; h++) {
      const o = (n * H + h) * HD;
      const t = n * HD;
      for (let j = 0; j < half; j++) {
        const d1 = dout[o + j];
        const d2 = dout[o + j + half];
        dx[o + j] = d1 * cos[t + j] + d2 * sin[t + j + half];
        dx[o + j + half] = d2 * cos[t + j + half] - d1 * sin[t + j];
      }
    }
}
