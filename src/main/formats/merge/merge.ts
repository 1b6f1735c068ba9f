// Merging LoRA into base weights: W' = W + Σ_k weight_k · scale_k · (B_k · A_k), with
// scale = alpha / r (or alpha / √r with rsLoRA), transposed for fan_in_fan_out (GPT-2 Conv1D
// stores W as [in, out]). The delta is accumulated in float64 and added once, so merge and unmerge
// of the same delta are exact up to one f32 rounding each. Safe merge checks every value is finite
// before touching the weight.

import type { LoraLayer, LoraAdapter } from '../peft/adapter.ts';
import { layerScale } from '../peft/adapter.ts';
import type { ModelFolder } from '../model/folder.ts';
import { linearModules } from '../model/tensors.ts';

export class MergeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MergeError';
  }
}

export interface ScaledLayer {
  layer: LoraLayer;
  /** Total multiplier on B·A: the layer's scale × the adapter's weight in a combination. */
  scale: number;
}

/**
 * Σ scale · B·A in the weight's storage layout, in float64: [out, in], or [in, out] when
 * fanInFanOut. B is (out, r), A is (r, in).
 */
export function loraDelta(parts: readonly ScaledLayer[], fanInFanOut: boolean): Float64Array {
  if (parts.length === 0) throw new MergeError('no LoRA layers to merge');
  const { inFeatures: IN, outFeatures: OUT, module } = parts[0].layer;
  const delta = new Float64Array(OUT * IN);
  for (const { layer, scale } of parts) {
    if (layer.inFeatures !== IN || layer.outFeatures !== OUT) {
      throw new MergeError(`${module}: adapters disagree on shape (${IN}→${OUT} vs ${layer.inFeatures}→${layer.outFeatures})`);
    }
    const { A, B, r } = layer;
    const row = new Float64Array(IN);
    for (let o = 0; o < OUT; o++) {
      row.fill(0);
      for (let k = 0; k < r; k++) {
        const b = B[o * r + k] * scale;
        if (b === 0) continue;
        const aRow = k * IN;
        for (let i = 0; i < IN; i++) row[i] += b * A[aRow + i];
      }
      if (fanInFanOut) for (let i = 0; i < IN; i++) delta[i * OUT + o] += row[i];
      else {
        const base = o * IN;
        for (let i = 0; i < IN; i++) delta[base + i] += row[i];
      }
    }
  }
  return delta;
}

function checkFinite(values: ArrayLike<number>, what: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new MergeError(`${what}: value ${values[i]} at index ${i} is not finite; refusing to merge (safe merge)`);
  }
}

export interface MergeOptions {
  fanInFanOut: boolean;
  /** Check the adapter and the result for NaN/Inf before writing (PEFT's safe_merge). Default true. */
  safe?: boolean;
}

/** W' = W + delta, as a new array (W is not modified). */
export function mergeLayers(weight: Float32Array, parts: readonly ScaledLayer[], options: MergeOptions): Float32Array {
  const { inFeatures, outFeatures, module } = parts[0].layer;
  if (weight.length !== inFeatures * outFeatures) {
    throw new MergeError(`${module}: base weight has ${weight.length} values, LoRA expects ${outFeatures}×${inFeatures}`);
  }
  const delta = loraDelta(parts, options.fanInFanOut);
  const out = new Float32Array(weight.length);
  for (let i = 0; i < out.length; i++) out[i] = weight[i] + delta[i];
  if (options.safe ?? true) checkFinite(out, `${module} (merged)`);
  return out;
}

/** W = W' − delta: undo `mergeLayers` with the same parts (exact within f32 rounding). */
export function unmergeLayers(merged: Float32Array, parts: readonly ScaledLayer[], options: MergeOptions): Float32Array {
  const delta = loraDelta(parts, options.fanInFanOut);
  const out = new Float32Array(merged.length);
  for (let i = 0; i < out.length; i++) out[i] = merged[i] - delta[i];
  return out;
}

export interface WeightedAdapter {
  adapter: LoraAdapter;
  /** Multiplier on this adapter's update (1 = as trained). */
  weight?: number;
}

/**
 * For a model and one or more adapters, a reader of merged HF tensors: each linear weight that some
 * adapter targets gets Σ weight · scale · B·A added; adapters' trained biases / modules_to_save
 * copies replace the base tensors. Everything else reads through unchanged. One tensor at a time.
 */
export function mergedTensorReader(model: ModelFolder, adapters: readonly WeightedAdapter[], safe = true): (hfName: string) => Promise<Float32Array> {
  const modules = new Map(linearModules(model.spec).map((m) => [m.module, m]));
  const byWeight = new Map<string, { parts: ScaledLayer[]; fanInFanOut: boolean }>();
  const replaced = new Map<string, Float32Array>();
  const tableNames = new Set(model.table.map((e) => e.hfName));
  for (const { adapter, weight = 1 } of adapters) {
    if (safe) {
      for (const l of adapter.layers.values()) {
        checkFinite(l.A, `${l.module}.lora_A`);
        checkFinite(l.B, `${l.module}.lora_B`);
      }
    }
    for (const layer of adapter.layers.values()) {
      const m = modules.get(layer.module);
      if (!m) throw new MergeError(`adapter module ${layer.module} is not a linear layer of ${model.spec.architecture}`);
      if (m.inFeatures !== layer.inFeatures || m.outFeatures !== layer.outFeatures) {
        throw new MergeError(`${layer.module}: base is ${m.inFeatures}→${m.outFeatures}, adapter ${layer.inFeatures}→${layer.outFeatures}`);
      }
      if (adapter.config.fan_in_fan_out !== m.fanInFanOut) {
        throw new MergeError(
          `${layer.module}: adapter_config fan_in_fan_out=${adapter.config.fan_in_fan_out} but ${model.spec.architecture} stores this weight ${m.fanInFanOut ? '[in, out] (Conv1D)' : '[out, in]'}`,
        );
      }
      const entry = byWeight.get(m.weightName) ?? { parts: [], fanInFanOut: m.fanInFanOut };
      entry.parts.push({ layer, scale: weight * layerScale(adapter.config, layer) });
      byWeight.set(m.weightName, entry);
    }
    for (const [key, t] of adapter.extra) {
      const name = key.replace(/^base_model\.model\./, '');
      if (!tableNames.has(name)) throw new MergeError(`adapter tensor ${key} replaces "${name}", which ${model.spec.architecture} does not have`);
      if (replaced.has(name)) throw new MergeError(`two adapters both replace "${name}"; cannot combine them`);
      replaced.set(name, t.data);
    }
  }
  return async (hfName: string) => {
    const base = replaced.get(hfName) ?? (await model.readHf(hfName));
    const merge = byWeight.get(hfName);
    return merge ? mergeLayers(base, merge.parts, { fanInFanOut: merge.fanInFanOut, safe }) : base;
  };
}
