// The executor-neutral face of the training engine: what the trainer (worker side) asks of any executor
// (onnxruntime-node on the CPU today, our CUDA kernels later). The trainer owns data order, schedules,
// checkpoints and metrics; an executor owns the math of one micro-step and one optimizer update.

/** A padded batch of B sequences of length T, row-major [B, T]. */
export interface Batch {
  B: number;
  T: number;
  inputIds: Int32Array; // (B, T) token ids; padded positions hold the pad id
  attentionMask: Uint8Array; // (B, T) 1 = real token, 0 = padding (never attended, never trained)
  labels: Int32Array; // (B, T) target for position t is the token at t+1 (already shifted); -100 = not trained
  /** Packed rows only: (B, T) 1..k = which example of the row a token belongs to, 0 = padding. Attention stays
   *  inside one example and positions restart at each example's first token. Absent = one example per row. */
  segmentIds?: Int32Array;
  /** Sentence pairs (encoders): (B, T) 0 for the first segment, 1 for the second. Absent = all 0. */
  tokenTypeIds?: Int32Array;
  /** Regression heads (Program.loss 'mse'): (B) one target per sequence, NaN = not trained. */
  regressionTargets?: Float64Array;
  /** Extractive QA heads (Program.loss 'span'): (B) gold start / end token of each sequence; outside [0, T) = not trained. */
  spanStarts?: Int32Array;
  spanEnds?: Int32Array;
}

/** Per-micro-step options the trainer controls so a resumed run draws the same random numbers. */
export interface MicroStepOptions {
  dropoutSeed?: number; // seeds this micro-step's dropout masks (a uint32); absent = the executor's own stream
}

export interface MicroStepResult {
  lossSum: number; // summed NLL over trained tokens of this micro-batch
  tokens: number; // number of trained (label != -100) tokens
}

export interface UpdateOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  maxGradNorm: number | null; // clip the global L2 norm of the accumulated gradient; null = no clipping
}

export interface UpdateResult {
  gradNorm: number; // global L2 norm of the (token-averaged) gradient before clipping
}

export interface EvalResult {
  nllPerSequence: Float64Array; // (B) summed NLL of each sequence's trained tokens
  tokensPerSequence: Int32Array; // (B)
}

/** Named float32 tensors: trainable parameters, or optimizer moments, keyed by PEFT-style names. */
export type TensorMap = Map<string, { shape: number[]; data: Float32Array }>;

export interface TrainingSession {
  /** Forward + backward on one micro-batch; gradients accumulate until `applyUpdate`. */
  microStep(batch: Batch, options?: MicroStepOptions): Promise<MicroStepResult>;
  /** True when the executor honours `Batch.segmentIds` (needed for sequence packing). */
  readonly supportsPacking?: boolean;
  /** Average accumulated gradients over the trained tokens seen since the last update, clip, AdamW, zero. */
  applyUpdate(options: UpdateOptions): Promise<UpdateResult>;
  /** Forward only, no gradient: per-sequence NLL for perplexity. */
  evaluate(batch: Batch): Promise<EvalResult>;
  /** Trainable tensors (LoRA A/B, or every weight in full fine-tuning), copies. */
  getTrainables(): TensorMap;
  setTrainables(tensors: TensorMap): void;
  /** AdamW moments and step count, for checkpoints and exact resume. */
  getOptimizerState(): { step: number; m: TensorMap; v: TensorMap };
  setOptimizerState(state: { step: number; m: TensorMap; v: TensorMap }): void;
  dispose(): Promise<void>;
}

// ---- the decoding side (generate/decoder.ts asks it of any executor)

type DecodeVec = Float32Array | Float64Array;

/** The past keys/values of one sequence (batch 1), grown by every forward. */
export interface KvCache {
  length: number; // P: tokens already in the cache
  k: DecodeVec[]; // per attention layer, (1, NKV, P, HD)
  v: DecodeVec[];
}

/**
 * Adapters as a decode step takes them, per adapter-capable module: the attached adapters' LoRA factors stacked
 * along the rank, A (R, IC), B (OC, R), and each rank's scale·weight s (R). R ≥ 1; s all 0 = exactly the base.
 */
export type StackedAdapters = Map<string, { R: number; A: DecodeVec; B: DecodeVec; s: DecodeVec }>;

/** A model held for generation by an executor: base weights resident, adapters and the KV cache passed per step. */
export interface DecodeSession {
  readonly elem: 'float32' | 'float64';
  /** Attention layers in cache order: KV heads and head size. */
  readonly layers: readonly { NKV: number; HD: number }[];
  /** Linear modules that take adapters, with their widths. */
  readonly adapterModules: readonly { module: string; inF: number; outF: number }[];
  /** Logits (T, V) of `ids` appended to the cache (positions cache.length …); the cache grows by T. */
  forward(cache: KvCache, ids: ArrayLike<number>, adapters: StackedAdapters): Promise<DecodeVec>;
  dispose(): Promise<void>;
}
