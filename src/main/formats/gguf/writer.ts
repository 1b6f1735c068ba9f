// A GGUF v3 writer. Layout (all little-endian):
//   "GGUF" u32 version=3 | u64 tensor_count | u64 kv_count
//   kv_count × (string key, u32 value_type, value)       string = u64 length + UTF-8 bytes
//   tensor_count × (string name, u32 n_dims, u64 ne[n_dims], u32 ggml_type, u64 offset)
//   padding to `general.alignment` (32), then each tensor's data at its offset (aligned).
// ne[0] is the innermost (contiguous) dimension, i.e. a PyTorch [out, in] weight has ne = [in, out].
// Tensor data is produced lazily, one tensor at a time, and the file appears atomically.

import { open, rename, rm, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { tempPathFor } from '../safetensors/write.ts';
import { f32ToF16Bits, f32ToBf16Bits } from '../safetensors/dtypes.ts';
import { QK_K, Q4_K_BYTES, Q5_K_BYTES, Q6_K_BYTES, quantizeQ4_K, quantizeQ5_K, quantizeQ6_K, dequantizeQ4_K, dequantizeQ5_K, dequantizeQ6_K } from './k-quants.ts';

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;

export enum GgufValueType {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
}

/** ggml tensor types we write. */
export enum GgmlType {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  BF16 = 30,
}

export const QK = 32; // elements per Q4_0 / Q8_0 block

/** Values per block of a ggml type (1 for plain floats): a quantized row must hold whole blocks. */
export function ggmlBlockSize(type: GgmlType): number {
  switch (type) {
    case GgmlType.Q8_0:
    case GgmlType.Q4_0:
    case GgmlType.Q5_0:
    case GgmlType.Q5_1:
      return QK;
    case GgmlType.Q4_K:
    case GgmlType.Q5_K:
    case GgmlType.Q6_K:
      return QK_K;
    default:
      return 1;
  }
}

/** Bytes for `n` elements (n must be a multiple of the block size for quantized types). */
export function ggmlBytes(type: GgmlType, n: number): number {
  switch (type) {
    case GgmlType.F32:
      return 4 * n;
    case GgmlType.F16:
    case GgmlType.BF16:
      return 2 * n;
    case GgmlType.Q8_0:
      return (n / QK) * (2 + QK);
    case GgmlType.Q4_0:
      return (n / QK) * (2 + QK / 2);
    case GgmlType.Q5_0:
      return (n / QK) * (2 + 4 + QK / 2);
    case GgmlType.Q5_1:
      return (n / QK) * (4 + 4 + QK / 2);
    case GgmlType.Q4_K:
      return (n / QK_K) * Q4_K_BYTES;
    case GgmlType.Q5_K:
      return (n / QK_K) * Q5_K_BYTES;
    case GgmlType.Q6_K:
      return (n / QK_K) * Q6_K_BYTES;
  }
}

export type GgufScalar =
  | { type: GgufValueType.UINT8 | GgufValueType.INT8 | GgufValueType.UINT16 | GgufValueType.INT16 | GgufValueType.UINT32 | GgufValueType.INT32; value: number }
  | { type: GgufValueType.FLOAT32 | GgufValueType.FLOAT64; value: number }
  | { type: GgufValueType.UINT64 | GgufValueType.INT64; value: bigint | number }
  | { type: GgufValueType.BOOL; value: boolean }
  | { type: GgufValueType.STRING; value: string };

export type GgufArray = { type: GgufValueType.ARRAY; itemType: Exclude<GgufValueType, GgufValueType.ARRAY>; value: (number | bigint | boolean | string)[] };
export type GgufValue = GgufScalar | GgufArray;

export const gv = {
  str: (value: string): GgufValue => ({ type: GgufValueType.STRING, value }),
  u32: (value: number): GgufValue => ({ type: GgufValueType.UINT32, value }),
  i32: (value: number): GgufValue => ({ type: GgufValueType.INT32, value }),
  u64: (value: number | bigint): GgufValue => ({ type: GgufValueType.UINT64, value }),
  f32: (value: number): GgufValue => ({ type: GgufValueType.FLOAT32, value }),
  bool: (value: boolean): GgufValue => ({ type: GgufValueType.BOOL, value }),
  strs: (value: string[]): GgufValue => ({ type: GgufValueType.ARRAY, itemType: GgufValueType.STRING, value }),
  i32s: (value: number[]): GgufValue => ({ type: GgufValueType.ARRAY, itemType: GgufValueType.INT32, value }),
  f32s: (value: number[]): GgufValue => ({ type: GgufValueType.ARRAY, itemType: GgufValueType.FLOAT32, value }),
};

export interface GgufTensor {
  name: string;
  /** Shape in PyTorch order (outermost first); written reversed as ne[]. */
  shape: number[];
  type: GgmlType;
  /** Row-major float values, produced when the writer reaches this tensor. */
  data: () => Promise<Float32Array> | Float32Array;
}

/** Growable little-endian byte buffer for the header. */
class ByteSink {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  length = 0;
  private ensure(n: number) {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number) { this.ensure(1); this.view.setUint8(this.length, v); this.length += 1; }
  i8(v: number) { this.ensure(1); this.view.setInt8(this.length, v); this.length += 1; }
  u16(v: number) { this.ensure(2); this.view.setUint16(this.length, v, true); this.length += 2; }
  i16(v: number) { this.ensure(2); this.view.setInt16(this.length, v, true); this.length += 2; }
  u32(v: number) { this.ensure(4); this.view.setUint32(this.length, v, true); this.length += 4; }
  i32(v: number) { this.ensure(4); this.view.setInt32(this.length, v, true); this.length += 4; }
  u64(v: number | bigint) { this.ensure(8); this.view.setBigUint64(this.length, BigInt(v), true); this.length += 8; }
  i64(v: number | bigint) { this.ensure(8); this.view.setBigInt64(this.length, BigInt(v), true); this.length += 8; }
  f32(v: number) { this.ensure(4); this.view.setFloat32(this.length, v, true); this.length += 4; }
  f64(v: number) { this.ensure(8); this.view.setFloat64(this.length, v, true); this.length += 8; }
  bytes(b: Uint8Array) { this.ensure(b.length); this.buf.set(b, this.length); this.length += b.length; }
  str(s: string) { const b = new TextEncoder().encode(s); this.u64(b.length); this.bytes(b); }
  pad(alignment: number) { const n = (alignment - (this.length % alignment)) % alignment; this.ensure(n); this.length += n; }
  result(): Uint8Array { return this.buf.slice(0, this.length); }
}

function writeScalar(sink: ByteSink, type: GgufValueType, value: unknown, key: string): void {
  const num = () => {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`GGUF key "${key}": expected a finite number, got ${String(value)}`);
    return value;
  };
  switch (type) {
    case GgufValueType.UINT8: return sink.u8(num());
    case GgufValueType.INT8: return sink.i8(num());
    case GgufValueType.UINT16: return sink.u16(num());
    case GgufValueType.INT16: return sink.i16(num());
    case GgufValueType.UINT32: return sink.u32(num());
    case GgufValueType.INT32: return sink.i32(num());
    case GgufValueType.FLOAT32: return sink.f32(num());
    case GgufValueType.FLOAT64: return sink.f64(num());
    case GgufValueType.UINT64: return sink.u64(value as number | bigint);
    case GgufValueType.INT64: return sink.i64(value as number | bigint);
    case GgufValueType.BOOL: return sink.u8(value ? 1 : 0);
    case GgufValueType.STRING:
      if (typeof value !== 'string') throw new Error(`GGUF key "${key}": expected a string`);
      return sink.str(value);
    default:
      throw new Error(`GGUF key "${key}": nested arrays are not supported`);
  }
}

/** Encode float values as ggml `type` (row length must be a multiple of 32 for Q8_0/Q4_0). */
export function encodeGgml(type: GgmlType, values: Float32Array): Uint8Array {
  const n = values.length;
  switch (type) {
    case GgmlType.F32:
      return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
    case GgmlType.F16: {
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) out[i] = f32ToF16Bits(values[i]);
      return new Uint8Array(out.buffer);
    }
    case GgmlType.BF16: {
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) out[i] = f32ToBf16Bits(values[i]);
      return new Uint8Array(out.buffer);
    }
    case GgmlType.Q8_0:
      return quantizeQ8_0(values);
    case GgmlType.Q4_0:
      return quantizeQ4_0(values);
    case GgmlType.Q5_0:
      return quantizeQ5(values, false);
    case GgmlType.Q5_1:
      return quantizeQ5(values, true);
    case GgmlType.Q4_K:
      return quantizeQ4_K(values);
    case GgmlType.Q5_K:
      return quantizeQ5_K(values);
    case GgmlType.Q6_K:
      return quantizeQ6_K(values);
  }
}

/**
 * Q8_0, as ggml's reference quantizer: per block of 32, d = max|x| / 127 stored as f16,
 * q = round(x / d) as int8 (round half away from zero, like C's roundf).
 */
export function quantizeQ8_0(x: Float32Array): Uint8Array {
  if (x.length % QK !== 0) throw new Error(`Q8_0 needs a multiple of ${QK} values, got ${x.length}`);
  const blocks = x.length / QK;
  const out = new Uint8Array(blocks * (2 + QK));
  const view = new DataView(out.buffer);
  for (let b = 0; b < blocks; b++) {
    let amax = 0;
    for (let j = 0; j < QK; j++) amax = Math.max(amax, Math.abs(x[b * QK + j]));
    // f32 arithmetic throughout, as the C reference, so codes match it bit for bit.
    const d = Math.fround(amax / 127);
    const id = d ? Math.fround(1 / d) : 0;
    const o = b * (2 + QK);
    view.setUint16(o, f32ToF16Bits(d), true);
    for (let j = 0; j < QK; j++) {
      const v = Math.fround(x[b * QK + j] * id);
      view.setInt8(o + 2 + j, Math.sign(v) * Math.round(Math.abs(v)));
    }
  }
  return out;
}

/**
 * Q4_0, as ggml's reference quantizer: per block of 32, the value of largest magnitude `max`
 * gives d = max / −8; q = min(15, trunc(x/d + 8.5)); element j in the low nibble of byte j,
 * element j+16 in its high nibble.
 */
export function quantizeQ4_0(x: Float32Array): Uint8Array {
  if (x.length % QK !== 0) throw new Error(`Q4_0 needs a multiple of ${QK} values, got ${x.length}`);
  const blocks = x.length / QK;
  const out = new Uint8Array(blocks * (2 + QK / 2));
  const view = new DataView(out.buffer);
  const f32 = new Float32Array(1);
  for (let b = 0; b < blocks; b++) {
    let amax = 0;
    let max = 0;
    for (let j = 0; j < QK; j++) {
      const v = x[b * QK + j];
      if (Math.abs(v) > amax) {
        amax = Math.abs(v);
        max = v;
      }
    }
    f32[0] = max / -8;
    const d = f32[0];
    f32[0] = d ? 1 / d : 0;
    const id = f32[0];
    const o = b * (2 + QK / 2);
    view.setUint16(o, f32ToF16Bits(d), true);
    for (let j = 0; j < QK / 2; j++) {
      f32[0] = x[b * QK + j] * id;
      const x0 = f32[0];
      f32[0] = x[b * QK + j + QK / 2] * id;
      const x1 = f32[0];
      const q0 = Math.min(15, Math.trunc(x0 + 8.5));
      const q1 = Math.min(15, Math.trunc(x1 + 8.5));
      out[o + 2 + j] = q0 | (q1 << 4);
    }
  }
  return out;
}

/**
 * Q5_0 / Q5_1, as ggml's reference quantizers (llama.cpp's fallback for Q4_K / Q5_K rows that are not
 * whole 256-value super-blocks). Per block of 32: Q5_0 is symmetric, d = max / −16 (max = the value
 * of largest magnitude), q = min(31, trunc(x/d + 16.5)); Q5_1 has a min, d = (max − min)/31,
 * q = trunc((x − min)/d + 0.5). Layout: f16 d | (Q5_1: f16 min) | u32 fifth bits (bit j for element j)
 * | 16 bytes of low nibbles (element j low, element j+16 high).
 */
export function quantizeQ5(x: Float32Array, withMin: boolean): Uint8Array {
  const name = withMin ? 'Q5_1' : 'Q5_0';
  if (x.length % QK !== 0) throw new Error(`${name} needs a multiple of ${QK} values, got ${x.length}`);
  const head = withMin ? 4 : 2;
  const size = head + 4 + QK / 2;
  const blocks = x.length / QK;
  const out = new Uint8Array(blocks * size);
  const view = new DataView(out.buffer);
  const f32 = new Float32Array(1);
  const fr = (v: number) => ((f32[0] = v), f32[0]);
  for (let b = 0; b < blocks; b++) {
    const xb = x.subarray(b * QK, (b + 1) * QK);
    let lo = 0;
    let d: number;
    if (withMin) {
      let min = xb[0];
      let max = xb[0];
      for (const v of xb) {
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
      d = fr((max - min) / 31);
      lo = min;
    } else {
      let amax = 0;
      let max = 0;
      for (const v of xb) {
        if (Math.abs(v) > amax) {
          amax = Math.abs(v);
          max = v;
        }
      }
      d = fr(max / -16);
    }
    const id = d ? fr(1 / d) : 0;
    const o = b * size;
    view.setUint16(o, f32ToF16Bits(d), true);
    if (withMin) view.setUint16(o + 2, f32ToF16Bits(lo), true);
    let qh = 0;
    for (let j = 0; j < QK / 2; j++) {
      const code = (v: number) => (withMin ? Math.trunc(fr(fr((v - lo) * id) + 0.5)) : Math.min(31, Math.trunc(fr(fr(v * id) + 16.5))));
      const q0 = code(xb[j]);
      const q1 = code(xb[j + QK / 2]);
      out[o + head + 4 + j] = (q0 & 0xf) | ((q1 & 0xf) << 4);
      qh |= ((q0 >> 4) & 1) << j;
      qh |= ((q1 >> 4) & 1) << (j + 16);
    }
    view.setUint32(o + head, qh >>> 0, true);
  }
  return out;
}

export interface GgufWriteOptions {
  alignment?: number;
}

/** Write a GGUF file atomically; returns its size in bytes. */
export async function writeGguf(path: string, metadata: ReadonlyMap<string, GgufValue>, tensors: readonly GgufTensor[], options: GgufWriteOptions = {}): Promise<number> {
  const alignment = options.alignment ?? GGUF_DEFAULT_ALIGNMENT;
  const kv = new Map(metadata);
  if (alignment !== GGUF_DEFAULT_ALIGNMENT) kv.set('general.alignment', gv.u32(alignment));
  const names = new Set<string>();
  const sink = new ByteSink();
  sink.u32(GGUF_MAGIC);
  sink.u32(GGUF_VERSION);
  sink.u64(tensors.length);
  sink.u64(kv.size);
  for (const [key, value] of kv) {
    sink.str(key);
    sink.u32(value.type);
    if (value.type === GgufValueType.ARRAY) {
      sink.u32(value.itemType);
      sink.u64(value.value.length);
      for (const item of value.value) writeScalar(sink, value.itemType, item, key);
    } else writeScalar(sink, value.type, value.value, key);
  }
  let offset = 0;
  const sizes: number[] = [];
  for (const t of tensors) {
    if (names.has(t.name)) throw new Error(`GGUF: duplicate tensor name "${t.name}"`);
    names.add(t.name);
    const n = t.shape.reduce((a, b) => a * b, 1);
    const rowLength = t.shape[t.shape.length - 1];
    const block = ggmlBlockSize(t.type);
    if (rowLength % block !== 0) {
      throw new Error(`GGUF tensor "${t.name}": rows of ${rowLength} are not a multiple of ${block} (needed by ${GgmlType[t.type]})`);
    }
    sink.str(t.name);
    sink.u32(t.shape.length);
    for (let i = t.shape.length - 1; i >= 0; i--) sink.u64(t.shape[i]);
    sink.u32(t.type);
    sink.u64(offset);
    const size = ggmlBytes(t.type, n);
    sizes.push(size);
    offset += size + ((alignment - (size % alignment)) % alignment);
  }
  sink.pad(alignment);
  const header = sink.result();

  await mkdir(dirname(path), { recursive: true });
  const tmp = tempPathFor(path);
  const handle = await open(tmp, 'w');
  let ok = false;
  try {
    await handle.write(header, 0, header.length, 0);
    let position = header.length;
    const zeros = new Uint8Array(alignment);
    for (let i = 0; i < tensors.length; i++) {
      const t = tensors[i];
      const values = await t.data();
      const expected = t.shape.reduce((a, b) => a * b, 1);
      if (values.length !== expected) throw new Error(`GGUF tensor "${t.name}": ${values.length} values for shape [${t.shape}]`);
      const bytes = encodeGgml(t.type, values);
      if (bytes.length !== sizes[i]) throw new Error(`GGUF tensor "${t.name}": encoded ${bytes.length} bytes, expected ${sizes[i]}`);
      await handle.write(bytes, 0, bytes.length, position);
      position += bytes.length;
      const pad = (alignment - (bytes.length % alignment)) % alignment;
      if (pad) {
        await handle.write(zeros, 0, pad, position);
        position += pad;
      }
    }
    await handle.sync();
    ok = true;
    await handle.close();
    await rename(tmp, path);
    return position;
  } finally {
    if (!ok) {
      await handle.close().catch(() => {});
      await rm(tmp, { force: true });
    }
  }
}

/** Inverse of the quantizers, for checks: ggml bytes → float values. */
export function decodeGgml(type: GgmlType, bytes: Uint8Array, n: number): Float32Array {
  const out = new Float32Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const f16 = (o: number) => {
    const h = view.getUint16(o, true);
    const sign = h & 0x8000 ? -1 : 1;
    const e = (h >>> 10) & 0x1f;
    const m = h & 0x3ff;
    if (e === 0) return sign * m * 2 ** -24;
    if (e === 31) return m ? NaN : sign * Infinity;
    return sign * (1 + m / 1024) * 2 ** (e - 15);
  };
  switch (type) {
    case GgmlType.F32:
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
      return out;
    case GgmlType.F16:
      for (let i = 0; i < n; i++) out[i] = f16(2 * i);
      return out;
    case GgmlType.BF16: {
      const w = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) w[i] = view.getUint16(2 * i, true) << 16;
      return out;
    }
    case GgmlType.Q8_0:
      for (let b = 0; b < n / QK; b++) {
        const o = b * (2 + QK);
        const d = f16(o);
        for (let j = 0; j < QK; j++) out[b * QK + j] = view.getInt8(o + 2 + j) * d;
      }
      return out;
    case GgmlType.Q4_0:
      for (let b = 0; b < n / QK; b++) {
        const o = b * (2 + QK / 2);
        const d = f16(o);
        for (let j = 0; j < QK / 2; j++) {
          const q = bytes[o + 2 + j];
          out[b * QK + j] = ((q & 0xf) - 8) * d;
          out[b * QK + j + QK / 2] = ((q >> 4) - 8) * d;
        }
      }
      return out;
    case GgmlType.Q5_0:
    case GgmlType.Q5_1: {
      const withMin = type === GgmlType.Q5_1;
      const head = withMin ? 4 : 2;
      const size = head + 4 + QK / 2;
      for (let b = 0; b < n / QK; b++) {
        const o = b * size;
        const d = f16(o);
        const m = withMin ? f16(o + 2) : -16 * d;
        const qh = view.getUint32(o + head, true);
        for (let j = 0; j < QK / 2; j++) {
          const q = bytes[o + head + 4 + j];
          out[b * QK + j] = ((q & 0xf) | (((qh >>> j) & 1) << 4)) * d + m;
          out[b * QK + j + QK / 2] = ((q >> 4) | (((qh >>> (j + 16)) & 1) << 4)) * d + m;
        }
      }
      return out;
    }
    case GgmlType.Q4_K:
      return dequantizeQ4_K(bytes, n);
    case GgmlType.Q5_K:
      return dequantizeQ5_K(bytes, n);
    case GgmlType.Q6_K:
      return dequantizeQ6_K(bytes, n);
  }
}
