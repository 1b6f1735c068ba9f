// What every executor derives from a Batch, the same way: rope tables from positions (cumulative sum of the
// attention mask), the additive attention biases (causal + padding [+ sliding window], or bidirectional + padding
// for encoders), and LoRA dropout masks.
// Keeping this outside the executors is what makes them agree bit-for-bit on the inputs.

import type { Batch } from './session.ts';
import type { Program } from '../model/ir.ts';
import { positionsFromMask, ropeTables } from './ops/rope.ts';
import { attentionBias } from './ops/attention.ts';
import { hashString } from './rng.ts';

export interface BatchInputs {
  B: number;
  T: number;
  N: number;
  ids: Int32Array; // (N)
  labels: Int32Array; // (N), −100 = not trained
  positions: Int32Array; // (N) each token's position (learned position tables read it)
  tokenTypes: Int32Array; // (N) each token's segment (token-type tables read it); zeros when the batch has none
  regressionTargets: Float64Array | null; // (B) for Program.loss 'mse'
  spanStarts: Int32Array | null; // (B) for Program.loss 'span'
  spanEnds: Int32Array | null;
  cos: Float64Array | null; // (N, HD)
  sin: Float64Array | null;
  cosLocal: Float64Array | null; // (N, HD) for rope nodes marked local (Program.ropeLocal)
  sinLocal: Float64Array | null;
  bias: Float64Array; // (B, T, T) for full-attention layers
  windowBias: Map<number, Float64Array>; // sliding window size → (B, T, T)
  bidirectionalBias: Float64Array | null; // (B, T, T) padding only, for attention nodes with causal false
}

/** The bias an attention node reads, of those prepareBatch made. */
export function biasOf(inp: BatchInputs, n: { window: number | null; causal?: boolean }): Float64Array {
  if (n.causal === false) return inp.bidirectionalBias!;
  return n.window === null ? inp.bias : inp.windowBias.get(n.window)!;
}

export function validateBatch(b: Batch): void {
  const n = b.B * b.T;
  if (!(b.B > 0 && b.T > 0)) throw new Error(`batch: B and T must be positive, got B=${b.B} T=${b.T}`);
  const arrays: [string, ArrayLike<number>][] = [['inputIds', b.inputIds], ['attentionMask', b.attentionMask], ['labels', b.labels]];
  if (b.segmentIds) arrays.push(['segmentIds', b.segmentIds]);
  if (b.tokenTypeIds) arrays.push(['tokenTypeIds', b.tokenTypeIds]);
  for (const [k, arr] of arrays)
    if (arr.length !== n) throw new Error(`batch: ${k} has ${arr.length} entries, expected B·T = ${n}`);
}

export function prepareBatch(p: Program, b: Batch): BatchInputs {
  validateBatch(b);
  const N = b.B * b.T;
  const seg = b.segmentIds;
  const pos = positionsFromMask(b.attentionMask, b.B, b.T, seg);
  const tables = p.rope ? ropeTables(p.rope, pos) : null;
  const local = p.ropeLocal ? ropeTables(p.ropeLocal, pos) : null;
  const tokenTypes = checkBatchFits(p, b, pos);
  const windowBias = new Map<number, Float64Array>();
  let bidirectionalBias: Float64Array | null = null;
  for (const n of p.nodes)
    if (n.op === 'attention' && n.causal === false) {
      if (n.window !== null) throw new Error(`attention ${n.out}: a sliding window on bidirectional attention is not supported`);
      bidirectionalBias ??= attentionBias(b.attentionMask, b.B, b.T, null, seg, false);
    } else if (n.op === 'attention' && n.window !== null && !windowBias.has(n.window))
      windowBias.set(n.window, attentionBias(b.attentionMask, b.B, b.T, n.window, seg));
  return {
    B: b.B, T: b.T, N, ids: b.inputIds, labels: b.labels,
    positions: pos, tokenTypes, cos: tables?.cos ?? null, sin: tables?.sin ?? null,
    cosLocal: local?.cos ?? null, sinLocal: local?.sin ?? null,
    bias: attentionBias(b.attentionMask, b.B, b.T, null, seg),
    windowBias,
    bidirectionalBias,
    regressionTargets: b.regressionTargets ?? null, spanStarts: b.spanStarts ?? null, spanEnds: b.spanEnds ?? null,
  };
}

/**
 * What the program asks of a batch beyond its shapes: token types within the token-type table, positions within
 * the learned position table, a task loss's targets. Returns the token types (zeros when the batch has none).
 */
export function checkBatchFits(p: Program, b: Batch, positions: Int32Array): Int32Array {
  const N = b.B * b.T;
  const tokenTypes = b.tokenTypeIds ?? new Int32Array(N);
  checkTaskTargets(p, b);
  for (const n of p.nodes)
    if (n.op === 'token_type_embedding') {
      const rows = p.params.find((d) => d.name === n.weight)?.shape[0] ?? 0;
      const bad = tokenTypes.findIndex((t) => t < 0 || t >= rows);
      if (bad >= 0) throw new Error(`batch: token type ${tokenTypes[bad]} (row ${Math.floor(bad / b.T)}) is outside the model's ${rows} token types`);
    }
  if (p.maxPositions !== undefined)
    for (let i = 0; i < N; i++)
      if (positions[i] >= p.maxPositions)
        throw new Error(`batch: position ${positions[i]} (row ${Math.floor(i / b.T)}) is past the model's ${p.maxPositions} learned positions; use a shorter max_seq_length`);
  return tokenTypes;
}

/** A task loss's per-sequence targets are there, one per sequence, and the logits have the head's width. */
function checkTaskTargets(p: Program, b: Batch): void {
  const width = p.widths.get(p.logits);
  const need = (what: string, arr: ArrayLike<number> | undefined) => {
    if (!arr) throw new Error(`batch: a ${p.loss} head needs ${what} (one per sequence)`);
    if (arr.length !== b.B) throw new Error(`batch: ${what} has ${arr.length} entries, expected B = ${b.B}`);
  };
  if (p.loss === 'mse') {
    need('regressionTargets', b.regressionTargets);
    if (width !== 1) throw new Error(`program: a regression head's logits have width 1, ${p.logits} has ${width}`);
  } else if (p.loss === 'span') {
    need('spanStarts', b.spanStarts);
    need('spanEnds', b.spanEnds);
    if (width !== 2) throw new Error(`program: a span head's logits have width 2 (start, end), ${p.logits} has ${width}`);
  }
}

/**
 * Inverted-dropout multipliers (N·IC) for each LoRA branch with dropout > 0: 0 with probability p, else 1/(1−p).
 * Seeded by (seed, key, module) — the key names the micro-step (e.g. "step 12 micro 3"), so a resumed run draws the
 * same masks as an uninterrupted one. The same draws as dropoutKeeps, as floats (for executors that multiply).
 */
export function dropoutMasks(p: Program, N: number, seed: number, key: string): Map<string, Float32Array> {
  const masks = new Map<string, Float32Array>();
  for (const [module, { keep, p: rate }] of dropoutDraws(p, N, seed, key)) masks.set(module, keepToMultipliers(keep, rate));
  return masks;
}

/**
 * Which inputs each LoRA branch keeps (1) or drops (0) this micro-step: the draws of dropoutMasks, one byte per
 * element instead of four. The CPU step feeds these as ONNX bools and scales in the graph, so the masks of a step
 * (N·IC per adapted linear: 68 MiB at seq 256 on SmolLM2's 120 branches as floats) cost a quarter of the memory.
 */
export function dropoutKeeps(p: Program, N: number, seed: number, key: string): Map<string, Uint8Array> {
  const keeps = new Map<string, Uint8Array>();
  for (const [module, { keep }] of dropoutDraws(p, N, seed, key)) keeps.set(module, keep);
  return keeps;
}

function dropoutDraws(p: Program, N: number, seed: number, key: string): Map<string, { keep: Uint8Array; p: number }> {
  const draws = new Map<string, { keep: Uint8Array; p: number }>();
  for (const n of p.nodes) {
    if (n.op !== 'linear' || !n.lora || n.lora.dropout <= 0) continue;
    draws.set(n.module, { keep: bernoulliKeep(N * n.inF, n.lora.dropout, hashString(`${key}|${n.module}`, hashString(String(seed)))), p: n.lora.dropout });
  }
  return draws;
}

/** n inverted-dropout multipliers from a 32-bit seed: bernoulliKeep's draws as 0 or 1/(1−p). */
export function bernoulliMask(n: number, p: number, seed: number): Float32Array {
  return keepToMultipliers(bernoulliKeep(n, p, seed), p);
}

function keepToMultipliers(keep: Uint8Array, p: number): Float32Array {
  const scale = 1 / (1 - p);
  const m = new Float32Array(keep.length);
  for (let i = 0; i < keep.length; i++) m[i] = keep[i] ? scale : 0;
  return m;
}

/**
 * n keep flags (0 with probability p, else 1) from a 32-bit seed: xorshift32 inline, two 16-bit draws per word (drop
 * when the draw is below round(p·65536), so p is honoured to 1/65536). Tens of millions of draws per step for a 135M
 * model: this is several times faster than one float draw per element, and just as reproducible.
 */
export function bernoulliKeep(n: number, p: number, seed: number): Uint8Array {
  const m = new Uint8Array(n);
  const threshold = Math.round(p * 65536);
  let x = seed >>> 0 || 0x9e3779b9;
  for (let i = 0; i < n; i += 2) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    m[i] = (x & 0xffff) < threshold ? 0 : 1;
    if (i + 1 < n) m[i + 1] = x >>> 16 < threshold ? 0 : 1;
  }
  return m;
}
