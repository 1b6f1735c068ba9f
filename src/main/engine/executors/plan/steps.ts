// The device plan's vocabulary: the kernel steps a lowered Program is made of, over logical tensors (per-token
// rows × width), and what each step reads and writes — the one list of step kinds the device executes. The CUDA
// addon (native/src) names the same kinds; tests/native/step-kinds.test.ts keeps both sides equal.

export type PlanMode = 'train' | 'eval' | 'logits';
export type DType = 'act' | 'f32' | 'u8'; // act = bf16 (or f32 in a parity session)

export interface TensorDecl {
  id: number;
  name: string; // activation name, or grad:<name>, or <node>:<saved>; for messages and debugging
  dtype: DType;
  width: number; // elements per token row
}

export interface LoraRef {
  module: number; // index of the LoRA module (dropout stream, host masks)
  A: number; // offset of A (r, IC) in the flat trainables
  B: number; // offset of B (OC, r)
  r: number;
  scale: number;
  keep: number | null; // u8 keep-mask tensor (N, IC), null = no dropout
  keepScale: number; // 1 / (1 − p)
  h: number; // f32 (N, r): dropout(x)·Aᵀ, saved for backward
}

export type Step =
  | { kind: 'embedding'; weight: string; out: number; width: number; scale: number }
  /** Rows picked by token positions + offset (RoBERTa's padding_idx + 1). */
  | { kind: 'position_embedding'; weight: string; out: number; width: number; offset: number }
  /** Rows picked by token types (the batch's tokenTypeIds, 0 when absent). */
  | { kind: 'token_type_embedding'; weight: string; out: number; width: number }
  | { kind: 'slice'; x: number; out: number; start: number; width: number; inWidth: number } // columns of x
  | { kind: 'rmsnorm'; x: number; weight: string; out: number; rstd: number; width: number; eps: number; plusOne: boolean }
  | { kind: 'layernorm'; x: number; weight: string; bias: string; out: number; mean: number; rstd: number; width: number; eps: number }
  | { kind: 'dropout_mask'; out: number; module: number; keepProb: number; width: number }
  /**
   * trainW / trainB: where a weight / bias that trains in full (modules_to_save heads, bias "all") sits in the flat
   * f32 trainables, else null (a frozen device weight named by `weight` / `bias`).
   */
  | { kind: 'linear'; x: number; out: number; weight: string; bias: string | null; inF: number; outF: number; lora: LoraRef | null; trainW: number | null; trainB: number | null }
  | { kind: 'rope'; x: number; out: number; heads: number; headDim: number; local: boolean }
  /** causal false = bidirectional (encoders): every real key of the sequence is visible. */
  | { kind: 'attention'; q: number; k: number; v: number; out: number; lse: number; NH: number; NKV: number; HD: number; window: number; scale: number; causal: boolean }
  | { kind: 'swiglu'; gate: number; up: number; out: number; width: number }
  | { kind: 'geglu'; gate: number; up: number; out: number; width: number }
  | { kind: 'gelu'; x: number; out: number; width: number }
  /** Exact (erf) GELU (BERT's "gelu"). */
  | { kind: 'gelu_erf'; x: number; out: number; width: number }
  | { kind: 'softcap'; x: number; out: number; width: number; cap: number }
  /** ReLU (DistilBERT's classification head); backward dx = dout · [x > 0]. */
  | { kind: 'relu'; x: number; out: number; width: number }
  | { kind: 'relu_bwd'; dout: number; x: number; dx: number; width: number }
  | { kind: 'add'; a: number; b: number; out: number; width: number }
  /** First-token pooling: every row of a sequence gets its first row; backward sums into the first row. */
  | { kind: 'first_token'; x: number; out: number; width: number }
  | { kind: 'first_token_bwd'; dout: number; dx: number; width: number }
  /** Final linear [+ bias] [+ soft-capping] + cross-entropy in row chunks; never holds more than chunkRows × V logits. */
  | { kind: 'lm_head_loss'; x: number; weight: string; bias: string | null; inF: number; V: number; nll: number; dx: number | null; chunkRows: number; softcap: number }
  /**
   * Task-head losses over the program's logits (ops/task-loss.ts): regression MSE on each sequence's first row
   * (logits width 1, the batch's regression targets) and extractive-QA span loss (width 2, start/end positions).
   * nll gets each sequence's loss on its first row; dlogits (train) the summed loss's gradient.
   */
  | { kind: 'mse_loss'; logits: number; nll: number; dlogits: number | null }
  | { kind: 'span_loss'; logits: number; nll: number; dlogits: number | null }
  /** Cross-entropy over materialised logits: logits mode, or training a head that trains in full (dlogits). */
  | { kind: 'cross_entropy'; logits: number; V: number; nll: number; dlogits: number | null }
  | { kind: 'rmsnorm_bwd'; dout: number; x: number; weight: string; rstd: number; dx: number; width: number; plusOne: boolean }
  | { kind: 'layernorm_bwd'; dout: number; x: number; weight: string; mean: number; rstd: number; dx: number; width: number }
  /** trainW / trainB as on 'linear': their gradients (dW += doutᵀ·x, db += Σ dout) accumulate into the flat gradients. */
  | { kind: 'linear_bwd'; dout: number; x: number; weight: string; inF: number; outF: number; dx: number | null; dxAccumulate: boolean; lora: (LoraRef & { dh: number }) | null; trainW: number | null; trainB: number | null }
  | { kind: 'rope_bwd'; dout: number; dx: number; heads: number; headDim: number; local: boolean }
  | { kind: 'attention_bwd'; dout: number; out: number; q: number; k: number; v: number; lse: number; dq: number; dk: number; dv: number; delta: number; NH: number; NKV: number; HD: number; window: number; scale: number; causal: boolean }
  | { kind: 'swiglu_bwd'; dout: number; gate: number; up: number; dgate: number; dup: number; width: number }
  | { kind: 'geglu_bwd'; dout: number; gate: number; up: number; dgate: number; dup: number; width: number }
  | { kind: 'gelu_bwd'; dout: number; x: number; dx: number; width: number }
  | { kind: 'gelu_erf_bwd'; dout: number; x: number; dx: number; width: number }
  | { kind: 'softcap_bwd'; dout: number; x: number; dx: number; width: number; cap: number }
  | { kind: 'slice_bwd'; dout: number; dx: number; start: number; width: number; inWidth: number } // dx[:, cols] += dout
  /**
   * Learned adapter weights (ops/adapter-mix.ts), one adapter's delta at a time; w = softmax(θ) or θ, θ (K) at
   * `theta` in the flat trainables. mix_add: out += w[index]·x. mix_scale_bwd: dx = w[index]·dout.
   * mix_theta_bwd: s = Σ ⟨dout, x⟩ over every row, dθ += J[:, index]·s (J the softmax Jacobian, or 1 at index).
   */
  | { kind: 'mix_add'; x: number; out: number; theta: number; K: number; index: number; softmax: boolean; width: number }
  | { kind: 'mix_scale_bwd'; dout: number; dx: number; theta: number; K: number; index: number; softmax: boolean; width: number }
  | { kind: 'mix_theta_bwd'; dout: number; x: number; theta: number; K: number; index: number; softmax: boolean; width: number }
  /**
   * AdapterFusion attention (ops/adapter-fusion.ts) as small steps over trained f32 matrices at `w` in the flat
   * trainables. fusion_proj: out (N, outF) [+]= x (N, inF)·W, W (inF, outF); trans: W (outF, inF), out = x·Wᵀ.
   * fusion_proj_bwd: dW += xᵀ·dout (trans: doutᵀ·x) into the flat gradients; dx [+]= dout·Wᵀ (trans: dout·W).
   * fusion_score: dst[:, index] = row-wise ⟨a, b⟩ (dst (N, M) f32; columns written in order, 0 first).
   * fusion_softmax(_bwd): α = softmax over a row of M (f32); ds = α ⊙ (dα − ⟨α, dα⟩).
   * fusion_mix: out (=, index 0; += after) α[:, index]·x. fusion_mix_bwd: dx = α[:, index]·dout.
   * fusion_score_bwd: dq += ds[:, index]·k, dk = ds[:, index]·q.
   */
  | { kind: 'fusion_proj'; x: number; out: number; w: number; inF: number; outF: number; trans: boolean; accumulate: boolean }
  | { kind: 'fusion_proj_bwd'; dout: number; x: number; dx: number | null; dxAccumulate: boolean; w: number; inF: number; outF: number; trans: boolean }
  | { kind: 'fusion_score'; a: number; b: number; dst: number; index: number; M: number; width: number }
  | { kind: 'fusion_softmax'; x: number; out: number; width: number }
  | { kind: 'fusion_softmax_bwd'; dout: number; out: number; dx: number; width: number }
  | { kind: 'fusion_mix'; x: number; a: number; out: number; index: number; M: number; width: number }
  | { kind: 'fusion_mix_bwd'; dout: number; a: number; dx: number; index: number; M: number; width: number }
  | { kind: 'fusion_score_bwd'; dout: number; q: number; k: number; dq: number; dk: number; index: number; M: number; width: number }
  | { kind: 'zero'; dst: number; width: number }
  | { kind: 'copy'; src: number; dst: number; width: number }
  | { kind: 'accumulate'; src: number; dst: number; width: number };

export type StepKind = Step['kind'];
type StepOf<K extends StepKind> = Extract<Step, { kind: K }>;
interface StepTensors {
  reads: number[];
  writes: number[];
}
const r = (...xs: (number | null)[]) => xs.filter((x): x is number => x !== null);

/**
 * Every step kind the device executes, with the tensors it reads and writes (a read-modify-write tensor is in
 * both). Exhaustive: a Step variant without an entry is a type error, and tests/native/step-kinds.test.ts checks
 * native/src (the addon's kind table, the StepKind enum, the executor's cases) against these keys.
 */
export const STEP_TENSORS: { [K in StepKind]: (s: StepOf<K>) => StepTensors } = {
  embedding: (s) => ({ reads: [], writes: [s.out] }),
  position_embedding: (s) => ({ reads: [], writes: [s.out] }),
  token_type_embedding: (s) => ({ reads: [], writes: [s.out] }),
  slice: (s) => ({ reads: [s.x], writes: [s.out] }),
  geglu: (s) => ({ reads: [s.gate, s.up], writes: [s.out] }),
  softcap: (s) => ({ reads: [s.x], writes: [s.out] }),
  geglu_bwd: (s) => ({ reads: [s.dout, s.gate, s.up], writes: [s.dgate, s.dup] }),
  softcap_bwd: (s) => ({ reads: [s.dout, s.x], writes: [s.dx] }),
  slice_bwd: (s) => ({ reads: [s.dout, s.dx], writes: [s.dx] }),
  zero: (s) => ({ reads: [], writes: [s.dst] }),
  rmsnorm: (s) => ({ reads: [s.x], writes: [s.out, s.rstd] }),
  layernorm: (s) => ({ reads: [s.x], writes: [s.out, s.mean, s.rstd] }),
  dropout_mask: (s) => ({ reads: [], writes: [s.out] }),
  linear: (s) => ({ reads: r(s.x, s.lora?.keep ?? null), writes: r(s.out, s.lora?.h ?? null) }),
  rope: (s) => ({ reads: [s.x], writes: [s.out] }),
  attention: (s) => ({ reads: [s.q, s.k, s.v], writes: [s.out, s.lse] }),
  swiglu: (s) => ({ reads: [s.gate, s.up], writes: [s.out] }),
  gelu: (s) => ({ reads: [s.x], writes: [s.out] }),
  gelu_erf: (s) => ({ reads: [s.x], writes: [s.out] }),
  relu: (s) => ({ reads: [s.x], writes: [s.out] }),
  relu_bwd: (s) => ({ reads: [s.dout, s.x], writes: [s.dx] }),
  add: (s) => ({ reads: [s.a, s.b], writes: [s.out] }),
  first_token: (s) => ({ reads: [s.x], writes: [s.out] }),
  first_token_bwd: (s) => ({ reads: [s.dout], writes: [s.dx] }),
  lm_head_loss: (s) => ({ reads: [s.x], writes: r(s.nll, s.dx) }), // dx assigned: it is always x's first gradient
  cross_entropy: (s) => ({ reads: [s.logits], writes: r(s.nll, s.dlogits) }),
  mse_loss: (s) => ({ reads: [s.logits], writes: r(s.nll, s.dlogits) }),
  span_loss: (s) => ({ reads: [s.logits], writes: r(s.nll, s.dlogits) }),
  rmsnorm_bwd: (s) => ({ reads: [s.dout, s.x, s.rstd], writes: [s.dx] }),
  layernorm_bwd: (s) => ({ reads: [s.dout, s.x, s.mean, s.rstd], writes: [s.dx] }),
  linear_bwd: (s) => ({ reads: r(s.dout, s.x, s.lora?.keep ?? null, s.lora?.h ?? null, s.dxAccumulate ? s.dx : null), writes: r(s.dx, s.lora?.dh ?? null) }),
  rope_bwd: (s) => ({ reads: [s.dout], writes: [s.dx] }),
  attention_bwd: (s) => ({ reads: [s.dout, s.out, s.q, s.k, s.v, s.lse], writes: [s.delta, s.dq, s.dk, s.dv] }),
  swiglu_bwd: (s) => ({ reads: [s.dout, s.gate, s.up], writes: [s.dgate, s.dup] }),
  gelu_bwd: (s) => ({ reads: [s.dout, s.x], writes: [s.dx] }),
  gelu_erf_bwd: (s) => ({ reads: [s.dout, s.x], writes: [s.dx] }),
  mix_add: (s) => ({ reads: [s.x, s.out], writes: [s.out] }),
  mix_scale_bwd: (s) => ({ reads: [s.dout], writes: [s.dx] }),
  mix_theta_bwd: (s) => ({ reads: [s.dout, s.x], writes: [] }), // into the flat gradients
  fusion_proj: (s) => ({ reads: r(s.x, s.accumulate ? s.out : null), writes: [s.out] }),
  fusion_proj_bwd: (s) => ({ reads: r(s.dout, s.x, s.dxAccumulate ? s.dx : null), writes: r(s.dx) }),
  fusion_score: (s) => ({ reads: r(s.a, s.b, s.index > 0 ? s.dst : null), writes: [s.dst] }),
  fusion_softmax: (s) => ({ reads: [s.x], writes: [s.out] }),
  fusion_softmax_bwd: (s) => ({ reads: [s.dout, s.out], writes: [s.dx] }),
  fusion_mix: (s) => ({ reads: r(s.x, s.a, s.index > 0 ? s.out : null), writes: [s.out] }),
  fusion_mix_bwd: (s) => ({ reads: [s.dout, s.a], writes: [s.dx] }),
  fusion_score_bwd: (s) => ({ reads: [s.dout, s.q, s.k, s.dq], writes: [s.dq, s.dk] }),
  copy: (s) => ({ reads: [s.src], writes: [s.dst] }),
  accumulate: (s) => ({ reads: [s.src, s.dst], writes: [s.dst] }),
};

export const STEP_KINDS = Object.keys(STEP_TENSORS) as StepKind[];

/** Tensors a step reads and writes. */
export function stepIO(s: Step): StepTensors {
  return (STEP_TENSORS[s.kind] as (s: Step) => StepTensors)(s);
}
