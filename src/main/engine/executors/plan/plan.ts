// The device plan: a Program (the same IR every executor lowers) becomes a straight-line plan of kernel steps
// (steps.ts) over logical tensors, then the logical tensors are packed into a few physical device slots by
// liveness. Device-neutral: the CUDA addon receives the finished plan once per session and replays it each
// micro-step (tensors stay on the device; one call from TS per micro-step); harness.ts replays the same plan on the
// CPU with the float64 op references, which is how the lowering (step order, gradient fan-in, slot reuse,
// checkpoint recompute) is tested on a machine without a GPU. Each op's steps come from lowering.ts.
//
// Every plan tensor is per token: N rows × width (N = B·T of the micro-batch, at most the session's capacity).
// Frozen weights are named by param; LoRA A/B are offsets into the one flat f32 trainables buffer.

import type { OpNode, Program } from '../../../model/ir.ts';
import { backwardWalk } from '../../autodiff.ts';
import { stepIO, type DType, type LoraRef, type PlanMode, type Step, type TensorDecl } from './steps.ts';
import { planLowering, type GradTarget, type PlanCtx } from './lowering.ts';
import { trainableOffsets } from '../../trainables.ts';

export * from './steps.ts';
export { trainableOffsets } from '../../trainables.ts'; // the plan addresses LoRA A/B by these offsets

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

/**
 * The head the cross-entropy is fused with: the last linear (an LM head, or a classifier with its bias),
 * optionally followed by soft-capping (Gemma). Task losses (Program.loss) and heads that train in full
 * (modules_to_save) are not fused: the loss reads materialised logits.
 */
export function headOf(p: Program): { idx: number; head: OpNode & { op: 'linear' }; softcap: number; fused: number } {
  const last = p.nodes[p.nodes.length - 1];
  const capped = last?.op === 'softcap' ? last : null;
  const idx = p.nodes.length - (capped ? 2 : 1);
  const head = p.nodes[idx];
  if (!head || head.op !== 'linear' || head.lora || (capped ? capped.x !== head.out || capped.out !== p.logits : head.out !== p.logits))
    throw new Error(`CUDA executor: the program must end with a plain linear head (no LoRA), optionally soft-capped, producing ${p.logits}`);
  return { idx, head, softcap: capped ? capped.cap : 0, fused: p.nodes.length - idx };
}

/** The last node is a linear whose weight or bias trains in full (a modules_to_save head): not fused with the loss. */
function headTrains(p: Program): boolean {
  const trained = new Set(p.params.filter((d) => d.trainable).map((d) => d.name));
  const last = p.nodes.findLast((n) => n.op === 'linear');
  return !!last && (trained.has(last.weight) || (last.bias !== null && trained.has(last.bias)));
}

const trainsParam = (p: Program, name: string) => p.params.find((d) => d.name === name)?.trainable ?? false;

/** Refuses what the CUDA executor cannot train yet, with what to do instead. */
export function checkSupported(p: Program): void {
  const paramNames = new Set(p.params.map((d) => d.name));
  // LoRA A/B, and weights and biases of linears (modules_to_save heads, bias "all" / "lora_only")
  // and a combination of frozen adapters (engine/fusion/): learned weights θ, AdapterFusion's query/key/value
  const deviceTrains = new Set(
    p.nodes.flatMap((n) => {
      if (n.op === 'adapter_mix') return [n.weight];
      if (n.op === 'adapter_fusion') return [n.query, n.key, n.valueDown, n.valueUp];
      return n.op !== 'linear' ? [] : [n.weight, ...(n.bias ? [n.bias] : []), ...(n.lora ? [n.lora.A, n.lora.B] : [])];
    }),
  );
  for (const d of p.params)
    if (d.trainable && !deviceTrains.has(d.name))
      throw new Error(`CUDA executor: trainable ${d.name} is not a LoRA matrix nor a linear's weight or bias (nor an adapter combination's parameter); it trains LoRA, biases, linear heads and adapter combinations. Use the CPU executor for full fine-tuning.`);
  for (const n of p.nodes) {
    if (n.op === 'adapter_mix' && n.count > 64) throw new Error(`CUDA executor: ${n.count} adapters combined at ${n.out}; the device combines at most 64`);
    if (n.op === 'adapter_fusion' && !trainsParam(p, n.query)) throw new Error(`CUDA executor: the AdapterFusion parameters at ${n.out} are frozen; the device reads them from the trained parameters`);
  }
  const trains = (name: string) => p.params.find((d) => d.name === name)?.trainable ?? false;
  for (const n of p.nodes) {
    if (n.op === 'linear' && n.lora && trains(n.weight))
      throw new Error(`CUDA executor: ${n.module} has both a LoRA branch and a weight that trains in full; use the CPU executor`);
    // a tied head in modules_to_save trains the embedding table too, which the device does not update
    if ((n.op === 'embedding' || n.op === 'position_embedding' || n.op === 'token_type_embedding') && trains(n.weight))
      throw new Error(`CUDA executor: the embedding table ${n.weight} trains; it trains LoRA, biases and linear heads. Use the CPU executor.`);
  }
  if (!p.loss && !headTrains(p)) headOf(p); // throws unless the program ends in a plain linear head [+ soft-capping]
  for (const n of p.nodes) {
    if (n.op === 'linear' && n.lora && n.lora.r > 64) throw new Error(`CUDA executor: LoRA rank ${n.lora.r} on ${n.module} is above the supported 64`);
    if (n.op === 'attention' && n.HD > 256) throw new Error(`CUDA executor: head_dim ${n.HD} is above the supported 256`);
    if (n.op === 'embedding' && !paramNames.has(n.weight)) throw new Error(`CUDA executor: embedding weight ${n.weight} is not a param`);
  }
}

export function lowerProgram(p: Program, o: LowerOptions): Plan {
  checkSupported(p);
  const { offsets } = trainableOffsets(p);
  const loraParams = new Set(p.nodes.flatMap((n) => (n.op === 'linear' && n.lora ? [n.lora.A, n.lora.B] : [])));
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
  // cross-entropy fuses the head with the loss (the walk starts at the head's input); a task loss reads the logits
  const fused = p.loss || headTrains(p) ? null : headOf(p);
  const headIdx = fused ? fused.idx : p.nodes.length;
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

  const grad = new Map<string, number>(); // activation name → its gradient tensor
  const walk = backwardWalk(p, { root: train ? (fused ? fused.head.x : p.logits) : null, before: headIdx, checkpointing });
  const wants = (name: string) => train && walk.wantsActivation(name);
  /** Where a backward step writes the gradient of `name`: the gradient itself if first, else a temp then accumulate. */
  const gradOut = (name: string): GradTarget => {
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
  const trainedAt = (param: string | null) => (param !== null && !loraParams.has(param) ? (offsets.get(param) ?? null) : null);
  const ctx: PlanCtx = {
    newTensor, width, get, saved, loraRef, grad, gradOut, trainedAt,
    wants,
    out(n, phase) {
      const t = newTensor(phase === 'forward' ? n.out : `${n.out}(${phase})`, 'act', width(n.out));
      act.set(n.out, t);
      return t;
    },
    emit: (s) => void steps.push(s),
    target: (name) => (wants(name) ? gradOut(name) : { id: scratch(name), after: null }),
  };
  const emitForward = (n: OpNode, idx: number, phase: string) => planLowering(n).forward(ctx, n as never, idx, phase);

  // ---- forward
  p.nodes.forEach((n, idx) => {
    if (idx >= headIdx && o.mode !== 'logits') return; // the head (and its soft-capping) is fused with the loss below
    emitForward(n, idx, 'forward');
  });
  const nll = newTensor('nll', 'f32', 1);
  if (p.loss) {
    const dlogits = wants(p.logits) ? newTensor(`grad:${p.logits}`, 'act', width(p.logits)) : null;
    if (dlogits !== null) grad.set(p.logits, dlogits);
    steps.push({ kind: p.loss === 'mse' ? 'mse_loss' : 'span_loss', logits: get(p.logits), nll, dlogits });
  } else if (!fused || o.mode === 'logits') {
    const dlogits = wants(p.logits) ? newTensor(`grad:${p.logits}`, 'act', width(p.logits)) : null;
    if (dlogits !== null) grad.set(p.logits, dlogits);
    steps.push({ kind: 'cross_entropy', logits: get(p.logits), V: p.vocab, nll, dlogits });
  } else {
    const { head, softcap } = fused!;
    const headDx = wants(head.x) ? newTensor(`grad:${head.x}`, 'act', width(head.x)) : null;
    if (headDx !== null) grad.set(head.x, headDx);
    steps.push({ kind: 'lm_head_loss', x: get(head.x), weight: head.weight, bias: head.bias, inF: head.inF, V: p.vocab, nll, dx: headDx, chunkRows, softcap });
  }
  const logits = o.mode === 'logits' ? get(p.logits) : null;
  if (!train) return finish({ mode: o.mode, tensors, steps, nll, logits, loraModules, checkpointing: false });

  // ---- backward: autodiff's reverse walk; gradients summed where an activation fans out
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
    planLowering(n).backward(ctx, n as never, idx, dout, push);
    steps.push(...after);
  }
  return finish({ mode: o.mode, tensors, steps, nll, logits: null, loraModules, checkpointing });
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
