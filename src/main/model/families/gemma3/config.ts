// Gemma 3 (text) config.json → Gemma3Spec: layer types (or the older sliding_window_pattern), per-layer-type rope
// parameters (transformers v5), query_pre_attn_scalar, final logit soft-capping.

import { activation, checkHeads, ConfigFields, ModelConfigError, ropeScaling, ropeTheta, ids, torchDtype, type Json } from '../../config-fields.ts';
import type { LayerType, RopeScaling, RopeSpec, SpecBase } from '../../spec-base.ts';

export interface Gemma3Spec extends SpecBase {
  family: 'gemma3';
  positionEmbedding: 'rope';
  rope: RopeSpec;
  normKind: 'rms_one_plus';
  mlpKind: 'gated';
  qkNorm: true;
  sandwichNorms: true;
  conv1dWeights: false;
  fusedQkv: false;
}

export function parseGemma3Config(c: ConfigFields, architecture: string): Gemma3Spec {
  const hidden = c.int('hidden_size');
  const heads = c.int('num_attention_heads');
  const kvHeads = c.int('num_key_value_heads', heads);
  checkHeads(c, heads, kvHeads);
  const headDim = c.int('head_dim', 256);
  const layers = c.int('num_hidden_layers');
  if (c.has('attn_logit_softcapping')) {
    throw new ModelConfigError(`${c.file}: attn_logit_softcapping is not supported for Gemma 3 (expected null)`);
  }
  let layerTypes: LayerType[];
  if (Array.isArray(c.raw.layer_types)) {
    const raw = c.raw.layer_types as unknown[];
    if (raw.length !== layers) throw new ModelConfigError(`${c.file}: layer_types has ${raw.length} entries for ${layers} layers`);
    layerTypes = raw.map((t, i) => {
      if (t === 'sliding_attention') return 'sliding';
      if (t === 'full_attention') return 'full';
      throw new ModelConfigError(`${c.file}: layer_types[${i}] "${String(t)}" is not supported (expected sliding_attention or full_attention)`);
    });
  } else {
    // Older configs: every `sliding_window_pattern`-th layer is global.
    const pattern = c.int('sliding_window_pattern', 6);
    layerTypes = Array.from({ length: layers }, (_, i) => ((i + 1) % pattern === 0 ? 'full' : 'sliding'));
  }
  let theta = c.num('rope_theta', 1_000_000);
  let localTheta = c.num('rope_local_base_freq', 10_000);
  let scaling: RopeScaling | null;
  const params = c.raw.rope_parameters as Json | undefined;
  if (params && typeof params === 'object' && (params.full_attention || params.sliding_attention)) {
    // transformers v5: per layer type.
    const full = new ConfigFields({ rope_parameters: params.full_attention ?? {} }, c.file);
    theta = ropeTheta(full, theta);
    scaling = ropeScaling(full);
    const local = new ConfigFields({ rope_parameters: params.sliding_attention ?? {} }, c.file);
    localTheta = ropeTheta(local, localTheta);
  } else {
    scaling = ropeScaling(c);
  }
  const softcap = c.has('final_logit_softcapping') ? c.num('final_logit_softcapping') : null;
  return {
    family: 'gemma3' as const,
    architecture,
    modelType: c.str('model_type', 'gemma3_text'),
    vocabSize: c.int('vocab_size'),
    hiddenSize: hidden,
    intermediateSize: c.int('intermediate_size'),
    numLayers: layers,
    numHeads: heads,
    numKvHeads: kvHeads,
    headDim,
    maxPositions: c.int('max_position_embeddings', 131072),
    positionEmbedding: 'rope' as const,
    rope: { theta, scaling, localTheta },
    normKind: 'rms_one_plus' as const,
    normEps: c.num('rms_norm_eps', 1e-6),
    activation: activation(c, 'hidden_activation', 'gelu_pytorch_tanh'),
    mlpKind: 'gated' as const,
    bias: { qkv: c.bool('attention_bias', false), o: c.bool('attention_bias', false), mlp: false },
    qkNorm: true as const,
    sandwichNorms: true as const,
    tiedEmbeddings: c.bool('tie_word_embeddings', true),
    embeddingScale: Math.sqrt(hidden),
    attentionScale: 1 / Math.sqrt(c.num('query_pre_attn_scalar', headDim)),
    slidingWindow: layerTypes.includes('sliding') ? c.int('sliding_window', 4096) : null,
    layerTypes,
    conv1dWeights: false as const,
    fusedQkv: false as const,
    finalLogitSoftcap: softcap,
    ...ids(c),
    torchDtype: torchDtype(c),
  };
}
