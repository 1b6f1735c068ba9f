// What a lowering sees: the graph under construction, the values of program tensors, the batch-level inputs,
// and the gradient bookkeeping (activation gradients sum where a tensor fans out; param gradients are collected).

import type { GraphBuilder } from '../builder.ts';
import type { Nf4Values } from './nf4-linear.ts';

export interface BatchValues {
  ids: string; // (N) int64
  shapeBT: string; // [B, T] int64, for reshapes to (B, T, …)
  cos: string | null; // (N, 1, HD)
  sin: string | null;
  cosLocal?: string | null; // (N, 1, HD) for rope nodes marked local (programs with ropeLocal)
  sinLocal?: string | null;
  positions?(): string; // (N) int64 position ids (programs with learned position tables)
  tokenTypes?(): string; // (N) int64 token type ids (programs with a token-type table)
  /** (B, 1, G·T, T) additive attention bias, tiled over the G query heads of a KV head; causal false = padding only. */
  bias(window: number | null, causal?: boolean): string;
  labelIdx: string; // (N, 1) int64, ignored rows clamped to 0
  labelValid: string; // (N, 1) float, 1 = trained
  dropMask(module: string): string | null; // (N, IC) bool: true = kept (the lowering scales by 1/(1−p))
}

export interface LowerCtx {
  g: GraphBuilder;
  batch: BatchValues;
  value(name: string): string;
  setValue(name: string, v: string): void;
  /** Whether the program tensor (activation or param) needs a gradient. */
  needsGrad(name: string): boolean;
  addGrad(name: string, v: string): void;
  saved: Map<number, Record<string, string>>;
  /** A frozen weight held as NF4 (QLoRA), or null for a float one. */
  nf4?(name: string): Nf4Values | null;
}
