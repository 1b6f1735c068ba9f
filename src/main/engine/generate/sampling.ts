// Picking the next token from logits, as transformers' generate() does: the repetition penalty first (a logits
// processor), then — when sampling — temperature, top-k and top-p (the warpers, in that order), softmax and a
// draw from a seeded stream. Temperature 0 means greedy (argmax after the penalty), like do_sample=False.

import { mulberry32, hashString } from '../rng.ts';

export interface SamplingOptions {
  /** 0 = greedy; otherwise logits are divided by it before top-k / top-p. */
  temperature: number;
  /** Keep the k most likely tokens (0 = off). */
  topK: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p (1 = off). */
  topP: number;
  /** CTRL's penalty on tokens already in the sequence (prompt included): logit/θ if > 0, logit·θ if < 0 (1 = off). */
  repetitionPenalty: number;
  seed: number;
}

export const DEFAULT_SAMPLING: SamplingOptions = { temperature: 0.7, topK: 50, topP: 0.9, repetitionPenalty: 1.1, seed: 0 };

export function validateSampling(o: SamplingOptions): void {
  const bad = (field: string, why: string, v: number) => new Error(`sampling: ${field} ${why}, got ${v}`);
  if (!(o.temperature >= 0) || !Number.isFinite(o.temperature)) throw bad('temperature', 'must be a finite number ≥ 0', o.temperature);
  if (!Number.isInteger(o.topK) || o.topK < 0) throw bad('top_k', 'must be an integer ≥ 0 (0 = off)', o.topK);
  if (!(o.topP > 0 && o.topP <= 1)) throw bad('top_p', 'must be in (0, 1]', o.topP);
  if (!(o.repetitionPenalty > 0) || !Number.isFinite(o.repetitionPenalty)) throw bad('repetition_penalty', 'must be a finite number > 0', o.repetitionPenalty);
  if (!Number.isInteger(o.seed)) throw bad('seed', 'must be an integer', o.seed);
}

/** transformers' RepetitionPenaltyLogitsProcessor, in place: each distinct token seen so far is penalised once. */
export function applyRepetitionPenalty(logits: Float64Array, seen: Iterable<number>, penalty: number): void {
  if (penalty === 1) return;
  for (const id of new Set(seen)) {
    const x = logits[id];
    logits[id] = x < 0 ? x * penalty : x / penalty;
  }
}

/** Index of the largest logit (the first one on ties, as torch.argmax). */
export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

/** TopKLogitsWarper, in place: everything below the k-th largest value becomes −∞ (ties with it are kept). */
export function applyTopK(logits: Float64Array, k: number): void {
  if (k <= 0 || k >= logits.length) return;
  const kth = Float64Array.from(logits).sort().reverse()[k - 1];
  for (let i = 0; i < logits.length; i++) if (logits[i] < kth) logits[i] = -Infinity;
}

/**
 * TopPLogitsWarper, in place: sort ascending, remove the tokens whose cumulative probability is ≤ 1 − p; the most
 * likely token always stays.
 */
export function applyTopP(logits: Float64Array, p: number): void {
  if (p >= 1) return;
  const probs = softmax(logits);
  const order = Array.from(probs.keys()).sort((a, b) => probs[a] - probs[b]);
  let cum = 0;
  for (let i = 0; i < order.length - 1; i++) {
    cum += probs[order[i]];
    if (cum <= 1 - p) logits[order[i]] = -Infinity;
    else break;
  }
}

export function softmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i] - max);
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

/** A sampler bound to one generation: its own seeded stream, so the same seed gives the same tokens. */
export class Sampler {
  private readonly rand: () => number;

  constructor(readonly options: SamplingOptions) {
    validateSampling(options);
    this.rand = mulberry32(hashString('sampling', hashString(String(options.seed))));
  }

  get greedy(): boolean {
    return this.options.temperature === 0;
  }

  /** The next token from one position's logits, given every token of the sequence so far. */
  next(logits: ArrayLike<number>, seen: Iterable<number>): number {
    const o = this.options;
    const x = Float64Array.from(logits);
    applyRepetitionPenalty(x, seen, o.repetitionPenalty);
    if (this.greedy) return argmax(x);
    for (let i = 0; i < x.length; i++) x[i] /= o.temperature;
    applyTopK(x, o.topK);
    applyTopP(x, o.topP);
    const probs = softmax(x);
    const u = this.rand();
    let cum = 0;
    let last = 0;
    for (let i = 0; i < probs.length; i++) {
      if (probs[i] === 0) continue;
      last = i;
      cum += probs[i];
      if (u < cum) return i;
    }
    return last; // u within rounding of 1
  }
}
