// The engine's intermediate representation: a model is a straight-line program of coarse ops over named tensors.
// Model definitions (models/*.ts) write it once; executors (reference f64, ONNX on the CPU, CUDA later) lower it.
// Every activation is 2-D (N, width) with N = B·T rows; per-head ops view a row as (heads, HD).
// Batch-level inputs (token ids, labels, rope tables, the attention bias, dropout masks) are not tensors of the
// program: every executor derives them from the Batch the same way (batch-inputs.ts).

import type { RopeConfig } from './ops/rope.ts';

export interface ParamDecl {
  name: string; // HF-style name, e.g. model.layers.0.self_attn.q_proj.weight or ….q_proj.lora_A.weight
  shape: number[];
  trainable: boolean;
  /** Excluded from weight decay (biases and norm weights), as transformers' Trainer does. */
  noDecay: boolean;
  /** How a fresh value is made when no checkpoint provides it (LoRA tensors). */
  init?: { kind: 'kaiming_uniform_a_sqrt5'; fanIn: number } | { kind: 'zeros' };
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
  | { op: 'rope'; x: string; out: string; heads: number; headDim: number }
  | { op: 'attention'; q: string; k: string; v: string; out: string; NH: number; NKV: number; HD: number; window: number | null }
  | { op: 'swiglu'; gate: string; up: string; out: string; width: number }
  | { op: 'gelu_tanh'; x: string; out: string; width: number }
  | { op: 'add'; a: string; b: string; out: string; width: number };

export interface Program {
  family: string;
  params: ParamDecl[];
  nodes: OpNode[];
  widths: Map<string, number>; // activation name → width
  logits: string; // (N, V); the loss is cross-entropy of it against the batch labels
  vocab: number;
  rope: RopeConfig | null;
}

export function paramMap(p: Program): Map<string, ParamDecl> {
  return new Map(p.params.map((d) => [d.name, d]));
}

/** Names of the tensors each node reads (activations and params). */
export function nodeInputs(n: OpNode): string[] {
  switch (n.op) {
    case 'embedding': return [n.weight];
    case 'rmsnorm': return [n.x, n.weight];
    case 'layernorm': return [n.x, n.weight, n.bias];
    case 'linear': return [n.x, n.weight, ...(n.bias ? [n.bias] : []), ...(n.lora ? [n.lora.A, n.lora.B] : [])];
    case 'rope': return [n.x];
    case 'attention': return [n.q, n.k, n.v];
    case 'swiglu': return [n.gate, n.up];
    case 'gelu_tanh': return [n.x];
    case 'add': return [n.a, n.b];
  }
}

/** Activations that depend on a trainable parameter: only these get gradients in backward. */
export function requiresGrad(p: Program): Set<string> {
  const params = paramMap(p);
  const req = new Set<string>(p.params.filter((d) => d.trainable).map((d) => d.name));
  for (const n of p.nodes) if (nodeInputs(n).some((t) => req.has(t))) req.add(n.out);
  for (const d of params.values()) if (!d.trainable) req.delete(d.name);
  return req;
}

/** Trainable-parameter key as PEFT saves it (base_model.model.<name>). */
export const peftKey = (paramName: string): string => `base_model.model.${paramName}`;
