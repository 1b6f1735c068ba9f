// What every family's normalized spec has: the fields read from a Hugging Face config.json that formats (tensor
// tables, GGUF, PEFT) and the engine read without knowing the family. Each family narrows it
// (families/<name>/config.ts: LlamaSpec, Gpt2Spec, Gemma3Spec) and ModelSpec is their union (families/index.ts).

export type RopeScaling =
  | { type: 'linear'; factor: number }
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositions: number };

export interface RopeSpec {
  /** Base frequency θ of (full-attention) layers. */
  theta: number;
  scaling: RopeScaling | null;
  /** Gemma 3: sliding-window layers use their own base (rope_local_base_freq) and no scaling. */
  localTheta: number | null;
}

export type NormKind = 'rms' | 'rms_one_plus' | 'layer';
export type Activation = 'silu' | 'gelu_tanh' | 'gelu';
export type LayerType = 'full' | 'sliding';

export interface SpecBase {
  family: string;
  /** The Hugging Face class in config.json `architectures[0]`. */
  architecture: string;
  modelType: string;
  vocabSize: number;
  hiddenSize: number; // C
  intermediateSize: number; // MLP inner width
  numLayers: number; // L
  numHeads: number; // NH (query heads)
  numKvHeads: number; // key/value heads (GQA when < NH)
  headDim: number; // HD (may differ from C / NH: Qwen3, Gemma 3, Mistral Nemo)
  maxPositions: number;
  /** 'rope' for Llama-style; GPT-2 adds a learned position table. */
  positionEmbedding: 'rope' | 'learned';
  rope: RopeSpec | null;
  normKind: NormKind; // rms: x/rms·w; rms_one_plus: x/rms·(1+w) (Gemma); layer: LayerNorm with bias
  normEps: number;
  activation: Activation;
  /** 'gated': down(act(gate(x)) · up(x)); 'plain': down(act(up(x))) (GPT-2). */
  mlpKind: 'gated' | 'plain';
  bias: { qkv: boolean; o: boolean; mlp: boolean };
  /** RMSNorm over head_dim on queries and keys before rope (Qwen3, Gemma 3). */
  qkNorm: boolean;
  /** Gemma 3's extra norms on the attention and MLP outputs (four norms per layer). */
  sandwichNorms: boolean;
  tiedEmbeddings: boolean;
  /** Multiplier on token embeddings (Gemma 3: √hidden; 1 elsewhere). */
  embeddingScale: number;
  /** Multiplier on q·k (1/√head_dim, or Gemma 3's query_pre_attn_scalar^-½). */
  attentionScale: number;
  /** Window of sliding-attention layers (tokens), null when all layers are full. */
  slidingWindow: number | null;
  /** Per layer: full causal attention or sliding window. */
  layerTypes: LayerType[];
  /** GPT-2 stores linear weights as Conv1D [in, out] (PEFT's fan_in_fan_out) and fuses q/k/v in c_attn. */
  conv1dWeights: boolean;
  fusedQkv: boolean;
  finalLogitSoftcap: number | null;
  bosTokenId: number | null;
  eosTokenIds: number[];
  padTokenId: number | null;
  /** The dtype the checkpoint declares (config torch_dtype / dtype), e.g. "bfloat16". */
  torchDtype: string | null;
}
