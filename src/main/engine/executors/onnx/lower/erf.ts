// erf as a graph value. float32 graphs use ONNX Erf; onnxruntime's CPU provider has no float64 Erf kernel, so
// float64 graphs (the parity checks against ops/gelu.ts) compose it from standard ops with ops/gelu.ts's method:
// for |x| < 3 the all-positive series 2/√π·e^(−x²)·x·Σ (2x²)ⁿ/(3·5·…·(2n+1)) in Horner form (50 terms: 1e-16
// at |x| = 3), beyond it 1 − erfc(|x|) from erfc's continued fraction (24 levels: exact in float64 from |x| = 3).
import type { GraphBuilder } from '../builder.ts';

const SERIES_TERMS = 50;
const FRACTION_LEVELS = 24;
const SWITCH = 3;

export function erfValue(g: GraphBuilder, x: string): string {
  if (g.elem !== 'float64') return g.op('Erf', [x]);
  const a = g.op('Abs', [x]);
  // each branch sees only its own range (the other branch's value there would overflow or divide by ~0)
  const s = g.op('Min', [a, g.scalar(SWITCH)]);
  const s2 = g.mul(g.mul(s, s), g.scalar(2));
  let acc = g.scalar(1);
  for (let n = SERIES_TERMS; n >= 1; n--) acc = g.add(g.scalar(1), g.mul(acc, g.mul(s2, g.scalar(1 / (2 * n + 1)))));
  const series = g.mul(g.mul(g.op('Exp', [g.mul(g.mul(s, s), g.scalar(-1))]), g.scalar(2 / Math.sqrt(Math.PI))), g.mul(s, acc));
  const c = g.op('Max', [a, g.scalar(SWITCH)]);
  let cf = c;
  for (let k = FRACTION_LEVELS; k >= 1; k--) cf = g.add(c, g.op('Div', [g.scalar(k / 2), cf]));
  const erfc = g.op('Div', [g.op('Exp', [g.mul(g.mul(c, c), g.scalar(-1))]), g.mul(cf, g.scalar(Math.sqrt(Math.PI)))]);
  const tail = g.sub(g.scalar(1), erfc);
  return g.mul(g.op('Sign', [x]), g.op('Where', [g.op('Less', [a, g.scalar(SWITCH)]), series, tail]));
}
