// Elementwise ops: swiglu (silu(gate)·up), gelu_tanh, gelu_erf, relu and the residual add — forward and backward side by side.
import type { OpNode } from '../../../../model/ir.ts';
import type { LowerCtx } from './context.ts';
import { erfValue } from './erf.ts';

type Swiglu = Extract<OpNode, { op: 'swiglu' }>;
type Gelu = Extract<OpNode, { op: 'gelu_tanh' }>;
type GeluErf = Extract<OpNode, { op: 'gelu_erf' }>;
type Add = Extract<OpNode, { op: 'add' }>;
type Relu = Extract<OpNode, { op: 'relu' }>;

export function swigluForward(c: LowerCtx, n: Swiglu, idx: number): void {
  const { g } = c;
  const a = c.value(n.gate);
  const s = g.op('Sigmoid', [a]);
  const silu = g.mul(a, s);
  c.setValue(n.out, g.mul(silu, c.value(n.up)));
  c.saved.set(idx, { s, silu });
}

/** dup = dy·silu(a); dgate = dy·up·σ(a)·(1 + a·(1 − σ(a))). */
export function swigluBackward(c: LowerCtx, n: Swiglu, idx: number, dout: string): void {
  const { g } = c;
  const { s, silu } = c.saved.get(idx)!;
  if (c.needsGrad(n.up)) c.addGrad(n.up, g.mul(dout, silu));
  if (c.needsGrad(n.gate)) {
    const a = c.value(n.gate);
    const dsilu = g.mul(s, g.add(g.scalar(1), g.mul(a, g.sub(g.scalar(1), s))));
    c.addGrad(n.gate, g.mul(g.mul(dout, c.value(n.up)), dsilu));
  }
}

const K = Math.sqrt(2 / Math.PI);

export function geluForward(c: LowerCtx, n: Gelu, idx: number): void {
  const { g } = c;
  const x = c.value(n.x);
  const x2 = g.mul(x, x);
  const th = g.op('Tanh', [g.mul(g.scalar(K), g.add(x, g.mul(g.scalar(0.044715), g.mul(x2, x))))]);
  c.setValue(n.out, g.mul(g.mul(g.scalar(0.5), x), g.add(g.scalar(1), th)));
  c.saved.set(idx, { th, x2 });
}

/** dx = dy·(0.5(1 + th) + 0.5·x·(1 − th²)·k·(1 + 3·0.044715·x²)). */
export function geluBackward(c: LowerCtx, n: Gelu, idx: number, dout: string): void {
  if (!c.needsGrad(n.x)) return;
  const { g } = c;
  const { th, x2 } = c.saved.get(idx)!;
  const x = c.value(n.x);
  const left = g.mul(g.scalar(0.5), g.add(g.scalar(1), th));
  const sech2 = g.sub(g.scalar(1), g.mul(th, th));
  const inner = g.mul(g.scalar(K), g.add(g.scalar(1), g.mul(g.scalar(3 * 0.044715), x2)));
  const right = g.mul(g.mul(g.scalar(0.5), x), g.mul(sech2, inner));
  c.addGrad(n.x, g.mul(dout, g.add(left, right)));
}

/** Exact GELU: y = x·Φ(x), Φ(x) = 0.5·(1 + erf(x/√2)) (erf.ts: ONNX Erf, or composed in float64 graphs). */
export function geluErfForward(c: LowerCtx, n: GeluErf, idx: number): void {
  const { g } = c;
  const x = c.value(n.x);
  const phi = g.mul(g.scalar(0.5), g.add(g.scalar(1), erfValue(g, g.mul(x, g.scalar(Math.SQRT1_2)))));
  c.setValue(n.out, g.mul(x, phi));
  c.saved.set(idx, { phi });
}

/** dx = dy·(Φ(x) + x·e^(−x²/2)/√(2π)). */
export function geluErfBackward(c: LowerCtx, n: GeluErf, idx: number, dout: string): void {
  if (!c.needsGrad(n.x)) return;
  const { g } = c;
  const { phi } = c.saved.get(idx)!;
  const x = c.value(n.x);
  const pdf = g.mul(g.op('Exp', [g.mul(g.mul(x, x), g.scalar(-0.5))]), g.scalar(1 / Math.sqrt(2 * Math.PI)));
  c.addGrad(n.x, g.mul(dout, g.add(phi, g.mul(x, pdf))));
}

/** y = max(0, x) (ONNX Relu). */
export function reluForward(c: LowerCtx, n: Relu): void {
  c.setValue(n.out, c.g.op('Relu', [c.value(n.x)]));
}

/** dx = dy·[x > 0] (0 at x = 0, as torch). */
export function reluBackward(c: LowerCtx, n: Relu, dout: string): void {
  if (!c.needsGrad(n.x)) return;
  const { g } = c;
  const x = c.value(n.x);
  const positive = g.op('Greater', [x, g.scalar(0)]);
  c.addGrad(n.x, g.op('Where', [positive, dout, g.mul(dout, g.scalar(0))]));
}

export function addForward(c: LowerCtx, n: Add): void {
  c.setValue(n.out, c.g.add(c.value(n.a), c.value(n.b)));
}

export function addBackward(c: LowerCtx, n: Add, dout: string): void {
  if (c.needsGrad(n.a)) c.addGrad(n.a, dout);
  if (c.needsGrad(n.b)) c.addGrad(n.b, dout);
}
