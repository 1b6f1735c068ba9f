// Reading one .safetensors file: 8-byte little-endian header length N, N bytes of JSON
// ({"__metadata__": {str: str}, name: {dtype, shape, data_offsets: [begin, end]}}), then the data
// buffer. Offsets are relative to the data buffer. We validate the header like the reference Rust
// implementation (offsets contiguous and covering the whole buffer) and read each tensor lazily by
// its byte span, so a multi-GB checkpoint is never loaded whole.

import { open, type FileHandle } from 'node:fs/promises';
import { dtypeSize, isSafetensorsDtype, toFloat32, SAFETENSORS_DTYPES, type SafetensorsDtype } from './dtypes.ts';

/** Largest header the reference implementation accepts (100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

export interface TensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Offsets inside the data buffer, as written in the header. */
  dataOffsets: [number, number];
  /** Absolute byte offset of the tensor in the file. */
  fileOffset: number;
  byteLength: number;
}

export interface SafetensorsHeader {
  metadata: Record<string, string>;
  tensors: Map<string, TensorInfo>;
  /** Absolute offset of the data buffer (8 + header length). */
  dataStart: number;
}

export class SafetensorsError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'SafetensorsError';
  }
}

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Parse and validate a header. `headerJson` is the N header bytes, `fileSize` the total file size.
 * Every problem names the file and the offending tensor/field.
 */
export function parseSafetensorsHeader(headerJson: Uint8Array, fileSize: number, file: string): SafetensorsHeader {
  const dataStart = 8 + headerJson.byteLength;
  const dataLength = fileSize - dataStart;
  let raw: unknown;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerJson);
  } catch {
    throw new SafetensorsError(file, 'header is not valid UTF-8 (a damaged or truncated file?)');
  }
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(file, `header is not valid JSON (${(e as Error).message})`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new SafetensorsError(file, 'header JSON must be an object of tensor entries');
  }
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, TensorInfo>();
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new SafetensorsError(file, '__metadata__ must be an object of string values');
      }
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') throw new SafetensorsError(file, `__metadata__.${k} must be a string, got ${typeof v}`);
        metadata[k] = v;
      }
      continue;
    }
    const where = `tensor "${name}"`;
    if (value === null || typeof value !== 'object') throw new SafetensorsError(file, `${where}: entry must be an object`);
    const entry = value as Record<string, unknown>;
    if (!isSafetensorsDtype(entry.dtype)) {
      throw new SafetensorsError(
        file,
        `${where}: unknown dtype ${JSON.stringify(entry.dtype)} (expected one of ${Object.keys(SAFETENSORS_DTYPES).join(', ')})`,
      );
    }
    const shape = entry.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new SafetensorsError(file, `${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
    }
    const offsets = entry.data_offsets;
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
      offsets[1] < offsets[0]
    ) {
      throw new SafetensorsError(file, `${where}: data_offsets must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    const expected = elementCount(shape as number[]) * dtypeSize(entry.dtype);
    if (end - begin !== expected) {
      throw new SafetensorsError(
        file,
        `${where}: shape ${JSON.stringify(shape)} × ${entry.dtype} is ${expected} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`,
      );
    }
    if (end > dataLength) {
      throw new SafetensorsError(
        file,
        `${where}: data_offsets [${begin}, ${end}] run past the end of the data (${Math.max(dataLength, 0)} bytes; file truncated?)`,
      );
    }
    tensors.set(name, {
      name,
      dtype: entry.dtype,
      shape: shape as number[],
      dataOffsets: [begin, end],
      fileOffset: dataStart + begin,
      byteLength: end - begin,
    });
  }
  // Offsets must tile the data buffer exactly: no overlap, no gap, nothing after the last tensor.
  const sorted = [...tensors.values()].sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  let cursor = 0;
  let previous: TensorInfo | null = null;
  for (const t of sorted) {
    if (t.dataOffsets[0] < cursor) {
      throw new SafetensorsError(
        file,
        `tensor "${t.name}" data_offsets [${t.dataOffsets}] overlap tensor "${previous?.name}" [${previous?.dataOffsets}]`,
      );
    }
    if (t.dataOffsets[0] > cursor) {
      throw new SafetensorsError(file, `gap in the data buffer: bytes ${cursor}..${t.dataOffsets[0]} belong to no tensor (before "${t.name}")`);
    }
    cursor = t.dataOffsets[1];
    previous = t;
  }
  if (cursor !== dataLength) {
    throw new SafetensorsError(file, `data buffer is ${dataLength} bytes but the tensors cover ${cursor} (trailing or missing bytes)`);
  }
  return { metadata, tensors, dataStart };
}

/** An open safetensors file; tensors are read on demand by byte span. Call `close()` when done. */
export class SafetensorsFile {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    readonly header: SafetensorsHeader,
    readonly fileSize: number,
  ) {}

  static async open(path: string): Promise<SafetensorsFile> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new SafetensorsError(path, err.code === 'ENOENT' ? 'file not found' : `cannot open (${err.message})`);
    }
    try {
      const info = await handle.stat();
      if (info.isDirectory()) throw new SafetensorsError(path, 'is a folder, not a safetensors file (the weights file must be a regular file)');
      const size = info.size;
      if (size < 8) throw new SafetensorsError(path, `file is ${size} bytes, shorter than the 8-byte header length (truncated?)`);
      const lenBuf = Buffer.alloc(8);
      await readExactly(handle, lenBuf, 0, path);
      const headerLen = lenBuf.readBigUInt64LE(0);
      if (headerLen > BigInt(MAX_HEADER_BYTES)) {
        throw new SafetensorsError(path, `header length ${headerLen} exceeds the ${MAX_HEADER_BYTES}-byte limit (not a safetensors file?)`);
      }
      const n = Number(headerLen);
      if (8 + n > size) throw new SafetensorsError(path, `header length ${n} runs past the end of the ${size}-byte file (truncated?)`);
      const headerBuf = Buffer.alloc(n);
      await readExactly(handle, headerBuf, 8, path);
      const header = parseSafetensorsHeader(headerBuf, size, path);
      return new SafetensorsFile(path, handle, header, size);
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  get metadata(): Record<string, string> {
    return this.header.metadata;
  }

  get tensors(): Map<string, TensorInfo> {
    return this.header.tensors;
  }

  names(): string[] {
    return [...this.header.tensors.keys()];
  }

  info(name: string): TensorInfo {
    const t = this.header.tensors.get(name);
    if (!t) throw new SafetensorsError(this.path, `no tensor named "${name}"`);
    return t;
  }

  /** The tensor's raw little-endian bytes (only its span is read). */
  async readBytes(name: string): Promise<Uint8Array> {
    const t = this.info(name);
    const buf = Buffer.allocUnsafe(t.byteLength);
    await readExactly(this.handle, buf, t.fileOffset, this.path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** The tensor as float32 (F32/F16/BF16/F64 converted; integer dtypes converted numerically). */
  async readFloat32(name: string): Promise<Float32Array> {
    const t = this.info(name);
    return toFloat32(await this.readBytes(name), t.dtype, `${this.path}: tensor "${name}"`);
  }

  /** Integer tensors in their own type (I32 → Int32Array, I64 → BigInt64Array, U8/BOOL → Uint8Array). */
  async readRaw(name: string): Promise<Int32Array | BigInt64Array | Uint8Array | Float32Array> {
    const t = this.info(name);
    const bytes = await this.readBytes(name);
    const aligned = bytes.slice(); // own, aligned buffer
    switch (t.dtype) {
      case 'I32':
        return new Int32Array(aligned.buffer);
      case 'I64':
        return new BigInt64Array(aligned.buffer);
      case 'U8':
      case 'BOOL':
        return aligned;
      default:
        return toFloat32(bytes, t.dtype, `${this.path}: tensor "${name}"`);
    }
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

async function readExactly(handle: FileHandle, buf: Uint8Array, position: number, file: string): Promise<void> {
  let done = 0;
  while (done < buf.byteLength) {
    const { bytesRead } = await handle.read(buf, done, buf.byteLength - done, position + done);
    if (bytesRead === 0) throw new SafetensorsError(file, `unexpected end of file at byte ${position + done} (truncated?)`);
    done += bytesRead;
  }
}
