// ggml's K-quants (super-blocks of QK_K = 256 values), as llama.cpp's reference quantizers write them
// when no importance matrix is given. Byte layouts (little-endian, f16 = IEEE half):
//   Q4_K (144 B): f16 d | f16 dmin | scales[12] (8 six-bit scales + 8 six-bit mins) | qs[128] (4-bit codes)
//   Q5_K (176 B): f16 d | f16 dmin | scales[12] | qh[32] (5th bits) | qs[128] (low 4 bits)
//   Q6_K (210 B): ql[128] (low 4 bits) | qh[64] (high 2 bits) | int8 scales[16] | f16 d
// Q4_K/Q5_K: 8 sub-blocks of 32, x ≈ d·sc·q − dmin·m with q unsigned. Q6_K: 16 sub-blocks of 16,
// x ≈ d·sc·(q − 32). The per-sub-block (scale, min) fits follow ggml's make_qkx2_quants /
// make_qx_quants searches: try a few inverse scales around the naive one and keep the least-error fit.
import { f16BitsToF32 as f16, f32ToF16Bits } from '../safetensors/dtypes.ts';

export const QK_K = 256;
export const Q4_K_BYTES = 144;
export const Q5_K_BYTES = 176;
export const Q6_K_BYTES = 210;

const fr = Math.fround;

/** ggml's nearest_int: round to nearest, ties to even (its 1.5·2²³ float trick). */
function nearestInt(v: number): number {
  const f = Math.floor(v);
  const frac = v - f;
  if (frac > 0.5) return f + 1;
  if (frac < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Round a float to f16 and back (what a reader will see). */
function viaF16(v: number): number {
  return f16(f32ToF16Bits(v));
}

function checkLength(name: string, n: number): void {
  if (n % QK_K !== 0) throw new Error(`${name} needs a multiple of ${QK_K} values, got ${n}`);
}

/**
 * Asymmetric fit of one sub-block to codes 0..nmax (make_qkx2_quants): x ≈ scale·L + min with
 * min ≤ 0, weighted least squares over a sweep of inverse scales. Returns [scale, −min].
 */
function fitScaleMin(
  x: Float32Array,
  w: Float32Array,
  nmax: number,
  L: Uint8Array,
  rmin: number,
  rdelta: number,
  nstep: number,
): [number, number] {
  const n = x.length;
  let min = x[0];
  let max = x[0];
  let sumW = 0;
  let sumX = 0;
  for (let i = 0; i < n; i++) {
    min = Math.min(min, x[i]);
    max = Math.max(max, x[i]);
    sumW += w[i];
    sumX += w[i] * x[i];
  }
  if (min > 0) min = 0;
  if (max === min) {
    L.fill(0);
    return [0, -min];
  }
  let iscale = nmax / (max - min);
  let scale = 1 / iscale;
  let bestError = 0;
  for (let i = 0; i < n; i++) {
    L[i] = Math.max(0, Math.min(nmax, nearestInt(iscale * (x[i] - min))));
    const diff = scale * L[i] + min - x[i];
    bestError += w[i] * diff * diff;
  }
  const aux = new Uint8Array(n);
  for (let is = 0; is <= nstep; is++) {
    iscale = (rmin + rdelta * is + nmax) / (max - min);
    let sumL = 0;
    let sumL2 = 0;
    let sumXL = 0;
    for (let i = 0; i < n; i++) {
      const l = Math.max(0, Math.min(nmax, nearestInt(iscale * (x[i] - min))));
      aux[i] = l;
      sumL += w[i] * l;
      sumL2 += w[i] * l * l;
      sumXL += w[i] * l * x[i];
    }
    const D = sumW * sumL2 - sumL * sumL;
    if (D <= 0) continue;
    let thisScale = (sumW * sumXL - sumX * sumL) / D;
    let thisMin = (sumL2 * sumX - sumL * sumXL) / D;
    if (thisMin > 0) {
      thisMin = 0;
      thisScale = sumXL / sumL2;
    }
    let err = 0;
    for (let i = 0; i < n; i++) {
      const diff = thisScale * aux[i] + thisMin - x[i];
      err += w[i] * diff * diff;
    }
    if (err < bestError) {
      L.set(aux);
      bestError = err;
      scale = thisScale;
      min = thisMin;
    }
  }
  return [scale, -min];
}

/**
 * Symmetric fit to codes −nmax..nmax−1 (make_qx_quants with x² weights): the value of largest
 * magnitude maps to −nmax, then inverse scales nmax ± 0.1·k are tried. Returns the scale.
 */
function fitScale(x: Float32Array, nmax: number): number {
  let amax = 0;
  let max = 0;
  for (const v of x) {
    if (Math.abs(v) > amax) {
      amax = Math.abs(v);
      max = v;
    }
  }
  if (amax < 1e-15) return 0;
  const fit = (iscale: number): [number, number] => {
    let sumLX = 0;
    let sumL2 = 0;
    for (const v of x) {
      const l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(iscale * v)));
      const w = v * v;
      sumLX += w * v * l;
      sumL2 += w * l * l;
    }
    return [sumLX, sumL2];
  };
  let [sumLX, sumL2] = fit(-nmax / max);
  let scale = sumL2 ? sumLX / sumL2 : 0;
  let best = scale * sumLX;
  for (let is = -9; is <= 9; is++) {
    if (is === 0) continue;
    [sumLX, sumL2] = fit(-(nmax + 0.1 * is) / max);
    if (sumL2 > 0 && sumLX * sumLX > best * sumL2) {
      scale = sumLX / sumL2;
      best = scale * sumLX;
    }
  }
  return scale;
}

/**
 * The 12 scale bytes of Q4_K/Q5_K: sub-blocks 0–3 keep their 6-bit scale and min in the low 6 bits
 * of bytes 0–3 and 4–7; sub-blocks 4–7 keep their low 4 bits in bytes 8–11 (scale low nibble, min
 * high nibble) and their top 2 bits in the spare top bits of bytes 0–3 (scale) and 4–7 (min).
 */
function packScaleMin(out: Uint8Array, o: number, ls: Uint8Array, lm: Uint8Array): void {
  for (let j = 0; j < 8; j++) {
    if (j < 4) {
      out[o + j] = ls[j];
      out[o + j + 4] = lm[j];
    } else {
      out[o + j + 4] = (ls[j] & 0xf) | ((lm[j] & 0xf) << 4);
      out[o + j - 4] |= (ls[j] >> 4) << 6;
      out[o + j] |= (lm[j] >> 4) << 6;
    }
  }
}

/** get_scale_min_k4: sub-block j's 6-bit scale and min from the 12 packed bytes at o. */
function unpackScaleMin(q: Uint8Array, o: number, j: number): [number, number] {
  if (j < 4) return [q[o + j] & 63, q[o + j + 4] & 63];
  return [(q[o + j + 4] & 0xf) | ((q[o + j - 4] >> 6) << 4), (q[o + j + 4] >> 4) | ((q[o + j] >> 6) << 4)];
}

/**
 * Shared part of Q4_K and Q5_K for one super-block: fit each sub-block of 32, quantize the 8 scales
 * and 8 mins to 6 bits against the super-block's f16 d/dmin, then requantize every value against the
 * scales a reader will actually see. Writes d, dmin and scales at o; returns the codes (0..nmax).
 */
function quantizeScaleMinBlock(
  x: Float32Array,
  out: Uint8Array,
  view: DataView,
  o: number,
  nmax: number,
  rmin: number,
  nstep: number,
): Uint8Array {
  const L = new Uint8Array(QK_K);
  const scales = new Float64Array(8);
  const mins = new Float64Array(8);
  const w = new Float32Array(32);
  let maxScale = 0;
  let maxMin = 0;
  for (let j = 0; j < 8; j++) {
    const sub = x.subarray(32 * j, 32 * j + 32);
    let sumX2 = 0;
    for (const v of sub) sumX2 += v * v;
    const av = Math.sqrt(sumX2 / 32);
    for (let l = 0; l < 32; l++) w[l] = av + Math.abs(sub[l]);
    [scales[j], mins[j]] = fitScaleMin(sub, w, nmax, L.subarray(32 * j, 32 * j + 32), rmin, 0.1, nstep);
    maxScale = Math.max(maxScale, scales[j]);
    maxMin = Math.max(maxMin, mins[j]);
  }
  const invScale = maxScale > 0 ? 63 / maxScale : 0;
  const invMin = maxMin > 0 ? 63 / maxMin : 0;
  const ls = new Uint8Array(8);
  const lm = new Uint8Array(8);
  for (let j = 0; j < 8; j++) {
    ls[j] = Math.min(63, nearestInt(invScale * scales[j]));
    lm[j] = Math.min(63, nearestInt(invMin * mins[j]));
  }
  view.setUint16(o, f32ToF16Bits(fr(maxScale / 63)), true);
  view.setUint16(o + 2, f32ToF16Bits(fr(maxMin / 63)), true);
  packScaleMin(out, o + 4, ls, lm);
  const d = viaF16(fr(maxScale / 63));
  const dmin = viaF16(fr(maxMin / 63));
  for (let j = 0; j < 8; j++) {
    const [sc, m] = unpackScaleMin(out, o + 4, j);
    const dj = d * sc;
    if (!dj) continue;
    const dm = dmin * m;
    for (let i = 0; i < 32; i++) L[32 * j + i] = Math.max(0, Math.min(nmax, nearestInt((x[32 * j + i] + dm) / dj)));
  }
  return L;
}

/** Q4_K: per 64 values, byte l holds value l (low nibble) and value l+32 (high nibble). */
export function quantizeQ4_K(x: Float32Array): Uint8Array {
  checkLength('Q4_K', x.length);
  const blocks = x.length / QK_K;
  const out = new Uint8Array(blocks * Q4_K_BYTES);
  const view = new DataView(out.buffer);
  for (let b = 0; b < blocks; b++) {
    const o = b * Q4_K_BYTES;
    const L = quantizeScaleMinBlock(x.subarray(b * QK_K, (b + 1) * QK_K), out, view, o, 15, -1, 20);
    for (let j = 0; j < QK_K; j += 64)
      for (let l = 0; l < 32; l++) out[o + 16 + j / 2 + l] = L[j + l] | (L[j + l + 32] << 4);
  }
  return out;
}

/** Q5_K: low 4 bits as Q4_K; the 5th bit of value 64·k+l in bit 2k of qh[l], of 64·k+32+l in bit 2k+1. */
export function quantizeQ5_K(x: Float32Array): Uint8Array {
  checkLength('Q5_K', x.length);
  const blocks = x.length / QK_K;
  const out = new Uint8Array(blocks * Q5_K_BYTES);
  const view = new DataView(out.buffer);
  for (let b = 0; b < blocks; b++) {
    const o = b * Q5_K_BYTES;
    const L = quantizeScaleMinBlock(x.subarray(b * QK_K, (b + 1) * QK_K), out, view, o, 31, -0.5, 15);
    const qh = o + 16;
    const ql = o + 48;
    for (let k = 0; k < 4; k++)
      for (let l = 0; l < 32; l++) {
        const lo = L[64 * k + l];
        const hi = L[64 * k + 32 + l];
        out[qh + l] |= ((lo >> 4) << (2 * k)) | ((hi >> 4) << (2 * k + 1));
        out[ql + 32 * k + l] = (lo & 0xf) | ((hi & 0xf) << 4);
      }
  }
  return out;
}

/**
 * Q6_K: 16 symmetric sub-blocks of 16 with int8 scales against one f16 d (the largest-magnitude
 * scale maps to −128). Per 128 values, ql[l] = v[l] | v[l+64]<<4, ql[l+32] = v[l+32] | v[l+96]<<4
 * (low nibbles) and qh[l] holds the top 2 bits of v[l], v[l+32], v[l+64], v[l+96] at bits 0, 2, 4, 6.
 */
export function quantizeQ6_K(x: Float32Array): Uint8Array {
  checkLength('Q6_K', x.length);
  const blocks = x.length / QK_K;
  const out = new Uint8Array(blocks * Q6_K_BYTES);
  const view = new DataView(out.buffer);
  const scales = new Float64Array(16);
  const L = new Uint8Array(QK_K);
  for (let b = 0; b < blocks; b++) {
    const o = b * Q6_K_BYTES;
    const xb = x.subarray(b * QK_K, (b + 1) * QK_K);
    let maxScale = 0;
    let maxAbs = 0;
    for (let ib = 0; ib < 16; ib++) {
      scales[ib] = fitScale(xb.subarray(16 * ib, 16 * ib + 16), 32);
      if (Math.abs(scales[ib]) > maxAbs) {
        maxAbs = Math.abs(scales[ib]);
        maxScale = scales[ib];
      }
    }
    if (maxAbs < 1e-15) continue; // all zero: d = 0, codes unused
    const iscale = -128 / maxScale;
    view.setUint16(o + 208, f32ToF16Bits(fr(1 / iscale)), true);
    const d = viaF16(fr(1 / iscale));
    for (let ib = 0; ib < 16; ib++) view.setInt8(o + 192 + ib, Math.min(127, nearestInt(iscale * scales[ib])));
    L.fill(32);
    for (let j = 0; j < 16; j++) {
      const dj = d * view.getInt8(o + 192 + j);
      if (!dj) continue;
      for (let i = 0; i < 16; i++) L[16 * j + i] = Math.max(-32, Math.min(31, nearestInt(xb[16 * j + i] / dj))) + 32;
    }
    for (let h = 0; h < 2; h++) {
      const j = 128 * h;
      const ql = o + 64 * h;
      const qh = o + 128 + 32 * h;
      for (let l = 0; l < 32; l++) {
        out[ql + l] = (L[j + l] & 0xf) | ((L[j + l + 64] & 0xf) << 4);
        out[ql + l + 32] = (L[j + l + 32] & 0xf) | ((L[j + l + 96] & 0xf) << 4);
        out[qh + l] =
          (L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6);
      }
    }
  }
  return out;
}

/** Q4_K/Q5_K bytes → values (as ggml's dequantize_row_q4_K / _q5_K). */
function decodeScaleMin(bytes: Uint8Array, n: number, blockBytes: number, fifthBit: boolean): Float32Array {
  const out = new Float32Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let b = 0; b < n / QK_K; b++) {
    const o = b * blockBytes;
    const d = f16(view.getUint16(o, true));
    const dmin = f16(view.getUint16(o + 2, true));
    const qs = o + (fifthBit ? 48 : 16);
    for (let k = 0; k < 4; k++) {
      const [s1, m1] = unpackScaleMin(bytes, o + 4, 2 * k);
      const [s2, m2] = unpackScaleMin(bytes, o + 4, 2 * k + 1);
      for (let l = 0; l < 32; l++) {
        const q = bytes[qs + 32 * k + l];
        const h = fifthBit ? bytes[o + 16 + l] : 0;
        const lo = (q & 0xf) + ((h >> (2 * k)) & 1) * 16;
        const hi = (q >> 4) + ((h >> (2 * k + 1)) & 1) * 16;
        out[b * QK_K + 64 * k + l] = d * s1 * lo - dmin * m1;
        out[b * QK_K + 64 * k + 32 + l] = d * s2 * hi - dmin * m2;
      }
    }
  }
  return out;
}

export function dequantizeQ4_K(bytes: Uint8Array, n: number): Float32Array {
  return decodeScaleMin(bytes, n, Q4_K_BYTES, false);
}

export function dequantizeQ5_K(bytes: Uint8Array, n: number): Float32Array {
  return decodeScaleMin(bytes, n, Q5_K_BYTES, true);
}

/** Q6_K bytes → values (as ggml's dequantize_row_q6_K). */
export function dequantizeQ6_K(bytes: Uint8Array, n: number): Float32Array {
  const out = new Float32Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let b = 0; b < n / QK_K; b++) {
    const o = b * Q6_K_BYTES;
    const d = f16(view.getUint16(o + 208, true));
    for (let h = 0; h < 2; h++) {
      const ql = o + 64 * h;
      const qh = o + 128 + 32 * h;
      const sc = o + 192 + 8 * h;
      const y = b * QK_K + 128 * h;
      for (let l = 0; l < 32; l++) {
        const is = l >> 4;
        const hb = bytes[qh + l];
        const q1 = ((bytes[ql + l] & 0xf) | ((hb & 3) << 4)) - 32;
        const q2 = ((bytes[ql + l + 32] & 0xf) | (((hb >> 2) & 3) << 4)) - 32;
        const q3 = ((bytes[ql + l] >> 4) | (((hb >> 4) & 3) << 4)) - 32;
        const q4 = ((bytes[ql + l + 32] >> 4) | (((hb >> 6) & 3) << 4)) - 32;
        out[y + l] = d * view.getInt8(sc + is) * q1;
        out[y + l + 32] = d * view.getInt8(sc + is + 2) * q2;
        out[y + l + 64] = d * view.getInt8(sc + is + 4) * q3;
        out[y + l + 96] = d * view.getInt8(sc + is + 6) * q4;
      }
    }
  }
  return out;
}
