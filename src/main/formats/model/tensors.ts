// Each family's Hugging Face tensor names mapped onto the spec's canonical parameters.
//
// Canonical parameters (shapes in PyTorch Linear convention [out, in]; C hidden, I intermediate,
// V vocab, P positions, NH/KV heads, HD head_dim, L layers):
//   embed [V, C]                          pos_embed [P, C] (GPT-2)
//   layers.N.attn_norm.{weight,bias} [C]  layers.N.attn.{q,k,v,o}.{weight,bias}
//     q [NH·HD, C]  k, v [KV·HD, C]  o [C, NH·HD]
//   layers.N.attn.{q_norm,k_norm}.weight [HD] (Qwen3, Gemma 3)
//   layers.N.attn_post_norm.weight [C]    layers.N.mlp_post_norm.weight [C] (Gemma 3)
//   layers.N.mlp_norm.{weight,bias} [C]   layers.N.mlp.{gate,up}.weight [I, C]  mlp.down.weight [C, I]
//   final_norm.{weight,bias} [C]          lm_head.weight [V, C] (only when not tied)
// GPT-2 stores Conv1D weights as [in, out] (transpose) and fuses q/k/v into c_attn (split on the
// output axis after transposing).

import type { ModelSpec } from './spec.ts';

export interface CanonicalParam {
  name: string;
  shape: number[];
}

export interface HfTensorEntry {
  /** Name in a checkpoint saved by transformers' save_pretrained. */
  hfName: string;
  /** Shape on disk. */
  shape: number[];
  /** Canonical parameters held by this tensor: one, or q/k/v for a fused c_attn. */
  params: CanonicalParam[];
  /** On-disk layout is [in, out] (Conv1D): transpose to get the canonical [out, in]. */
  transpose: boolean;
  /** When several params: split along axis 0 of the canonical (transposed) tensor, in order. */
  split: boolean;
  /** For linear weights: the nn.Module path PEFT targets, with its in/out features. */
  linear?: { module: string; inFeatures: number; outFeatures: number; isOutputHead: boolean };
}

export interface LinearModule {
  module: string;
  inFeatures: number;
  outFeatures: number;
  /** Weight stored [in, out] (GPT-2 Conv1D): PEFT's fan_in_fan_out. */
  fanInFanOut: boolean;
  isOutputHead: boolean;
  /** The HF weight tensor of this module. */
  weightName: string;
  layer: number | null;
}

function p(name: string, ...shape: number[]): CanonicalParam {
  return { name, shape };
}

function plain(hfName: string, param: CanonicalParam): HfTensorEntry {
  return { hfName, shape: param.shape, params: [param], transpose: false, split: false };
}

function linear(module: string, param: CanonicalParam, isOutputHead = false): HfTensorEntry {
  const [out, inp] = param.shape;
  return {
    hfName: `${module}.weight`,
    shape: param.shape,
    params: [param],
    transpose: false,
    split: false,
    linear: { module, inFeatures: inp, outFeatures: out, isOutputHead },
  };
}

/** A GPT-2 Conv1D weight: stored [in, out]. */
function conv1d(module: string, params: CanonicalParam[]): HfTensorEntry {
  const inp = params[0].shape[1];
  const out = params.reduce((s, q) => s + q.shape[0], 0);
  return {
    hfName: `${module}.weight`,
    shape: [inp, out],
    params,
    transpose: true,
    split: params.length > 1,
    linear: { module, inFeatures: inp, outFeatures: out, isOutputHead: false },
  };
}

function fusedBias(hfName: string, params: CanonicalParam[]): HfTensorEntry {
  const n = params.reduce((s, q) => s + q.shape[0], 0);
  return { hfName, shape: [n], params, transpose: false, split: params.length > 1 };
}

/** The full tensor table of a model, in checkpoint order (embeddings, layers, final norm, head). */
export function tensorTable(spec: ModelSpec): HfTensorEntry[] {
  const { hiddenSize: C, intermediateSize: I, vocabSize: V, numHeads: NH, numKvHeads: KV, headDim: HD } = spec;
  const out: HfTensorEntry[] = [];
  if (spec.family === 'gpt2') {
    out.push(plain('transformer.wte.weight', p('embed', V, C)));
    out.push(plain('transformer.wpe.weight', p('pos_embed', spec.maxPositions, C)));
    for (let i = 0; i < spec.numLayers; i++) {
      const h = `transformer.h.${i}`;
      const l = `layers.${i}`;
      out.push(plain(`${h}.ln_1.weight`, p(`${l}.attn_norm.weight`, C)));
      out.push(plain(`${h}.ln_1.bias`, p(`${l}.attn_norm.bias`, C)));
      out.push(conv1d(`${h}.attn.c_attn`, [p(`${l}.attn.q.weight`, C, C), p(`${l}.attn.k.weight`, C, C), p(`${l}.attn.v.weight`, C, C)]));
      out.push(fusedBias(`${h}.attn.c_attn.bias`, [p(`${l}.attn.q.bias`, C), p(`${l}.attn.k.bias`, C), p(`${l}.attn.v.bias`, C)]));
      out.push(conv1d(`${h}.attn.c_proj`, [p(`${l}.attn.o.weight`, C, C)]));
      out.push(plain(`${h}.attn.c_proj.bias`, p(`${l}.attn.o.bias`, C)));
      out.push(plain(`${h}.ln_2.weight`, p(`${l}.mlp_norm.weight`, C)));
      out.push(plain(`${h}.ln_2.bias`, p(`${l}.mlp_norm.bias`, C)));
      out.push(conv1d(`${h}.mlp.c_fc`, [p(`${l}.mlp.up.weight`, I, C)]));
      out.push(plain(`${h}.mlp.c_fc.bias`, p(`${l}.mlp.up.bias`, I)));
      out.push(conv1d(`${h}.mlp.c_proj`, [p(`${l}.mlp.down.weight`, C, I)]));
      out.push(plain(`${h}.mlp.c_proj.bias`, p(`${l}.mlp.down.bias`, C)));
    }
    out.push(plain('transformer.ln_f.weight', p('final_norm.weight', C)));
    out.push(plain('transformer.ln_f.bias', p('final_norm.bias', C)));
    if (!spec.tiedEmbeddings) out.push(linear('lm_head', p('lm_head.weight', V, C), true));
    return out;
  }
  out.push(plain('model.embed_tokens.weight', p('embed', V, C)));
  for (let i = 0; i < spec.numLayers; i++) {
    const m = `model.layers.${i}`;
    const l = `layers.${i}`;
    out.push(plain(`${m}.input_layernorm.weight`, p(`${l}.attn_norm.weight`, C)));
    out.push(linear(`${m}.self_attn.q_proj`, p(`${l}.attn.q.weight`, NH * HD, C)));
    out.push(linear(`${m}.self_attn.k_proj`, p(`${l}.attn.k.weight`, KV * HD, C)));
    out.push(linear(`${m}.self_attn.v_proj`, p(`${l}.attn.v.weight`, KV * HD, C)));
    out.push(linear(`${m}.self_attn.o_proj`, p(`${l}.attn.o.weight`, C, NH * HD)));
    if (spec.bias.qkv) {
      out.push(plain(`${m}.self_attn.q_proj.bias`, p(`${l}.attn.q.bias`, NH * HD)));
      out.push(plain(`${m}.self_attn.k_proj.bias`, p(`${l}.attn.k.bias`, KV * HD)));
      out.push(plain(`${m}.self_attn.v_proj.bias`, p(`${l}.attn.v.bias`, KV * HD)));
    }
    if (spec.bias.o) out.push(plain(`${m}.self_attn.o_proj.bias`, p(`${l}.attn.o.bias`, C)));
    if (spec.qkNorm) {
      out.push(plain(`${m}.self_attn.q_norm.weight`, p(`${l}.attn.q_norm.weight`, HD)));
      out.push(plain(`${m}.self_attn.k_norm.weight`, p(`${l}.attn.k_norm.weight`, HD)));
    }
    if (spec.sandwichNorms) {
      // Gemma 3: post_attention_layernorm normalizes the attention output; pre_feedforward_layernorm
      // is the MLP's input norm (in Llama, post_attention_layernorm is that input norm).
      out.push(plain(`${m}.post_attention_layernorm.weight`, p(`${l}.attn_post_norm.weight`, C)));
      out.push(plain(`${m}.pre_feedforward_layernorm.weight`, p(`${l}.mlp_norm.weight`, C)));
      out.push(plain(`${m}.post_feedforward_layernorm.weight`, p(`${l}.mlp_post_norm.weight`, C)));
    } else {
      out.push(plain(`${m}.post_attention_layernorm.weight`, p(`${l}.mlp_norm.weight`, C)));
    }
    out.push(linear(`${m}.mlp.gate_proj`, p(`${l}.mlp.gate.weight`, I, C)));
    out.push(linear(`${m}.mlp.up_proj`, p(`${l}.mlp.up.weight`, I, C)));
    out.push(linear(`${m}.mlp.down_proj`, p(`${l}.mlp.down.weight`, C, I)));
    if (spec.bias.mlp) {
      out.push(plain(`${m}.mlp.gate_proj.bias`, p(`${l}.mlp.gate.bias`, I)));
      out.push(plain(`${m}.mlp.up_proj.bias`, p(`${l}.mlp.up.bias`, I)));
      out.push(plain(`${m}.mlp.down_proj.bias`, p(`${l}.mlp.down.bias`, C)));
    }
  }
  out.push(plain('model.norm.weight', p('final_norm.weight', C)));
  if (!spec.tiedEmbeddings) out.push(linear('lm_head', p('lm_head.weight', V, C), true));
  return out;
}

/** The canonical parameters with shapes, in table order. */
export function canonicalParams(spec: ModelSpec): CanonicalParam[] {
  return tensorTable(spec).flatMap((e) => e.params);
}

/** Total parameter count from shapes (tied embeddings counted once), as transformers reports it. */
export function parameterCount(spec: ModelSpec): number {
  let n = 0;
  for (const e of tensorTable(spec)) n += e.shape.reduce((a, b) => a * b, 1);
  return n;
}

/** The linear (nn.Linear / Conv1D) modules PEFT could target, including the output head when untied. */
export function linearModules(spec: ModelSpec): LinearModule[] {
  const out: LinearModule[] = [];
  for (const e of tensorTable(spec)) {
    if (!e.linear) continue;
    const m = /\.(?:layers|h)\.(\d+)\./.exec(e.linear.module);
    out.push({
      module: e.linear.module,
      inFeatures: e.linear.inFeatures,
      outFeatures: e.linear.outFeatures,
      fanInFanOut: e.transpose,
      isOutputHead: e.linear.isOutputHead,
      weightName: e.hfName,
      layer: m ? Number(m[1]) : null,
    });
  }
  // The output head exists as a module even when tied (PEFT's "all-linear" still excludes it).
  if (spec.tiedEmbeddings) {
    out.push({
      module: 'lm_head',
      inFeatures: spec.hiddenSize,
      outFeatures: spec.vocabSize,
      fanInFanOut: false,
      isOutputHead: true,
      weightName: spec.family === 'gpt2' ? 'transformer.wte.weight' : 'model.embed_tokens.weight',
      layer: null,
    });
  }
  return out;
}

/** Tensors some checkpoints carry that are not parameters (buffers) or are duplicates when tied. */
export function isIgnorableTensor(name: string, spec: ModelSpec): boolean {
  if (/\.attn\.(masked_)?bias$/.test(name) && spec.family === 'gpt2') return true;
  if (name.endsWith('rotary_emb.inv_freq')) return true;
  if (name === 'lm_head.weight' && spec.tiedEmbeddings) return true;
  return false;
}

/** Transpose a row-major [rows, cols] matrix. */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[base + c];
  }
  return out;
}

/**
 * Canonical parameters from one HF tensor's float data: transposed for Conv1D, split for fused q/k/v.
 * Returns the parameters in entry order.
 */
export function toCanonical(entry: HfTensorEntry, data: Float32Array): Float32Array[] {
  let canon = data;
  if (entry.transpose) canon = transpose2d(data, entry.shape[0], entry.shape[1]);
  if (!entry.split) return [canon];
  const rowSize = entry.params[0].shape.length > 1 ? entry.params[0].shape[1] : 1;
  const parts: Float32Array[] = [];
  let row = 0;
  for (const q of entry.params) {
    const rows = q.shape[0];
    parts.push(canon.slice(row * rowSize, (row + rows) * rowSize));
    row += rows;
  }
  return parts;
}

/** The inverse of `toCanonical`: canonical parameters → the HF tensor's data. */
export function fromCanonical(entry: HfTensorEntry, parts: Float32Array[]): Float32Array {
  let canon: Float32Array;
  if (parts.length === 1) canon = parts[0];
  else {
    canon = new Float32Array(parts.reduce((s, x) => s + x.length, 0));
    let o = 0;
    for (const x of parts) {
      canon.set(x, o);
      o += x.length;
    }
  }
  if (!entry.transpose) return canon;
  // Canonical is [out, in] = [shape[1], shape[0]]; transpose back to [in, out].
  return transpose2d(canon, entry.shape[1], entry.shape[0]);
}
