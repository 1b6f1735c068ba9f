// Seeded, portable random numbers (no Math.random anywhere in the engine): LoRA init and dropout masks must be
// reproducible across runs and across a resume. mulberry32 streams keyed by (seed, string).
import { mulberry32 } from '../formats/dataset/split.ts';

export function hashString(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** A uniform [0, 1) generator from a 32-bit state: the one the dataset split shuffles with. */
export { mulberry32 };

export function streamFor(seed: number, key: string): () => number {
  return mulberry32(hashString(key, hashString(String(seed))));
}
