// The CPU executor's decoding side: the decode graph (decode-graph.ts, a mode of the ONNX lowering with a KV cache
// and adapters as inputs) on onnxruntime-node behind the executor-neutral DecodeSession. The feeds of one step are
// assembled here: token ids, rope tables or position ids at positions P…P+T−1, the causal (+ window) bias over the
// P + T keys, the past K/V, and the stacked adapters.
// The frozen base goes into a weight file (weight-file.ts) that onnxruntime maps, as in training: read one tensor at a
// time from the source, written, dropped — no JavaScript copy and no inline copy in the model's protobuf; a half base
// (f16/bf16) halves it again, widened to float32 per node.

import type { ParamDecl, Program } from '../../../model/ir.ts';
import type { DecodeSession, KvCache, StackedAdapters } from '../../session.ts';
import { ropeTables } from '../../ops/rope.ts';
import { MASK_BIAS } from '../../ops/attention.ts';
import { isNf4, nf4StorageBytes, type Nf4Tensor } from '../../quant/nf4.ts';
import type { Elem } from './builder.ts';
import { biasInputName, frozenTensors, POSITION_IDS } from './graphs.ts';
import type { WeightSource } from './session.ts';
import { storeFrozen, WeightFile, type BaseDtype, type ExternalRef } from './weight-file.ts';
import {
  buildDecodeGraph,
  decodeGraphFrozen,
  loraInputNames,
  pastKName,
  pastVName,
  presentKName,
  presentVName,
  type DecodeGraphInfo,
} from './decode-graph.ts';
import { OrtGraph, type FeedTensor } from './ort.ts';
import { NF4_BYTE_MASK_INPUT } from './lower/nf4-linear.ts';

type Vec = Float32Array | Float64Array;

export interface OnnxDecodeOptions {
  program: Program; // the base program; LoRA branches, if any, are ignored: adapters are inputs
  /** Base weights by param name (NF4 tensors for the params a QLoRA program marks quantized), as a map or read one
   *  at a time; read while the session is created, not kept. */
  weights: WeightSource;
  elem?: Elem;
  threads?: number;
  /** Which linear modules accept adapters (default: every linear but the output head). */
  adapterModules?: (module: string) => boolean;
  /** How the frozen float base is stored: f32 (default) or f16/bf16, widened to float32 per node (weight-file.ts). */
  baseDtype?: BaseDtype;
  /** Half weights above this many values are widened block by block (weight-file.ts; tests set it small). */
  halfChunkElems?: number;
  /** Let onnxruntime pre-pack the frozen weights (default false: a packed copy of every weight beside the mapped one). */
  prepack?: boolean;
  /** A decode session of the same base model (DecodeSessionRequest.shareBaseWith): its stored tensors are named
   *  from its weight file instead of being stored again, when its element type and base dtype are this one's. */
  shareBaseWith?: unknown;
}

/**
 * Every contiguous run of members of a session's stacked tensors (each member alone, and shorter stacks), as ranges
 * of its weight file under the keys frozenTensors gives them — a graph that stacks the same base linears otherwise
 * (q alone, k+v stacked) reads them there too. Members are stacked along the first axis in order, so a run is one
 * range.
 */
function stackRuns(s: OnnxDecodeSession, file: WeightFile): Map<string, ExternalRef> {
  const runs = new Map<string, ExternalRef>();
  for (const st of frozenTensors(s.program, decodeGraphFrozen(s.program)).stacks)
    for (const part of ['weight', 'bias'] as const) {
      const t = st[part];
      const ref = t ? file.get(t.key) : undefined;
      if (!t || !ref) continue;
      const sizes = st.members.map((m) => (part === 'weight' ? m.outF * m.inF : m.outF));
      const bytesPer = ref.length / sizes.reduce((a, b) => a + b, 0);
      for (let i = 0; i < sizes.length; i++)
        for (let j = i; j < sizes.length; j++) {
          const run = st.members.slice(i, j + 1);
          const key = run.length === 1 ? (part === 'weight' ? run[0]!.weight : run[0]!.bias!) : `${run.map((m) => m.module).join('+')}.${part}`;
          const offset = ref.offset + sizes.slice(0, i).reduce((a, b) => a + b, 0) * bytesPer;
          runs.set(key, { location: ref.location, offset, length: sizes.slice(i, j + 1).reduce((a, b) => a + b, 0) * bytesPer });
        }
    }
  return runs;
}

export class OnnxDecodeSession implements DecodeSession {
  private constructor(
    readonly program: Program,
    readonly elem: Elem,
    private readonly info: DecodeGraphInfo,
    private readonly graph: OrtGraph,
    private readonly weightFile: WeightFile,
    private readonly kept: Map<string, Nf4Tensor>,
  ) {}

  static async create(o: OnnxDecodeOptions): Promise<OnnxDecodeSession> {
    const elem = o.elem ?? 'float32';
    const source = o.weights;
    const read = async (d: ParamDecl) => {
      const w = typeof source === 'function' ? await source(d.name) : source.get(d.name);
      const size = d.shape.reduce((a, b) => a * b, 1);
      if (!w) throw new Error(`generation: missing base weight ${d.name} (shape ${JSON.stringify(d.shape)})`);
      const length = isNf4(w) ? w.shape[0] * w.shape[1] : w.length;
      if (length !== size)
        throw new Error(`generation: base weight ${d.name} has ${length} values; shape ${JSON.stringify(d.shape)} needs ${size}`);
      return w;
    };
    const base = o.shareBaseWith;
    const shared =
      base instanceof OnnxDecodeSession && base.elem === elem && base.weightFile.dtype === (o.baseDtype ?? 'f32') && o.halfChunkElems === undefined
        ? base.weightFile
        : null;
    const file = shared ? new WeightFile({ shareFrom: shared }) : new WeightFile({ dtype: o.baseDtype, chunkElems: o.halfChunkElems });
    if (shared) for (const [key, ref] of stackRuns(base as OnnxDecodeSession, shared)) file.alias(key, ref);
    // stacked as the shared graph stacked its base (its program's params), so those stacks are its keys
    const stackOnly = shared ? new Set((base as OnnxDecodeSession).program.params.map((d) => d.name)) : undefined;
    try {
      const kept = await storeFrozen(file, o.program, decodeGraphFrozen(o.program, stackOnly), read, elem, 'generation');
      const info = buildDecodeGraph(o.program, {
        elem,
        weightFile: file,
        weight: (n) => {
          const w = kept.get(n);
          if (!w) throw new Error(`generation: base weight ${n} is neither in the weight file nor NF4`);
          return w;
        },
        adapterModules: o.adapterModules,
        stackOnly,
      });
      // float64 graphs skip ORT's fusions (several fused kernels exist for float32 only), as the training session does
      const graph = await OrtGraph.create(info.model, {
        threads: o.threads,
        optimization: elem === 'float64' ? 'basic' : 'all',
        weightDir: file.dir,
        prepack: o.prepack ?? false,
      });
      return new OnnxDecodeSession(o.program, elem, info, graph, file, kept);
    } catch (e) {
      file.remove();
      throw e;
    }
  }

  /** Where the base is held: bytes in the mapped weight file, and NF4 codes + scales referenced from JavaScript. */
  memory(): { weightFileBytes: number; jsWeightBytes: number; baseDtype: BaseDtype } {
    let js = 0;
    for (const w of this.kept.values()) js += nf4StorageBytes(w);
    return { weightFileBytes: this.weightFile.storedBytes, jsWeightBytes: js, baseDtype: this.weightFile.storedDtype(this.elem) };
  }

  /** Bytes of another session's weight file this one reads instead of holding them again (shareBaseWith). */
  get sharedBaseBytes(): number {
    return this.weightFile.sharedBytes;
  }

  get layers() {
    return this.info.layers;
  }
  get adapterModules() {
    return this.info.adapterModules;
  }

  private vec(n: number | ArrayLike<number>): Vec {
    if (typeof n === 'number') return this.elem === 'float64' ? new Float64Array(n) : new Float32Array(n);
    return this.elem === 'float64' ? Float64Array.from(n) : Float32Array.from(n);
  }

  async forward(cache: KvCache, ids: ArrayLike<number>, adapters: StackedAdapters): Promise<Vec> {
    const T = ids.length;
    const P = cache.length;
    const feeds: Record<string, FeedTensor> = {};
    for (const { module, inF, outF } of this.info.adapterModules) {
      const a = adapters.get(module);
      if (!a) throw new Error(`generation: no adapter inputs for ${module}`);
      const names = loraInputNames(module);
      feeds[names.A] = { data: a.A, dims: [a.R, inF] };
      feeds[names.B] = { data: a.B, dims: [outF, a.R] };
      feeds[names.s] = { data: a.s, dims: [a.R] };
    }
    feeds.input_ids = { data: BigInt64Array.from(Array.from(ids), (x) => BigInt(x)), dims: [1, T] };
    const positions = Int32Array.from({ length: T }, (_, i) => P + i);
    for (const [rope, suffix] of [
      [this.program.rope, ''],
      [this.program.ropeLocal, '_local'],
    ] as const) {
      if (!rope) continue;
      const { cos, sin } = ropeTables(rope, positions);
      feeds[`rope_cos${suffix}`] = { data: this.vec(cos), dims: [T, rope.headDim] };
      feeds[`rope_sin${suffix}`] = { data: this.vec(sin), dims: [T, rope.headDim] };
    }
    // the NF4 lowering reads a uint8 0xFF scalar as an input (a constant would be folded into a dequantized copy)
    if (this.program.params.some((d) => d.quant === 'nf4'))
      feeds[NF4_BYTE_MASK_INPUT] = { data: Uint8Array.of(0xff), dims: [] };
    if (this.info.usesPositions)
      feeds[POSITION_IDS] = { data: BigInt64Array.from(positions, (x) => BigInt(x)), dims: [T] };
    const G = this.info.G;
    const L = P + T;
    for (const window of this.info.windows) {
      // query i (absolute position P+i) sees keys j ≤ P+i, and within the window when there is one
      const bias = this.vec(G * T * L);
      for (let gi = 0; gi < G; gi++)
        for (let i = 0; i < T; i++)
          for (let j = 0; j < L; j++) {
            const ok = j <= P + i && (window === null || P + i - j < window);
            bias[(gi * T + i) * L + j] = ok ? 0 : MASK_BIAS;
          }
      feeds[biasInputName(window)] = { data: bias, dims: [1, 1, G * T, L] };
    }
    this.info.layers.forEach((l, i) => {
      feeds[pastKName(i)] = { data: cache.k[i], dims: [1, l.NKV, P, l.HD] };
      feeds[pastVName(i)] = { data: cache.v[i], dims: [1, l.NKV, P, l.HD] };
    });
    const out = await this.graph.run(feeds);
    this.info.layers.forEach((_, i) => {
      cache.k[i] = out[presentKName(i)].data as Vec;
      cache.v[i] = out[presentVName(i)].data as Vec;
    });
    cache.length = L;
    return out.logits.data as Vec;
  }

  async dispose(): Promise<void> {
    await this.graph.release();
    this.weightFile.remove();
  }
}
