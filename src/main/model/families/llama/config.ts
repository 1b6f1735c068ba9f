// Llama-style config.json (Llama, Mistral, Qwen2, Qwen3, SmolLM2 = Llama) → LlamaSpec.

import { activation, checkHeads, ConfigFields, ids, ModelConfigError, ropeScaling, ropeTheta, torchDtype } from '../../config-fields.ts';
import type { LayerType, RopeSpec, SpecBase } from '../../spec-base.ts';

export interface LlamaSpec extends SpecBase {
  family: 'llama' | 'mistral' | 'qwen2' | 'qwen3';
  positionEmbedding: 'rope';
  rope: RopeSpec;
  normKind: 'rms';
  mlpKind: 'gated';
  sandwichNorms: false;
  conv1dWeights: false;
  fusedQkv: false;
  finalLogitSoftcap: null;
}

/** Llama-style decoders: Llama, Mistral, Qwen2, Qwen3 share this reading. */
export function parseLlamaConfig(c: ConfigFields, family: LlamaSpec['family'], architecture: string): LlamaSpec {
  const hidden = c.int('hidden_size');
  const heads = c.int('num_attention_heads');
  const kvHeads = c.int('num_key_value_heads', heads);
  checkHeads(c, heads, kvHeads);
  const headDim = c.int('head_dim', Math.floor(hidden / heads));
  const layers = c.int('num_hidden_layers');
  const attentionBias = family === 'qwen2' ? true : c.bool('attention_bias', false);
  let slidingWindow: number | null = null;
  if (family === 'mistral') slidingWindow = c.optInt('sliding_window');
  if ((family === 'qwen2' || family === 'qwen3') && c.bool('use_sliding_window', false)) {
    throw new ModelConfigError(`${c.file}: use_sliding_window=true is not supported for ${architecture} (only full attention)`);
  }
  const layerTypes: LayerType[] = Array(layers).fill(slidingWindow === null ? 'full' : 'sliding');
  return {
    family,
    architecture,
    modelType: c.str('model_type', family),
    vocabSize: c.int('vocab_size'),
    hiddenSize: hidden,
    intermediateSize: c.int('intermediate_size'),
    numLayers: layers,
    numHeads: heads,
    numKvHeads: kvHeads,
    headDim,
    maxPositions: c.int('max_position_embeddings', 2048),
    positionEmbedding: 'rope' as const,
    rope: { theta: ropeTheta(c, 10000), scaling: ropeScaling(c), localTheta: null },
    normKind: 'rms' as const,
    normEps: c.num('rms_norm_eps', 1e-6),
    activation: activation(c, 'hidden_act', 'silu'),
    mlpKind: 'gated' as const,
    // Qwen2 has biases on q/k/v (hard-wired in its attention), Llama only with attention_bias (then o too).
    bias: { qkv: attentionBias, o: family === 'qwen2' ? false : attentionBias, mlp: c.bool('mlp_bias', false) },
    qkNorm: family === 'qwen3',
    sandwichNorms: false as const,
    tiedEmbeddings: c.bool('tie_word_embeddings', false),
    embeddingScale: 1,
    attentionScale: 1 / Math.sqrt(headDim),
    slidingWindow,
    layerTypes,
    conv1dWeights: false as const,
    fusedQkv: false as const,
    finalLogitSoftcap: null,
    ...ids(c),
    torchDtype: torchDtype(c),
  };
}
