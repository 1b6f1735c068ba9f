// Shared test helpers for the engine: seeded random arrays and central finite differences.
import { mulberry32 } from '../../src/main/engine/rng.ts';

export function randn(n: number, seed: number, std = 1): Float64Array {
  const next = mulberry32(seed);
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.max(next(), 1e-12);
    a[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next()) * std;
  }
  return a;
}

/** Central finite difference of f w.r.t. every entry of x (x is restored afterwards). */
export function numericGrad(f: () => number, x: Float64Array, h = 1e-5): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const old = x[i];
    x[i] = old + h;
    const fp = f();
    x[i] = old - h;
    const fm = f();
    x[i] = old;
    g[i] = (fp - fm) / (2 * h);
  }
  return g;
}

/** max |a − b| / max(1e-8, max |b|): one relative-error figure for a whole tensor. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`relErr: lengths differ (${a.length} vs ${b.length})`);
  let num = 0;
  let den = 1e-8;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
}

export const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
