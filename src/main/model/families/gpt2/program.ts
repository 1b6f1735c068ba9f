// GPT-2 family as a program of coarse ops: learned absolute positions, pre-LayerNorm blocks with biases on every
// linear, GELU (tanh, "gelu_new") MLP, and a fused c_attn whose (N, 3C) output is split into q, k, v. Parameter
// names are the checkpoint's (transformer.h.N.attn.c_attn.weight, …) so PEFT targets c_attn / c_proj as it does
// for GPT-2, with lora_B of c_attn (3C, r). Conv1D weights are stored [in, out] on disk: the program declares them
// [out, in] like every linear and marks them storedTransposed, so loading and saving transpose once.

import type { Block, OpNode, ParamDecl, Program } from '../../ir.ts';
import type { Gpt2Spec } from './config.ts';
import { gpt2Layer } from './tensors.ts';

export function validateGpt2Spec(s: Gpt2Spec): void {
  const where = `${s.architecture} (gpt2)`;
  if (s.family !== 'gpt2') throw new Error(`${where}: not a GPT-2 family spec (family ${s.family})`);
  if (s.activation !== 'gelu_tanh') throw new Error(`${where}: activation ${s.activation} is not lowered; GPT-2 uses gelu_new (tanh approximation)`);
  if (s.normKind !== 'layer' || s.mlpKind !== 'plain' || s.positionEmbedding !== 'learned' || !s.conv1dWeights || !s.fusedQkv)
    throw new Error(`${where}: expected LayerNorm, a plain MLP, learned positions and fused Conv1D c_attn`);
  if (s.numKvHeads !== s.numHeads || s.headDim * s.numHeads !== s.hiddenSize)
    throw new Error(`${where}: GPT-2 heads must split n_embd evenly (${s.numHeads} heads × ${s.headDim} vs ${s.hiddenSize})`);
  for (const f of ['vocabSize', 'hiddenSize', 'intermediateSize', 'numLayers', 'numHeads', 'maxPositions'] as const)
    if (!Number.isInteger(s[f]) || s[f] <= 0) throw new Error(`${where}: ${f} must be a positive integer, got ${s[f]}`);
}

export function buildGpt2Program(s: Gpt2Spec): Program {
  validateGpt2Spec(s);
  const { hiddenSize: C, intermediateSize: I, numHeads: NH, headDim: HD, vocabSize: V } = s;
  const params: ParamDecl[] = [];
  const nodes: OpNode[] = [];
  const widths = new Map<string, number>();
  const blocks: Block[] = [];
  const param = (name: string, shape: number[], extra: Partial<ParamDecl> = {}) => {
    params.push({ name, shape, trainable: false, noDecay: false, ...extra });
    return name;
  };
  const act = (name: string, width: number) => (widths.set(name, width), name);
  const conv1d = (module: string, x: string, inF: number, outF: number) => {
    const out = act(`${module}:out`, outF);
    nodes.push({
      op: 'linear', module, x, inF, outF, lora: null, out,
      weight: param(`${module}.weight`, [outF, inF], { storedTransposed: true }),
      bias: param(`${module}.bias`, [outF], { noDecay: true }),
    });
    return out;
  };
  const layernorm = (module: string, x: string) => {
    const out = act(`${module}:out`, C);
    nodes.push({
      op: 'layernorm', x, out, width: C, eps: s.normEps,
      weight: param(`${module}.weight`, [C], { noDecay: true }), bias: param(`${module}.bias`, [C], { noDecay: true }),
    });
    return out;
  };
  const add = (name: string, a: string, b: string) => {
    nodes.push({ op: 'add', a, b, out: act(name, C), width: C });
    return name;
  };

  const wte = param('transformer.wte.weight', [V, C]);
  const wpe = param('transformer.wpe.weight', [s.maxPositions, C]);
  const tok = act('transformer.wte:out', C);
  const pos = act('transformer.wpe:out', C);
  nodes.push({ op: 'embedding', weight: wte, out: tok, width: C, scale: 1 }, { op: 'position_embedding', weight: wpe, out: pos, width: C });
  let x = add('transformer:embed', tok, pos);
  for (let l = 0; l < s.numLayers; l++) {
    const p = gpt2Layer(l);
    const start = nodes.length;
    const qkv = conv1d(`${p}.attn.c_attn`, layernorm(`${p}.ln_1`, x), C, 3 * C);
    const [q, k, v] = ['q', 'k', 'v'].map((part, i) => {
      const out = act(`${p}.attn:${part}`, C);
      nodes.push({ op: 'slice', x: qkv, out, start: i * C, width: C, inWidth: 3 * C });
      return out;
    });
    const a = act(`${p}.attn:att`, C);
    nodes.push({ op: 'attention', q, k, v, out: a, NH, NKV: NH, HD, window: null, scale: s.attentionScale });
    x = add(`${p}:resid_attn`, x, conv1d(`${p}.attn.c_proj`, a, C, C));
    const h = conv1d(`${p}.mlp.c_fc`, layernorm(`${p}.ln_2`, x), C, I);
    const g = act(`${p}.mlp:act`, I);
    nodes.push({ op: 'gelu_tanh', x: h, out: g, width: I });
    x = add(`${p}:resid_mlp`, x, conv1d(`${p}.mlp.c_proj`, g, I, C));
    blocks.push({ name: p, start, end: nodes.length });
  }
  const xf = layernorm('transformer.ln_f', x);
  const logits = act('lm_head:out', V);
  nodes.push({
    op: 'linear', module: 'lm_head', x: xf, inF: C, outF: V, lora: null, out: logits, bias: null,
    weight: s.tiedEmbeddings ? wte : param('lm_head.weight', [V, C]),
  });
  return { family: 'gpt2', params, nodes, widths, blocks, logits, vocab: V, rope: null, maxPositions: s.maxPositions };
}
