// A model held for generation: an executor's decoding side (DecodeSession: the base weights resident, built once),
// a KV cache per conversation, and the attached adapters stacked per module as step inputs. Attaching, detaching,
// scaling and combining adapters only changes those inputs — the base is never reloaded. Which executor decodes is
// openExecutor's choice (executors/index.ts); this file names none of them.

import type { Program } from '../../model/ir.ts';
import type { DecodeSession, KvCache, StackedAdapters } from '../session.ts';
import { TrainableLayout } from '../trainables.ts';
import { openExecutor, type DecodeSessionRequest, type Executor } from '../executors/index.ts';

export type { KvCache } from '../session.ts';

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
  stacked: StackedAdapters;
}

/** A model with its adapters fixed, as the decode loop sees it. */
export interface LogitsView {
  readonly vocab: number;
  readonly maxPositions?: number;
  readonly adapters: string[];
  newCache(): KvCache;
  forward(cache: KvCache, ids: ArrayLike<number>): Promise<Vec>;
}

export interface DecoderOptions {
  program: Program; // the base program (models/*.ts); LoRA branches, if any, are ignored: adapters are inputs
  /** Base weights by param name (NF4 tensors for the params a QLoRA program marks quantized), as a map or read one
   *  at a time while the session is created (then the whole base never sits in JavaScript). */
  weights: DecodeSessionRequest['weights'];
  elem?: 'float32' | 'float64';
  /** How the frozen float base is held: f32 (default, exact) or f16/bf16 (half the memory, widened per use). */
  baseDtype?: DecodeSessionRequest['baseDtype'];
  threads?: number;
  /** Which linear modules accept adapters (default: every linear but the output head). */
  adapterModules?: (module: string) => boolean;
  /** Whose decoding side runs it (default: the CPU executor). */
  executor?: Executor;
  /** An open decoder of the same base model: its base weights are read from where it holds them, not held again. */
  shareBaseWith?: Decoder;
}

export class Decoder {
  private stackedForAdapters: StackedAdapters = new Map();
  private attachedNames: string[] = [];

  private constructor(
    readonly program: Program,
    private readonly session: DecodeSession,
  ) {
    this.setAdapters([]);
  }

  static async create(o: DecoderOptions): Promise<Decoder> {
    const executor = o.executor ?? openExecutor('cpu');
    const session = await executor.createDecodeSession({ program: o.program, weights: o.weights, elem: o.elem, threads: o.threads, adapterModules: o.adapterModules, baseDtype: o.baseDtype, shareBaseWith: o.shareBaseWith?.session });
    return new Decoder(o.program, session);
  }

  get elem(): 'float32' | 'float64' {
    return this.session.elem;
  }
  get vocab(): number {
    return this.program.vocab;
  }
  /** The longest sequence the model can take (learned position tables), or undefined when unbounded. */
  get maxPositions(): number | undefined {
    return this.program.maxPositions;
  }
  get layers(): readonly { NKV: number; HD: number }[] {
    return this.session.layers;
  }
  /** Modules that can take an adapter. */
  get adapterModules(): readonly { module: string; inF: number; outF: number }[] {
    return this.session.adapterModules;
  }
  get attached(): readonly string[] {
    return this.attachedNames;
  }
  /** Bytes of the base this decoder reads from another's store instead of holding them (shareBaseWith; 0 if none). */
  get sharedBaseBytes(): number {
    const s = this.session as { sharedBaseBytes?: number };
    return s.sharedBaseBytes ?? 0;
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
    const known = new Map(this.session.adapterModules.map((m) => [m.module, m]));
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
    const stacked: StackedAdapters = new Map();
    for (const { module, inF, outF } of this.session.adapterModules) {
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
      stacked.set(module, { R, A, B, s });
    }
    return { names: list.map((a) => a.adapter.name), stacked };
  }

  /** Attach these adapters for later forwards that name no adapter set of their own. */
  setAdapters(list: readonly AttachedAdapter[]): void {
    const prepared = this.prepareAdapters(list);
    this.stackedForAdapters = prepared.stacked;
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
    return { length: 0, k: this.session.layers.map(() => this.vec(0)), v: this.session.layers.map(() => this.vec(0)) };
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
    return this.session.forward(cache, ids, adapters?.stacked ?? this.stackedForAdapters);
  }

  async dispose(): Promise<void> {
    await this.session.dispose();
  }
}

/**
 * A training program's LoRA factors, read from its flat trainables (trainables.ts, the layout every executor trains
 * in) as an adapter to attach: a run's current weights decode without a save and reload.
 */
export function adapterFromTrainables(name: string, program: Program, flat: Float32Array | Float64Array): AdapterFactors {
  const layout = new TrainableLayout(program);
  if (flat.length !== layout.total) throw new Error(`adapter ${name}: ${flat.length} trainable values, the program has ${layout.total}`);
  const layers: AdapterFactors['layers'] = new Map();
  const slice = (param: string, size: number) => Float32Array.from(flat.subarray(layout.offsets.get(param)!, layout.offsets.get(param)! + size));
  for (const n of program.nodes)
    if (n.op === 'linear' && n.lora)
      layers.set(n.module, { r: n.lora.r, A: slice(n.lora.A, n.lora.r * n.inF), B: slice(n.lora.B, n.outF * n.lora.r), scale: n.lora.scale });
  return { name, layers };
}
