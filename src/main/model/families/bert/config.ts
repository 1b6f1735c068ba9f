// BERT's config.json (hidden_size, num_hidden_layers, type_vocab_size, layer_norm_eps, …) → BertSpec. RoBERTa and
// XLM-RoBERTa read the same fields (roberta/config.ts adds the position offset).

import { ConfigFields } from '../../config-fields.ts';
import { encoderActivation, encoderBase, refuseUnsupported, type EncoderSpec } from './spec.ts';

export interface BertSpec extends EncoderSpec {
  family: 'bert';
}

/** The fields BERT and RoBERTa share, read from a BERT-style config. */
export function bertStyleFields(c: ConfigFields, family: string) {
  refuseUnsupported(c, family);
  encoderActivation(c, 'hidden_act');
  return {
    vocabSize: c.int('vocab_size'),
    hiddenSize: c.int('hidden_size'),
    intermediateSize: c.int('intermediate_size'),
    numLayers: c.int('num_hidden_layers'),
    numHeads: c.int('num_attention_heads'),
    normEps: c.num('layer_norm_eps', 1e-12),
    typeVocabSize: c.int('type_vocab_size', 2),
    positionRows: c.int('max_position_embeddings', 512),
    initializerRange: c.num('initializer_range', 0.02),
  };
}

export function parseBertConfig(c: ConfigFields, architecture: string): BertSpec {
  const spec = encoderBase(c, {
    family: 'bert',
    architecture,
    modelType: c.str('model_type', 'bert'),
    positionOffset: 0,
    ...bertStyleFields(c, 'BERT'),
  });
  return spec as BertSpec;
}
