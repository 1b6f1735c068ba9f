// The one flat layout of a program's trainable tensors that every executor shares (CPU ONNX graphs slice it, the
// device plan addresses LoRA A/B by offset into it): declaration order, each tensor's offset and size, its starting
// value (LoRA A Kaiming-uniform seeded by name, B zeros, anything else from the base weights), the weight-decay
// mask, and the PEFT-keyed TensorMap view the trainer saves, resumes and checks.

import type { Program } from '../model/ir.ts';
import { paramMap, peftKey } from '../model/ir.ts';
import { initLoraA } from './lora/layer.ts';
import { isNf4, type Nf4Tensor } from './quant/nf4.ts';
import type { TensorMap } from './session.ts';

export interface TrainableSlot {
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

type Vec = Float32Array | Float64Array;

export class TrainableLayout {
  readonly slots: TrainableSlot[] = [];
  readonly offsets = new Map<string, number>();
  readonly total: number;

  constructor(readonly program: Program) {
    let offset = 0;
    for (const d of program.params)
      if (d.trainable) {
        const size = d.shape.reduce((a, b) => a * b, 1);
        this.slots.push({ name: d.name, shape: d.shape, offset, size });
        this.offsets.set(d.name, offset);
        offset += size;
      }
    this.total = offset;
  }

  /** Starting values into `flat` (zeroed): LoRA A Kaiming-uniform (seeded by name), B zeros, others the weights'. */
  initialize(flat: Vec, weights: Map<string, ArrayLike<number> | Nf4Tensor>, seed: number, who: string): void {
    const decls = paramMap(this.program);
    for (const s of this.slots) {
      const d = decls.get(s.name)!;
      if (d.init?.kind === 'kaiming_uniform_a_sqrt5') flat.set(initLoraA(d.shape[0], d.init.fanIn, seed, s.name), s.offset);
      else if (d.init?.kind === 'zeros') flat.fill(0, s.offset, s.offset + s.size);
      else {
        const w = weights.get(s.name);
        if (!w) throw new Error(`${who}: trainable ${s.name} has no initial value in the weights`);
        if (isNf4(w)) throw new Error(`${who}: trainable ${s.name} cannot start from an NF4 weight`);
        flat.set(w, s.offset);
      }
    }
  }

  /** 1 where a trainable is excluded from weight decay (biases, norms), per element. */
  noDecayMask(): Uint8Array {
    const decls = paramMap(this.program);
    const mask = new Uint8Array(this.total);
    for (const s of this.slots) if (decls.get(s.name)!.noDecay) mask.fill(1, s.offset, s.offset + s.size);
    return mask;
  }

  /** A flat vector as PEFT-keyed float32 tensors (copies). */
  toMap(flat: Vec): TensorMap {
    const m: TensorMap = new Map();
    for (const s of this.slots) m.set(peftKey(s.name), { shape: [...s.shape], data: Float32Array.from(flat.subarray(s.offset, s.offset + s.size)) });
    return m;
  }

  /** PEFT-keyed tensors into a fresh flat vector, refusing unknown, missing and misshapen tensors. */
  fromMap(t: TensorMap, what: string, elem: 'float32' | 'float64' = 'float32'): Vec {
    const flat = elem === 'float64' ? new Float64Array(this.total) : new Float32Array(this.total);
    const known = new Set(this.slots.map((s) => peftKey(s.name)));
    for (const k of t.keys()) if (!known.has(k)) throw new Error(`${what}: unknown tensor ${k}; this session trains ${[...known].slice(0, 4).join(', ')}…`);
    for (const s of this.slots) {
      const e = t.get(peftKey(s.name));
      if (!e) throw new Error(`${what}: missing tensor ${peftKey(s.name)}`);
      if (e.data.length !== s.size || e.shape.join(',') !== s.shape.join(','))
        throw new Error(`${what}: ${peftKey(s.name)} has shape ${JSON.stringify(e.shape)}, expected ${JSON.stringify(s.shape)}`);
      flat.set(e.data, s.offset);
    }
    return flat;
  }
}

/** The flat layout of a program's trainables (declaration order): slots and total size. */
export function trainableLayout(p: Program): { slots: TrainableSlot[]; total: number } {
  const l = new TrainableLayout(p);
  return { slots: l.slots, total: l.total };
}

/** Offsets of the trainables in the flat layout (the device plan addresses LoRA A/B by them). */
export function trainableOffsets(p: Program): { offsets: Map<string, number>; total: number } {
  const l = new TrainableLayout(p);
  return { offsets: l.offsets, total: l.total };
}
