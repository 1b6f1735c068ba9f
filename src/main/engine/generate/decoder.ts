// A model held for generation: the decode graph (base weights as initializers, built once) on onnxruntime-node,
// a KV cache per conversation, and the attached adapters as graph inputs. Attaching, detaching, scaling and
// combining adapters only changes the feeds — the base is never reloaded.

import type { Program } from '../../model/ir.ts';
import { ropeTables } from '../ops/rope.ts';
import { MASK_BIAS } from '../ops/attention.ts';
import type { Elem } from '../executors/onnx/builder.ts';
import { biasInputName, POSITION_IDS } from '../executors/onnx/graphs.ts';
import {
  buildDecodeGraph, loraInputNames, pastKName, pastVName, presentKName, presentVName,
  type DecodeGraphInfo, type KvLayer,
} from '../executors/onnx/decode-graph.ts';
import { OrtGraph, type FeedTensor } from '../executors/onnx/ort.ts';
import { isNf4, type Nf4Tensor } from '../quant/nf4.ts';
import { NF4_BYTE_MASK_INPUT } from '../executors/onnx/lower/nf4-linear.ts';

type Vec = Float32Array | Float64Array;

/** One adapter's LoRA factors by module path, each with its own scale (alpha / r, or per-module patterns). */
export interface AdapterFactors {
  name: string;
  layers: Map<string, { r: number; A: Float32Array; B: Float32Array; scale: number }>;
}

/** An adapter as attached: its factors and a weight multiplying its scale (0 = as if detached). */
export interface AttachedAdapter {
  adapter: AdapterFactors;
  weight: number;
}

/** Prepared adapter inputs (see Decoder.prepareAdapters). */
export interface AdapterFeeds {
  names: string[];
  feeds: Record<string, FeedTensor>;
}

/** A model with its adapters fixed, as the decode loop sees it. */
export interface LogitsView {
  readonly vocab: number;
  readonly maxPositions?: number;
  readonly adapters: string[];
  newCache(): KvCache;
  forward(cache: KvCache, ids: ArrayLike<number>): Promise<Vec>;
}

/** The past keys/values of one sequence (batch 1), grown by every forward. */
export interface KvCache {
  length: number; // P: tokens already in the cache
  k: Vec[]; // per attention layer, (1, NKV, P, HD)
  v: Vec[];
}

export interface DecoderOptions {
  program: Program; // the base program (models/*.ts); LoRA branches, if any, are ignored: adapters are inputs
  /** Base weights by param name; NF4 tensors for the params a QLoRA program marks quantized. */
  weights: Map<string, ArrayLike<number> | Nf4Tensor>;
  elem?: Elem;
  threads?: number;
  /** Which linear modules accept adapters (default: every linear but the output head). */
  adapterModules?: (module: string) => boolean;
}

export class Decoder {
  private feedsForAdapters: Record<string, FeedTensor> = {};
  private attachedNames: string[] = [];

  private constructor(
    readonly program: Program,
    readonly elem: Elem,
    private readonly info: DecodeGraphInfo,
    private readonly graph: OrtGraph,
  ) {
    this.setAdapters([]);
  }

  static async create(o: DecoderOptions): Promise<Decoder> {
    const elem = o.elem ?? 'float32';
    for (const d of o.program.params) {
      if (d.init) continue;
      const w = o.weights.get(d.name);
      const size = d.shape.reduce((a, b) => a * b, 1);
      if (!w) throw new Error(`generation: missing base weight ${d.name} (shape ${JSON.stringify(d.shape)})`);
      if (!isNf4(w) && w.length !== size) throw new Error(`generation: base weight ${d.name} has ${w.length} values; shape ${JSON.stringify(d.shape)} needs ${size}`);
    }
    const info = buildDecodeGraph(o.program, { elem, weight: (n) => o.weights.get(n)!, adapterModules: o.adapterModules });
    // float64 graphs skip ORT's fusions (several fused kernels exist for float32 only), as the training session does
    const graph = await OrtGraph.create(info.model, { threads: o.threads, optimization: elem === 'float64' ? 'basic' : 'all' });
    return new Decoder(o.program, elem, info, graph);
  }

  get vocab(): number {
    return this.program.vocab;
  }
  /** The longest sequence the model can take (learned position tables), or undefined when unbounded. */
  get maxPositions(): number | undefined {
    return this.program.maxPositions;
  }
  get layers(): readonly KvLayer[] {
    return this.info.layers;
  }
  /** Modules that can take an adapter. */
  get adapterModules(): readonly { module: string; inF: number; outF: number }[] {
    return this.info.adapterModules;
  }
  get attached(): readonly string[] {
    return this.attachedNames;
  }

  private vec(n: number | ArrayLike<number>): Vec {
    if (typeof n === 'number') return this.elem === 'float64' ? new Float64Array(n) : new Float32Array(n);
    return this.elem === 'float64' ? Float64Array.from(n) : Float32Array.from(n);
  }

  /**
   * The feeds for these adapters (none = the base model). Per module, the adapters' factors are stacked along the
   * rank axis with per-rank scales scale·weight, so the graph computes Σₐ weightₐ·scaleₐ·(x·Aₐᵀ)·Bₐᵀ in one pass.
   */
  prepareAdapters(list: readonly AttachedAdapter[]): AdapterFeeds {
    const known = new Map(this.info.adapterModules.map((m) => [m.module, m]));
    for (const { adapter, weight } of list) {
      if (!Number.isFinite(weight)) throw new Error(`adapter ${adapter.name}: weight must be a finite number, got ${weight}`);
      for (const [module, l] of adapter.layers) {
        const m = known.get(module);
        if (!m) {
          const some = [...known.keys()].slice(0, 3).join(', ');
          throw new Error(`adapter ${adapter.name}: module ${module} is not an adapter-capable linear of this ${this.program.family} model (e.g. ${some})`);
        }
        if (l.A.length !== l.r * m.inF || l.B.length !== m.outF * l.r)
          throw new Error(`adapter ${adapter.name}: ${module} has A ${l.A.length} / B ${l.B.length} values; r=${l.r} needs A (${l.r}, ${m.inF}) and B (${m.outF}, ${l.r})`);
      }
    }
    const feeds: Record<string, FeedTensor> = {};
    for (const { module, inF, outF } of this.info.adapterModules) {
      const parts = list.flatMap(({ adapter, weight }) => {
        const l = adapter.layers.get(module);
        return l ? [{ ...l, s: l.scale * weight }] : [];
      });
      const R = Math.max(1, parts.reduce((s, p) => s + p.r, 0));
      const A = this.vec(R * inF);
      const B = this.vec(outF * R);
      const s = this.vec(R); // all 0 when no adapter touches the module: exactly the base output
      let off = 0;
      for (const p of parts) {
        A.set(p.A, off * inF);
        for (let o = 0; o < outF; o++) for (let j = 0; j < p.r; j++) B[o * R + off + j] = p.B[o * p.r + j];
        s.fill(p.s, off, off + p.r);
        off += p.r;
      }
      const names = loraInputNames(module);
      feeds[names.A] = { data: A, dims: [R, inF] };
      feeds[names.B] = { data: B, dims: [outF, R] };
      feeds[names.s] = { data: s, dims: [R] };
    }
    return { names: list.map((a) => a.adapter.name), feeds };
  }

  /** Attach these adapters for later forwards that name no adapter set of their own. */
  setAdapters(list: readonly AttachedAdapter[]): void {
    const prepared = this.prepareAdapters(list);
    this.feedsForAdapters = prepared.feeds;
    this.attachedNames = prepared.names;
  }

  /**
   * A view of this model with a fixed adapter set: several views (say base and tuned) can generate at the same
   * time over the one graph and its one copy of the base weights.
   */
  withAdapters(list: readonly AttachedAdapter[]): LogitsView {
    const prepared = this.prepareAdapters(list);
    return {
      vocab: this.vocab,
      maxPositions: this.maxPositions,
      adapters: prepared.names,
      newCache: () => this.newCache(),
      forward: (cache, ids) => this.forward(cache, ids, prepared),
    };
  }

  newCache(): KvCache {
    return { length: 0, k: this.info.layers.map(() => this.vec(0)), v: this.info.layers.map(() => this.vec(0)) };
  }

  /**
   * Runs `ids` (the next T tokens of the sequence) through the model on top of the cache, which grows by T.
   * Returns the logits of every new position, (T, V) row-major.
   */
  async forward(cache: KvCache, ids: ArrayLike<number>, adapters?: AdapterFeeds): Promise<Vec> {
    const T = ids.length;
    if (T === 0) throw new Error('generation: forward needs at least one token');
    const P = cache.length;
    const V = this.program.vocab;
    for (let i = 0; i < T; i++)
      if (!Number.isInteger(ids[i]) || ids[i] < 0 || ids[i] >= V) throw new Error(`generation: token id ${ids[i]} is outside the vocabulary (0…${V - 1})`);
    const max = this.maxPositions;
    if (max !== undefined && P + T > max) throw new Error(`generation: ${P + T} tokens pass the model's ${max} learned positions; shorten the conversation`);
    const feeds: Record<string, FeedTensor> = { ...(adapters?.feeds ?? this.feedsForAdapters) };
    feeds.input_ids = { data: BigInt64Array.from(Array.from(ids), (x) => BigInt(x)), dims: [1, T] };
    if (this.program.rope) {
      const pos = Int32Array.from({ length: T }, (_, i) => P + i);
      const { cos, sin } = ropeTables(this.program.rope, pos);
      const HD = this.program.rope.headDim;
      feeds.rope_cos = { data: this.vec(cos), dims: [T, HD] };
      feeds.rope_sin = { data: this.vec(sin), dims: [T, HD] };
    }
    if (this.program.ropeLocal) {
      const pos = Int32Array.from({ length: T }, (_, i) => P + i);
      const { cos, sin } = ropeTables(this.program.ropeLocal, pos);
      const HD = this.program.ropeLocal.headDim;
      feeds.rope_cos_local = { data: this.vec(cos), dims: [T, HD] };
      feeds.rope_sin_local = { data: this.vec(sin), dims: [T, HD] };
    }
    // the NF4 lowering reads a uint8 0xFF scalar as an input (a constant would be folded into a dequantized copy)
    if (this.program.params.some((d) => d.quant === 'nf4')) feeds[NF4_BYTE_MASK_INPUT] = { data: Uint8Array.of(0xff), dims: [] };
    if (this.info.usesPositions) feeds[POSITION_IDS] = { data: BigInt64Array.from({ length: T }, (_, i) => BigInt(P + i)), dims: [T] };
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
  }
}
