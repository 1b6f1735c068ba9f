// A family's parameter table: each checkpoint tensor (its Hugging Face name and on-disk shape), the canonical
// parameters it holds (layout: Conv1D [in, out] transposed; fusion: GPT-2's c_attn split into q/k/v), the nn.Module
// PEFT targets for linear weights, and its llama.cpp GGUF name. Families write their table with the constructors
// here (families/<name>/tensors.ts); formats derive safetensors reading, merging, PEFT targets and GGUF from it.
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
  /** llama.cpp's name of the tensor (token_embd.weight, blk.N.attn_q.weight, …). */
  gguf: string;
}

/** llama.cpp names of the canonical parameters outside the layers. */
const GGUF_FIXED: Record<string, string> = {
  embed: 'token_embd.weight',
  pos_embed: 'position_embd.weight',
  'final_norm.weight': 'output_norm.weight',
  'final_norm.bias': 'output_norm.bias',
  'lm_head.weight': 'output.weight',
};

/** llama.cpp names of a layer's canonical parts (blk.N.<part>.weight|bias). */
const GGUF_LAYER_PARTS: Record<string, string> = {
  attn_norm: 'attn_norm',
  'attn.q': 'attn_q',
  'attn.k': 'attn_k',
  'attn.v': 'attn_v',
  'attn.o': 'attn_output',
  'attn.q_norm': 'attn_q_norm',
  'attn.k_norm': 'attn_k_norm',
  attn_post_norm: 'post_attention_norm',
  mlp_norm: 'ffn_norm',
  mlp_post_norm: 'post_ffw_norm',
  'mlp.gate': 'ffn_gate',
  'mlp.up': 'ffn_up',
  'mlp.down': 'ffn_down',
};

/** The llama.cpp name of the tensor holding `params` (a fused q/k/v tensor is blk.N.attn_qkv). */
export function ggufName(hfName: string, params: CanonicalParam[]): string {
  if (params.length > 1) {
    const m = /^layers\.(\d+)\.attn\.q\.(weight|bias)$/.exec(params[0].name);
    if (!m) throw new Error(`no GGUF name for fused tensor ${hfName}`);
    return `blk.${m[1]}.attn_qkv.${m[2]}`;
  }
  const p = params[0].name;
  if (GGUF_FIXED[p]) return GGUF_FIXED[p];
  const m = /^layers\.(\d+)\.(.+)\.(weight|bias)$/.exec(p);
  const part = m ? GGUF_LAYER_PARTS[m[2]] : undefined;
  if (!m || !part) throw new Error(`no GGUF name for ${hfName} (${p})`);
  return `blk.${m[1]}.${part}.${m[3]}`;
}

export function p(name: string, ...shape: number[]): CanonicalParam {
  return { name, shape };
}

/** A tensor stored as its one canonical parameter (norms, biases, embeddings); `gguf` overrides the derived name. */
export function plain(hfName: string, param: CanonicalParam, gguf = ggufName(hfName, [param])): HfTensorEntry {
  return { hfName, shape: param.shape, params: [param], transpose: false, split: false, gguf };
}

/** An nn.Linear weight [out, in]; `gguf` overrides the derived name (encoders' heads). */
export function linear(module: string, param: CanonicalParam, isOutputHead = false, gguf = ggufName(`${module}.weight`, [param])): HfTensorEntry {
  const [out, inp] = param.shape;
  const hfName = `${module}.weight`;
  return {
    hfName, shape: param.shape, params: [param], transpose: false, split: false,
    linear: { module, inFeatures: inp, outFeatures: out, isOutputHead },
    gguf,
  };
}

/** A GPT-2 Conv1D weight: stored [in, out]; several params when fused (c_attn = q, k, v). */
export function conv1d(module: string, params: CanonicalParam[]): HfTensorEntry {
  const inp = params[0].shape[1];
  const out = params.reduce((s, q) => s + q.shape[0], 0);
  const hfName = `${module}.weight`;
  return {
    hfName, shape: [inp, out], params, transpose: true, split: params.length > 1,
    linear: { module, inFeatures: inp, outFeatures: out, isOutputHead: false },
    gguf: ggufName(hfName, params),
  };
}

/** A bias holding several canonical biases (GPT-2's c_attn.bias = q, k, v). */
export function fusedBias(hfName: string, params: CanonicalParam[]): HfTensorEntry {
  const n = params.reduce((s, q) => s + q.shape[0], 0);
  return { hfName, shape: [n], params, transpose: false, split: params.length > 1, gguf: ggufName(hfName, params) };
}
