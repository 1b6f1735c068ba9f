// Writing .safetensors files the way the reference implementation does: tensors laid out by dtype
// size (largest first) then name, header JSON padded with spaces to a multiple of 8 bytes so the
// data buffer is aligned, "__metadata__" first. Tensor data may be given up front or produced
// lazily (one tensor in memory at a time), and the file appears atomically (temp file + rename).

import { open, rename, rm, mkdir } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { dtypeSize, fromFloat32, type SafetensorsDtype } from './dtypes.ts';
import { elementCount } from './file.ts';

export type TensorData = Float32Array | Float64Array | Uint8Array;

export interface TensorToWrite {
  name: string;
  /** Dtype stored in the file. Float data is converted (F16/BF16 round to nearest even). */
  dtype: SafetensorsDtype;
  shape: number[];
  /**
   * The values: a Float32Array/Float64Array (converted to `dtype`), or a Uint8Array of raw
   * little-endian bytes already in `dtype`. Or a function producing them when the writer reaches
   * this tensor, so large exports hold one tensor at a time.
   */
  data: TensorData | (() => Promise<TensorData> | TensorData);
}

export interface WriteOptions {
  metadata?: Record<string, string>;
}

/** Order tensors like the reference writer: larger dtypes first (keeps alignment), then by name. */
export function layoutOrder<T extends { name: string; dtype: SafetensorsDtype }>(tensors: readonly T[]): T[] {
  return [...tensors].sort((a, b) => dtypeSize(b.dtype) - dtypeSize(a.dtype) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Build the padded header bytes (without the 8-byte length) for a layout. */
export function buildHeader(
  tensors: readonly { name: string; dtype: SafetensorsDtype; shape: number[] }[],
  metadata: Record<string, string> | undefined,
): { header: Uint8Array; totalDataBytes: number } {
  const obj: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) obj.__metadata__ = metadata;
  let offset = 0;
  const seen = new Set<string>();
  for (const t of tensors) {
    if (t.name === '__metadata__') throw new Error('a tensor cannot be named "__metadata__"');
    if (seen.has(t.name)) throw new Error(`duplicate tensor name "${t.name}"`);
    seen.add(t.name);
    const n = elementCount(t.shape) * dtypeSize(t.dtype);
    obj[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + n] };
    offset += n;
  }
  let json = JSON.stringify(obj);
  const bytes = Buffer.byteLength(json, 'utf8');
  json += ' '.repeat((8 - (bytes % 8)) % 8);
  return { header: new TextEncoder().encode(json), totalDataBytes: offset };
}

function encode(t: TensorToWrite, data: TensorData): Uint8Array {
  const expected = elementCount(t.shape) * dtypeSize(t.dtype);
  let bytes: Uint8Array;
  if (data instanceof Uint8Array) bytes = data;
  else {
    if (data.length !== elementCount(t.shape)) {
      throw new Error(`tensor "${t.name}": ${data.length} values for shape ${JSON.stringify(t.shape)} (${elementCount(t.shape)} expected)`);
    }
    bytes = fromFloat32(data, t.dtype, `tensor "${t.name}"`);
  }
  if (bytes.byteLength !== expected) {
    throw new Error(`tensor "${t.name}": ${bytes.byteLength} bytes for shape ${JSON.stringify(t.shape)} × ${t.dtype} (${expected} expected)`);
  }
  return bytes;
}

/** A sibling temp path for atomic writes. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Write a safetensors file atomically; returns the number of bytes written. */
export async function writeSafetensors(path: string, tensors: readonly TensorToWrite[], options: WriteOptions = {}): Promise<number> {
  const ordered = layoutOrder(tensors);
  const { header, totalDataBytes } = buildHeader(ordered, options.metadata);
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempPathFor(path);
  const handle = await open(tmp, 'w');
  let ok = false;
  try {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.byteLength));
    await handle.write(len, 0, 8, 0);
    await handle.write(header, 0, header.byteLength, 8);
    let position = 8 + header.byteLength;
    for (const t of ordered) {
      const data = typeof t.data === 'function' ? await t.data() : t.data;
      const bytes = encode(t, data);
      await handle.write(bytes, 0, bytes.byteLength, position);
      position += bytes.byteLength;
    }
    await handle.sync();
    ok = true;
    await handle.close();
    await rename(tmp, path);
    return 8 + header.byteLength + totalDataBytes;
  } finally {
    if (!ok) {
      await handle.close().catch(() => {});
      await rm(tmp, { force: true });
    }
  }
}

/** Serialize to bytes in memory (small files and tests). */
export async function serializeSafetensors(tensors: readonly TensorToWrite[], options: WriteOptions = {}): Promise<Uint8Array> {
  const ordered = layoutOrder(tensors);
  const { header, totalDataBytes } = buildHeader(ordered, options.metadata);
  const out = new Uint8Array(8 + header.byteLength + totalDataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.byteLength), true);
  out.set(header, 8);
  let position = 8 + header.byteLength;
  for (const t of ordered) {
    const bytes = encode(t, typeof t.data === 'function' ? await t.data() : t.data);
    out.set(bytes, position);
    position += bytes.byteLength;
  }
  return out;
}
