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

/** Where a combination's trained parameter sits in the flat trainables (it never is a frozen device weight). */
function flatOf(c: PlanCtx, param: string, out: string): number {
  const at = c.trainedAt(param);
  if (at === null) throw new Error(`device plan: ${param} (combining adapters at ${out}) must be trainable: the device reads it from the flat trainables`);
  return at;
}

const fusionFlat = (c: PlanCtx, n: NodeOf<'adapter_fusion'>) => ({
  query: flatOf(c, n.query, n.out), key: flatOf(c, n.key, n.out), valueDown: flatOf(c, n.valueDown, n.out), valueUp: flatOf(c, n.valueUp, n.out),
});

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
  // Combining frozen adapters with trained parameters (engine/fusion/): the base linear and each adapter's branch
  // are ordinary (frozen) linears before this node; the combination's parameters sit in the flat trainables.
  adapter_mix: {
    forward(c, n, _idx, phase) {
      const theta = flatOf(c, n.weight, n.out);
      const out = c.out(n, phase);
      c.emit({ kind: 'copy', src: c.get(n.base), dst: out, width: n.width });
      n.deltas.forEach((d, j) => c.emit({ kind: 'mix_add', x: c.get(d), out, theta, K: n.count, index: n.adapters[j], softmax: n.softmax, width: n.width }));
    },
    backward(c, n, _idx, dout, push) {
      const theta = flatOf(c, n.weight, n.out);
      const mix = { theta, K: n.count, softmax: n.softmax, width: n.width };
      if (c.wants(n.base)) {
        const t = c.target(n.base);
        push({ kind: 'copy', src: dout, dst: t.id, width: n.width }, t.after);
      }
      n.deltas.forEach((d, j) => {
        push({ kind: 'mix_theta_bwd', dout, x: c.get(d), index: n.adapters[j], ...mix });
        if (!c.wants(d)) return;
        const t = c.target(d);
        push({ kind: 'mix_scale_bwd', dout, dx: t.id, index: n.adapters[j], ...mix }, t.after);
      });
    },
  },
  adapter_fusion: {
    forward(c, n, idx, phase) {
      const M = n.deltas.length;
      const f = fusionFlat(c, n);
      const q = c.newTensor(`${n.out}:q`, 'act', n.dim);
      c.emit({ kind: 'fusion_proj', x: c.get(n.x), out: q, w: f.query, inF: n.inF, outF: n.dim, trans: false, accumulate: false });
      const keys = n.deltas.map((d, j) => {
        const k = c.newTensor(`${n.out}:k${j}`, 'act', n.dim);
        c.emit({ kind: 'fusion_proj', x: c.get(d), out: k, w: f.key, inF: n.width, outF: n.dim, trans: false, accumulate: false });
        return k;
      });
      const scores = c.newTensor(`${n.out}:scores`, 'f32', M);
      keys.forEach((k, j) => c.emit({ kind: 'fusion_score', a: q, b: k, dst: scores, index: j, M, width: n.dim }));
      const alpha = c.newTensor(`${n.out}:alpha`, 'f32', M);
      c.emit({ kind: 'fusion_softmax', x: scores, out: alpha, width: M });
      const mix = c.newTensor(`${n.out}:mix`, 'act', n.width);
      n.deltas.forEach((d, j) => c.emit({ kind: 'fusion_mix', x: c.get(d), a: alpha, out: mix, index: j, M, width: n.width }));
      const low = c.newTensor(`${n.out}:low`, 'act', n.valueRank);
      c.emit({ kind: 'fusion_proj', x: mix, out: low, w: f.valueDown, inF: n.width, outF: n.valueRank, trans: false, accumulate: false });
      const base = c.get(n.base);
      const out = c.out(n, phase);
      c.emit({ kind: 'add', a: base, b: mix, out, width: n.width });
      c.emit({ kind: 'fusion_proj', x: low, out, w: f.valueUp, inF: n.valueRank, outF: n.width, trans: true, accumulate: true });
      c.saved.set(idx, { q, alpha, mix, low, ...Object.fromEntries(keys.map((k, j) => [`k${j}`, k])) });
    },
    backward(c, n, idx, dout, push) {
      const M = n.deltas.length;
      const f = fusionFlat(c, n);
      const s = c.saved.get(idx)!;
      if (c.wants(n.base)) {
        const t = c.target(n.base);
        push({ kind: 'copy', src: dout, dst: t.id, width: n.width }, t.after);
      }
      // out = base + mix + (mix·Vd)·Vuᵀ: g = dout·Vu, dVu += doutᵀ·low; dmix = dout + g·Vdᵀ, dVd += mixᵀ·g
      const g = c.newTensor(`${n.out}:g`, 'act', n.valueRank);
      push({ kind: 'fusion_proj_bwd', dout, x: s.low, dx: g, dxAccumulate: false, w: f.valueUp, inF: n.valueRank, outF: n.width, trans: true });
      const dmix = c.newTensor(`grad:${n.out}:mix`, 'act', n.width);
      push({ kind: 'copy', src: dout, dst: dmix, width: n.width });
      push({ kind: 'fusion_proj_bwd', dout: g, x: s.mix, dx: dmix, dxAccumulate: true, w: f.valueDown, inF: n.width, outF: n.valueRank, trans: false });
      // dα_j = ⟨dmix, delta_j⟩ → ds through the softmax → dq, dk_j
      const dalpha = c.newTensor(`grad:${n.out}:alpha`, 'f32', M);
      n.deltas.forEach((d, j) => push({ kind: 'fusion_score', a: dmix, b: c.get(d), dst: dalpha, index: j, M, width: n.width }));
      const dscores = c.newTensor(`grad:${n.out}:scores`, 'f32', M);
      push({ kind: 'fusion_softmax_bwd', dout: dalpha, out: s.alpha, dx: dscores, width: M });
      const dq = c.newTensor(`grad:${n.out}:q`, 'act', n.dim);
      push({ kind: 'zero', dst: dq, width: n.dim });
      n.deltas.forEach((d, j) => {
        const dk = c.newTensor(`grad:${n.out}:k${j}`, 'act', n.dim);
        push({ kind: 'fusion_score_bwd', dout: dscores, q: s.q, k: s[`k${j}`], dq, dk, index: j, M, width: n.dim });
        // ddelta_j = α_j·dmix + dk_j·Kwᵀ, and dKw += delta_jᵀ·dk_j
        const t = c.wants(d) ? c.target(d) : null;
        if (t) push({ kind: 'fusion_mix_bwd', dout: dmix, a: s.alpha, dx: t.id, index: j, M, width: n.width });
        push({ kind: 'fusion_proj_bwd', dout: dk, x: c.get(d), dx: t ? t.id : null, dxAccumulate: true, w: f.key, inF: n.width, outF: n.dim, trans: false }, t?.after ?? null);
      });
      // dQ += xᵀ·dq, dx = dq·Qᵀ
      const t = c.wants(n.x) ? c.target(n.x) : null;
      push({ kind: 'fusion_proj_bwd', dout: dq, x: c.get(n.x), dx: t ? t.id : null, dxAccumulate: false, w: f.query, inF: n.inF, outF: n.dim, trans: false }, t?.after ?? null);
    },
  },
};

/** The table entry of a node, typed by its op. */
export function planLowering<K extends Op>(n: NodeOf<K>): PlanLowering<K> {
  return PLAN_LOWERING[n.op] as PlanLowering<K>;
}
