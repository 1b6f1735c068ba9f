// Llama-style decoder family: Llama (2/3), Mistral (sliding window), Qwen2 (q/k/v bias), Qwen3 (q/k RMSNorm per
// head, head_dim ≠ hidden/heads), SmolLM2 (= Llama). Written once as a program of coarse ops; LoRA is attached
// afterwards by engine/lora/model.ts, and every executor lowers the result.

import type { Block, OpNode, ParamDecl, Program, RopeConfig } from '../../ir.ts';
import type { SpecBase } from '../../spec-base.ts';
import { llamaLayer } from './tensors.ts';

export interface LlamaConfig {
  family: 'llama' | 'mistral' | 'qwen2' | 'qwen3' | 'smollm2';
  vocabSize: number; // V
  hiddenSize: number; // C
  intermediateSize: number; // I
  numLayers: number; // L
  numHeads: number; // NH
  numKvHeads: number; // NKV
  headDim: number; // HD (may differ from C / NH, e.g. Qwen3)
  rmsNormEps: number;
  rope: RopeConfig;
  tieWordEmbeddings: boolean;
  attentionBias: boolean; // q/k/v bias (Qwen2)
  qkNorm: boolean; // RMSNorm over HD on q and k before rope (Qwen3)
  slidingWindow: number | null; // Mistral v0.1
  oBias?: boolean; // o_proj bias (Llama's attention_bias covers o too)
  mlpBias?: boolean; // gate/up/down bias (Llama's mlp_bias)
}

const LLAMA_STYLE = new Set(['llama', 'mistral', 'qwen2', 'qwen3']);

/** The Llama-family config from the normalized ModelSpec (formats/model); refuses what this family can't lower. */
export function llamaConfigFromModelSpec(spec: SpecBase): LlamaConfig {
  const where = `${spec.architecture} (${spec.family})`;
  if (!LLAMA_STYLE.has(spec.family) || !spec.rope || spec.positionEmbedding !== 'rope')
    throw new Error(`${where}: not a Llama-family model; buildProgramFromSpec (model/families/index.ts) picks each family's program`);
  if (spec.normKind !== 'rms' || spec.activation !== 'silu' || spec.mlpKind !== 'gated')
    throw new Error(`${where}: expected RMSNorm + SiLU-gated MLP, got ${spec.normKind} / ${spec.activation} / ${spec.mlpKind}`);
  if (spec.sandwichNorms || spec.finalLogitSoftcap !== null || spec.embeddingScale !== 1)
    throw new Error(`${where}: sandwich norms, logit soft-capping and embedding scaling are not part of the Llama family`);
  if (Math.abs(spec.attentionScale - 1 / Math.sqrt(spec.headDim)) > 1e-12)
    throw new Error(`${where}: attention scale ${spec.attentionScale} differs from 1/√head_dim, which this family assumes`);
  const sliding = spec.layerTypes.some((t) => t === 'sliding');
  if (sliding && spec.layerTypes.some((t) => t === 'full'))
    throw new Error(`${where}: mixed sliding/full attention layers are not supported in the Llama family`);
  return {
    family: spec.family as LlamaConfig['family'],
    vocabSize: spec.vocabSize, hiddenSize: spec.hiddenSize, intermediateSize: spec.intermediateSize,
    numLayers: spec.numLayers, numHeads: spec.numHeads, numKvHeads: spec.numKvHeads, headDim: spec.headDim,
    rmsNormEps: spec.normEps, rope: { theta: spec.rope.theta, headDim: spec.headDim, scaling: spec.rope.scaling },
    tieWordEmbeddings: spec.tiedEmbeddings, attentionBias: spec.bias.qkv, qkNorm: spec.qkNorm,
    slidingWindow: sliding ? spec.slidingWindow : null, oBias: spec.bias.o, mlpBias: spec.bias.mlp,
  };
}

export function validateLlamaConfig(c: LlamaConfig): void {
  const bad = (field: string, why: string) => new Error(`${c.family} config: ${field} ${why}`);
  for (const f of ['vocabSize', 'hiddenSize', 'intermediateSize', 'numLayers', 'numHeads', 'numKvHeads', 'headDim'] as const)
    if (!Number.isInteger(c[f]) || c[f] <= 0) throw bad(f, `must be a positive integer, got ${c[f]}`);
  if (c.numHeads % c.numKvHeads !== 0) throw bad('numKvHeads', `(${c.numKvHeads}) must divide numHeads (${c.numHeads})`);
  if (c.headDim % 2 !== 0) throw bad('headDim', `must be even for rotary embeddings, got ${c.headDim}`);
  if (c.rope.headDim !== c.headDim) throw bad('rope.headDim', `(${c.rope.headDim}) must equal headDim (${c.headDim})`);
}

export function buildLlamaProgram(c: LlamaConfig): Program {
  validateLlamaConfig(c);
  const { hiddenSize: C, intermediateSize: I, numHeads: NH, numKvHeads: NKV, headDim: HD, vocabSize: V } = c;
  const params: ParamDecl[] = [];
  const nodes: OpNode[] = [];
  const widths = new Map<string, number>();
  const blocks: Block[] = [];
  const param = (name: string, shape: number[], noDecay = false) => {
    params.push({ name, shape, trainable: false, noDecay });
    return name;
  };
  const act = (name: string, width: number) => (widths.set(name, width), name);
  const linear = (module: string, x: string, inF: number, outF: number, bias: boolean) => {
    const out = act(`${module}:out`, outF);
    nodes.push({
      op: 'linear', module, x, inF, outF, lora: null, out,
      weight: param(`${module}.weight`, [outF, inF]),
      bias: bias ? param(`${module}.bias`, [outF], true) : null,
    });
    return out;
  };
  const rmsnorm = (module: string, x: string, width: number, rowWidth: number) => {
    const out = act(`${module}:out`, rowWidth);
    nodes.push({ op: 'rmsnorm', x, weight: param(`${module}.weight`, [width], true), out, width, eps: c.rmsNormEps, plusOne: false });
    return out;
  };

  const embed = param('model.embed_tokens.weight', [V, C]);
  let x = act('model.embed_tokens:out', C);
  nodes.push({ op: 'embedding', weight: embed, out: x, width: C, scale: 1 });
  for (let l = 0; l < c.numLayers; l++) {
    const p = llamaLayer(l);
    const start = nodes.length;
    const h = rmsnorm(`${p}.input_layernorm`, x, C, C);
    let q = linear(`${p}.self_attn.q_proj`, h, C, NH * HD, c.attentionBias);
    let k = linear(`${p}.self_attn.k_proj`, h, C, NKV * HD, c.attentionBias);
    const v = linear(`${p}.self_attn.v_proj`, h, C, NKV * HD, c.attentionBias);
    if (c.qkNorm) {
      q = rmsnorm(`${p}.self_attn.q_norm`, q, HD, NH * HD);
      k = rmsnorm(`${p}.self_attn.k_norm`, k, HD, NKV * HD);
    }
    const qr = act(`${p}.self_attn:q_rope`, NH * HD);
    const kr = act(`${p}.self_attn:k_rope`, NKV * HD);
    nodes.push({ op: 'rope', x: q, out: qr, heads: NH, headDim: HD }, { op: 'rope', x: k, out: kr, heads: NKV, headDim: HD });
    const a = act(`${p}.self_attn:att`, NH * HD);
    nodes.push({ op: 'attention', q: qr, k: kr, v, out: a, NH, NKV, HD, window: c.slidingWindow });
    const o = linear(`${p}.self_attn.o_proj`, a, NH * HD, C, c.oBias ?? false);
    const x1 = act(`${p}:resid_attn`, C);
    nodes.push({ op: 'add', a: x, b: o, out: x1, width: C });
    const h2 = rmsnorm(`${p}.post_attention_layernorm`, x1, C, C);
    const g = linear(`${p}.mlp.gate_proj`, h2, C, I, c.mlpBias ?? false);
    const u = linear(`${p}.mlp.up_proj`, h2, C, I, c.mlpBias ?? false);
    const m = act(`${p}.mlp:act`, I);
    nodes.push({ op: 'swiglu', gate: g, up: u, out: m, width: I });
    const d = linear(`${p}.mlp.down_proj`, m, I, C, c.mlpBias ?? false);
    x = act(`${p}:resid_mlp`, C);
    nodes.push({ op: 'add', a: x1, b: d, out: x, width: C });
    blocks.push({ name: p, start, end: nodes.length });
  }
  const xf = rmsnorm('model.norm', x, C, C);
  const logits = act('lm_head:out', V);
  nodes.push({
    op: 'linear', module: 'lm_head', x: xf, inF: C, outF: V, lora: null, out: logits, bias: null,
    weight: c.tieWordEmbeddings ? embed : param('lm_head.weight', [V, C]),
  });
  return { family: c.family, params, nodes, widths, blocks, logits, vocab: V, rope: c.rope };
}
