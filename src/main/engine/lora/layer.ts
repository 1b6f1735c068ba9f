// One LoRA layer's math outside the training graph: init (PEFT's defaults) and merge/unmerge into the base weight.
// W' = W + scale·(B·A), W (OC, IC), A (r, IC), B (OC, r). Done in float64 and rounded once, so unmerge is exact
// up to a single float32 rounding.

import { streamFor } from '../rng.ts';

/**
 * A ~ kaiming_uniform_(a=√5) as nn.Linear/PEFT initialise lora_A: bound = gain·√(3/fan_in), gain = √(2/(1+a²)),
 * which for a = √5 is 1/√fan_in. Seeded by (seed, tensor name) so every run with the same seed starts the same.
 */
export function initLoraA(r: number, IC: number, seed: number, name: string): Float32Array {
  const bound = 1 / Math.sqrt(IC);
  const next = streamFor(seed, name);
  const a = new Float32Array(r * IC);
  for (let i = 0; i < a.length; i++) a[i] = (next() * 2 - 1) * bound;
  return a;
}

/** ΔW (OC, IC) = scale · B (OC, r) · A (r, IC), in float64. */
export function loraDelta(A: ArrayLike<number>, B: ArrayLike<number>, r: number, IC: number, OC: number, scale: number): Float64Array {
  const d = new Float64Array(OC * IC);
  for (let o = 0; o < OC; o++)
    for (let k = 0; k < r; k++) {
      const b = B[o * r + k] * scale;
      if (b === 0) continue;
      for (let i = 0; i < IC; i++) d[o * IC + i] += b * A[k * IC + i];
    }
  return d;
}

/** W ← W + sign·ΔW in place; sign = −1 unmerges. Safe merge: refuses to write a non-finite value. */
export function mergeInto(W: Float32Array, delta: Float64Array, sign: 1 | -1 = 1): void {
  if (W.length !== delta.length) throw new Error(`LoRA merge: weight has ${W.length} values, delta ${delta.length}`);
  const out = new Float32Array(W.length);
  for (let i = 0; i < W.length; i++) {
    const v = W[i] + sign * delta[i];
    if (!Number.isFinite(v)) throw new Error(`LoRA merge: non-finite value at index ${i}; weights left unchanged`);
    out[i] = v;
  }
  W.set(out);
}
