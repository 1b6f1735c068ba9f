// GPT-2's config.json (n_embd, n_head, n_layer, …) → Gpt2Spec.

import { activation, ConfigFields, ids, ModelConfigError, torchDtype } from '../../config-fields.ts';
import type { LayerType, SpecBase } from '../../spec-base.ts';

export interface Gpt2Spec extends SpecBase {
  family: 'gpt2';
  positionEmbedding: 'learned';
  rope: null;
  normKind: 'layer';
  mlpKind: 'plain';
  qkNorm: false;
  sandwichNorms: false;
  conv1dWeights: true;
  fusedQkv: true;
  finalLogitSoftcap: null;
}

export function parseGpt2Config(c: ConfigFields, architecture: string): Gpt2Spec {
  for (const unsupported of ['scale_attn_by_inverse_layer_idx', 'reorder_and_upcast_attn']) {
    if (c.bool(unsupported, false)) throw new ModelConfigError(`${c.file}: ${unsupported}=true is not supported for GPT-2`);
  }
  if (!c.bool('scale_attn_weights', true)) throw new ModelConfigError(`${c.file}: scale_attn_weights=false is not supported for GPT-2`);
  const hidden = c.int('n_embd');
  const heads = c.int('n_head');
  if (hidden % heads !== 0) throw new ModelConfigError(`${c.file}: n_embd (${hidden}) must be divisible by n_head (${heads})`);
  const layers = c.int('n_layer');
  const headDim = hidden / heads;
  return {
    family: 'gpt2' as const,
    architecture,
    modelType: c.str('model_type', 'gpt2'),
    vocabSize: c.int('vocab_size'),
    hiddenSize: hidden,
    intermediateSize: c.int('n_inner', 4 * hidden),
    numLayers: layers,
    numHeads: heads,
    numKvHeads: heads,
    headDim,
    maxPositions: c.int('n_positions', 1024),
    positionEmbedding: 'learned' as const,
    rope: null,
    normKind: 'layer' as const,
    normEps: c.num('layer_norm_epsilon', 1e-5),
    activation: activation(c, 'activation_function', 'gelu_new'),
    mlpKind: 'plain' as const,
    bias: { qkv: true, o: true, mlp: true },
    qkNorm: false as const,
    sandwichNorms: false as const,
    tiedEmbeddings: c.bool('tie_word_embeddings', true),
    embeddingScale: 1,
    attentionScale: 1 / Math.sqrt(headDim),
    slidingWindow: null,
    layerTypes: Array<LayerType>(layers).fill('full'),
    conv1dWeights: true as const,
    fusedQkv: true as const,
    finalLogitSoftcap: null,
    ...ids(c),
    torchDtype: torchDtype(c),
  };
}
