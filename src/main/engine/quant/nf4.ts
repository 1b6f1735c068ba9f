// NF4 (4-bit NormalFloat, the QLoRA paper) blockwise quantization with optional double quantization of the
// absmax values, in bitsandbytes' layout — the CPU reference shared by the ONNX executor and the CUDA kernels:
//   W (OC, IC) flattened row-major, blocks of 64 values with one absmax each, two codes per byte with the FIRST
//   element in the HIGH nibble (what com.microsoft.MatMulBnb4 reads with transB=1).
// Quantizing a block: absmax = max|x|; each value is scaled by the float32 reciprocal 1/absmax and takes the code
// whose interval it falls in; interval edges are the float32 midpoints between neighbouring codes and a value
// exactly on an edge takes the lower code (bitsandbytes' dQuantizeNF4 compares `x > midpoint`).
// Double quantization (bitsandbytes' compress_statistics): offset = mean(absmax); the centred absmax values are
// quantized blockwise (256 per block) to the nearest entry of the signed 8-bit dynamic map, scaled by their own
// absmax2:   absmax[b] ≈ dyn[qabsmax[b]] · absmax2[b / 256] + offset.

/** The 16 NF4 levels as bitsandbytes stores them (float32). */
export const NF4_CODE: Float32Array = Float32Array.from([
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
  -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
  0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
]);

/** The 15 decision edges, float32 midpoints of neighbouring codes (bitsandbytes' constants carry the `f` suffix). */
export const NF4_EDGES: Float32Array = Float32Array.from({ length: 15 }, (_, i) => (NF4_CODE[i] + NF4_CODE[i + 1]) / 2);

export const NF4_BLOCK = 64;
export const DOUBLE_QUANT_BLOCK = 256;

/** Code of a value already scaled into [−1, 1] (a float32). */
export function nf4CodeOf(x: number): number {
  let c = 0;
  while (c < 15 && x > NF4_EDGES[c]) c++;
  return c;
}

/**
 * bitsandbytes' create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8): for exponent i = 0..6 the
 * midpoints of linspace(0.1, 1, 2^i + 1) scaled by 10^(i−6), with both signs, plus 0 and 1; sorted (256 values).
 * Computed in float32 the way torch does (linspace, then the products); the table is only a rounding grid, so
 * a last-bit difference from torch's could only move a value sitting exactly between two entries.
 */
export function dynamicMap(): Float32Array {
  const f = Math.fround;
  const data: number[] = [];
  for (let i = 0; i < 7; i++) {
    const items = 2 ** i + 1;
    // torch.linspace(0.1, 1, items) in float32: the first half counts up from start, the second down from end
    const step = f((1 - f(0.1)) / (items - 1));
    const half = Math.floor(items / 2);
    const bounds = Array.from({ length: items }, (_, k) => (k < half ? f(f(0.1) + f(step * k)) : f(1 - f(step * (items - 1 - k)))));
    const scale = f(10 ** (-6 + i)); // a Python float times a float32 tensor: computed in float32
    for (let k = 0; k < items - 1; k++) {
      const mean = f(f(bounds[k] + bounds[k + 1]) / 2);
      data.push(f(scale * mean), f(-scale * mean));
    }
  }
  data.push(0, 1);
  return Float32Array.from(data.sort((a, b) => a - b));
}

let dyn: Float32Array | null = null;
/** The dynamic map, computed once. */
export function dynMap(): Float32Array {
  return (dyn ??= dynamicMap());
}

/** Index of the nearest entry of a sorted table (ties to the lower index). */
export function nearestIndex(table: Float32Array, x: number): number {
  let lo = 0;
  let hi = table.length - 1;
  if (x <= table[lo]) return lo;
  if (x >= table[hi]) return hi;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (table[mid] <= x) lo = mid;
    else hi = mid;
  }
  return Math.abs(table[hi] - x) < Math.abs(x - table[lo]) ? hi : lo;
}

export interface DoubleQuant {
  qabsmax: Uint8Array; // (blocks) index into the dynamic map
  absmax2: Float32Array; // (ceil(blocks / 256)) scale of each block of absmax values
  offset: number; // mean of the absmax values (float32)
}

/** A weight (OC, IC) held as NF4. `absmax` is always there (the dequantized one when double-quantized). */
export interface Nf4Tensor {
  kind: 'nf4';
  shape: [number, number]; // (OC, IC), PyTorch's [out, in]
  blockSize: number;
  codes: Uint8Array; // ceil(n / 2) bytes, first element in the high nibble
  absmax: Float32Array; // (blocks) float32 scale per block, as the kernels consume it
  double: DoubleQuant | null;
}

export function isNf4(x: unknown): x is Nf4Tensor {
  return typeof x === 'object' && x !== null && (x as Nf4Tensor).kind === 'nf4';
}

/** Blockwise NF4 quantization of float values (a bf16 checkpoint arrives here widened to float32 exactly). */
export function quantizeNf4Blocks(x: ArrayLike<number>, blockSize = NF4_BLOCK): { codes: Uint8Array; absmax: Float32Array } {
  const n = x.length;
  if (!Number.isInteger(blockSize) || blockSize <= 0 || blockSize % 2 !== 0) throw new Error(`NF4: block size must be a positive even integer, got ${blockSize}`);
  const blocks = Math.ceil(n / blockSize);
  const codes = new Uint8Array(Math.ceil(n / 2));
  const absmax = new Float32Array(blocks);
  for (let b = 0; b < blocks; b++) {
    const start = b * blockSize;
    const end = Math.min(n, start + blockSize);
    let am = 0;
    for (let i = start; i < end; i++) {
      const v = Math.abs(Math.fround(x[i]));
      if (!Number.isFinite(v)) throw new Error(`NF4: value ${x[i]} at index ${i} is not finite`);
      if (v > am) am = v;
    }
    absmax[b] = am;
    const inv = am > 0 ? Math.fround(1 / am) : 0; // an all-zero block stores code 7 (0.0) everywhere
    for (let i = start; i < end; i++) {
      const c = nf4CodeOf(Math.fround(Math.fround(x[i]) * inv));
      codes[i >> 1] |= i & 1 ? c : c << 4;
    }
  }
  return { codes, absmax };
}

/** Double quantization of absmax values (blocks of 256, signed dynamic map). */
export function doubleQuantize(absmax: Float32Array, blockSize = DOUBLE_QUANT_BLOCK): DoubleQuant {
  let sum = 0;
  for (const a of absmax) sum += a;
  const offset = Math.fround(sum / Math.max(1, absmax.length));
  const map = dynMap();
  const nb = Math.ceil(absmax.length / blockSize);
  const qabsmax = new Uint8Array(absmax.length);
  const absmax2 = new Float32Array(nb);
  for (let b = 0; b < nb; b++) {
    const start = b * blockSize;
    const end = Math.min(absmax.length, start + blockSize);
    let am = 0;
    for (let i = start; i < end; i++) am = Math.max(am, Math.abs(Math.fround(absmax[i] - offset)));
    absmax2[b] = am;
    const inv = am > 0 ? Math.fround(1 / am) : 0;
    for (let i = start; i < end; i++) qabsmax[i] = nearestIndex(map, Math.fround(Math.fround(absmax[i] - offset) * inv));
  }
  return { qabsmax, absmax2, offset };
}

/** absmax (blocks) from its double quantization: dyn[q]·absmax2 + offset, in float32. */
export function dequantizeAbsmax(d: DoubleQuant, blockSize = DOUBLE_QUANT_BLOCK): Float32Array {
  const map = dynMap();
  return Float32Array.from(d.qabsmax, (q, i) => Math.fround(Math.fround(map[q] * d.absmax2[Math.floor(i / blockSize)]) + d.offset));
}

/** Quantize a (OC, IC) weight to NF4 (block 64), optionally double-quantizing its absmax values. */
export function quantizeNf4(w: ArrayLike<number>, shape: [number, number], options: { blockSize?: number; doubleQuant?: boolean } = {}): Nf4Tensor {
  const [OC, IC] = shape;
  if (w.length !== OC * IC) throw new Error(`NF4: weight has ${w.length} values, shape [${OC}, ${IC}] needs ${OC * IC}`);
  const blockSize = options.blockSize ?? NF4_BLOCK;
  const { codes, absmax } = quantizeNf4Blocks(w, blockSize);
  if (!options.doubleQuant) return { kind: 'nf4', shape: [OC, IC], blockSize, codes, absmax, double: null };
  const double = doubleQuantize(absmax);
  return { kind: 'nf4', shape: [OC, IC], blockSize, codes, absmax: dequantizeAbsmax(double), double };
}

/** The float32 weight an NF4 tensor stands for: code value × its block's absmax. */
export function dequantizeNf4(t: Nf4Tensor): Float32Array {
  const n = t.shape[0] * t.shape[1];
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const byte = t.codes[i >> 1];
    out[i] = Math.fround(NF4_CODE[i & 1 ? byte & 15 : byte >> 4] * t.absmax[Math.floor(i / t.blockSize)]);
  }
  return out;
}

/**
 * Bytes an NF4 weight occupies as stored: packed codes plus either float32 absmax (one per block) or, with double
 * quantization, one byte per block plus float32 absmax2 per 256 blocks and the offset.
 */
export function nf4StorageBytes(t: Nf4Tensor): number {
  return t.codes.byteLength + (t.double ? t.double.qabsmax.byteLength + t.double.absmax2.byteLength + 4 : t.absmax.byteLength);
}
