// DistilBERT's config.json (dim, n_layers, n_heads, hidden_dim, activation, sinusoidal_pos_embds, …) →
// DistilBertSpec: BERT's post-LN layers without token types, LayerNorm eps fixed at 1e-12 in its modeling code.

import { ConfigFields, ModelConfigError } from '../../config-fields.ts';
import { encoderActivation, encoderBase, refuseUnsupported, type EncoderSpec } from '../bert/spec.ts';

export interface DistilBertSpec extends EncoderSpec {
  family: 'distilbert';
}

export function parseDistilBertConfig(c: ConfigFields, architecture: string): DistilBertSpec {
  refuseUnsupported(c, 'DistilBERT');
  if (c.bool('sinusoidal_pos_embds', false))
    throw new ModelConfigError(
      `${c.file}: sinusoidal_pos_embds=true is not supported for DistilBERT (learned positions only)`,
    );
  encoderActivation(c, 'activation');
  return encoderBase(c, {
    family: 'distilbert',
    architecture,
    modelType: c.str('model_type', 'distilbert'),
    vocabSize: c.int('vocab_size'),
    hiddenSize: c.int('dim'),
    intermediateSize: c.int('hidden_dim'),
    numLayers: c.int('n_layers'),
    numHeads: c.int('n_heads'),
    normEps: 1e-12,
    typeVocabSize: 0,
    positionOffset: 0,
    positionRows: c.int('max_position_embeddings', 512),
    initializerRange: c.num('initializer_range', 0.02),
  }) as DistilBertSpec;
}
