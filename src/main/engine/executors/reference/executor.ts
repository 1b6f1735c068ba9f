// The float64 reference executor: runs a Program with the op references and differentiates it by walking the
// tape backwards. Slow and exact — the oracle for finite-difference checks and for every other executor.

import type { OpNode, Program } from '../../ir.ts';
import { backwardWalk, GradientTape, type BackwardWalk } from '../../autodiff.ts';
import type { BatchInputs } from '../../batch-inputs.ts';
import { embeddingBackward, embeddingForward } from '../../ops/embedding.ts';
import { rmsnormBackward, rmsnormForward } from '../../ops/rmsnorm.ts';
import { layernormBackward, layernormForward } from '../../ops/layernorm.ts';
import { linearBackward, linearForward, type LoraBranch, type LoraSaved } from '../../ops/linear.ts';
import { ropeBackward, ropeForward } from '../../ops/rope.ts';
import { attentionBackward, attentionForward } from '../../ops/attention.ts';
import { swigluBackward, swigluForward } from '../../ops/swiglu.ts';
import { geluTanhBackward, geluTanhForward } from '../../ops/gelu.ts';
import { crossEntropyBackward, crossEntropyForward } from '../../ops/cross-entropy.ts';
import { gegluBackward, gegluForward } from '../../ops/geglu.ts';
import { softcapBackward, softcapForward } from '../../ops/softcap.ts';

export type Weights64 = Map<string, Float64Array>;

export interface ReferenceForward {
  lossSum: number;
  tokens: number;
  nll: Float64Array; // (N)
  logits: Float64Array; // (N, V)
  acts: Map<string, Float64Array>;
  saved: Map<number, unknown>; // node index → what its backward needs
  probs: Float64Array;
}

export class ReferenceExecutor {
  readonly needGrad: Set<string>;
  private readonly walk: BackwardWalk;
  constructor(readonly program: Program, readonly weights: Weights64) {
    for (const d of program.params) {
      const w = weights.get(d.name);
      const size = d.shape.reduce((a, b) => a * b, 1);
      if (!w) throw new Error(`reference executor: missing weight ${d.name} ${JSON.stringify(d.shape)}`);
      if (w.length !== size) throw new Error(`reference executor: ${d.name} has ${w.length} values, shape ${JSON.stringify(d.shape)} needs ${size}`);
    }
    this.walk = backwardWalk(program);
    this.needGrad = this.walk.needGrad;
  }

  private lora(n: OpNode & { op: 'linear' }, N: number, masks: Map<string, Float64Array>): LoraBranch | null {
    if (!n.lora) return null;
    return { A: this.w(n.lora.A), B: this.w(n.lora.B), r: n.lora.r, scale: n.lora.scale, dropMask: masks.get(n.module) ?? null };
  }
  private w(name: string): Float64Array {
    return this.weights.get(name)!;
  }

  forward(inp: BatchInputs, masks: Map<string, Float64Array> = new Map()): ReferenceForward {
    const { N } = inp;
    const acts = new Map<string, Float64Array>();
    const saved = new Map<number, unknown>();
    const get = (name: string) => acts.get(name) ?? this.w(name);
    const alloc = (name: string) => {
      const a = new Float64Array(N * this.program.widths.get(name)!);
      acts.set(name, a);
      return a;
    };
    this.program.nodes.forEach((n, idx) => {
      switch (n.op) {
        case 'embedding': {
          const out = alloc(n.out);
          embeddingForward(out, inp.ids, this.w(n.weight), N, n.width, this.program.vocab);
          if (n.scale !== 1) for (let i = 0; i < out.length; i++) out[i] *= n.scale;
          break;
        }
        case 'position_embedding':
          embeddingForward(alloc(n.out), inp.positions, this.w(n.weight), N, n.width, this.w(n.weight).length / n.width);
          break;
        case 'slice': {
          const x = get(n.x);
          const out = alloc(n.out);
          for (let r = 0; r < N; r++) out.set(x.subarray(r * n.inWidth + n.start, r * n.inWidth + n.start + n.width), r * n.width);
          break;
        }
        case 'geglu':
          gegluForward(alloc(n.out), get(n.gate), get(n.up), N * n.width);
          break;
        case 'softcap':
          softcapForward(alloc(n.out), get(n.x), N * n.width, n.cap);
          break;
        case 'rmsnorm': {
          const x = get(n.x);
          const R = x.length / n.width;
          const rstd = new Float64Array(R);
          rmsnormForward(alloc(n.out), rstd, x, this.w(n.weight), R, n.width, n.eps, n.plusOne);
          saved.set(idx, rstd);
          break;
        }
        case 'layernorm': {
          const x = get(n.x);
          const R = x.length / n.width;
          const mean = new Float64Array(R);
          const rstd = new Float64Array(R);
          layernormForward(alloc(n.out), mean, rstd, x, this.w(n.weight), this.w(n.bias), R, n.width, n.eps);
          saved.set(idx, { mean, rstd });
          break;
        }
        case 'linear':
          saved.set(idx, linearForward(alloc(n.out), get(n.x), this.w(n.weight), n.bias ? this.w(n.bias) : null, this.lora(n, N, masks), N, n.inF, n.outF));
          break;
        case 'rope':
          ropeForward(alloc(n.out), get(n.x), n.local ? inp.cosLocal! : inp.cos!, n.local ? inp.sinLocal! : inp.sin!, N, n.heads, n.headDim);
          break;
        case 'attention': {
          const bias = n.window === null ? inp.bias : inp.windowBias.get(n.window)!;
          saved.set(idx, attentionForward(alloc(n.out), get(n.q), get(n.k), get(n.v), bias, { B: inp.B, T: inp.T, NH: n.NH, NKV: n.NKV, HD: n.HD, scale: n.scale }));
          break;
        }
        case 'swiglu':
          swigluForward(alloc(n.out), get(n.gate), get(n.up), N * n.width);
          break;
        case 'gelu_tanh':
          geluTanhForward(alloc(n.out), get(n.x), N * n.width);
          break;
        case 'add': {
          const a = get(n.a);
          const b = get(n.b);
          const out = alloc(n.out);
          for (let i = 0; i < out.length; i++) out[i] = a[i] + b[i];
          break;
        }
      }
    });
    const logits = acts.get(this.program.logits)!;
    const ce = crossEntropyForward(logits, inp.labels, N, this.program.vocab);
    return { lossSum: ce.lossSum, tokens: ce.tokens, nll: ce.nll, logits, acts, saved, probs: ce.probs };
  }

  /** Gradients of lossSum w.r.t. every trainable param (fresh zeroed buffers, then accumulated by the ops). */
  backward(inp: BatchInputs, fwd: ReferenceForward, masks: Map<string, Float64Array> = new Map()): Map<string, Float64Array> {
    const { N } = inp;
    const pgrads = new Map<string, Float64Array>();
    for (const d of this.program.params) if (d.trainable) pgrads.set(d.name, new Float64Array(this.w(d.name).length));
    const get = (name: string) => fwd.acts.get(name) ?? this.w(name);
    // Activation gradients are assigned by the ops into fresh buffers and summed where a tensor fans out.
    const agrads = new GradientTape<Float64Array>((cur, g) => {
      for (let i = 0; i < cur.length; i++) cur[i] += g[i];
      return cur;
    }, (name) => this.walk.wantsActivation(name) && fwd.acts.has(name));
    const addGrad = (name: string, g: Float64Array) => agrads.add(name, g);
    const wantsX = (name: string) => this.walk.wantsActivation(name) && fwd.acts.has(name);
    const dlogits = new Float64Array(fwd.logits.length);
    crossEntropyBackward(dlogits, fwd.probs, inp.labels, N, this.program.vocab);
    agrads.set(this.program.logits, dlogits);
    for (const visit of this.walk.visits) {
      if (visit.kind !== 'node') continue; // the reference keeps every activation: nothing to replay
      const { idx, node: n } = visit;
      const dout = agrads.get(n.out);
      if (!dout) throw new Error(`reference executor: the backward walk reached ${n.out} but no gradient was produced for it`);
      const pg = (name: string | null) => (name ? pgrads.get(name) ?? null : null);
      switch (n.op) {
        case 'embedding': {
          const dw = pg(n.weight);
          if (dw) {
            const scaled = n.scale === 1 ? dout : dout.map((v) => v * n.scale);
            embeddingBackward(dw, scaled, inp.ids, N, n.width);
          }
          break;
        }
        case 'position_embedding': {
          const dw = pg(n.weight);
          if (dw) embeddingBackward(dw, dout, inp.positions, N, n.width);
          break;
        }
        case 'slice': {
          const dx = new Float64Array(N * n.inWidth);
          for (let r = 0; r < N; r++) dx.set(dout.subarray(r * n.width, (r + 1) * n.width), r * n.inWidth + n.start);
          addGrad(n.x, dx);
          break;
        }
        case 'geglu': {
          const dg = new Float64Array(dout.length);
          const du = new Float64Array(dout.length);
          gegluBackward(dg, du, dout, get(n.gate), get(n.up), dout.length);
          addGrad(n.gate, dg);
          addGrad(n.up, du);
          break;
        }
        case 'softcap': {
          const dx = new Float64Array(dout.length);
          softcapBackward(dx, dout, get(n.x), dout.length, n.cap);
          addGrad(n.x, dx);
          break;
        }
        case 'rmsnorm': {
          const x = get(n.x);
          const dx = new Float64Array(x.length);
          rmsnormBackward(dx, pg(n.weight), dout, x, this.w(n.weight), fwd.saved.get(idx) as Float64Array, x.length / n.width, n.width, n.plusOne);
          addGrad(n.x, dx);
          break;
        }
        case 'layernorm': {
          const x = get(n.x);
          const dx = new Float64Array(x.length);
          const s = fwd.saved.get(idx) as { mean: Float64Array; rstd: Float64Array };
          layernormBackward(dx, pg(n.weight), pg(n.bias), dout, x, this.w(n.weight), s.mean, s.rstd, x.length / n.width, n.width);
          addGrad(n.x, dx);
          break;
        }
        case 'linear': {
          const x = get(n.x);
          const dx = wantsX(n.x) ? new Float64Array(x.length) : null;
          linearBackward(
            { dx, dW: pg(n.weight), db: pg(n.bias), dA: n.lora ? pg(n.lora.A) : null, dB: n.lora ? pg(n.lora.B) : null },
            dout, x, this.w(n.weight), this.lora(n, N, masks), fwd.saved.get(idx) as LoraSaved | null, N, n.inF, n.outF,
          );
          if (dx) addGrad(n.x, dx);
          break;
        }
        case 'rope': {
          const dx = new Float64Array(dout.length);
          ropeBackward(dx, dout, n.local ? inp.cosLocal! : inp.cos!, n.local ? inp.sinLocal! : inp.sin!, N, n.heads, n.headDim);
          addGrad(n.x, dx);
          break;
        }
        case 'attention': {
          const q = get(n.q);
          const k = get(n.k);
          const v = get(n.v);
          const dq = new Float64Array(q.length);
          const dk = new Float64Array(k.length);
          const dv = new Float64Array(v.length);
          attentionBackward(dq, dk, dv, dout, q, k, v, fwd.saved.get(idx) as Float64Array, { B: inp.B, T: inp.T, NH: n.NH, NKV: n.NKV, HD: n.HD, scale: n.scale });
          addGrad(n.q, dq);
          addGrad(n.k, dk);
          addGrad(n.v, dv);
          break;
        }
        case 'swiglu': {
          const dg = new Float64Array(dout.length);
          const du = new Float64Array(dout.length);
          swigluBackward(dg, du, dout, get(n.gate), get(n.up), dout.length);
          addGrad(n.gate, dg);
          addGrad(n.up, du);
          break;
        }
        case 'gelu_tanh': {
          const dx = new Float64Array(dout.length);
          geluTanhBackward(dx, dout, get(n.x), dout.length);
          addGrad(n.x, dx);
          break;
        }
        case 'add':
          addGrad(n.a, dout.slice());
          addGrad(n.b, dout.slice());
          break;
      }
    }
    return pgrads;
  }
}
