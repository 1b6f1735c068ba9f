// A model's checkpoint tensors as its family module declares them (src/main/model/families/<name>/tensors.ts:
// Hugging Face name, canonical params, layout, fusion, GGUF name), and what formats derive from that table:
// parameter counts, the linear modules PEFT can target, and the Conv1D / fused-q/k/v conversions.

import type { ModelSpec } from '../../model/spec.ts';
import type { CanonicalParam, HfTensorEntry } from '../../model/tensor-table.ts';
import { familyOf, tensorTable } from '../../model/families/index.ts';

export type { CanonicalParam, HfTensorEntry } from '../../model/tensor-table.ts';
export { tensorTable };

export interface LinearModule {
  module: string;
  inFeatures: number;
  outFeatures: number;
  /** Weight stored [in, out] (GPT-2 Conv1D): PEFT's fan_in_fan_out. */
  fanInFanOut: boolean;
  isOutputHead: boolean;
  /** The HF weight tensor of this module. */
  weightName: string;
  layer: number | null;
}

/** The canonical parameters with shapes, in table order. */
export function canonicalParams(spec: ModelSpec): CanonicalParam[] {
  return tensorTable(spec).flatMap((e) => e.params);
}

/** Total parameter count from shapes (tied embeddings counted once), as transformers reports it. */
export function parameterCount(spec: ModelSpec): number {
  let n = 0;
  for (const e of tensorTable(spec)) n += e.shape.reduce((a, b) => a * b, 1);
  return n;
}

/** The linear (nn.Linear / Conv1D) modules PEFT could target, including the output head when untied. */
export function linearModules(spec: ModelSpec): LinearModule[] {
  const out: LinearModule[] = [];
  for (const e of tensorTable(spec)) {
    if (!e.linear) continue;
    const m = /^layers\.(\d+)\./.exec(e.params[0].name); // the canonical name, whatever the family calls its layers
    out.push({
      module: e.linear.module,
      inFeatures: e.linear.inFeatures,
      outFeatures: e.linear.outFeatures,
      fanInFanOut: e.transpose,
      isOutputHead: e.linear.isOutputHead,
      weightName: e.hfName,
      layer: m ? Number(m[1]) : null,
    });
  }
  // The output head exists as a module even when tied (PEFT's "all-linear" still excludes it).
  if (spec.tiedEmbeddings) {
    out.push({
      module: 'lm_head',
      inFeatures: spec.hiddenSize,
      outFeatures: spec.vocabSize,
      fanInFanOut: false,
      isOutputHead: true,
      weightName: familyOf(spec).tiedHeadWeight,
      layer: null,
    });
  }
  return out;
}

/** Tensors some checkpoints carry that are not parameters (buffers) or are duplicates when tied. */
export function isIgnorableTensor(name: string, spec: ModelSpec): boolean {
  if (familyOf(spec).isBufferTensor?.(name)) return true;
  if (name.endsWith('rotary_emb.inv_freq')) return true;
  if (name === 'lm_head.weight' && spec.tiedEmbeddings) return true;
  return false;
}

/** Transpose a row-major [rows, cols] matrix. */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[base + c];
  }
  return out;
}

/**
 * Canonical parameters from one HF tensor's float data: transposed for Conv1D, split for fused q/k/v.
 * Returns the parameters in entry order.
 */
export function toCanonical(entry: HfTensorEntry, data: Float32Array): Float32Array[] {
  let canon = data;
  if (entry.transpose) canon = transpose2d(data, entry.shape[0], entry.shape[1]);
  if (!entry.split) return [canon];
  const rowSize = entry.params[0].shape.length > 1 ? entry.params[0].shape[1] : 1;
  const parts: Float32Array[] = [];
  let row = 0;
  for (const q of entry.params) {
    const rows = q.shape[0];
    parts.push(canon.slice(row * rowSize, (row + rows) * rowSize));
    row += rows;
  }
  return parts;
}

/** The inverse of `toCanonical`: canonical parameters → the HF tensor's data. */
export function fromCanonical(entry: HfTensorEntry, parts: Float32Array[]): Float32Array {
  let canon: Float32Array;
  if (parts.length === 1) canon = parts[0];
  else {
    canon = new Float32Array(parts.reduce((s, x) => s + x.length, 0));
    let o = 0;
    for (const x of parts) {
      canon.set(x, o);
      o += x.length;
    }
  }
  if (!entry.transpose) return canon;
  // Canonical is [out, in] = [shape[1], shape[0]]; transpose back to [in, out].
  return transpose2d(canon, entry.shape[1], entry.shape[0]);
}
