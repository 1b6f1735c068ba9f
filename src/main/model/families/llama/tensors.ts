// The Llama-style checkpoint (model.embed_tokens, model.layers.N.{self_attn,mlp}.*_proj, model.norm, lm_head):
// every tensor with its canonical params and GGUF name. Gemma 3 reuses it with its four norms per layer.

import { linear, p, plain, type HfTensorEntry } from '../../tensor-table.ts';
import type { SpecBase } from '../../spec-base.ts';

/** The decoder-layer prefix of layer i: the program's block name and PEFT's layers_to_transform index. */
export const llamaLayer = (i: number) => `model.layers.${i}`;

export function llamaStyleTensorTable(spec: SpecBase): HfTensorEntry[] {
  const { hiddenSize: C, intermediateSize: I, vocabSize: V, numHeads: NH, numKvHeads: KV, headDim: HD } = spec;
  const out: HfTensorEntry[] = [];
  out.push(plain('model.embed_tokens.weight', p('embed', V, C)));
  for (let i = 0; i < spec.numLayers; i++) {
    const m = llamaLayer(i);
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
