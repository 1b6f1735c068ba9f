// The frozen weights of a CPU session, written once into one file that every graph of the session (training step,
// evaluation, logits) names as ONNX external data. onnxruntime maps an external-data file instead of copying it when
// a tensor starts on an allocation-granularity boundary, so the base then sits in memory once — as the page cache
// of this file, shared by the graphs — and JavaScript keeps no copy: a graph built later finds its weights here by
// name, without the caller's arrays.
// The base may be stored as float16 or bfloat16 (BaseDtype): the file and the mapped pages halve, and each graph
// widens a weight to float32 right where a node reads it (castHalfInitializers), so arithmetic stays float32 and
// the widened copy lives only as long as that node's input — per layer, not the whole base.

import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataType, type NodeDef, type ValueInfo } from './proto.ts';
import type { ParamDecl, Program } from '../../../model/ir.ts';
import { isNf4, type Nf4Tensor } from '../../quant/nf4.ts';
import { frozenTensors, stackValues, type FrozenOptions } from './graphs.ts';

/** How the frozen float base is stored: float32 (exact), or halved to float16 / bfloat16 and widened per use. */
export type BaseDtype = 'f32' | 'f16' | 'bf16';
export const BASE_DTYPES = ['f32', 'f16', 'bf16'] as const;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE binary16 bits of a float32 value, round to nearest even (overflow → ±inf, NaN kept NaN). */
export function f16Bits(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const e = (x >>> 23) & 0xff;
  let m = x & 0x7fffff;
  if (e === 0xff) return sign | 0x7c00 | (m ? 0x200 : 0);
  const he = e - 127 + 15;
  if (he >= 0x1f) return sign | 0x7c00;
  if (he <= 0) {
    // a float16 subnormal: hm · 2^-24
    if (he < -10) return sign;
    m |= 0x800000;
    const shift = 14 - he;
    let hm = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && hm & 1)) hm++;
    return sign | hm;
  }
  const hm = m >>> 13;
  const rem = m & 0x1fff;
  let h = sign | (he << 10) | hm;
  if (rem > 0x1000 || (rem === 0x1000 && hm & 1)) h++; // a carry into the exponent is the right rounding
  return h;
}

/** bfloat16 bits of a float32 value (its upper half), round to nearest even; NaN stays a quiet NaN. */
export function bf16Bits(v: number): number {
  f32[0] = v;
  const x = u32[0];
  if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) return (x >>> 16) | 0x40;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** The float32 value of float16 bits (for tests and error measurement). */
export function f16Value(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 0x1f) return m ? Number.NaN : sign * Infinity;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

/** The float32 value of bfloat16 bits. */
export function bf16Value(h: number): number {
  u32[0] = (h & 0xffff) << 16;
  return f32[0];
}

/** Float values as the stored bytes of a base dtype (float32: the array itself when it already is one). */
export function encodeBase(data: ArrayLike<number>, dtype: Exclude<BaseDtype, 'f32'>): Uint8Array {
  const out = new Uint16Array(data.length);
  const bits = dtype === 'f16' ? f16Bits : bf16Bits;
  for (let i = 0; i < data.length; i++) out[i] = bits(data[i]);
  return new Uint8Array(out.buffer);
}

/** The graph input each widening reads (fed as [-1]): a runtime value in the chain keeps onnxruntime's constant
 *  folding from widening the whole base at load; one per reading node of a weight, so that common-subexpression
 *  elimination cannot merge the forward and backward widenings into one float32 copy kept alive in between. */
export const BASE_CAST_INPUT = 'base_cast_shape.';

/** Half weights above this many values are widened in row blocks of at most this size where a GEMM reads them. */
export const HALF_CHUNK_ELEMS = 4 * 2 ** 20;

/**
 * Rewrites a graph whose `half` initializers are stored as float16/bfloat16: every node reading one gets its own
 * widening, W16 → Reshape(runtime [-1]) → Cast(float) → Reshape(dims); a Gather reading rows of one (an embedding)
 * gathers the half rows and widens only those. A big weight read by a GEMM (a tied output head: vocab × hidden) is
 * widened block of rows by block, each block's GEMM run on its own — y = x·Wᵀ concatenates the blocks' columns,
 * dx = dy·W sums the blocks' products — so no float32 copy of the whole weight ever exists. Returns the graph inputs
 * it added.
 */
export function castHalfInitializers(
  nodes: NodeDef[],
  inits: { name: string; dims: number[] }[],
  half: Set<string>,
  fresh: (prefix: string) => string,
  i64: (values: number[]) => string,
  chunkElems = HALF_CHUNK_ELEMS,
): ValueInfo[] {
  if (half.size === 0) return [];
  const dims = new Map(inits.filter((t) => half.has(t.name)).map((t) => [t.name, t.dims]));
  const uses = new Map<string, number>();
  const inputs: ValueInfo[] = [];
  const out: NodeDef[] = [];
  const node = (op: string, ins: string[], attrs?: NodeDef['attrs'], output?: string): string => {
    const y = output ?? fresh(`${op}_half`);
    out.push({ op, inputs: ins, outputs: [y], name: fresh(`n_${op}_half`), ...(attrs ? { attrs } : {}) });
    return y;
  };
  /** The weight flattened through this reader's own runtime shape input (never folded, never shared). */
  const flat = (name: string): string => {
    const k = uses.get(name) ?? 0;
    uses.set(name, k + 1);
    const shapeIn = `${BASE_CAST_INPUT}${k}`;
    if (!inputs.some((i) => i.name === shapeIn)) inputs.push({ name: shapeIn, type: DataType.INT64, dims: [1] });
    return node('Reshape', [name, shapeIn]);
  };
  const widen = (x: string) => node('Cast', [x], { to: DataType.FLOAT });
  const whole = (name: string) => node('Reshape', [widen(flat(name)), i64(dims.get(name)!)]);
  const isHalf = (name: string | undefined) => name !== undefined && half.has(name);
  const size = (name: string) => dims.get(name)!.reduce((a, b) => a * b, 1);
  /** Row blocks [start, end) of a (rows, cols) half weight, each widened from the flat view. */
  const blocks = (name: string): { start: number; end: number; w: string }[] => {
    const [rows, cols] = dims.get(name)!;
    const per = Math.max(1, Math.floor(chunkElems / cols));
    const f = flat(name);
    const res = [];
    for (let start = 0; start < rows; start += per) {
      const end = Math.min(rows, start + per);
      const part = node('Slice', [f, i64([start * cols]), i64([end * cols]), i64([0])]);
      res.push({ start, end, w: node('Reshape', [widen(part), i64([end - start, cols])]) });
    }
    return res;
  };
  for (const n of nodes) {
    if (n.op === 'Gather' && isHalf(n.inputs[0]) && !n.domain) {
      // rows first, then widen them: the gathered half rows are the only float copy
      const rows = node('Gather', [n.inputs[0], ...n.inputs.slice(1).map((x) => (isHalf(x) ? whole(x) : x))], n.attrs);
      node('Cast', [rows], { to: DataType.FLOAT }, n.outputs[0]);
      continue;
    }
    const W = n.inputs[1];
    const big = !n.domain && isHalf(W) && dims.get(W)!.length === 2 && size(W) > chunkElems;
    const attrs = n.attrs ?? {};
    if (big && n.op === 'Gemm' && attrs.transB === 1 && !attrs.transA && attrs.alpha === undefined && attrs.beta === undefined) {
      // y (N, OC) = x·Wᵀ [+ b]: one Gemm per block of W's rows, their columns concatenated
      const x = isHalf(n.inputs[0]) ? whole(n.inputs[0]) : n.inputs[0];
      const b = n.inputs[2] ? (isHalf(n.inputs[2]) ? whole(n.inputs[2]) : n.inputs[2]) : null;
      const ys = blocks(W).map(({ start, end, w }) =>
        node('Gemm', [x, w, ...(b ? [node('Slice', [b, i64([start]), i64([end]), i64([0])])] : [])], { transB: 1 }),
      );
      node('Concat', ys, { axis: 1 }, n.outputs[0]);
      continue;
    }
    if (big && n.op === 'MatMul') {
      // dx (N, IC) = dy (N, OC)·W (OC, IC) = Σ over row blocks of dy[:, block]·W[block]
      const dy = isHalf(n.inputs[0]) ? whole(n.inputs[0]) : n.inputs[0];
      const parts = blocks(W).map(({ start, end, w }) => node('MatMul', [node('Slice', [dy, i64([start]), i64([end]), i64([-1])]), w]));
      node('Sum', parts, undefined, n.outputs[0]);
      continue;
    }
    out.push({ ...n, inputs: n.inputs.map((name) => (isHalf(name) ? whole(name) : name)) });
  }
  nodes.splice(0, nodes.length, ...out);
  return inputs;
}

/** Where a stored tensor is, as ONNX external data (location relative to the model file beside it). */
export interface ExternalRef {
  location: string;
  offset: number;
  length: number;
}

// onnxruntime maps external data only at offsets on the allocation granularity: 4 KiB pages on Linux and macOS,
// 64 KiB on Windows. Seeking past the gap leaves a hole, so the padding costs no disk.
const ALIGN = 64 * 1024;
const FILE = 'weights.bin';
const PREFIX = 'lora-studio-weights-';

/** Folders of weight files whose process is gone (killed before it could remove them), so they do not pile up. */
function removeOrphans(): void {
  let names: string[];
  try {
    names = readdirSync(tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(name.startsWith(PREFIX) ? /^(\d+)-/.exec(name.slice(PREFIX.length))?.[1] : undefined);
    if (!pid || pid === process.pid || alive(pid)) continue;
    rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, someone else's
  }
}

const open = new Set<WeightFile>();
let exitHook = false;
let sharingFiles = 0;

export class WeightFile {
  /** The folder holding weights.bin; graphs are loaded from model files written beside it. */
  readonly dir: string;
  private fd: number | null;
  private end = 0;
  private bytes = 0;
  private readonly refs = new Map<string, ExternalRef>();
  /** This file's name in `dir` (weights.bin, or its own beside a shared one's). */
  private readonly file: string;
  /** Whether this file made `dir` (and removes it): false for one sharing another's tensors. */
  private readonly owner: boolean;
  /** Bytes of the other file's tensors this one names instead of storing them again. */
  readonly sharedBytes: number;

  /** How float tensors are stored (putFloats); float32 unless the session asks for a half base. */
  readonly dtype: BaseDtype;

  /** Half weights larger than this are widened in row blocks where a GEMM reads them (castHalfInitializers). */
  readonly chunkElems: number;

  /**
   * `shareFrom`: another session's file of the same base (same dtype): every tensor it holds now is named from it
   * (same folder, so graphs resolve both files), only new names are written here — a second graph over the same base
   * (a fused chat program beside the plain one) then maps the base's pages once. Names are shared only as the other
   * file holds them at this moment: whatever this file stores stays its own, never seen by the other or a sibling.
   */
  constructor(o: { dtype?: BaseDtype; chunkElems?: number; shareFrom?: WeightFile } = {}) {
    const from = o.shareFrom;
    if (from && from.fd === null) throw new Error(`weight file ${from.dir}: removed, its tensors cannot be shared`);
    this.dtype = from?.dtype ?? o.dtype ?? 'f32';
    this.chunkElems = from?.chunkElems ?? o.chunkElems ?? HALF_CHUNK_ELEMS;
    if (from) {
      this.dir = from.dir;
      this.file = `weights-shared-${++sharingFiles}.bin`;
      this.owner = false;
      for (const [name, ref] of from.refs) this.refs.set(name, ref);
      this.sharedBytes = from.bytes;
    } else {
      removeOrphans();
      this.dir = mkdtempSync(join(tmpdir(), `${PREFIX}${process.pid}-`));
      this.file = FILE;
      this.owner = true;
      this.sharedBytes = 0;
    }
    this.fd = openSync(join(this.dir, this.file), 'w');
    open.add(this);
    if (!exitHook) {
      // a process that ends without dispose() (an error, a cancelled job) must not leave gigabytes in the temp
      // folder; one killed outright leaves its folder to the next WeightFile's removeOrphans()
      exitHook = true;
      process.on('exit', () => {
        for (const f of open) f.remove();
      });
    }
  }

  /** Names `ref` (a range of the shared file: part of one of its stacked tensors) `name`, unless stored already. */
  alias(name: string, ref: ExternalRef): void {
    if (this.owner) throw new Error(`weight file ${this.dir}: only a file sharing another's tensors names ranges of it`);
    if (!this.refs.has(name)) this.refs.set(name, ref);
  }

  /** The stored tensor called `name`, if any. */
  get(name: string): ExternalRef | undefined {
    return this.refs.get(name);
  }

  /** Stores `data` under `name` (once: a name already stored keeps its first bytes). */
  put(name: string, data: Uint8Array): ExternalRef {
    const had = this.refs.get(name);
    if (had) return had;
    if (this.fd === null) throw new Error(`weight file ${this.dir}: closed, cannot store ${name}`);
    const offset = Math.ceil(this.end / ALIGN) * ALIGN;
    for (let done = 0; done < data.length;) done += writeSync(this.fd, data, done, data.length - done, offset + done);
    const ref = { location: this.file, offset, length: data.length };
    this.end = offset + data.length;
    this.bytes += data.length;
    this.refs.set(name, ref);
    return ref;
  }

  /**
   * Stores float values under `name` in the file's dtype (a float64 graph keeps float64: halves are for float32
   * graphs). Returns the reference and the ONNX element type the initializer must declare.
   */
  putFloats(name: string, data: ArrayLike<number>, elem: 'float32' | 'float64'): { external: ExternalRef; type: DataType } {
    const dtype = this.storedDtype(elem);
    const had = this.refs.get(name);
    const type = dtype === 'f16' ? DataType.FLOAT16 : dtype === 'bf16' ? DataType.BFLOAT16 : elem === 'float64' ? DataType.DOUBLE : DataType.FLOAT;
    if (had) return { external: had, type };
    let bytes: Uint8Array;
    if (dtype !== 'f32') bytes = encodeBase(data, dtype);
    else {
      const arr = elem === 'float32' && data instanceof Float32Array ? data : elem === 'float64' ? Float64Array.from(data) : Float32Array.from(data);
      bytes = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
    }
    return { external: this.put(name, bytes), type };
  }

  /** The dtype float tensors of a graph of this element type are stored in. */
  storedDtype(elem: 'float32' | 'float64'): BaseDtype {
    return elem === 'float64' ? 'f32' : this.dtype;
  }

  /** Bytes of tensor data stored in this file (without alignment holes; not those shared from another). */
  get storedBytes(): number {
    return this.bytes;
  }

  /** Deletes the file and its folder — only the file when it shares another's folder (graphs already created keep
   *  their mapping until released). */
  remove(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    rmSync(this.owner ? this.dir : join(this.dir, this.file), { recursive: true, force: true });
    open.delete(this);
  }
}

/**
 * Every frozen float tensor a graph of `p` holds (frozenTensors' list under `frozen`) into `file`, one at a time — a
 * fused group's members read, stacked, written and dropped before the next — so JavaScript never holds the whole
 * base when `read` reads on demand. NF4 weights (codes and scales, small) are returned: they stay inline in graphs.
 */
export async function storeFrozen(
  file: WeightFile,
  p: Program,
  frozen: FrozenOptions,
  read: (d: ParamDecl) => Promise<ArrayLike<number> | Nf4Tensor>,
  elem: 'float32' | 'float64',
  where: string,
): Promise<Map<string, Nf4Tensor>> {
  const decl = new Map(p.params.map((d) => [d.name, d]));
  const float = async (name: string) => {
    const w = await read(decl.get(name)!);
    if (isNf4(w)) throw new Error(`${where}: ${name} is NF4 where a float weight is needed`);
    return w;
  };
  const kept = new Map<string, Nf4Tensor>();
  const { stacks, singles } = frozenTensors(p, frozen);
  for (const st of stacks)
    for (const t of [st.weight, st.bias]) {
      if (!t || file.get(t.key)) continue;
      const parts = [];
      for (const name of t.names) parts.push(await float(name));
      file.putFloats(t.key, stackValues(t, parts, elem), elem);
    }
  for (const d of singles) {
    if (file.get(d.name)) continue;
    const w = await read(d);
    if (isNf4(w)) kept.set(d.name, w);
    else file.putFloats(d.name, w, elem);
  }
  return kept;
}
