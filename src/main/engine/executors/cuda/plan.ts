// The CUDA executor's lowering: a Program (the same IR every executor lowers) becomes a straight-line plan of kernel
// steps over logical tensors, then the logical tensors are packed into a few physical device slots by liveness.
// The addon receives the finished plan once per session and replays it each micro-step (tensors stay on the
// device; one call from TS per micro-step). harness.ts replays the same plan on the CPU with the float64 op
// references, which is how the lowering (step order, gradient fan-in, slot reuse, checkpoint recompute) is tested
// on a machine without a GPU.
//
// Every plan tensor is per token: N rows × width (N = B·T of the micro-batch, at most the session's capacity).
// Frozen weights are named by param; LoRA A/B are offsets into the one flat f32 trainables buffer.

import type { OpNode, Program } from '../../ir.ts';
import { backwardWalk } from '../../autodiff.ts';

export type PlanMode = 'train' | 'eval' | 'logits';
export type DType = 'act' | 'f32' | 'u8'; // act = bf16 (or f32 in a parity session)

export interface TensorDecl {
  id: number;
  name: string; // activation name, or grad:<name>, or <node>:<saved>; for messages and debugging
  dtype: DType;
  width: number; // elements per token row
}

export interface LoraRef {
  module: number; // index of the LoRA module (dropout stream, host masks)
  A: number; // offset of A (r, IC) in the flat trainables
  B: number; // offset of B (OC, r)
  r: number;
  scale: number;
  keep: number | null; // u8 keep-mask tensor (N, IC), null = no dropout
  keepScale: number; // 1 / (1 − p)
  h: number; // f32 (N, r): dropout(x)·Aᵀ, saved for backward
}

export type Step =
  | { kind: 'embedding'; weight: string; out: number; width: number; scale: number }
  | { kind: 'position_embedding'; weight: string; out: number; width: number } // rows picked by token positions
  | { kind: 'slice'; x: number; out: number; start: number; width: number; inWidth: number } // columns of x
  | { kind: 'rmsnorm'; x: number; weight: string; out: number; rstd: number; width: number; eps: number; plusOne: boolean }
  | { kind: 'layernorm'; x: number; weight: string; bias: string; out: number; mean: number; rstd: number; width: number; eps: number }
  | { kind: 'dropout_mask'; out: number; module: number; keepProb: number; width: number }
  | { kind: 'linear'; x: number; out: number; weight: string; bias: string | null; inF: number; outF: number; lora: LoraRef | null }
  | { kind: 'rope'; x: number; out: number; heads: number; headDim: number; local: boolean }
  | { kind: 'attention'; q: number; k: number; v: number; out: number; lse: number; NH: number; NKV: number; HD: number; window: number; scale: number }
  | { kind: 'swiglu'; gate: number; up: number; out: number; width: number }
  | { kind: 'geglu'; gate: number; up: number; out: number; width: number }
  | { kind: 'gelu'; x: number; out: number; width: number }
  | { kind: 'softcap'; x: number; out: number; width: number; cap: number }
  | { kind: 'add'; a: number; b: number; out: number; width: number }
  /** Final linear [+ soft-capping] + cross-entropy in row chunks; never holds more than chunkRows × V logits. */
  | { kind: 'lm_head_loss'; x: number; weight: string; inF: number; V: number; nll: number; dx: number | null; chunkRows: number; softcap: number }
  | { kind: 'cross_entropy'; logits: number; V: number; nll: number } // logits mode only: no gradient
  | { kind: 'rmsnorm_bwd'; dout: number; x: number; weight: string; rstd: number; dx: number; width: number; plusOne: boolean }
  | { kind: 'layernorm_bwd'; dout: number; x: number; weight: string; mean: number; rstd: number; dx: number; width: number }
  | { kind: 'linear_bwd'; dout: number; x: number; weight: string; inF: number; outF: number; dx: number | null; dxAccumulate: boolean; lora: (LoraRef & { dh: number }) | null }
  | { kind: 'rope_bwd'; dout: number; dx: number; heads: number; headDim: number; local: boolean }
  | { kind: 'attention_bwd'; dout: number; out: number; q: number; k: number; v: number; lse: number; dq: number; dk: number; dv: number; delta: number; NH: number; NKV: number; HD: number; window: number; scale: number }
  | { kind: 'swiglu_bwd'; dout: number; gate: number; up: number; dgate: number; dup: number; width: number }
  | { kind: 'geglu_bwd'; dout: number; gate: number; up: number; dgate: number; dup: number; width: number }
  | { kind: 'gelu_bwd'; dout: number; x: number; dx: number; width: number }
  | { kind: 'softcap_bwd'; dout: number; x: number; dx: number; width: number; cap: number }
  | { kind: 'slice_bwd'; dout: number; dx: number; start: number; width: number; inWidth: number } // dx[:, cols] += dout
  | { kind: 'zero'; dst: number; width: number }
  | { kind: 'copy'; src: number; dst: number; width: number }
  | { kind: 'accumulate'; src: number; dst: number; width: number };

export interface Slot {
  id: number;
  dtype: DType;
  width: number; // elements per token row: the widest tensor it ever holds
}

export interface Plan {
  mode: PlanMode;
  tensors: TensorDecl[];
  steps: Step[];
  slotOf: number[]; // tensor id → slot id
  slots: Slot[];
  /** The plan's outputs: per-token NLL (train/eval), logits (logits mode). */
  nll: number;
  logits: number | null;
  loraModules: string[]; // module names, by LoraRef.module
  checkpointing: boolean;
}

export interface LowerOptions {
  mode: PlanMode;
  /** Recompute each block's (Program.blocks: decoder layer's) activations in backward instead of keeping them. */
  checkpointing?: boolean;
  /** Rows of logits materialised at once by the fused LM head + cross-entropy. */
  chunkRows?: number;
}

/** Flat layout of the trainables (declaration order), the same order the CPU executor uses. */
export function trainableOffsets(p: Program): { offsets: Map<string, number>; total: number } {
  const offsets = new Map<string, number>();
  let total = 0;
  for (const d of p.params)
    if (d.trainable) {
      offsets.set(d.name, total);
      total += d.shape.reduce((a, b) => a * b, 1);
    }
  return { offsets, total };
}

/** The LM head the loss is fused with: the last linear, optionally followed by soft-capping (Gemma). */
export function headOf(p: Program): { idx: number; head: OpNode & { op: 'linear' }; softcap: number; fused: number } {
  const last = p.nodes[p.nodes.length - 1];
  const capped = last?.op === 'softcap' ? last : null;
  const idx = p.nodes.length - (capped ? 2 : 1);
  const head = p.nodes[idx];
  if (!head || head.op !== 'linear' || head.lora || head.bias || (capped ? capped.x !== head.out || capped.out !== p.logits : head.out !== p.logits))
    throw new Error(`CUDA executor: the program must end with a plain linear LM head (no LoRA, no bias), optionally soft-capped, producing ${p.logits}`);
  return { idx, head, softcap: capped ? capped.cap : 0, fused: p.nodes.length - idx };
}

/** Refuses what the CUDA executor cannot train yet, with what to do instead. */
export function checkSupported(p: Program): void {
  const paramNames = new Set(p.params.map((d) => d.name));
  const loraParams = new Set(p.nodes.flatMap((n) => (n.op === 'linear' && n.lora ? [n.lora.A, n.lora.B] : [])));
  for (const d of p.params)
    if (d.trainable && !loraParams.has(d.name))
      throw new Error(`CUDA executor: trainable ${d.name} is not a LoRA matrix; it trains LoRA A/B only (bias "none"). Use the CPU executor for bias="all"/"lora_only" or full fine-tuning.`);
  headOf(p); // throws unless the program ends in a plain LM head [+ soft-capping]
  for (const n of p.nodes) {
    if (n.op === 'linear' && n.lora && n.lora.r > 64) throw new Error(`CUDA executor: LoRA rank ${n.lora.r} on ${n.module} is above the supported 64`);
    if (n.op === 'attention' && n.HD > 256) throw new Error(`CUDA executor: head_dim ${n.HD} is above the supported 256`);
    if (n.op === 'embedding' && !paramNames.has(n.weight)) throw new Error(`CUDA executor: embedding weight ${n.weight} is not a param`);
  }
}

export function lowerProgram(p: Program, o: LowerOptions): Plan {
  checkSupported(p);
  const { offsets } = trainableOffsets(p);
  const tensors: TensorDecl[] = [];
  const steps: Step[] = [];
  const newTensor = (name: string, dtype: DType, width: number) => {
    tensors.push({ id: tensors.length, name, dtype, width });
    return tensors.length - 1;
  };
  const act = new Map<string, number>(); // activation name → current logical tensor
  const saved = new Map<number, Record<string, number>>(); // node index → its saved tensors (rstd, lse, h, …)
  const loraModules: string[] = [];
  const loraIndex = new Map<string, number>();
  const train = o.mode === 'train';
  const checkpointing = train && (o.checkpointing ?? false);
  const chunkRows = o.chunkRows ?? 1024;
  const { idx: headIdx, head, softcap } = headOf(p);
  const width = (name: string) => {
    const w = p.widths.get(name);
    if (w === undefined) throw new Error(`CUDA lowering: activation ${name} has no declared width`);
    return w;
  };
  const get = (name: string) => {
    const t = act.get(name);
    if (t === undefined) throw new Error(`CUDA lowering: ${name} is read before it is produced`);
    return t;
  };

  const loraRef = (n: OpNode & { op: 'linear' }, idx: number, phase: string): LoraRef | null => {
    if (!n.lora) return null;
    let module = loraIndex.get(n.module);
    if (module === undefined) {
      module = loraModules.length;
      loraModules.push(n.module);
      loraIndex.set(n.module, module);
    }
    let keep: number | null = null;
    if (n.lora.dropout > 0 && train) { // evaluation and logits run without dropout, as PEFT in eval mode
      // masks are regenerated where used (forward, recompute, backward) instead of kept for the whole step
      keep = newTensor(`${n.module}:keep(${phase})`, 'u8', n.inF);
      steps.push({ kind: 'dropout_mask', out: keep, module, keepProb: 1 - n.lora.dropout, width: n.inF });
    }
    const h = saved.get(idx)?.h ?? newTensor(`${n.module}:lora_h`, 'f32', n.lora.r);
    return { module, A: offsets.get(n.lora.A)!, B: offsets.get(n.lora.B)!, r: n.lora.r, scale: n.lora.scale, keep, keepScale: keep === null ? 1 : 1 / (1 - n.lora.dropout), h };
  };

  const emitForward = (n: OpNode, idx: number, phase: string) => {
    const out = () => {
      const t = newTensor(phase === 'forward' ? n.out : `${n.out}(${phase})`, 'act', width(n.out));
      act.set(n.out, t);
      return t;
    };
    switch (n.op) {
      case 'embedding':
        steps.push({ kind: 'embedding', weight: n.weight, out: out(), width: n.width, scale: n.scale });
        break;
      case 'rmsnorm': {
        const x = get(n.x);
        const rstd = newTensor(`${n.out}:rstd`, 'f32', width(n.out) / n.width);
        saved.set(idx, { rstd });
        steps.push({ kind: 'rmsnorm', x, weight: n.weight, out: out(), rstd, width: n.width, eps: n.eps, plusOne: n.plusOne });
        break;
      }
      case 'layernorm': {
        const x = get(n.x);
        const mean = newTensor(`${n.out}:mean`, 'f32', 1);
        const rstd = newTensor(`${n.out}:rstd`, 'f32', 1);
        saved.set(idx, { mean, rstd });
        steps.push({ kind: 'layernorm', x, weight: n.weight, bias: n.bias, out: out(), mean, rstd, width: n.width, eps: n.eps });
        break;
      }
      case 'linear': {
        const x = get(n.x);
        saved.delete(idx); // a recompute gets fresh saved tensors
        const lora = loraRef(n, idx, phase);
        if (lora) saved.set(idx, { h: lora.h });
        steps.push({ kind: 'linear', x, out: out(), weight: n.weight, bias: n.bias, inF: n.inF, outF: n.outF, lora });
        break;
      }
      case 'position_embedding':
        steps.push({ kind: 'position_embedding', weight: n.weight, out: out(), width: n.width });
        break;
      case 'slice':
        steps.push({ kind: 'slice', x: get(n.x), out: out(), start: n.start, width: n.width, inWidth: n.inWidth });
        break;
      case 'rope':
        steps.push({ kind: 'rope', x: get(n.x), out: out(), heads: n.heads, headDim: n.headDim, local: n.local ?? false });
        break;
      case 'attention': {
        const [q, k, v] = [get(n.q), get(n.k), get(n.v)];
        const lse = newTensor(`${n.out}:lse`, 'f32', n.NH);
        saved.set(idx, { lse });
        steps.push({ kind: 'attention', q, k, v, out: out(), lse, NH: n.NH, NKV: n.NKV, HD: n.HD, window: n.window ?? 0, scale: n.scale ?? 1 / Math.sqrt(n.HD) });
        break;
      }
      case 'swiglu':
        steps.push({ kind: 'swiglu', gate: get(n.gate), up: get(n.up), out: out(), width: n.width });
        break;
      case 'geglu':
        steps.push({ kind: 'geglu', gate: get(n.gate), up: get(n.up), out: out(), width: n.width });
        break;
      case 'softcap':
        steps.push({ kind: 'softcap', x: get(n.x), out: out(), width: n.width, cap: n.cap });
        break;
      case 'gelu_tanh':
        steps.push({ kind: 'gelu', x: get(n.x), out: out(), width: n.width });
        break;
      case 'add':
        steps.push({ kind: 'add', a: get(n.a), b: get(n.b), out: out(), width: n.width });
        break;
    }
  };

  // ---- forward
  p.nodes.forEach((n, idx) => {
    if (idx >= headIdx && o.mode !== 'logits') return; // the head (and its soft-capping) is fused with the loss below
    emitForward(n, idx, 'forward');
  });
  if (o.mode === 'logits') {
    const nll = newTensor('nll', 'f32', 1);
    steps.push({ kind: 'cross_entropy', logits: get(p.logits), V: p.vocab, nll });
    return finish({ mode: o.mode, tensors, steps, nll, logits: get(p.logits), loraModules, checkpointing: false });
  }
  const nll = newTensor('nll', 'f32', 1);
  const grad = new Map<string, number>(); // activation name → its gradient tensor
  const walk = backwardWalk(p, { root: train ? head.x : null, before: headIdx, checkpointing });
  const wants = (name: string) => train && walk.wantsActivation(name);
  const headDx = wants(head.x) ? newTensor(`grad:${head.x}`, 'act', width(head.x)) : null;
  if (headDx !== null) grad.set(head.x, headDx);
  steps.push({ kind: 'lm_head_loss', x: get(head.x), weight: head.weight, inF: head.inF, V: p.vocab, nll, dx: headDx, chunkRows, softcap });
  if (!train) return finish({ mode: o.mode, tensors, steps, nll, logits: null, loraModules, checkpointing: false });

  // ---- backward: reverse node order; gradients summed where an activation fans out
  /** Where a backward step writes the gradient of `name`: the gradient itself if first, else a temp then accumulate. */
  const gradOut = (name: string): { id: number; after: Step | null } => {
    const cur = grad.get(name);
    if (cur === undefined) {
      const id = newTensor(`grad:${name}`, 'act', width(name));
      grad.set(name, id);
      return { id, after: null };
    }
    const tmp = newTensor(`grad:${name}(part)`, 'act', width(name));
    return { id: tmp, after: { kind: 'accumulate', src: tmp, dst: cur, width: width(name) } };
  };
  const scratch = (name: string) => newTensor(`unused:${name}`, 'act', width(name)); // a gradient nobody reads
  const target = (name: string) => (wants(name) ? gradOut(name) : { id: scratch(name), after: null });
  for (const visit of walk.visits) {
    if (visit.kind === 'recompute') {
      // first backward node of this block: replay the block's forward from its (kept) input
      for (let j = visit.block.start; j < visit.block.end; j++) emitForward(p.nodes[j], j, 'recompute');
      continue;
    }
    const { idx, node: n } = visit;
    const dout = grad.get(n.out);
    if (dout === undefined) throw new Error(`CUDA lowering: the backward walk reached ${n.out} but no gradient was produced for it`);
    const after: Step[] = [];
    const push = (s: Step, ...tails: (Step | null)[]) => {
      steps.push(s);
      for (const t of tails) if (t) after.push(t);
    };
    switch (n.op) {
      case 'embedding':
      case 'position_embedding':
        break; // frozen tables (checkSupported): nothing to do
      case 'slice': {
        // each slice adds its columns into x's gradient; a fresh gradient starts from zero
        if (!wants(n.x)) break;
        let dx = grad.get(n.x);
        if (dx === undefined) {
          dx = newTensor(`grad:${n.x}`, 'act', width(n.x));
          grad.set(n.x, dx);
          push({ kind: 'zero', dst: dx, width: width(n.x) });
        }
        push({ kind: 'slice_bwd', dout, dx, start: n.start, width: n.width, inWidth: n.inWidth });
        break;
      }
      case 'geglu': {
        const tg = target(n.gate), tu = target(n.up);
        push({ kind: 'geglu_bwd', dout, gate: get(n.gate), up: get(n.up), dgate: tg.id, dup: tu.id, width: n.width }, tg.after, tu.after);
        break;
      }
      case 'softcap': {
        const t = target(n.x);
        push({ kind: 'softcap_bwd', dout, x: get(n.x), dx: t.id, width: n.width, cap: n.cap }, t.after);
        break;
      }
      case 'rmsnorm': {
        const t = target(n.x);
        push({ kind: 'rmsnorm_bwd', dout, x: get(n.x), weight: n.weight, rstd: saved.get(idx)!.rstd, dx: t.id, width: n.width, plusOne: n.plusOne }, t.after);
        break;
      }
      case 'layernorm': {
        const t = target(n.x);
        const s = saved.get(idx)!;
        push({ kind: 'layernorm_bwd', dout, x: get(n.x), weight: n.weight, mean: s.mean, rstd: s.rstd, dx: t.id, width: n.width }, t.after);
        break;
      }
      case 'linear': {
        let dx: number | null = null;
        let dxAccumulate = false;
        if (wants(n.x)) {
          // the GEMM accumulates into an existing gradient directly (q/k/v all read the same normed x)
          dxAccumulate = grad.has(n.x);
          dx = dxAccumulate ? grad.get(n.x)! : gradOut(n.x).id;
        }
        let lora: (LoraRef & { dh: number }) | null = null;
        if (n.lora) {
          const ref = loraRef(n, idx, 'backward')!;
          lora = { ...ref, dh: newTensor(`${n.module}:lora_dh`, 'f32', n.lora.r) };
        }
        push({ kind: 'linear_bwd', dout, x: get(n.x), weight: n.weight, inF: n.inF, outF: n.outF, dx, dxAccumulate, lora });
        break;
      }
      case 'rope': {
        const t = target(n.x);
        push({ kind: 'rope_bwd', dout, dx: t.id, heads: n.heads, headDim: n.headDim, local: n.local ?? false }, t.after);
        break;
      }
      case 'attention': {
        const tq = target(n.q), tk = target(n.k), tv = target(n.v);
        push({
          kind: 'attention_bwd', dout, out: get(n.out), q: get(n.q), k: get(n.k), v: get(n.v), lse: saved.get(idx)!.lse,
          dq: tq.id, dk: tk.id, dv: tv.id, delta: newTensor(`${n.out}:delta`, 'f32', n.NH), NH: n.NH, NKV: n.NKV, HD: n.HD, window: n.window ?? 0, scale: n.scale ?? 1 / Math.sqrt(n.HD),
        }, tq.after, tk.after, tv.after);
        break;
      }
      case 'swiglu': {
        const tg = target(n.gate), tu = target(n.up);
        push({ kind: 'swiglu_bwd', dout, gate: get(n.gate), up: get(n.up), dgate: tg.id, dup: tu.id, width: n.width }, tg.after, tu.after);
        break;
      }
      case 'gelu_tanh': {
        const t = target(n.x);
        push({ kind: 'gelu_bwd', dout, x: get(n.x), dx: t.id, width: n.width }, t.after);
        break;
      }
      case 'add': {
        // gradient flows unchanged into both inputs: the first takes over dout's buffer (nothing reads dout after
        // this node), the second gets a copy, or each is accumulated where it already has a gradient
        for (const [i, name] of [n.a, n.b].entries()) {
          if (!wants(name)) continue;
          const cur = grad.get(name);
          if (cur !== undefined) push({ kind: 'accumulate', src: dout, dst: cur, width: n.width });
          else if (i === 0 && n.a !== n.b) grad.set(name, dout);
          else {
            const id = newTensor(`grad:${name}`, 'act', width(name));
            grad.set(name, id);
            push({ kind: 'copy', src: dout, dst: id, width: n.width });
          }
        }
        break;
      }
    }
    steps.push(...after);
  }
  return finish({ mode: o.mode, tensors, steps, nll, logits: null, loraModules, checkpointing });
}

export type StepKind = Step['kind'];
type StepOf<K extends StepKind> = Extract<Step, { kind: K }>;
interface StepTensors {
  reads: number[];
  writes: number[];
}
const r = (...xs: (number | null)[]) => xs.filter((x): x is number => x !== null);

/**
 * Every step kind the device executes, with the tensors it reads and writes (a read-modify-write tensor is in
 * both). Exhaustive: a Step variant without an entry is a type error, and tests/native/step-kinds.test.ts checks
 * native/src (the addon's kind table, the StepKind enum, the executor's cases) against these keys.
 */
export const STEP_TENSORS: { [K in StepKind]: (s: StepOf<K>) => StepTensors } = {
  embedding: (s) => ({ reads: [], writes: [s.out] }),
  position_embedding: (s) => ({ reads: [], writes: [s.out] }),
  slice: (s) => ({ reads: [s.x], writes: [s.out] }),
  geglu: (s) => ({ reads: [s.gate, s.up], writes: [s.out] }),
  softcap: (s) => ({ reads: [s.x], writes: [s.out] }),
  geglu_bwd: (s) => ({ reads: [s.dout, s.gate, s.up], writes: [s.dgate, s.dup] }),
  softcap_bwd: (s) => ({ reads: [s.dout, s.x], writes: [s.dx] }),
  slice_bwd: (s) => ({ reads: [s.dout, s.dx], writes: [s.dx] }),
  zero: (s) => ({ reads: [], writes: [s.dst] }),
  rmsnorm: (s) => ({ reads: [s.x], writes: [s.out, s.rstd] }),
  layernorm: (s) => ({ reads: [s.x], writes: [s.out, s.mean, s.rstd] }),
  dropout_mask: (s) => ({ reads: [], writes: [s.out] }),
  linear: (s) => ({ reads: r(s.x, s.lora?.keep ?? null), writes: r(s.out, s.lora?.h ?? null) }),
  rope: (s) => ({ reads: [s.x], writes: [s.out] }),
  attention: (s) => ({ reads: [s.q, s.k, s.v], writes: [s.out, s.lse] }),
  swiglu: (s) => ({ reads: [s.gate, s.up], writes: [s.out] }),
  gelu: (s) => ({ reads: [s.x], writes: [s.out] }),
  add: (s) => ({ reads: [s.a, s.b], writes: [s.out] }),
  lm_head_loss: (s) => ({ reads: [s.x], writes: r(s.nll, s.dx) }), // dx assigned: it is always x's first gradient
  cross_entropy: (s) => ({ reads: [s.logits], writes: [s.nll] }),
  rmsnorm_bwd: (s) => ({ reads: [s.dout, s.x, s.rstd], writes: [s.dx] }),
  layernorm_bwd: (s) => ({ reads: [s.dout, s.x, s.mean, s.rstd], writes: [s.dx] }),
  linear_bwd: (s) => ({ reads: r(s.dout, s.x, s.lora?.keep ?? null, s.lora?.h ?? null, s.dxAccumulate ? s.dx : null), writes: r(s.dx, s.lora?.dh ?? null) }),
  rope_bwd: (s) => ({ reads: [s.dout], writes: [s.dx] }),
  attention_bwd: (s) => ({ reads: [s.dout, s.out, s.q, s.k, s.v, s.lse], writes: [s.delta, s.dq, s.dk, s.dv] }),
  swiglu_bwd: (s) => ({ reads: [s.dout, s.gate, s.up], writes: [s.dgate, s.dup] }),
  gelu_bwd: (s) => ({ reads: [s.dout, s.x], writes: [s.dx] }),
  copy: (s) => ({ reads: [s.src], writes: [s.dst] }),
  accumulate: (s) => ({ reads: [s.src, s.dst], writes: [s.dst] }),
};

export const STEP_KINDS = Object.keys(STEP_TENSORS) as StepKind[];

/** Tensors a step reads and writes. */
export function stepIO(s: Step): StepTensors {
  return (STEP_TENSORS[s.kind] as (s: Step) => StepTensors)(s);
}

/**
 * Packs logical tensors into slots: a tensor lives from its first to its last access; a slot is reused once its
 * tenant is dead. Outputs of a step never share a slot with that step's inputs (frees happen after the step).
 * Plan outputs (nll, logits) stay live to the end.
 */
export function allocateSlots(tensors: TensorDecl[], steps: Step[], keepAlive: number[]): { slotOf: number[]; slots: Slot[] } {
  const first = new Array<number>(tensors.length).fill(-1);
  const last = new Array<number>(tensors.length).fill(-1);
  steps.forEach((s, i) => {
    const { reads, writes } = stepIO(s);
    for (const t of [...reads, ...writes]) {
      if (first[t] < 0) first[t] = i;
      last[t] = i;
    }
  });
  for (const t of keepAlive) last[t] = steps.length;
  const slotOf = new Array<number>(tensors.length).fill(-1);
  const slots: Slot[] = [];
  const free: number[] = [];
  const dying = new Map<number, number[]>(); // step index → tensors whose last use it is
  tensors.forEach((t, id) => {
    if (first[id] < 0) return; // declared, never used
    const list = dying.get(last[id]) ?? [];
    list.push(id);
    dying.set(last[id], list);
  });
  steps.forEach((s, i) => {
    const { reads, writes } = stepIO(s);
    for (const t of [...reads, ...writes]) {
      if (slotOf[t] >= 0) continue;
      const d = tensors[t];
      // best fit among free slots of the same dtype: the smallest that already fits, else the widest to grow
      let pick = -1;
      for (const [fi, sid] of free.entries()) {
        const sl = slots[sid];
        if (sl.dtype !== d.dtype) continue;
        if (pick < 0) { pick = fi; continue; }
        const cur = slots[free[pick]];
        const fits = sl.width >= d.width, curFits = cur.width >= d.width;
        if ((fits && (!curFits || sl.width < cur.width)) || (!fits && !curFits && sl.width > cur.width)) pick = fi;
      }
      if (pick >= 0) {
        const sid = free.splice(pick, 1)[0];
        slots[sid].width = Math.max(slots[sid].width, d.width);
        slotOf[t] = sid;
      } else {
        slotOf[t] = slots.length;
        slots.push({ id: slots.length, dtype: d.dtype, width: d.width });
      }
    }
    for (const t of dying.get(i) ?? []) free.push(slotOf[t]);
  });
  return { slotOf, slots };
}

function finish(p: Omit<Plan, 'slotOf' | 'slots'>): Plan {
  const keep = [p.nll, ...(p.logits !== null ? [p.logits] : [])];
  const { slotOf, slots } = allocateSlots(p.tensors, p.steps, keep);
  return { ...p, slotOf, slots };
}

const DTYPE_BYTES = { act: { bf16: 2, f32: 4 }, f32: { bf16: 4, f32: 4 }, u8: { bf16: 1, f32: 1 } } as const;

/** Device bytes of the plan's slots for `tokens` rows (activations and their gradients; not weights). */
export function planSlotBytes(plan: Plan, tokens: number, act: 'bf16' | 'f32'): number {
  return plan.slots.reduce((s, sl) => s + tokens * sl.width * DTYPE_BYTES[sl.dtype][act], 0);
}

/** Bytes of the fused LM head's logits chunk buffer. */
export function headChunkBytes(plan: Plan, act: 'bf16' | 'f32'): number {
  const s = plan.steps.find((x) => x.kind === 'lm_head_loss');
  return s && s.kind === 'lm_head_loss' ? s.chunkRows * s.V * DTYPE_BYTES.act[act] : 0;
}
