// The architecture registry: one entry per supported Hugging Face class, each turning config.json
// into a ModelSpec. Anything we cannot honour (an unknown rope scaling, a sliding-window variant
// we don't implement) is an error naming the field — never a silent wrong model.

import type { ModelFamily, ModelSpec, RopeScaling, Activation, LayerType } from './spec.ts';

export class ModelConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelConfigError';
  }
}

type Json = Record<string, unknown>;

/** Typed access to config fields with errors naming the file and field. */
class ConfigFields {
  constructor(
    readonly raw: Json,
    readonly file: string,
  ) {}
  private fail(field: string, expected: string, got: unknown): never {
    throw new ModelConfigError(`${this.file}: field "${field}" must be ${expected}, got ${JSON.stringify(got)}`);
  }
  has(field: string): boolean {
    return this.raw[field] !== undefined && this.raw[field] !== null;
  }
  int(field: string, fallback?: number): number {
    const v = this.raw[field];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw new ModelConfigError(`${this.file}: required field "${field}" is missing`);
    }
    if (!Number.isSafeInteger(v) || (v as number) < 0) this.fail(field, 'a non-negative integer', v);
    return v as number;
  }
  num(field: string, fallback?: number): number {
    const v = this.raw[field];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw new ModelConfigError(`${this.file}: required field "${field}" is missing`);
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(field, 'a number', v);
    return v;
  }
  bool(field: string, fallback: boolean): boolean {
    const v = this.raw[field];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') this.fail(field, 'true or false', v);
    return v;
  }
  str(field: string, fallback?: string): string {
    const v = this.raw[field];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw new ModelConfigError(`${this.file}: required field "${field}" is missing`);
    }
    if (typeof v !== 'string') this.fail(field, 'a string', v);
    return v;
  }
  optInt(field: string): number | null {
    return this.has(field) ? this.int(field) : null;
  }
  /** int or list of ints (eos_token_id may be either). */
  intList(field: string): number[] {
    const v = this.raw[field];
    if (v === undefined || v === null) return [];
    if (Number.isSafeInteger(v)) return [v as number];
    if (Array.isArray(v) && v.every((x) => Number.isSafeInteger(x))) return v as number[];
    this.fail(field, 'an integer or a list of integers', v);
  }
}

const ACTIVATIONS: Record<string, Activation> = {
  silu: 'silu',
  swish: 'silu',
  gelu_pytorch_tanh: 'gelu_tanh',
  gelu_new: 'gelu_tanh',
  gelu_fast: 'gelu_tanh',
  gelu: 'gelu',
};

function activation(c: ConfigFields, field: string, fallback: string): Activation {
  const name = c.str(field, fallback);
  const act = ACTIVATIONS[name];
  if (!act) {
    throw new ModelConfigError(`${c.file}: ${field} "${name}" is not supported (supported: ${Object.keys(ACTIVATIONS).join(', ')})`);
  }
  return act;
}

/** Rope θ: `rope_theta`, or transformers v5's `rope_parameters.rope_theta`. */
function ropeTheta(c: ConfigFields, fallback: number): number {
  const params = c.raw.rope_parameters as Json | undefined;
  if (params && typeof params === 'object' && typeof params.rope_theta === 'number') return params.rope_theta;
  return c.num('rope_theta', fallback);
}

export const SUPPORTED_ROPE_SCALING = ['linear', 'llama3'] as const;

function ropeScaling(c: ConfigFields, field = 'rope_scaling'): RopeScaling | null {
  let rs = c.raw[field] as Json | null | undefined;
  if ((rs === undefined || rs === null) && c.raw.rope_parameters && typeof c.raw.rope_parameters === 'object') {
    rs = c.raw.rope_parameters as Json;
    field = 'rope_parameters';
  }
  if (rs === undefined || rs === null) return null;
  if (typeof rs !== 'object' || Array.isArray(rs)) throw new ModelConfigError(`${c.file}: "${field}" must be an object or null`);
  const type = (rs.rope_type ?? rs.type ?? 'default') as string;
  if (type === 'default') return null;
  const f = new ConfigFields(rs, `${c.file} (${field})`);
  if (type === 'linear') return { type: 'linear', factor: f.num('factor') };
  if (type === 'llama3') {
    return {
      type: 'llama3',
      factor: f.num('factor'),
      lowFreqFactor: f.num('low_freq_factor'),
      highFreqFactor: f.num('high_freq_factor'),
      originalMaxPositions: f.int('original_max_position_embeddings'),
    };
  }
  throw new ModelConfigError(
    `${c.file}: ${field}.rope_type "${type}" is not supported (supported: none/default, ${SUPPORTED_ROPE_SCALING.join(', ')})`,
  );
}

function ids(c: ConfigFields): Pick<ModelSpec, 'bosTokenId' | 'eosTokenIds' | 'padTokenId'> {
  return { bosTokenId: c.optInt('bos_token_id'), eosTokenIds: c.intList('eos_token_id'), padTokenId: c.optInt('pad_token_id') };
}

function torchDtype(c: ConfigFields): string | null {
  const v = c.raw.torch_dtype ?? c.raw.dtype;
  return typeof v === 'string' ? v : null;
}

function checkHeads(c: ConfigFields, heads: number, kvHeads: number): void {
  if (heads === 0 || kvHeads === 0 || heads % kvHeads !== 0) {
    throw new ModelConfigError(`${c.file}: num_attention_heads (${heads}) must be a positive multiple of num_key_value_heads (${kvHeads})`);
  }
}

/** Llama-style decoders: Llama, Mistral, Qwen2, Qwen3 share this reading. */
function llamaLike(c: ConfigFields, family: ModelFamily, architecture: string): ModelSpec {
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
    positionEmbedding: 'rope',
    rope: { theta: ropeTheta(c, 10000), scaling: ropeScaling(c), localTheta: null },
    normKind: 'rms',
    normEps: c.num('rms_norm_eps', 1e-6),
    activation: activation(c, 'hidden_act', 'silu'),
    mlpKind: 'gated',
    // Qwen2 has biases on q/k/v (hard-wired in its attention), Llama only with attention_bias (then o too).
    bias: { qkv: attentionBias, o: family === 'qwen2' ? false : attentionBias, mlp: c.bool('mlp_bias', false) },
    qkNorm: family === 'qwen3',
    sandwichNorms: false,
    tiedEmbeddings: c.bool('tie_word_embeddings', false),
    embeddingScale: 1,
    attentionScale: 1 / Math.sqrt(headDim),
    slidingWindow,
    layerTypes,
    conv1dWeights: false,
    fusedQkv: false,
    finalLogitSoftcap: null,
    ...ids(c),
    torchDtype: torchDtype(c),
  };
}

function gpt2(c: ConfigFields, architecture: string): ModelSpec {
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
    family: 'gpt2',
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
    positionEmbedding: 'learned',
    rope: null,
    normKind: 'layer',
    normEps: c.num('layer_norm_epsilon', 1e-5),
    activation: activation(c, 'activation_function', 'gelu_new'),
    mlpKind: 'plain',
    bias: { qkv: true, o: true, mlp: true },
    qkNorm: false,
    sandwichNorms: false,
    tiedEmbeddings: c.bool('tie_word_embeddings', true),
    embeddingScale: 1,
    attentionScale: 1 / Math.sqrt(headDim),
    slidingWindow: null,
    layerTypes: Array(layers).fill('full'),
    conv1dWeights: true,
    fusedQkv: true,
    finalLogitSoftcap: null,
    ...ids(c),
    torchDtype: torchDtype(c),
  };
}

function gemma3(c: ConfigFields, architecture: string): ModelSpec {
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
    family: 'gemma3',
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
    positionEmbedding: 'rope',
    rope: { theta, scaling, localTheta },
    normKind: 'rms_one_plus',
    normEps: c.num('rms_norm_eps', 1e-6),
    activation: activation(c, 'hidden_activation', 'gelu_pytorch_tanh'),
    mlpKind: 'gated',
    bias: { qkv: c.bool('attention_bias', false), o: c.bool('attention_bias', false), mlp: false },
    qkNorm: true,
    sandwichNorms: true,
    tiedEmbeddings: c.bool('tie_word_embeddings', true),
    embeddingScale: Math.sqrt(hidden),
    attentionScale: 1 / Math.sqrt(c.num('query_pre_attn_scalar', headDim)),
    slidingWindow: layerTypes.includes('sliding') ? c.int('sliding_window', 4096) : null,
    layerTypes,
    conv1dWeights: false,
    fusedQkv: false,
    finalLogitSoftcap: softcap,
    ...ids(c),
    torchDtype: torchDtype(c),
  };
}

interface ArchitectureEntry {
  family: ModelFamily;
  /** model_type values accepted with this class. */
  modelTypes: string[];
  parse(c: ConfigFields, architecture: string): ModelSpec;
}

export const ARCHITECTURES: Record<string, ArchitectureEntry> = {
  LlamaForCausalLM: { family: 'llama', modelTypes: ['llama'], parse: (c, a) => llamaLike(c, 'llama', a) },
  MistralForCausalLM: { family: 'mistral', modelTypes: ['mistral'], parse: (c, a) => llamaLike(c, 'mistral', a) },
  Qwen2ForCausalLM: { family: 'qwen2', modelTypes: ['qwen2'], parse: (c, a) => llamaLike(c, 'qwen2', a) },
  Qwen3ForCausalLM: { family: 'qwen3', modelTypes: ['qwen3'], parse: (c, a) => llamaLike(c, 'qwen3', a) },
  GPT2LMHeadModel: { family: 'gpt2', modelTypes: ['gpt2'], parse: gpt2 },
  Gemma3ForCausalLM: { family: 'gemma3', modelTypes: ['gemma3_text', 'gemma3'], parse: gemma3 },
};

/** When `architectures` is absent, model_type decides (text-only model types). */
const BY_MODEL_TYPE: Record<string, string> = {
  llama: 'LlamaForCausalLM',
  mistral: 'MistralForCausalLM',
  qwen2: 'Qwen2ForCausalLM',
  qwen3: 'Qwen3ForCausalLM',
  gpt2: 'GPT2LMHeadModel',
  gemma3_text: 'Gemma3ForCausalLM',
};

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
