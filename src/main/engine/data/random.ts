// Seeded, counter-based randomness for the trainer: every draw is a pure function of (seed, stream, counter),
// so a checkpoint stores the counter and a resumed run draws exactly the numbers the uninterrupted one would.

/** A 32-bit avalanche mix (the finaliser of MurmurHash3); good enough to derive independent streams. */
export function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Combine words into one uint32 seed, order-sensitive. */
export function hashSeed(...words: number[]): number {
  let h = 0x9e3779b9;
  for (const w of words) h = mix32((h ^ (w >>> 0)) + 0x9e3779b9 + (h << 6) + (h >>> 2));
  return h >>> 0;
}

/** mulberry32: a small PRNG whose whole state is one uint32, so it serialises as a number. */
export class SeededRandom {
  constructor(public state: number) {
    this.state = state >>> 0;
  }
  /** Uniform uint32. */
  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }
  /** Uniform integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/** The permutation of 0..n-1 for one epoch: Fisher–Yates driven by hash(seed, epoch); the same inputs give the same order. */
export function epochPermutation(n: number, seed: number, epoch: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const random = new SeededRandom(hashSeed(seed, epoch, 0x5eed));
  for (let i = n - 1; i > 0; i--) {
    const j = random.below(i + 1);
    const tmp = order[i];
    order[i] = order[j];
    order[j] = tmp;
  }
  return order;
}
