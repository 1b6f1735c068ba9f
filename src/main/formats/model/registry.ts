// The architecture registry: config.json → ModelSpec through the family modules (src/main/model/families): each
// supported Hugging Face class is one family's entry. Anything we cannot honour (an unknown rope scaling, a
// sliding-window variant we don't implement) is an error naming the field — never a silent wrong model.

import type { ModelSpec } from '../../model/spec.ts';
import { ConfigFields, ModelConfigError, type Json } from '../../model/config-fields.ts';
import type { ArchitectureEntry } from '../../model/family.ts';
import { FAMILIES } from '../../model/families/index.ts';

export { ModelConfigError, SUPPORTED_ROPE_SCALING } from '../../model/config-fields.ts';

export const ARCHITECTURES: Record<string, ArchitectureEntry<ModelSpec>> = Object.fromEntries(
  FAMILIES.flatMap((f) => Object.entries(f.architectures as Record<string, ArchitectureEntry<ModelSpec>>)),
);

/** When `architectures` is absent, model_type decides (text-only model types). */
const BY_MODEL_TYPE: Record<string, string> = Object.fromEntries(FAMILIES.flatMap((f) => Object.entries(f.byModelType)));

export function supportedArchitectures(): string[] {
  return Object.keys(ARCHITECTURES);
}

/** config.json (already parsed) → ModelSpec. `file` names the config in errors. */
export function specFromConfig(config: unknown, file = 'config.json'): ModelSpec {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new ModelConfigError(`${file}: must be a JSON object`);
  }
  const c = new ConfigFields(config as Json, file);
  const supported = supportedArchitectures().join(', ');
  let architecture: string;
  const archs = c.raw.architectures;
  if (Array.isArray(archs) && archs.length > 0) {
    if (typeof archs[0] !== 'string') throw new ModelConfigError(`${file}: "architectures" must be a list of class names`);
    architecture = archs[0];
  } else {
    const mt = c.str('model_type', '');
    const byType = BY_MODEL_TYPE[mt];
    if (!byType) {
      throw new ModelConfigError(`${file}: no "architectures" and model_type "${mt}" is not supported (supported: ${supported})`);
    }
    architecture = byType;
  }
  const entry = ARCHITECTURES[architecture];
  if (!entry) {
    const hint = architecture === 'Gemma3ForConditionalGeneration' ? ' (the multimodal Gemma 3; use a text-only Gemma3ForCausalLM checkpoint such as gemma-3-1b)' : '';
    throw new ModelConfigError(`${file}: architecture "${architecture}" is not supported${hint} (supported: ${supported})`);
  }
  const mt = c.raw.model_type;
  if (typeof mt === 'string' && !entry.modelTypes.includes(mt)) {
    throw new ModelConfigError(`${file}: model_type "${mt}" does not match architecture ${architecture} (expected ${entry.modelTypes.join(' or ')})`);
  }
  const spec = entry.parse(c, architecture);
  if (spec.hiddenSize === 0 || spec.numLayers === 0 || spec.vocabSize === 0 || spec.headDim === 0) {
    throw new ModelConfigError(`${file}: hidden size, layers, vocab size and head_dim must be positive`);
  }
  return spec;
}
