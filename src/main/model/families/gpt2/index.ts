// The GPT-2 family module.
import type { FamilyModule } from '../../family.ts';
import { parseGpt2Config, type Gpt2Spec } from './config.ts';
import { gpt2TensorTable } from './tensors.ts';
import { buildGpt2Program } from './program.ts';

export type { Gpt2Spec } from './config.ts';

export const gpt2Family: FamilyModule<Gpt2Spec> = {
  names: ['gpt2'],
  architectures: { GPT2LMHeadModel: { modelTypes: ['gpt2'], parse: parseGpt2Config } },
  byModelType: { gpt2: 'GPT2LMHeadModel' },
  tensorTable: gpt2TensorTable,
  tiedHeadWeight: 'transformer.wte.weight',
  // the causal-mask buffers older checkpoints carry (attn.bias, attn.masked_bias)
  isBufferTensor: (name) => /\.attn\.(masked_)?bias$/.test(name),
  scaledResidualInit: /\.c_proj\.weight$/,
  ggufArch: () => 'gpt2',
  buildProgram: buildGpt2Program,
};
