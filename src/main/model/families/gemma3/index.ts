// The Gemma 3 (text) family module.
import type { FamilyModule } from '../../family.ts';
import { parseGemma3Config, type Gemma3Spec } from './config.ts';
import { llamaStyleTensorTable } from '../llama/tensors.ts';
import { buildGemma3Program } from './program.ts';

export type { Gemma3Spec } from './config.ts';

export const gemma3Family: FamilyModule<Gemma3Spec> = {
  names: ['gemma3'],
  architectures: { Gemma3ForCausalLM: { modelTypes: ['gemma3_text', 'gemma3'], parse: parseGemma3Config } },
  byModelType: { gemma3_text: 'Gemma3ForCausalLM' },
  tensorTable: llamaStyleTensorTable, // Llama's names, with q/k norms and four norms per layer
  tiedHeadWeight: 'model.embed_tokens.weight',
  ggufArch: () => 'gemma3',
  buildProgram: buildGemma3Program,
};
