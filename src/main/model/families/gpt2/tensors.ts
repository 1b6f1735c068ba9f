// GPT-2's checkpoint (transformer.wte/wpe, transformer.h.N.{ln_1,attn,ln_2,mlp}, transformer.ln_f): Conv1D weights
// stored [in, out] (transposed to the canonical [out, in]) and q/k/v fused in c_attn (split on the output axis).

import { conv1d, fusedBias, linear, p, plain, type HfTensorEntry } from '../../tensor-table.ts';
import type { Gpt2Spec } from './config.ts';

/** The decoder-layer prefix of layer i: the program's block name and PEFT's layers_to_transform index. */
export const gpt2Layer = (i: number) => `transformer.h.${i}`;

export function gpt2TensorTable(spec: Gpt2Spec): HfTensorEntry[] {
  const { hiddenSize: C, intermediateSize: I, vocabSize: V } = spec;
  const out: HfTensorEntry[] = [];
  out.push(plain('transformer.wte.weight', p('embed', V, C)));
  out.push(plain('transformer.wpe.weight', p('pos_embed', spec.maxPositions, C)));
  for (let i = 0; i < spec.numLayers; i++) {
    const h = gpt2Layer(i);
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
