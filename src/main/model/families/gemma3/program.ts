// Gemma 3 (text) as a program of coarse ops: embeddings × √hidden, RMSNorm in the (1 + w) form everywhere, q/k
// RMSNorm per head, four norms per layer (input, post-attention on the attention output, pre- and
// post-feedforward), GeGLU MLP (gelu_tanh(gate) ⊙ up), attention scaled by query_pre_attn_scalar^-½, sliding-window
// and global layers (layer_types) where sliding layers rotate with their own base (rope_local_base_freq, no
// scaling), a tied head and optional final logit soft-capping. Names are transformers' Gemma3ForCausalLM's.

import type { Block, OpNode, ParamDecl, Program } from '../../ir.ts';
import type { Gemma3Spec } from './config.ts';
import { llamaLayer } from '../llama/tensors.ts';

export function validateGemma3Spec(s: Gemma3Spec): void {
  const where = `${s.architecture} (gemma3)`;
  if (s.family !== 'gemma3') throw new Error(`${where}: not a Gemma 3 family spec (family ${s.family})`);
  if (!s.rope) throw new Error(`${where}: Gemma 3 needs rope settings`);
  if (s.normKind !== 'rms_one_plus' || !s.qkNorm || !s.sandwichNorms || s.mlpKind !== 'gated')
    throw new Error(`${where}: expected (1 + w) RMSNorm, q/k norms, four norms per layer and a gated MLP`);
  if (s.activation !== 'gelu_tanh') throw new Error(`${where}: activation ${s.activation} is not lowered; Gemma 3 uses gelu_pytorch_tanh`);
  if (s.bias.mlp) throw new Error(`${where}: MLP biases are not part of Gemma 3`);
  if (s.numHeads % s.numKvHeads !== 0) throw new Error(`${where}: num_key_value_heads (${s.numKvHeads}) must divide num_attention_heads (${s.numHeads})`);
  if (s.headDim % 2 !== 0) throw new Error(`${where}: head_dim must be even for rotary embeddings, got ${s.headDim}`);
  if (s.layerTypes.length !== s.numLayers) throw new Error(`${where}: ${s.layerTypes.length} layer types for ${s.numLayers} layers`);
  if (s.layerTypes.includes('sliding') && !(s.slidingWindow && s.slidingWindow > 0))
    throw new Error(`${where}: sliding layers need a positive sliding_window, got ${s.slidingWindow}`);
}

export function buildGemma3Program(s: Gemma3Spec): Program {
  validateGemma3Spec(s);
  const { hiddenSize: C, intermediateSize: I, numHeads: NH, numKvHeads: NKV, headDim: HD, vocabSize: V } = s;
  const rope = s.rope!;
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
      weight: param(`${module}.weight`, [outF, inF]), bias: bias ? param(`${module}.bias`, [outF], true) : null,
    });
    return out;
  };
  const norm = (module: string, x: string, width: number, rowWidth: number) => {
    const out = act(`${module}:out`, rowWidth);
    nodes.push({ op: 'rmsnorm', x, weight: param(`${module}.weight`, [width], true), out, width, eps: s.normEps, plusOne: true });
    return out;
  };
  const add = (name: string, a: string, b: string) => {
    nodes.push({ op: 'add', a, b, out: act(name, C), width: C });
    return name;
  };

  const embed = param('model.embed_tokens.weight', [V, C]);
  let x = act('model.embed_tokens:out', C);
  nodes.push({ op: 'embedding', weight: embed, out: x, width: C, scale: Math.fround(s.embeddingScale) });
  for (let l = 0; l < s.numLayers; l++) {
    const p = llamaLayer(l);
    const start = nodes.length;
    const sliding = s.layerTypes[l] === 'sliding';
    const h = norm(`${p}.input_layernorm`, x, C, C);
    const q = norm(`${p}.self_attn.q_norm`, linear(`${p}.self_attn.q_proj`, h, C, NH * HD, s.bias.qkv), HD, NH * HD);
    const k = norm(`${p}.self_attn.k_norm`, linear(`${p}.self_attn.k_proj`, h, C, NKV * HD, s.bias.qkv), HD, NKV * HD);
    const v = linear(`${p}.self_attn.v_proj`, h, C, NKV * HD, s.bias.qkv);
    const qr = act(`${p}.self_attn:q_rope`, NH * HD);
    const kr = act(`${p}.self_attn:k_rope`, NKV * HD);
    nodes.push(
      { op: 'rope', x: q, out: qr, heads: NH, headDim: HD, local: sliding },
      { op: 'rope', x: k, out: kr, heads: NKV, headDim: HD, local: sliding },
    );
    const a = act(`${p}.self_attn:att`, NH * HD);
    nodes.push({ op: 'attention', q: qr, k: kr, v, out: a, NH, NKV, HD, window: sliding ? s.slidingWindow : null, scale: s.attentionScale });
    const o = norm(`${p}.post_attention_layernorm`, linear(`${p}.self_attn.o_proj`, a, NH * HD, C, s.bias.o), C, C);
    const x1 = add(`${p}:resid_attn`, x, o);
    const h2 = norm(`${p}.pre_feedforward_layernorm`, x1, C, C);
    const g = linear(`${p}.mlp.gate_proj`, h2, C, I, false);
    const u = linear(`${p}.mlp.up_proj`, h2, C, I, false);
    const m = act(`${p}.mlp:act`, I);
    nodes.push({ op: 'geglu', gate: g, up: u, out: m, width: I });
    const d = norm(`${p}.post_feedforward_layernorm`, linear(`${p}.mlp.down_proj`, m, I, C, false), C, C);
    x = add(`${p}:resid_mlp`, x1, d);
    blocks.push({ name: p, start, end: nodes.length });
  }
  const xf = norm('model.norm', x, C, C);
  let logits = act('lm_head:out', V);
  nodes.push({
    op: 'linear', module: 'lm_head', x: xf, inF: C, outF: V, lora: null, out: logits, bias: null,
    weight: s.tiedEmbeddings ? embed : param('lm_head.weight', [V, C]),
  });
  if (s.finalLogitSoftcap !== null) {
    const capped = act('lm_head:softcapped', V);
    nodes.push({ op: 'softcap', x: logits, out: capped, width: V, cap: s.finalLogitSoftcap });
    logits = capped;
  }
  const hasLocal = s.layerTypes.includes('sliding');
  return {
    family: 'gemma3', params, nodes, widths, blocks, logits, vocab: V,
    rope: { theta: rope.theta, headDim: HD, scaling: rope.scaling },
    ropeLocal: hasLocal ? { theta: rope.localTheta ?? 10_000, headDim: HD, scaling: null } : null,
  };
}
