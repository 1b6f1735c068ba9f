/**
 * Train/eval split by ratio with a seed: a seeded Fisher–Yates permutation picks the eval rows, and both
 * parts keep file order. The same seed, ratio and rows give the same split on every machine.
 */
import { exampleKey, type DatasetExample } from './import.ts';

export interface SplitOptions {
  /** Share of examples for evaluation, 0 ≤ ratio < 1. */
  evalRatio: number;
  seed: number;
}

export interface DatasetSplit<T> {
  train: T[];
  eval: T[];
  /** Eval examples whose exact content also appears in train (a leak that flatters eval loss). */
  overlap: number;
}

export function splitByRatio(examples: DatasetExample[], { evalRatio, seed }: SplitOptions): DatasetSplit<DatasetExample> {
  if (!(evalRatio >= 0 && evalRatio < 1)) throw new RangeError(`evalRatio must be in [0, 1), got ${evalRatio}`);
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  const n = examples.length;
  let evalCount = Math.round(n * evalRatio);
  // A non-zero ratio on a small set still gets one eval example, and train is never emptied.
  if (evalRatio > 0 && evalCount === 0 && n >= 2) evalCount = 1;
  if (evalCount >= n) evalCount = Math.max(0, n - 1);
  const order = seededPermutation(n, seed);
  const isEval = new Uint8Array(n);
  for (let i = 0; i < evalCount; i++) isEval[order[i]] = 1;
  const train: DatasetExample[] = [];
  const evalSet: DatasetExample[] = [];
  examples.forEach((e, i) => (isEval[i] ? evalSet : train).push(e));
  return { train, eval: evalSet, overlap: countOverlap(train, evalSet) };
}

/** With an existing eval file: report how many eval examples also appear in train. */
export function countOverlap(train: DatasetExample[], evalSet: DatasetExample[]): number {
  const keys = new Set(train.map((e) => exampleKey(e.example)));
  return evalSet.filter((e) => keys.has(exampleKey(e.example))).length;
}

/** Fisher–Yates over 0..n-1 driven by mulberry32(seed). */
export function seededPermutation(n: number, seed: number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  const random = mulberry32(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
  return out;
}

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
