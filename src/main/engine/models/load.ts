// Reading a program's weights from an opened Hugging Face folder: tensors by their checkpoint names, Conv1D
// weights (GPT-2) transposed from their on-disk [in, out] to the program's [out, in], and QLoRA's quantized
// linears turned into NF4 as each is read, so the float copy of a big weight never outlives its own quantization.

import type { Program } from '../../model/ir.ts';
import type { ModelFolder } from '../../formats/model/index.ts';
import { quantizeWeight, type QuantOptions } from '../quant/program.ts';
import type { Nf4Tensor } from '../quant/nf4.ts';

/** (rows, cols) row-major → (cols, rows). */
export function transpose2d(w: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c];
  return out;
}

/** A param's value as the program wants it ([out, in]) from the checkpoint's stored layout, and back. */
export function fromStored(p: Program, name: string, stored: Float32Array): Float32Array {
  const d = p.params.find((x) => x.name === name);
  if (!d?.storedTransposed) return stored;
  const [out, inp] = d.shape;
  return transpose2d(stored, inp, out);
}
export function toStored(p: Program, name: string, value: Float32Array): Float32Array {
  const d = p.params.find((x) => x.name === name);
  if (!d?.storedTransposed) return value;
  const [out, inp] = d.shape;
  return transpose2d(value, out, inp);
}

/**
 * Reads one non-LoRA param of the program from the folder when asked (an executor pulls them one at a time, so the
 * whole base never sits in JavaScript at once). Params marked quant: 'nf4' come back as NF4 (`quant` options required
 * then). The folder must stay open while it is used.
 */
export function programWeightReader(folder: Pick<ModelFolder, 'readHf'>, p: Program, quant?: QuantOptions): (name: string) => Promise<Float32Array | Nf4Tensor> {
  const decls = new Map(p.params.map((d) => [d.name, d]));
  return async (name) => {
    const d = decls.get(name);
    if (!d || d.init) throw new Error(`reading ${name}: not a weight of the checkpoint (LoRA tensors start from their initialisers)`);
    const w = fromStored(p, d.name, await folder.readHf(d.name));
    if (d.quant !== 'nf4') return w;
    if (!quant) throw new Error(`reading ${d.name}: the program holds it as NF4 but no quantization options were given`);
    return quantizeWeight(p, d.name, w, quant);
  };
}

/** Every non-LoRA param of the program from the folder, all at once (programWeightReader's values in one map). */
export async function readProgramWeights(folder: Pick<ModelFolder, 'readHf'>, p: Program, quant?: QuantOptions): Promise<Map<string, Float32Array | Nf4Tensor>> {
  const read = programWeightReader(folder, p, quant);
  const weights = new Map<string, Float32Array | Nf4Tensor>();
  for (const d of p.params) if (!d.init) weights.set(d.name, await read(d.name));
  return weights;
}

/**
 * The type a checkpoint stores its floats in, as a base dtype: 'bf16' or 'f16' when every float tensor is stored
 * so (holding the base in it then loses nothing), else 'f32'. What `base_dtype: auto` resolves to.
 */
export function checkpointBaseDtype(folder: Pick<ModelFolder, 'weights'>): 'f32' | 'f16' | 'bf16' {
  const floats = folder.weights
    .names()
    .map((n) => folder.weights.info(n).dtype)
    .filter((t) => /^(F|BF)\d+$/.test(t));
  if (floats.length && floats.every((t) => t === 'BF16')) return 'bf16';
  if (floats.length && floats.every((t) => t === 'F16')) return 'f16';
  return 'f32';
}
