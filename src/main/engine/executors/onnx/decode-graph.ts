// The inference graph for generation: the SAME Program the trainer lowers (models/*.ts), forward only, with a KV
// cache. One graph serves the prefill (P = 0 past tokens, T = the prompt) and every decode step (T = 1): each
// attention layer takes its past K/V (B, NKV, P, HD) and returns them extended by the T new tokens.
// Base weights are initializers, built once. Adapters are inputs, so attaching, detaching, scaling or combining
// them never rebuilds the graph: every adapter-capable linear reads A (R, IC), B (OC, R) and a per-rank scale
// s (R), and adds ((x·Aᵀ) ⊙ s)·Bᵀ. Several adapters are stacked along the rank axis (their weights folded into s);
// a module no adapter touches gets rank 1 with s = 0, so the base output is exactly the base's.
// Inputs: input_ids (B, T); rope_cos/rope_sin[_local] (N, HD) or position_ids (N) for positions P…P+T−1; attn_bias[_w<W>] (B, 1, G·T, P+T);
// past_k.<i>/past_v.<i>; lora_A/lora_B/lora_s.<module>. Outputs: logits (N, V), present_k.<i>/present_v.<i>.

import type { OpNode, Program } from '../../ir.ts';
import { nodeInputs } from '../../ir.ts';
import { DataType, type ModelDef } from './proto.ts';
import { GraphBuilder, type Elem } from './builder.ts';
import type { BatchValues, LowerCtx } from './lower/context.ts';
import { embeddingForward } from './lower/embedding.ts';
import { rmsnormForward } from './lower/rmsnorm.ts';
import { layernormForward } from './lower/layernorm.ts';
import { fuseLinearGroups, linearForward } from './lower/linear.ts';
import { ropeForward } from './lower/rope.ts';
import { addForward, geluForward, swigluForward } from './lower/elementwise.ts';
import { positionEmbeddingForward } from './lower/position-embedding.ts';
import { sliceForward } from './lower/slice.ts';
import { gegluForward, softcapForward } from './lower/gated.ts';
import { attentionForwardCached } from './lower/attention-cached.ts';
import { biasInputName, declareTokenInputs, groupSize, POSITION_IDS } from './graphs.ts';
import { nf4Initializers, type Nf4Values } from './lower/nf4-linear.ts';
import { isNf4, type Nf4Tensor } from '../../quant/nf4.ts';

type Linear = Extract<OpNode, { op: 'linear' }>;
type Attention = Extract<OpNode, { op: 'attention' }>;

export const pastKName = (layer: number) => `past_k.${layer}`;
export const pastVName = (layer: number) => `past_v.${layer}`;
export const presentKName = (layer: number) => `present_k.${layer}`;
export const presentVName = (layer: number) => `present_v.${layer}`;
export const loraInputNames = (module: string) => ({ A: `lora_A.${module}`, B: `lora_B.${module}`, s: `lora_s.${module}` });

/** One attention layer's cache geometry, in program order (cache index = position in this list). */
export interface KvLayer {
  NKV: number;
  HD: number;
  window: number | null;
}

export interface DecodeGraphInfo {
  model: ModelDef;
  layers: KvLayer[];
  /** Linear modules that read adapter inputs, with their (IC, OC). */
  adapterModules: { module: string; inF: number; outF: number }[];
  /** Query heads per KV head (the bias input is tiled by it). */
  G: number;
  /** Bias inputs the graph reads: null = full causal, a number = that sliding window. */
  windows: (number | null)[];
  /** The graph reads position_ids (learned position tables, GPT-2). */
  usesPositions: boolean;
}

export interface DecodeGraphOptions {
  elem: Elem;
  /** Frozen weight data by param name, or an Nf4Tensor for a param the program marks quant: 'nf4' (QLoRA's base). */
  weight(name: string): ArrayLike<number> | Nf4Tensor;
  /** Which linear modules accept adapters (default: every linear except the one producing the logits). */
  adapterModules?: (module: string) => boolean;
}

/** The output head: the linear whose output is (or feeds only elementwise ops into) the logits. */
function headModule(p: Program): string | null {
  const n = p.nodes.find((x) => x.op === 'linear' && x.out === p.logits) as Linear | undefined;
  return n?.module ?? null;
}

export function buildDecodeGraph(p: Program, opts: DecodeGraphOptions): DecodeGraphInfo {
  const g = new GraphBuilder(opts.elem);
  const ft = g.ft;
  const G = groupSize(p);
  const head = headModule(p);
  const wantsAdapter = opts.adapterModules ?? ((m: string) => m !== head);

  const { ids, shapeBT, cos, sin, cosLocal, sinLocal } = declareTokenInputs(g, p);
  let positions: string | null = null;
  const biases = new Map<string, string>();
  const windows: (number | null)[] = [];
  // (cast: the batch/ctx shapes grow as families land; the fields a lowering reads here are all present)
  const batch = {
    ids, shapeBT, cos, sin, labelIdx: '', labelValid: '',
    bias(window) {
      const key = biasInputName(window);
      if (!biases.has(key)) {
        biases.set(key, g.input(key, ft, ['B', 1, 'GT', 'PT']));
        windows.push(window);
      }
      return biases.get(key)!;
    },
    dropMask: () => null, // inference: no dropout
    cosLocal,
    sinLocal,
    positions: () => (positions ??= g.input(POSITION_IDS, DataType.INT64, ['N'])),
  } as BatchValues;

  const values = new Map<string, string>();
  const uses = new Map<string, number>();
  for (const n of p.nodes) for (const t of nodeInputs(n)) uses.set(t, (uses.get(t) ?? 0) + 1);
  const quantized = new Set(p.params.filter((d) => d.quant === 'nf4').map((d) => d.name));
  const onlyHere = (t: string | null) => t === null || (uses.get(t) === 1 && !quantized.has(t));
  // q/k/v and gate/up: one Gemm on weights stacked along OC, as in the training graphs
  const groups = fuseLinearGroups(p.nodes, (n) => onlyHere(n.weight) && onlyHere(n.bias));
  const groupOf = new Map<string, { members: Linear[]; W: string; b: string | null }>();
  const fused = new Set<string>();
  for (const members of groups) {
    const IC = members[0].inF;
    const OC = members.reduce((s, m) => s + m.outF, 0);
    const stack = (names: string[], width: number) => {
      const out = opts.elem === 'float64' ? new Float64Array(OC * width) : new Float32Array(OC * width);
      let o = 0;
      for (const nm of names) {
        const w = opts.weight(nm) as ArrayLike<number>; // fused weights are never NF4 (see onlyHere)
        out.set(w, o);
        o += w.length;
        fused.add(nm);
      }
      return out;
    };
    const key = members.map((m) => m.module).join('+');
    const W = g.floatInit(`${key}.weight`, [OC, IC], stack(members.map((m) => m.weight), IC));
    const b = members[0].bias ? g.floatInit(`${key}.bias`, [OC], stack(members.map((m) => m.bias!), 1)) : null;
    for (const m of members) groupOf.set(m.module, { members, W, b });
  }
  const nf4 = new Map<string, Nf4Values>();
  for (const d of p.params) {
    if (d.init || fused.has(d.name)) continue; // LoRA tensors of a program with adapters attached: adapters are inputs here
    const w = opts.weight(d.name);
    if (isNf4(w)) {
      if (d.quant !== 'nf4') throw new Error(`decode graph: ${d.name} arrived as NF4 but the program does not mark it quantized`);
      nf4.set(d.name, nf4Initializers(g, d.name, w));
    } else values.set(d.name, g.floatInit(d.name, d.shape, w));
  }

  const ctx = {
    g, batch, saved: new Map(),
    nf4: (name: string) => nf4.get(name) ?? null,
    value(name) {
      const v = values.get(name);
      if (!v) throw new Error(`decode graph: tensor ${name} used before it is defined`);
      return v;
    },
    setValue: (name, v) => void values.set(name, v),
    needsGrad: () => false,
    addGrad: () => { throw new Error('decode graph: no gradients'); },
  } as LowerCtx;

  const layers: KvLayer[] = [];
  const adapterModules: DecodeGraphInfo['adapterModules'] = [];
  const baseOut = new Map<string, string>();
  const attention = (n: Attention) => {
    const i = layers.length;
    layers.push({ NKV: n.NKV, HD: n.HD, window: n.window });
    const pastK = g.input(pastKName(i), ft, ['B', n.NKV, 'P', n.HD]);
    const pastV = g.input(pastVName(i), ft, ['B', n.NKV, 'P', n.HD]);
    const { presentK, presentV } = attentionForwardCached(ctx, n, pastK, pastV);
    g.output(presentKName(i), presentK, ft, ['B', n.NKV, 'PT', n.HD]);
    g.output(presentVName(i), presentV, ft, ['B', n.NKV, 'PT', n.HD]);
  };
  const linear = (n: Linear, idx: number) => {
    const grp = groupOf.get(n.module);
    if (grp && grp.members[0] === n) {
      const y = g.op('Gemm', [ctx.value(n.x), grp.W, ...(grp.b ? [grp.b] : [])], { transB: 1 });
      const parts = g.node('Split', [y, g.i64(grp.members.map((m) => m.outF))], { axis: 1 }, grp.members.length);
      grp.members.forEach((m, i) => baseOut.set(m.module, parts[i]));
    }
    linearForward(ctx, { ...n, lora: null }, idx, baseOut.get(n.module));
    if (!wantsAdapter(n.module)) return;
    adapterModules.push({ module: n.module, inF: n.inF, outF: n.outF });
    const names = loraInputNames(n.module);
    const A = g.input(names.A, ft, [`R:${n.module}`, n.inF]);
    const B = g.input(names.B, ft, [n.outF, `R:${n.module}`]);
    const s = g.input(names.s, ft, [`R:${n.module}`]);
    const hs = g.mul(g.op('Gemm', [ctx.value(n.x), A], { transB: 1 }), s); // (N, R)
    ctx.setValue(n.out, g.add(ctx.value(n.out), g.op('Gemm', [hs, B], { transB: 1 })));
  };

  p.nodes.forEach((n, idx) => {
    switch (n.op) {
      case 'embedding': return embeddingForward(ctx, n);
      case 'rmsnorm': return rmsnormForward(ctx, n, idx, p.widths.get(n.out)!);
      case 'layernorm': return layernormForward(ctx, n, idx);
      case 'linear': return linear(n, idx);
      case 'rope': return ropeForward(ctx, n);
      case 'attention': return attention(n);
      case 'swiglu': return swigluForward(ctx, n, idx);
      case 'gelu_tanh': return geluForward(ctx, n, idx);
      case 'add': return addForward(ctx, n);
      case 'position_embedding': return positionEmbeddingForward(ctx, n);
      case 'slice': return sliceForward(ctx, n);
      case 'geglu': return gegluForward(ctx, n, idx);
      case 'softcap': return softcapForward(ctx, n, idx);
      default:
        throw new Error(`generation: the decode graph does not lower op "${(n as { op: string }).op}" yet (${p.family})`);
    }
  });
  g.output('logits', ctx.value(p.logits), ft, ['N', p.vocab]);
  return { model: g.model(`lora-studio-${p.family}-decode`), layers, adapterModules, G, windows, usesPositions: positions !== null };
}
