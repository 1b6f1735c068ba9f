// A base model's program with N frozen LoRA adapters combined by trained parameters (issue 15). Every linear an
// adapter targets becomes
//   base   = x·Wᵀ                                  (the frozen linear, no LoRA)
//   h_k    = x·A_kᵀ,  delta_k = h_k·(s_k·B_k)ᵀ     (adapter k's frozen branch: two plain linears, scale folded into B)
//   out    = adapter_mix(base, deltas)             mode 'weights': one trained logit per adapter (global or per layer)
//          | adapter_fusion(x, base, deltas)       mode 'attention': per-token attention over the adapters
// and everything else is the base program, frozen. Only the combination's parameters train: the weights mode's
// logits, or per adapted linear the attention's query (IC, D), key (OC, D) and value I + Vd·Vuᵀ (OC, R each, the
// identity at first). Attention is over the adapters present at a linear; a weight's softmax spans all adapters
// (at a linear an adapter does not adapt, its delta is zero).


import type { Block, OpNode, ParamDecl, Program } from '../../model/ir.ts';
import { streamFor } from '../rng.ts';

/** One frozen adapter: per targeted module its A (r, IC), B (OC, r) and scale (alpha/r or alpha/√r). */
export interface FrozenAdapter {
  name: string;
  layers: Map<string, { r: number; A: ArrayLike<number>; B: ArrayLike<number>; scale: number }>;
}

export interface FusionOptions {
  mode: 'weights' | 'attention';
  /** weights mode: one logit per adapter per decoder layer (else one per adapter for the whole model). */
  perLayer: boolean;
  /** weights mode: w = softmax(θ) (a convex combination) or θ itself (unconstrained, may amplify or negate). */
  softmax: boolean;
  /** attention mode: width of the query/key projections. */
  attentionDim: number;
  /** attention mode: rank of the value's correction to the identity (default 8). */
  valueRank?: number;
  seed: number;
  /** Base params that train along with the combination: an encoder task's head (AdapterFusion trains the target
   *  task's head with the fusion); none for a causal LM. */
  alsoTrain?: ReadonlySet<string>;
}

export interface FusedProgram {
  program: Program;
  /** The adapters' frozen factors and the trained parameters' starting values, by param name. */
  weights: Map<string, Float32Array>;
  /** Adapted modules, in program order, with the adapters (indices) each one has. */
  modules: { module: string; block: string | null; adapters: number[] }[];
}

/** Name of the trained logits of a weights-mode combination (`block` null = the global ones). */
export const mixWeightName = (block: string | null): string => (block ? `fusion.${block}.weights` : 'fusion.weights');
/** Names of an adapted linear's attention parameters. */
export const fusionParamNames = (module: string) => ({
  query: `${module}.fusion.query`,
  key: `${module}.fusion.key`,
  valueDown: `${module}.fusion.value_down`,
  valueUp: `${module}.fusion.value_up`,
});
/** Names of adapter k's frozen factors at a module. */
export const frozenFactorNames = (module: string, k: number) => ({ A: `${module}.adapters.${k}.A.weight`, B: `${module}.adapters.${k}.B.weight` });

/** Starting logits: the uniform average (softmax of zeros, or 1/K each). */
function uniformStart(K: number, softmax: boolean): Float32Array {
  return new Float32Array(K).fill(softmax ? 0 : 1 / K);
}

/** Query/key start small and random (scores near 0: every adapter weighs the same), seeded by name. */
function smallRandom(size: number, seed: number, name: string): Float32Array {
  const next = streamFor(seed, name);
  const a = new Float32Array(size);
  for (let i = 0; i < size; i++) a[i] = (next() * 2 - 1) * 0.05;
  return a;
}

/** The base program (no LoRA) with the adapters combined by trained parameters; the base is not modified. */
export function fuseProgram(base: Program, adapters: readonly FrozenAdapter[], o: FusionOptions): FusedProgram {
  if (adapters.length < 2) throw new Error(`combining adapters needs at least two (got ${adapters.length})`);
  const linears = new Map(base.nodes.flatMap((n) => (n.op === 'linear' ? [[n.module, n] as const] : [])));
  for (const a of adapters)
    for (const [module, l] of a.layers) {
      const n = linears.get(module);
      if (!n) throw new Error(`adapter ${a.name} adapts ${module}, which is not a linear layer of this ${base.family} model: it was trained for another base`);
      if (l.A.length !== l.r * n.inF || l.B.length !== n.outF * l.r)
        throw new Error(`adapter ${a.name}: ${module} has A ${l.A.length} and B ${l.B.length} values; this base needs rank ${l.r} × ${n.inF} and ${n.outF} × ${l.r}: it was trained for another base`);
      if (n.lora) throw new Error(`the base program already has LoRA on ${module}: combine adapters over the plain base`);
    }
  const K = adapters.length;
  const params: ParamDecl[] = base.params.map((d) => ({ ...d, trainable: o.alsoTrain?.has(d.name) ?? false }));
  const weights = new Map<string, Float32Array>();
  const widths = new Map(base.widths);
  const nodes: OpNode[] = [];
  const newIndex: number[] = [];
  const modules: FusedProgram['modules'] = [];
  const blockOf = (idx: number) => base.blocks.find((b) => idx >= b.start && idx < b.end)?.name ?? null;
  const declared = new Set<string>();
  const declare = (d: ParamDecl, value: Float32Array) => {
    if (declared.has(d.name)) return;
    declared.add(d.name);
    params.push(d);
    weights.set(d.name, value);
  };
  base.nodes.forEach((n, idx) => {
    newIndex.push(nodes.length);
    const present = n.op === 'linear' ? adapters.flatMap((a, k) => (a.layers.has(n.module) ? [k] : [])) : [];
    if (n.op !== 'linear' || present.length === 0) return void nodes.push(n);
    const block = blockOf(idx);
    modules.push({ module: n.module, block, adapters: present });
    const baseOut = `${n.out}.base`;
    widths.set(baseOut, n.outF);
    nodes.push({ ...n, out: baseOut });
    const deltas = present.map((k) => {
      const l = adapters[k].layers.get(n.module)!;
      const names = frozenFactorNames(n.module, k);
      const B = Float32Array.from(l.B, (v) => v * l.scale);
      declare({ name: names.A, shape: [l.r, n.inF], trainable: false, noDecay: true }, Float32Array.from(l.A));
      declare({ name: names.B, shape: [n.outF, l.r], trainable: false, noDecay: true }, B);
      const h = `${n.out}.adapters.${k}.h`;
      const d = `${n.out}.adapters.${k}.delta`;
      widths.set(h, l.r);
      widths.set(d, n.outF);
      nodes.push(
        { op: 'linear', module: `${n.module}.adapters.${k}.A`, x: n.x, weight: names.A, bias: null, lora: null, out: h, inF: n.inF, outF: l.r },
        { op: 'linear', module: `${n.module}.adapters.${k}.B`, x: h, weight: names.B, bias: null, lora: null, out: d, inF: l.r, outF: n.outF },
      );
      return d;
    });
    if (o.mode === 'weights') {
      const weight = mixWeightName(o.perLayer ? block : null);
      declare({ name: weight, shape: [K], trainable: true, noDecay: true }, uniformStart(K, o.softmax));
      nodes.push({ op: 'adapter_mix', base: baseOut, deltas, adapters: present, weight, count: K, softmax: o.softmax, out: n.out, width: n.outF });
    } else {
      const names = fusionParamNames(n.module);
      const D = o.attentionDim;
      declare({ name: names.query, shape: [n.inF, D], trainable: true, noDecay: true }, smallRandom(n.inF * D, o.seed, names.query));
      declare({ name: names.key, shape: [n.outF, D], trainable: true, noDecay: true }, smallRandom(n.outF * D, o.seed, names.key));
      const R = o.valueRank ?? 8;
      // like LoRA: one factor random, the other zero, so V starts exactly at the identity and both get gradients
      declare({ name: names.valueDown, shape: [n.outF, R], trainable: true, noDecay: true }, smallRandom(n.outF * R, o.seed, names.valueDown));
      declare({ name: names.valueUp, shape: [n.outF, R], trainable: true, noDecay: true }, new Float32Array(n.outF * R));
      nodes.push({ op: 'adapter_fusion', x: n.x, base: baseOut, deltas, query: names.query, key: names.key, valueDown: names.valueDown, valueUp: names.valueUp, out: n.out, inF: n.inF, width: n.outF, dim: D, valueRank: R });
    }
  });
  newIndex.push(nodes.length);
  if (modules.length === 0) throw new Error('none of the adapters adapts a linear layer of this model');
  const blocks: Block[] = base.blocks.map((b) => ({ ...b, start: newIndex[b.start], end: newIndex[b.end] }));
  return { program: { ...base, params, nodes, widths, blocks }, weights, modules };
}
