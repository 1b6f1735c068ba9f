// QLoRA's base: which weights of a program are held as NF4, and quantizing them as they are loaded. As
// bitsandbytes' 4-bit loading does, every linear weight is quantized except the output head (and a tied head's
// embedding); embeddings, norms and biases stay in float. LoRA branches on top stay float32.

import type { Program } from '../../model/ir.ts';
import { quantizeNf4, type Nf4Tensor } from './nf4.ts';

export interface QuantOptions {
  doubleQuant: boolean; // bnb_4bit_use_double_quant
  blockSize?: number; // 64
}

/** A copy of the program with its frozen non-head linear weights marked quant: 'nf4'. */
export function quantizeProgram(p: Program): Program {
  const headWeights = new Set(p.nodes.flatMap((n) => (n.op === 'linear' && n.module === 'lm_head' ? [n.weight] : [])));
  const embeddings = new Set(p.nodes.flatMap((n) => (n.op === 'embedding' || n.op === 'position_embedding' ? [n.weight] : [])));
  const linearWeights = new Set(p.nodes.flatMap((n) => (n.op === 'linear' ? [n.weight] : [])));
  const params = p.params.map((d) => {
    if (!linearWeights.has(d.name) || headWeights.has(d.name) || embeddings.has(d.name)) return d;
    if (d.trainable) throw new Error(`QLoRA: ${d.name} is trainable and cannot be held as NF4`);
    return { ...d, quant: 'nf4' as const };
  });
  return { ...p, params };
}

/** NF4 tensor for a weight the program marks quantized (W given as float values in [out, in] layout). */
export function quantizeWeight(p: Program, name: string, w: ArrayLike<number>, o: QuantOptions): Nf4Tensor {
  const d = p.params.find((x) => x.name === name);
  if (!d || d.quant !== 'nf4' || d.shape.length !== 2) throw new Error(`QLoRA: ${name} is not a quantized linear weight of this program`);
  return quantizeNf4(w, [d.shape[0], d.shape[1]], { blockSize: o.blockSize, doubleQuant: o.doubleQuant });
}
