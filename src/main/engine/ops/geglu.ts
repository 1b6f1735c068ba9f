// GeGLU gate of Gemma's MLP: out = gelu_tanh(gate) ⊙ up (transformers: act_fn(gate_proj(x)) * up_proj(x)).
import { geluTanhBackward, geluTanhForward } from './gelu.ts';

export function gegluForward(out: Float64Array, gate: Float64Array, up: Float64Array, n: number): void {
  geluTanhForward(out, gate, n);
  for (let i = 0; i < n; i++) out[i] *= up[i];
}

/** dup = dout·gelu(gate); dgate = dout·up·gelu'(gate). Both assigned. */
export function gegluBackward(dgate: Float64Array, dup: Float64Array, dout: Float64Array, gate: Float64Array, up: Float64Array, n: number): void {
  geluTanhForward(dup, gate, n);
  for (let i = 0; i < n; i++) dup[i] *= dout[i];
  const dg = new Float64Array(n);
  for (let i = 0; i < n; i++) dg[i] = dout[i] * up[i];
  geluTanhBackward(dgate, dg, gate, n);
}
