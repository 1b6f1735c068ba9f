// The engine's intermediate representation: a model is a straight-line program of coarse ops over named tensors.
// Family modules (model/families/<name>/program.ts) write it once; the engine's executors (reference f64, ONNX on
// the CPU, the device plan for CUDA) lower it. It sits below formats and engine so a family is one folder.
// Every activation is 2-D (N, width) with N = B·T rows; per-head ops view a row as (heads, HD).
// Batch-level inputs (token ids, labels, rope tables, the attention bias, dropout masks) are not tensors of the
// program: every executor derives them from the Batch the same way (batch-inputs.ts).

import type { RopeScaling } from './spec-base.ts';

/** Rotary tables of a program: base frequency, rotated width, optional scaling (engine/ops/rope.ts builds them). */
export interface RopeConfig {
  theta: number;
  headDim: number; // HD, rotated fully
  scaling: RopeScaling | null;
}

export interface ParamDecl {
  name: string; // HF-style name, e.g. model.layers.0.self_attn.q_proj.weight or ….q_proj.lora_A.weight
  shape: number[];
  trainable: boolean;
  /** Excluded from weight decay (biases and norm weights), as transformers' Trainer does. */
  noDecay: boolean;
  /** How a fresh value is made when no checkpoint provides it (LoRA tensors). */
  init?: { kind: 'kaiming_uniform_a_sqrt5'; fanIn: number } | { kind: 'zeros' };
  /** Stored on disk as [in, out] (GPT-2's Conv1D, PEFT's fan_in_fan_out): transposed when loaded and saved. */
  storedTransposed?: boolean;
  /** A frozen linear weight held as NF4 (QLoRA); executors get an Nf4Tensor for it (quant/nf4.ts). */
  quant?: 'nf4';
}

export interface LoraAttach {
  A: string; // param (r, IC)
  B: string; // param (OC, r)
  r: number;
  scale: number;
  dropout: number; // probability; masks come from the executor's seeded dropout source
}

export type OpNode =
  | { op: 'embedding'; weight: string; out: string; width: number; scale: number }
  /**
   * Learned absolute positions (GPT-2, BERT): rows of the table picked by each token's position (batch-inputs.ts),
   * plus offset (RoBERTa/XLM-R: padding_idx + 1, their tables start past the padding row; absent = 0).
   */
  | { op: 'position_embedding'; weight: string; out: string; width: number; offset?: number }
  /** Segment embeddings (BERT's token_type_embeddings): rows picked by each token's type (Batch.tokenTypeIds, default 0). */
  | { op: 'token_type_embedding'; weight: string; out: string; width: number }
  | { op: 'rmsnorm'; x: string; weight: string; out: string; width: number; eps: number; plusOne: boolean }
  | { op: 'layernorm'; x: string; weight: string; bias: string; out: string; width: number; eps: number }
  | {
      op: 'linear';
      module: string; // module path (PEFT's name for it), e.g. model.layers.0.self_attn.q_proj
      x: string;
      weight: string; // (OC, IC)
      bias: string | null;
      lora: LoraAttach | null;
      out: string;
      inF: number;
      outF: number;
    }
  /** local: use the program's ropeLocal tables (Gemma 3's sliding layers have their own base frequency). */
  | { op: 'rope'; x: string; out: string; heads: number; headDim: number; local?: boolean }
  /**
   * scale multiplies q·k (default 1/√HD; Gemma 3: query_pre_attn_scalar^-½). causal false = bidirectional
   * (encoders: every query reads every non-padded key of its sequence); absent or true = causal.
   */
  | { op: 'attention'; q: string; k: string; v: string; out: string; NH: number; NKV: number; HD: number; window: number | null; scale?: number; causal?: boolean }
  | { op: 'swiglu'; gate: string; up: string; out: string; width: number }
  /** gelu_tanh(gate) ⊙ up (Gemma's GeGLU MLP). */
  | { op: 'geglu'; gate: string; up: string; out: string; width: number }
  | { op: 'gelu_tanh'; x: string; out: string; width: number }
  /** Exact GELU, x·Φ(x) = 0.5·x·(1 + erf(x/√2)) (BERT, RoBERTa, DistilBERT: hidden_act "gelu"). */
  | { op: 'gelu_erf'; x: string; out: string; width: number }
  /** max(0, x) (DistilBERT's classification head: pre_classifier → ReLU → classifier). */
  | { op: 'relu'; x: string; out: string; width: number }
  | { op: 'add'; a: string; b: string; out: string; width: number }
  /** First-token pooling (BERT's [CLS], RoBERTa's <s>): every row of a sequence gets its first row (ops/pooling.ts). */
  | { op: 'first_token'; x: string; out: string; width: number }
  /** Columns [start, start + width) of x (N, inWidth): GPT-2's fused c_attn output split into q, k, v. */
  | { op: 'slice'; x: string; out: string; start: number; width: number; inWidth: number }
  /** cap · tanh(x / cap) (Gemma's final logit soft-capping). */
  | { op: 'softcap'; x: string; out: string; width: number; cap: number }
  /**
   * Learned adapter weights (engine/ops/adapter-mix.ts): out = base + Σ_j w[adapters[j]]·deltas[j], w = softmax or
   * raw values of the param `weight` (count logits, one per adapter; shared by the linears it covers).
   */
  | { op: 'adapter_mix'; base: string; deltas: string[]; adapters: number[]; weight: string; count: number; softmax: boolean; out: string; width: number }
  /**
   * AdapterFusion attention (engine/ops/adapter-fusion.ts): per token, softmax over the deltas of ⟨x·query,
   * delta·key⟩; out = base + mix·(I + valueDown·valueUpᵀ), mix = Σ α·delta. x (N, inF), query (inF, dim),
   * key (width, dim), valueDown/valueUp (width, valueRank).
   */
  | { op: 'adapter_fusion'; x: string; base: string; deltas: string[]; query: string; key: string; valueDown: string; valueUp: string; out: string; inF: number; width: number; dim: number; valueRank: number };

/**
 * A contiguous run of nodes [start, end) — a decoder layer — that reads only its own outputs, params and tensors
 * produced before it. Gradient checkpointing keeps a block's input and replays the block's forward in backward.
 */
export interface Block {
  name: string; // e.g. model.layers.3 or transformer.h.3
  start: number;
  end: number;
}

export interface Program {
  family: string;
  params: ParamDecl[];
  nodes: OpNode[];
  widths: Map<string, number>; // activation name → width
  /** The repeated layers, in order (autodiff.ts replays them under gradient checkpointing). */
  blocks: Block[];
  logits: string; // (N, V); the loss is cross-entropy of it against the batch labels, unless `loss` says otherwise
  /**
   * Task heads' losses over the logits (engine/ops/task-loss.ts), absent = cross-entropy over rows (language
   * modelling, and sequence classification with the label on each sequence's first row). 'mse': regression, logits
   * (N, 1) read on each sequence's first row against Batch.regressionTargets; 'span': extractive QA, logits (N, 2)
   * = start/end against Batch.spanStarts/spanEnds. Lowered on every executor (the device plan as mse_loss / span_loss steps).
   */
  loss?: 'mse' | 'span';
  vocab: number;
  rope: RopeConfig | null;
  /** Tables for rope nodes marked local (Gemma 3 sliding layers); absent when every layer shares `rope`. */
  ropeLocal?: RopeConfig | null;
  /** Positions the learned table holds (GPT-2: its rows; with a position offset: rows − offset): past it refused. */
  maxPositions?: number;
}

export function paramMap(p: Program): Map<string, ParamDecl> {
  return new Map(p.params.map((d) => [d.name, d]));
}

/** Names of the tensors each node reads (activations and params). */
export function nodeInputs(n: OpNode): string[] {
  switch (n.op) {
    case 'embedding': return [n.weight];
    case 'position_embedding': return [n.weight];
    case 'token_type_embedding': return [n.weight];
    case 'rmsnorm': return [n.x, n.weight];
    case 'layernorm': return [n.x, n.weight, n.bias];
    case 'linear': return [n.x, n.weight, ...(n.bias ? [n.bias] : []), ...(n.lora ? [n.lora.A, n.lora.B] : [])];
    case 'rope': return [n.x];
    case 'attention': return [n.q, n.k, n.v];
    case 'swiglu': return [n.gate, n.up];
    case 'geglu': return [n.gate, n.up];
    case 'gelu_tanh': return [n.x];
    case 'gelu_erf': return [n.x];
    case 'relu': return [n.x];
    case 'add': return [n.a, n.b];
    case 'first_token': return [n.x];
    case 'slice': return [n.x];
    case 'softcap': return [n.x];
    case 'adapter_mix': return [n.base, ...n.deltas, n.weight];
    case 'adapter_fusion': return [n.x, n.base, ...n.deltas, n.query, n.key, n.valueDown, n.valueUp];
  }
}

/** Total parameter count of a program (tied embeddings counted once), optionally of the params `filter` keeps. */
export function countParams(p: Program, filter: (d: ParamDecl) => boolean = () => true): number {
  return p.params.filter(filter).reduce((s, d) => s + d.shape.reduce((a, b) => a * b, 1), 0);
}

/** Trainable-parameter key as PEFT saves it (base_model.model.<name>). */
export const peftKey = (paramName: string): string => `base_model.model.${paramName}`;
