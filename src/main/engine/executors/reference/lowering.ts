// The reference executor's lowering table: each IR op's forward and backward on the float64 op references
// (ops/*.ts), side by side. Exhaustive over OpNode['op']: an op without an entry is a type error here.

import type { OpNode } from '../../../model/ir.ts';
import { biasOf, type BatchInputs } from '../../batch-inputs.ts';
import { embeddingBackward, embeddingForward } from '../../ops/embedding.ts';
import { rmsnormBackward, rmsnormForward } from '../../ops/rmsnorm.ts';
import { layernormBackward, layernormForward } from '../../ops/layernorm.ts';
import { linearBackward, linearForward, type LoraBranch, type LoraSaved } from '../../ops/linear.ts';
import { ropeBackward, ropeForward } from '../../ops/rope.ts';
import { attentionBackward, attentionForward } from '../../ops/attention.ts';
import { swigluBackward, swigluForward } from '../../ops/swiglu.ts';
import { geluErfBackward, geluErfForward, geluTanhBackward, geluTanhForward } from '../../ops/gelu.ts';
import { reluBackward, reluForward } from '../../ops/relu.ts';
import { gegluBackward, gegluForward } from '../../ops/geglu.ts';
import { softcapBackward, softcapForward } from '../../ops/softcap.ts';
import { firstTokenBackward, firstTokenForward } from '../../ops/pooling.ts';
import { adapterMixBackward, adapterMixForward } from '../../ops/adapter-mix.ts';
import { adapterFusionBackward, adapterFusionForward, type FusionSaved } from '../../ops/adapter-fusion.ts';

export type Op = OpNode['op'];
export type NodeOf<K extends Op> = Extract<OpNode, { op: K }>;

export interface ReferenceForwardCtx {
  N: number;
  inp: BatchInputs;
  vocab: number;
  /** An activation or a weight. */
  get(name: string): Float64Array;
  /** A weight. */
  w(name: string): Float64Array;
  /** A fresh (N, width) buffer for an activation. */
  alloc(name: string): Float64Array;
  lora(n: NodeOf<'linear'>): LoraBranch | null;
}

export interface ReferenceBackwardCtx extends ReferenceForwardCtx {
  /** What this node's forward returned. */
  saved: unknown;
  /** The gradient buffer of a trainable param (accumulated into), or null when it is frozen. */
  pg(name: string | null): Float64Array | null;
  /** Whether an activation input wants a gradient. */
  wants(name: string): boolean;
  /** Hands an input's gradient (a fresh buffer) to the walk, which sums it where the input fans out. */
  addGrad(name: string, g: Float64Array): void;
}

export interface ReferenceLowering<K extends Op> {
  /** Computes the node's output; returns what its backward needs (or nothing). */
  forward(n: NodeOf<K>, c: ReferenceForwardCtx): unknown;
  backward(n: NodeOf<K>, c: ReferenceBackwardCtx, dout: Float64Array): void;
}

/** act(gate) ⊙ up ops (SwiGLU, GeGLU): the same wiring around their forward and backward. */
function gated<K extends 'swiglu' | 'geglu'>(
  forward: (out: Float64Array, gate: Float64Array, up: Float64Array, n: number) => void,
  backward: (dgate: Float64Array, dup: Float64Array, dout: Float64Array, gate: Float64Array, up: Float64Array, n: number) => void,
): ReferenceLowering<K> {
  type Gated = NodeOf<'swiglu' | 'geglu'>;
  return {
    forward(node, c) {
      const n = node as Gated;
      forward(c.alloc(n.out), c.get(n.gate), c.get(n.up), c.N * n.width);
    },
    backward(node, c, dout) {
      const n = node as Gated;
      const dg = new Float64Array(dout.length);
      const du = new Float64Array(dout.length);
      backward(dg, du, dout, c.get(n.gate), c.get(n.up), dout.length);
      c.addGrad(n.gate, dg);
      c.addGrad(n.up, du);
    },
  };
}

/** y = f(x) ops (the GELUs, ReLU): the same wiring around their forward and backward. */
function elementwise<K extends 'gelu_tanh' | 'gelu_erf' | 'relu'>(
  forward: (out: Float64Array, x: Float64Array, n: number) => void,
  backward: (dx: Float64Array, dout: Float64Array, x: Float64Array, n: number) => void,
): ReferenceLowering<K> {
  type Unary = NodeOf<'gelu_tanh' | 'gelu_erf' | 'relu'>;
  return {
    forward(node, c) {
      const n = node as Unary;
      forward(c.alloc(n.out), c.get(n.x), c.N * n.width);
    },
    backward(node, c, dout) {
      const n = node as Unary;
      const dx = new Float64Array(dout.length);
      backward(dx, dout, c.get(n.x), dout.length);
      c.addGrad(n.x, dx);
    },
  };
}

/** Rows of a position table: each token's position, plus the node's offset (RoBERTa's padding_idx + 1). */
const positionRows = (n: NodeOf<'position_embedding'>, inp: BatchInputs) => (n.offset ? inp.positions.map((p) => p + n.offset!) : inp.positions);

const ropeTables = (n: NodeOf<'rope'>, inp: BatchInputs) => (n.local ? { cos: inp.cosLocal!, sin: inp.sinLocal! } : { cos: inp.cos!, sin: inp.sin! });

export const REFERENCE_LOWERING: { [K in Op]: ReferenceLowering<K> } = {
  embedding: {
    forward(n, c) {
      const out = c.alloc(n.out);
      // the table's own rows: a task head's logits (Program.vocab) are not the word vocabulary
      embeddingForward(out, c.inp.ids, c.w(n.weight), c.N, n.width, c.w(n.weight).length / n.width);
      if (n.scale !== 1) for (let i = 0; i < out.length; i++) out[i] *= n.scale;
    },
    backward(n, c, dout) {
      const dw = c.pg(n.weight);
      if (dw) embeddingBackward(dw, n.scale === 1 ? dout : dout.map((v) => v * n.scale), c.inp.ids, c.N, n.width);
    },
  },
  position_embedding: {
    forward: (n, c) => embeddingForward(c.alloc(n.out), positionRows(n, c.inp), c.w(n.weight), c.N, n.width, c.w(n.weight).length / n.width),
    backward(n, c, dout) {
      const dw = c.pg(n.weight);
      if (dw) embeddingBackward(dw, dout, positionRows(n, c.inp), c.N, n.width);
    },
  },
  token_type_embedding: {
    forward: (n, c) => embeddingForward(c.alloc(n.out), c.inp.tokenTypes, c.w(n.weight), c.N, n.width, c.w(n.weight).length / n.width),
    backward(n, c, dout) {
      const dw = c.pg(n.weight);
      if (dw) embeddingBackward(dw, dout, c.inp.tokenTypes, c.N, n.width);
    },
  },
  slice: {
    forward(n, c) {
      const x = c.get(n.x);
      const out = c.alloc(n.out);
      for (let r = 0; r < c.N; r++) out.set(x.subarray(r * n.inWidth + n.start, r * n.inWidth + n.start + n.width), r * n.width);
    },
    backward(n, c, dout) {
      const dx = new Float64Array(c.N * n.inWidth);
      for (let r = 0; r < c.N; r++) dx.set(dout.subarray(r * n.width, (r + 1) * n.width), r * n.inWidth + n.start);
      c.addGrad(n.x, dx);
    },
  },
  geglu: gated(gegluForward, gegluBackward),
  first_token: {
    forward: (n, c) => firstTokenForward(c.alloc(n.out), c.get(n.x), c.inp.B, c.inp.T, n.width),
    backward(n, c, dout) {
      const dx = new Float64Array(dout.length);
      firstTokenBackward(dx, dout, c.inp.B, c.inp.T, n.width);
      c.addGrad(n.x, dx);
    },
  },
  softcap: {
    forward: (n, c) => softcapForward(c.alloc(n.out), c.get(n.x), c.N * n.width, n.cap),
    backward(n, c, dout) {
      const dx = new Float64Array(dout.length);
      softcapBackward(dx, dout, c.get(n.x), dout.length, n.cap);
      c.addGrad(n.x, dx);
    },
  },
  rmsnorm: {
    forward(n, c) {
      const x = c.get(n.x);
      const R = x.length / n.width;
      const rstd = new Float64Array(R);
      rmsnormForward(c.alloc(n.out), rstd, x, c.w(n.weight), R, n.width, n.eps, n.plusOne);
      return rstd;
    },
    backward(n, c, dout) {
      const x = c.get(n.x);
      const dx = new Float64Array(x.length);
      rmsnormBackward(dx, c.pg(n.weight), dout, x, c.w(n.weight), c.saved as Float64Array, x.length / n.width, n.width, n.plusOne);
      c.addGrad(n.x, dx);
    },
  },
  layernorm: {
    forward(n, c) {
      const x = c.get(n.x);
      const R = x.length / n.width;
      const mean = new Float64Array(R);
      const rstd = new Float64Array(R);
      layernormForward(c.alloc(n.out), mean, rstd, x, c.w(n.weight), c.w(n.bias), R, n.width, n.eps);
      return { mean, rstd };
    },
    backward(n, c, dout) {
      const x = c.get(n.x);
      const dx = new Float64Array(x.length);
      const s = c.saved as { mean: Float64Array; rstd: Float64Array };
      layernormBackward(dx, c.pg(n.weight), c.pg(n.bias), dout, x, c.w(n.weight), s.mean, s.rstd, x.length / n.width, n.width);
      c.addGrad(n.x, dx);
    },
  },
  linear: {
    forward: (n, c) => linearForward(c.alloc(n.out), c.get(n.x), c.w(n.weight), n.bias ? c.w(n.bias) : null, c.lora(n), c.N, n.inF, n.outF),
    backward(n, c, dout) {
      const x = c.get(n.x);
      const dx = c.wants(n.x) ? new Float64Array(x.length) : null;
      linearBackward(
        { dx, dW: c.pg(n.weight), db: c.pg(n.bias), dA: n.lora ? c.pg(n.lora.A) : null, dB: n.lora ? c.pg(n.lora.B) : null },
        dout, x, c.w(n.weight), c.lora(n), c.saved as LoraSaved | null, c.N, n.inF, n.outF,
      );
      if (dx) c.addGrad(n.x, dx);
    },
  },
  rope: {
    forward(n, c) {
      const t = ropeTables(n, c.inp);
      ropeForward(c.alloc(n.out), c.get(n.x), t.cos, t.sin, c.N, n.heads, n.headDim);
    },
    backward(n, c, dout) {
      const t = ropeTables(n, c.inp);
      const dx = new Float64Array(dout.length);
      ropeBackward(dx, dout, t.cos, t.sin, c.N, n.heads, n.headDim);
      c.addGrad(n.x, dx);
    },
  },
  attention: {
    forward(n, c) {
      return attentionForward(c.alloc(n.out), c.get(n.q), c.get(n.k), c.get(n.v), biasOf(c.inp, n), { B: c.inp.B, T: c.inp.T, NH: n.NH, NKV: n.NKV, HD: n.HD, scale: n.scale });
    },
    backward(n, c, dout) {
      const [q, k, v] = [c.get(n.q), c.get(n.k), c.get(n.v)];
      const dq = new Float64Array(q.length);
      const dk = new Float64Array(k.length);
      const dv = new Float64Array(v.length);
      attentionBackward(dq, dk, dv, dout, q, k, v, c.saved as Float64Array, { B: c.inp.B, T: c.inp.T, NH: n.NH, NKV: n.NKV, HD: n.HD, scale: n.scale });
      c.addGrad(n.q, dq);
      c.addGrad(n.k, dk);
      c.addGrad(n.v, dv);
    },
  },
  swiglu: gated(swigluForward, swigluBackward),
  gelu_tanh: elementwise(geluTanhForward, geluTanhBackward),
  gelu_erf: elementwise(geluErfForward, geluErfBackward),
  relu: elementwise(reluForward, reluBackward),
  add: {
    forward(n, c) {
      const [a, b] = [c.get(n.a), c.get(n.b)];
      const out = c.alloc(n.out);
      for (let i = 0; i < out.length; i++) out[i] = a[i] + b[i];
    },
    backward(n, c, dout) {
      c.addGrad(n.a, dout.slice());
      c.addGrad(n.b, dout.slice());
    },
  },
  adapter_mix: {
    forward(n, c) {
      return adapterMixForward(c.alloc(n.out), c.get(n.base), n.deltas.map((d) => c.get(d)), n.adapters, c.w(n.weight), n.softmax);
    },
    backward(n, c, dout) {
      const fresh = (name: string) => (c.wants(name) ? new Float64Array(dout.length) : null);
      const dbase = fresh(n.base);
      const ddeltas = n.deltas.map(fresh);
      adapterMixBackward(dbase, ddeltas, c.pg(n.weight), dout, n.deltas.map((d) => c.get(d)), n.adapters, c.saved as Float64Array, n.softmax);
      if (dbase) c.addGrad(n.base, dbase);
      ddeltas.forEach((g, j) => g && c.addGrad(n.deltas[j], g));
    },
  },
  adapter_fusion: {
    forward(n, c) {
      const dims = { N: c.N, IC: n.inF, W: n.width, D: n.dim, R: n.valueRank };
      const V = { down: c.w(n.valueDown), up: c.w(n.valueUp) };
      return adapterFusionForward(c.alloc(n.out), c.get(n.x), c.get(n.base), n.deltas.map((d) => c.get(d)), c.w(n.query), c.w(n.key), V, dims);
    },
    backward(n, c, dout) {
      const dims = { N: c.N, IC: n.inF, W: n.width, D: n.dim, R: n.valueRank };
      const V = { down: c.w(n.valueDown), up: c.w(n.valueUp) };
      const fresh = (name: string, width: number) => (c.wants(name) ? new Float64Array(c.N * width) : null);
      const gr = { dx: fresh(n.x, n.inF), dbase: fresh(n.base, n.width), ddeltas: n.deltas.map((d) => fresh(d, n.width)), dQ: c.pg(n.query), dK: c.pg(n.key), dVd: c.pg(n.valueDown), dVu: c.pg(n.valueUp) };
      adapterFusionBackward(gr, dout, c.get(n.x), n.deltas.map((d) => c.get(d)), c.w(n.query), c.w(n.key), V, c.saved as FusionSaved, dims);
      if (gr.dx) c.addGrad(n.x, gr.dx);
      if (gr.dbase) c.addGrad(n.base, gr.dbase);
      gr.ddeltas.forEach((g, j) => g && c.addGrad(n.deltas[j], g));
    },
  },
};

/** The table entry of a node (the table is exhaustive, so every op has one). */
export function referenceLowering(n: OpNode): ReferenceLowering<Op> {
  return REFERENCE_LOWERING[n.op] as unknown as ReferenceLowering<Op>;
}
