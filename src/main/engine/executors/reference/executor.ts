// The float64 reference executor: runs a Program with the op references and differentiates it by walking the
// tape backwards. Slow and exact — the oracle for finite-difference checks and for every other executor.
// Each op's forward and backward live in lowering.ts; the backward order and fan-in come from autodiff.ts.

import type { OpNode, Program } from '../../../model/ir.ts';
import { backwardWalk, GradientTape, type BackwardWalk } from '../../autodiff.ts';
import type { BatchInputs } from '../../batch-inputs.ts';
import type { LoraBranch } from '../../ops/linear.ts';
import { lossBackward, lossForward } from './loss.ts';
import { referenceLowering, type ReferenceForwardCtx } from './lowering.ts';

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

  private lora(n: OpNode & { op: 'linear' }, masks: Map<string, Float64Array>): LoraBranch | null {
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
    const ctx: ReferenceForwardCtx = {
      N, inp, vocab: this.program.vocab,
      get: (name) => acts.get(name) ?? this.w(name),
      w: (name) => this.w(name),
      alloc: (name) => {
        const a = new Float64Array(N * this.program.widths.get(name)!);
        acts.set(name, a);
        return a;
      },
      lora: (n) => this.lora(n, masks),
    };
    this.program.nodes.forEach((n, idx) => {
      const s = referenceLowering(n).forward(n, ctx);
      if (s !== undefined) saved.set(idx, s);
    });
    const logits = acts.get(this.program.logits)!;
    const loss = lossForward(this.program, logits, inp);
    return { lossSum: loss.lossSum, tokens: loss.tokens, nll: loss.nll, logits, acts, saved, probs: loss.probs };
  }

  /** Gradients of lossSum w.r.t. every trainable param (fresh zeroed buffers, then accumulated by the ops). */
  backward(inp: BatchInputs, fwd: ReferenceForward, masks: Map<string, Float64Array> = new Map()): Map<string, Float64Array> {
    const { N } = inp;
    const pgrads = new Map<string, Float64Array>();
    for (const d of this.program.params) if (d.trainable) pgrads.set(d.name, new Float64Array(this.w(d.name).length));
    // Activation gradients are assigned by the ops into fresh buffers and summed where a tensor fans out.
    const wants = (name: string) => this.walk.wantsActivation(name) && fwd.acts.has(name);
    const agrads = new GradientTape<Float64Array>((cur, g) => {
      for (let i = 0; i < cur.length; i++) cur[i] += g[i];
      return cur;
    }, wants);
    agrads.set(this.program.logits, lossBackward(this.program, fwd.logits, fwd, inp));
    const base = {
      N, inp, vocab: this.program.vocab, wants,
      get: (name: string) => fwd.acts.get(name) ?? this.w(name),
      w: (name: string) => this.w(name),
      alloc: () => { throw new Error('reference executor: backward allocates no activations'); },
      lora: (n: OpNode & { op: 'linear' }) => this.lora(n, masks),
      pg: (name: string | null) => (name ? pgrads.get(name) ?? null : null),
      addGrad: (name: string, g: Float64Array) => agrads.add(name, g),
    };
    for (const visit of this.walk.visits) {
      if (visit.kind !== 'node') continue; // the reference keeps every activation: nothing to replay
      const { idx, node: n } = visit;
      const dout = agrads.get(n.out);
      if (!dout) throw new Error(`reference executor: the backward walk reached ${n.out} but no gradient was produced for it`);
      referenceLowering(n).backward(n, { ...base, saved: fwd.saved.get(idx) }, dout);
    }
    return pgrads;
  }
}
