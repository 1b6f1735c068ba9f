// The inference graph for generation: the SAME Program the trainer lowers (models/*.ts), forward only, with a KV
// cache. One graph serves the prefill (P = 0 past tokens, T = the prompt) and every decode step (T = 1): each
// attention layer takes its past K/V (B, NKV, P, HD) and returns them extended by the T new tokens.
// Base weights are initializers, built once. Adapters are inputs, so attaching, detaching, scaling or combining
// them never rebuilds the graph: every adapter-capable linear reads A (R, IC), B (OC, R) and a per-rank scale
// s (R), and adds ((x·Aᵀ) ⊙ s)·Bᵀ. Several adapters are stacked along the rank axis (their weights folded into s);
// a module no adapter touches gets rank 1 with s = 0, so the base output is exactly the base's.
// Inputs: input_ids (B, T); rope_cos/rope_sin[_local] (N, HD) or position_ids (N) for positions P…P+T−1; attn_bias[_w<W>] (B, 1, G·T, P+T);
// past_k.<i>/past_v.<i>; lora_A/lora_B/lora_s.<module>. Outputs: logits (N, V), present_k.<i>/present_v.<i>.

import type { OpNode, Program } from '../../../model/ir.ts';
import { DataType, type ModelDef } from './proto.ts';
import { GraphBuilder, type Elem } from './builder.ts';
import type { BatchValues } from './lower/context.ts';
import { linearForward } from './lower/linear.ts';
import { attentionForwardCached } from './lower/attention-cached.ts';
import { biasInputName, declareFrozenWeights, declareTokenInputs, graphLowerCtx, groupSize, POSITION_IDS, tensorUses, type FrozenOptions } from './graphs.ts';
import { lowerForward, type GraphLowerCtx } from './lowering.ts';
import type { Nf4Tensor } from '../../quant/nf4.ts';
import type { WeightFile } from './weight-file.ts';

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
  /** Float frozen weights as external data in this file (decodeGraphFrozen's list; `weight` is then not asked for them). */
  weightFile?: WeightFile;
  /** Only these params' linears are stacked (decodeGraphFrozen's `stackOnly`). */
  stackOnly?: ReadonlySet<string>;
}

/** The frozen tensors of the decode graph: every param but buffers the program computes; single-use floats fused. */
/**
 * `stackOnly`: stack only linears whose weights are all in this set — a graph over a base another graph already
 * stored (a fused chat program: the base plus frozen adapter branches) then stacks the base's linears exactly as that
 * graph did, so their stacked tensors are the same keys it can share, instead of new stacks mixing base weights with
 * an adapter's A (a second copy of those base weights).
 */
export function decodeGraphFrozen(p: Program, stackOnly?: ReadonlySet<string>): FrozenOptions {
  const uses = tensorUses(p);
  const quantized = new Set(p.params.filter((d) => d.quant === 'nf4').map((d) => d.name));
  return {
    skip: (d) => d.init !== undefined,
    fusable: (t) => t === null || (uses.get(t) === 1 && !quantized.has(t) && (!stackOnly || stackOnly.has(t))),
  };
}

/** The output head: the linear whose output is (or feeds only elementwise ops into) the logits. */
function headModule(p: Program): string | null {
  const n = p.nodes.find((x) => x.op === 'linear' && x.out === p.logits) as Linear | undefined;
  return n?.module ?? null;
}

export function buildDecodeGraph(p: Program, opts: DecodeGraphOptions): DecodeGraphInfo {
  const g = new GraphBuilder(opts.elem, opts.weightFile);
  const ft = g.ft;
  const G = groupSize(p);
  if (p.nodes.some((n) => n.op === 'attention' && n.causal === false))
    throw new Error('decode graph: bidirectional attention (an encoder) is not decoded token by token; run its logits graph instead');
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

  // base weights as in the training graphs (q/k/v and gate/up stacked); LoRA tensors of a program with adapters
  // attached are skipped: adapters are inputs here
  const weights = declareFrozenWeights(g, p, opts.elem, opts.weight, { where: 'decode graph', ...decodeGraphFrozen(p, opts.stackOnly) });
  const ctx = graphLowerCtx(g, p, batch, weights, 'decode graph', {
    needsGrad: () => false,
    addGrad: () => { throw new Error('decode graph: no gradients'); },
    grad: () => undefined,
  });

  const layers: KvLayer[] = [];
  const adapterModules: DecodeGraphInfo['adapterModules'] = [];
  const attention = (n: Attention) => {
    const i = layers.length;
    layers.push({ NKV: n.NKV, HD: n.HD, window: n.window });
    const pastK = g.input(pastKName(i), ft, ['B', n.NKV, 'P', n.HD]);
    const pastV = g.input(pastVName(i), ft, ['B', n.NKV, 'P', n.HD]);
    const { presentK, presentV } = attentionForwardCached(ctx, n, pastK, pastV);
    g.output(presentKName(i), presentK, ft, ['B', n.NKV, 'PT', n.HD]);
    g.output(presentVName(i), presentV, ft, ['B', n.NKV, 'PT', n.HD]);
  };
  const linear = (c: GraphLowerCtx, n: Linear, idx: number) => {
    linearForward(c, { ...n, lora: null }, idx, c.fusedBase(n.module));
    if (!wantsAdapter(n.module)) return;
    adapterModules.push({ module: n.module, inF: n.inF, outF: n.outF });
    const names = loraInputNames(n.module);
    const A = g.input(names.A, ft, [`R:${n.module}`, n.inF]);
    const B = g.input(names.B, ft, [n.outF, `R:${n.module}`]);
    const s = g.input(names.s, ft, [`R:${n.module}`]);
    const hs = g.mul(g.op('Gemm', [ctx.value(n.x), A], { transB: 1 }), s); // (N, R)
    ctx.setValue(n.out, g.add(ctx.value(n.out), g.op('Gemm', [hs, B], { transB: 1 })));
  };

  // decoding is a mode of the ONNX lowering: the same table, with attention over a KV cache and adapter inputs
  lowerForward(ctx, p.nodes, { attention: (_c, n) => attention(n), linear });
  g.output('logits', ctx.value(p.logits), ft, ['N', p.vocab]);
  return { model: g.model(`lora-studio-${p.family}-decode`), layers, adapterModules, G, windows, usesPositions: positions !== null };
}
