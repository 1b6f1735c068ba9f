// The Llama family module: Llama (2/3), Mistral, Qwen2, Qwen3 (and SmolLM2, a Llama).
import type { FamilyModule } from '../../family.ts';
import { parseLlamaConfig, type LlamaSpec } from './config.ts';
import { llamaStyleTensorTable } from './tensors.ts';
import { buildLlamaProgram, llamaConfigFromModelSpec } from './program.ts';

export type { LlamaSpec } from './config.ts';

export const llamaFamily: FamilyModule<LlamaSpec> = {
  names: ['llama', 'mistral', 'qwen2', 'qwen3'],
  architectures: {
    LlamaForCausalLM: { modelTypes: ['llama'], parse: (c, a) => parseLlamaConfig(c, 'llama', a) },
    MistralForCausalLM: { modelTypes: ['mistral'], parse: (c, a) => parseLlamaConfig(c, 'mistral', a) },
    Qwen2ForCausalLM: { modelTypes: ['qwen2'], parse: (c, a) => parseLlamaConfig(c, 'qwen2', a) },
    Qwen3ForCausalLM: { modelTypes: ['qwen3'], parse: (c, a) => parseLlamaConfig(c, 'qwen3', a) },
  },
  byModelType: { llama: 'LlamaForCausalLM', mistral: 'MistralForCausalLM', qwen2: 'Qwen2ForCausalLM', qwen3: 'Qwen3ForCausalLM' },
  tensorTable: llamaStyleTensorTable,
  tiedHeadWeight: 'model.embed_tokens.weight',
  // llama.cpp's "llama" arch covers Llama and Mistral; Qwen2/Qwen3 have their own
  ggufArch: (spec) => (spec.family === 'llama' || spec.family === 'mistral' ? 'llama' : spec.family),
  buildProgram: (spec) => buildLlamaProgram(llamaConfigFromModelSpec(spec)),
};
