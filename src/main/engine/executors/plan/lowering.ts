// The device plan's lowering table: each IR op's forward steps and backward steps, side by side. Exhaustive over
// OpNode['op']: an op without an entry is a type error here. plan.ts walks the program (forward, the fused LM
// head + loss, then autodiff.ts's reverse walk with its checkpoint replays) and calls these entries.

import type { OpNode } from '../../../model/ir.ts';
import type { LoraRef, Step } from './steps.ts';

export type Op = OpNode['op'];
export type NodeOf<K extends Op> = Extract<OpNode, { op: K }>;

/** Where a backward step writes an input's gradient, and the step (accumulate) to run after it, if any. */
export interface GradTarget {
  id: number;
  after: Step | null;
}

export interface PlanCtx {
  newTensor(name: string, dtype: 'act' | 'f32' | 'u8', width: number): number;
  width(activation: string): number;
  /** The logical tensor currently holding an activation. */
  get(activation: string): number;
  /** A fresh output tensor for the node in this phase ('forward', 'recompute'), now the activation's holder. */
  out(n: OpNode, phase: string): number;
  /** Node index → its saved tensors (rstd, lse, LoRA h, …). */
  saved: Map<number, Record<string, number>>;
  loraRef(n: NodeOf<'linear'>, idx: number, phase: string): LoraRef | null;
  /** Offset in the flat trainables of a param that trains in full, else null (a frozen device weight). */
  trainedAt(param: string | null): number | null;
  emit(s: Step): void;
  /** Activation → its gradient tensor. */
  grad: Map<string, number>;
  wants(activation: string): boolean;
  /** The gradient tensor of an activation if first, else a temporary then an accumulate. */
  gradOut(activation: string): GradTarget;
  /** gradOut for an input that wants a gradient, a scratch tensor nobody reads otherwise. */
  target(activation: string): GradTarget;
}

export interface PlanLowering<K extends Op> {
  forward(c: PlanCtx, n: NodeOf<K>, idx: number, phase: string): void;
  /** push: a backward step, with the accumulate steps that must follow the node's backward. */
  backward(c: PlanCtx, n: NodeOf<K>, idx: number, dout: number, push: (s: Step, ...after: (Step | null)[]) => void): void;
}

const attentionScale = (n: NodeOf<'attention'>) => n.scale ?? 1 / Math.sqrt(n.HD);

export const PLAN_LOWERING: { [K in Op]: PlanLowering<K> } = {
  embedding: {
    forward: (c, n, _i, phase) => c.emit({ kind: 'embedding', weight: n.weight, out: c.out(n, phase), width: n.width, scale: n.scale }),
    backward: () => {}, // frozen tables (checkSupported): nothing to do
  },
  position_embedding: {
    forward: (c, n, _i, phase) => c.emit({ kind: 'position_embedding', weight: n.weight, out: c.out(n, phase), width: n.width, offset: n.offset ?? 0 }),
    backward: () => {},
  },
  token_type_embedding: {
    forward: (c, n, _i, phase) => c.emit({ kind: 'token_type_embedding', weight: n.weight, out: c.out(n, phase), width: n.width }),
    backward: () => {}, // frozen tables (checkSupported)
  },
  rmsnorm: {
    forward(c, n, idx, phase) {
      const x = c.get(n.x);
      const rstd = c.newTensor(`${n.out}:rstd`, 'f32', c.width(n.out) / n.width);
      c.saved.set(idx, { rstd });
      c.emit({ kind: 'rmsnorm', x, weight: n.weight, out: c.out(n, phase), rstd, width: n.width, eps: n.eps, plusOne: n.plusOne });
    },
    backward(c, n, idx, dout, push) {
      const t = c.target(n.x);
      push({ kind: 'rmsnorm_bwd', dout, x: c.get(n.x), weight: n.weight, rstd: c.saved.get(idx)!.rstd, dx: t.id, width: n.width, plusOne: n.plusOne }, t.after);
    },
  },
  layernorm: {
    forward(c, n, idx, phase) {
      const x = c.get(n.x);
      const mean = c.newTensor(`${n.out}:mean`, 'f32', 1);
      const rstd = c.newTensor(`${n.out}:rstd`, 'f32', 1);
      c.saved.set(idx, { mean, rstd });
      c.emit({ kind: 'layernorm', x, weight: n.weight, bias: n.bias, out: c.out(n, phase), mean, rstd, width: n.width, eps: n.eps });
    },
    backward(c, n, idx, dout, push) {
      const t = c.target(n.x);
      const s = c.saved.get(idx)!;
      push({ kind: 'layernorm_bwd', dout, x: c.get(n.x), weight: n.weight, mean: s.mean, rstd: s.rstd, dx: t.id, width: n.width }, t.after);
    },
  },
  linear: {
    forward(c, n, idx, phase) {
      const x = c.get(n.x);
      c.saved.delete(idx); // a recompute gets fresh saved tensors
      const lora = c.loraRef(n, idx, phase);
      if (lora) c.saved.set(idx, { h: lora.h });
      c.emit({ kind: 'linear', x, out: c.out(n, phase), weight: n.weight, bias: n.bias, inF: n.inF, outF: n.outF, lora, trainW: c.trainedAt(n.weight), trainB: c.trainedAt(n.bias) });
    },
    backward(c, n, idx, dout, push) {
      let dx: number | null = null;
      let dxAccumulate = false;
      if (c.wants(n.x)) {
        // the GEMM accumulates into an existing gradient directly (q/k/v all read the same normed x)
        dxAccumulate = c.grad.has(n.x);
        dx = dxAccumulate ? c.grad.get(n.x)! : c.gradOut(n.x).id;
      }
      let lora: (LoraRef & { dh: number }) | null = null;
      if (n.lora) {
        const ref = c.loraRef(n, idx, 'backward')!;
        lora = { ...ref, dh: c.newTensor(`${n.module}:lora_dh`, 'f32', n.lora.r) };
      }
      push({ kind: 'linear_bwd', dout, x: c.get(n.x), weight: n.weight, inF: n.inF, outF: n.outF, dx, dxAccumulate, lora, trainW: c.trainedAt(n.weight), trainB: c.trainedAt(n.bias) });
    },
  },
  slice: {
    forward: (c, n, _i, phase) => c.emit({ kind: 'slice', x: c.get(n.x), out: c.out(n, phase), start: n.start, width: n.width, inWidth: n.inWidth }),
    backward(c, n, _idx, dout, push) {
      // each slice adds its columns into x's gradient; a fresh gradient starts from zero
      if (!c.wants(n.x)) return;
      let dx = c.grad.get(n.x);
      if (dx === undefined) {
        dx = c.newTensor(`grad:${n.x}`, 'act', c.width(n.x));
        c.grad.set(n.x, dx);
        push({ kind: 'zero', dst: dx, width: c.width(n.x) });
      }
      push({ kind: 'slice_bwd', dout, dx, start: n.start, width: n.width, inWidth: n.inWidth });
    },
  },
  rope: {
    forward: (c, n, _i, phase) => c.emit({ kind: 'rope', x: c.get(n.x), out: c.out(n, phase), heads: n.heads, headDim: n.headDim, local: n.local ?? false }),
    backward(c, n, _idx, dout, push) {
      const t = c.target(n.x);
      push({ kind: 'rope_bwd', dout, dx: t.id, heads: n.heads, headDim: n.headDim, local: n.local ?? false }, t.after);
    },
  },
  attention: {
    forward(c, n, idx, phase) {
      const [q, k, v] = [c.get(n.q), c.get(n.k), c.get(n.v)];
      const lse = c.newTensor(`${n.out}:lse`, 'f32', n.NH);
      c.saved.set(idx, { lse });
      c.emit({ kind: 'attention', q, k, v, out: c.out(n, phase), lse, NH: n.NH, NKV: n.NKV, HD: n.HD, window: n.window ?? 0, scale: attentionScale(n), causal: n.causal ?? true });
    },
    backward(c, n, idx, dout, push) {
      const tq = c.target(n.q), tk = c.target(n.k), tv = c.target(n.v);
      push({
        kind: 'attention_bwd', dout, out: c.get(n.out), q: c.get(n.q), k: c.get(n.k), v: c.get(n.v), lse: c.saved.get(idx)!.lse,
        dq: tq.id, dk: tk.id, dv: tv.id, delta: c.newTensor(`${n.out}:delta`, 'f32', n.NH), NH: n.NH, NKV: n.NKV, HD: n.HD, window: n.window ?? 0, scale: attentionScale(n), causal: n.causal ?? true,
      }, tq.after, tk.after, tv.after);
    },
  },
  swiglu: {
    forward: (c, n, _i, phase) => c.emit({ kind: 'swiglu', gate: c.get(n.gate), up: c.get(n.up), out: c.out(n, phase), width: n.width }),
    backward(c, n, _idx, dout, push) {
      const tg = c.target(n.gate), tu = c.target(n.up);
      push({ kind: 'swiglu_bwd', dout, gate: c.get(n.gate), up: c.get(n.up), dgate: tg.id, dup: tu.id, width: n.width }, tg.after, tu.after);
    },
  },
  geglu: {
    forward: (c, n, _i, phase) => c.emit({ kind: 'geglu', gate: c.get(n.gate), up: c.get(n.up), out: c.out(n, phase), width: n.width }),
    backward(c, n, _idx, dout, push) {
      const tg = c.target(n.gate), tu = c.target(n.up);
      push({ kind: 'geglu_bwd', dout, gate: c.get(n.gate), up: c.get(n.up), dgate: tg.id, dup: tu.id, width: n.width }, tg.after, tu.after);
    },
  },
  softcap: {
    forward: (c, n, _i, phase) => c.emit({ kind: 'softcap', x: c.get(n.x), out: c.out(n, phase), width: n.width, cap: n.cap }),
    backward(c, n, _idx, dout, push) {
      const t = c.target(n.x);
      push({ kind: 'softcap_bwd', dout, x: c.get(n.x), dx: t.id, width: n.width, cap: n.cap }, t.after);
    },
  },
  gelu_tanh: {
    forward: (c, n, _i, phase) => c.emit({ kind: 'gelu', x: c.get(n.x), out: c.out(n, phase), width: n.width }),
    backward(c, n, _idx, dout, push) {
      const t = c.target(n.x);
      push({ kind: 'gelu_bwd', dout, x: c.get(n.x), dx: t.id, width: n.width }, t.after);
    },
  },
  first_token: {
    forward: (c, n, _i, phase) => c.emit({ kind: 'first_token', x: c.get(n.x), out: c.out(n, phase), width: n.width }),
    backward(c, n, _idx, dout, push) {
      const t = c.target(n.x);
      push({ kind: 'first_token_bwd', dout, dx: t.id, width: n.width }, t.after);
    },
  },
  relu: {
    forward: (c, n, _i, phase) => c.emit({ kind: 'relu', x: c.get(n.x), out: c.out(n, phase), width: n.width }),
    backward(c, n, _idx, dout, push) {
      const t = c.target(n.x);
      push({ kind: 'relu_bwd', dout, x: c.get(n.x), dx: t.id, width: n.width }, t.after);
    },
  },
  gelu_erf: {
    forward: (c, n, _i, phase) => c.emit({ kind: 'gelu_erf', x: c.get(n.x), out: c.out(n, phase), width: n.width }),
    backward(c, n, _idx, dout, push) {
      const t = c.target(n.x);
      push({ kind: 'gelu_erf_bwd', dout, x: c.get(n.x), dx: t.id, width: n.width }, t.after);
    },
  },
  add: {
    forward: (c, n, _i, phase) => c.emit({ kind: 'add', a: c.get(n.a), b: c.get(n.b), out: c.out(n, phase), width: n.width }),
    backward(c, n, _idx, dout, push) {
      // gradient flows unchanged into both inputs: the first takes over dout's buffer (nothing reads dout after
      // this node), the second gets a copy, or each is accumulated where it already has a gradient
      for (const [i, name] of [n.a, n.b].entries()) {
        if (!c.wants(name)) continue;
        const cur = c.grad.get(name);
        if (cur !== undefined) push({ kind: 'accumulate', src: dout, dst: cur, width: n.width });
        else if (i === 0 && n.a !== n.b) c.grad.set(name, dout);
        else {
          const id = c.newTensor(`grad:${name}`, 'act', c.width(name));
          c.grad.set(name, id);
          push({ kind: 'copy', src: dout, dst: id, width: n.width });
        }
      }
    },
  },
  // Combining frozen adapters with trained weights (engine/fusion/): their trainables are not LoRA A/B, so
  // checkSupported refuses such programs and `auto` trains them on the CPU; no device steps exist for them yet.
  adapter_mix: {
    forward: (_c, n) => {
      throw new Error(`device plan: learned adapter weights (${n.out}) are not lowered yet; use the CPU executor`);
    },
    backward: () => {},
  },
  adapter_fusion: {
    forward: (_c, n) => {
      throw new Error(`device plan: AdapterFusion attention (${n.out}) is not lowered yet; use the CPU executor`);
    },
    backward: () => {},
  },
};

/** The table entry of a node, typed by its op. */
export function planLowering<K extends Op>(n: NodeOf<K>): PlanLowering<K> {
  return PLAN_LOWERING[n.op] as PlanLowering<K>;
}
