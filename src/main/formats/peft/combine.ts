// Several LoRA adapters of one base model, each with a weight, as one new PEFT adapter (the `adapter.combine` job
// with typed weights, and `fuse` with learned ones). The combination is exact rather than an average of factors:
// for every module the ranks are stacked, A' = [w₁s₁A₁; w₂s₂A₂; …] and B' = [B₁ B₂ …], so B'·A' = Σ wᵢ·sᵢ·Bᵢ·Aᵢ
// (sᵢ each adapter's own alpha/r or alpha/√r). The result has rank Σ rᵢ and alpha = rank (scale 1); a module an
// adapter lacks gets zeros in its block. PEFT calls this combination "cat".
import { AdapterError, layerScale, type LoraAdapter, type LoraLayer } from './adapter.ts';

/** One adapter of a combination and its weight (one for every module, or per module: learned per-layer weights). */
export interface WeightedLora {
  adapter: LoraAdapter;
  weight: number | ((module: string) => number);
  /** Shown in errors. */
  name: string;
}

/** The exact weighted combination of adapters as one adapter (see the file comment). */
export function combineAdapters(parts: readonly WeightedLora[], baseModel: string | null): LoraAdapter {
  if (parts.length < 2) throw new AdapterError('combining needs at least two adapters');
  const first = parts[0].adapter.config;
  for (const p of parts) {
    if (p.adapter.extra.size) {
      throw new AdapterError(
        `${p.name} also trains ${[...p.adapter.extra.keys()].slice(0, 2).join(', ')} (biases or modules_to_save); only LoRA pairs can be combined`,
      );
    }
    if (p.adapter.config.fan_in_fan_out !== first.fan_in_fan_out) {
      throw new AdapterError(
        `${p.name} has fan_in_fan_out=${p.adapter.config.fan_in_fan_out} but ${parts[0].name} has ${first.fan_in_fan_out}: they are not for the same kind of model`,
      );
    }
  }
  const ranks = parts.map((p) => Math.max(...[...p.adapter.layers.values()].map((l) => l.r)));
  const rank = ranks.reduce((a, b) => a + b, 0);
  const modules = [...new Set(parts.flatMap((p) => [...p.adapter.layers.keys()]))].sort();
  const layers = new Map<string, LoraLayer>();
  for (const module of modules) {
    const present = parts.map((p) => p.adapter.layers.get(module)).find((l) => l !== undefined)!;
    const { inFeatures, outFeatures } = present;
    const A = new Float32Array(rank * inFeatures);
    const B = new Float32Array(outFeatures * rank);
    let offset = 0;
    parts.forEach((p, i) => {
      const layer = p.adapter.layers.get(module);
      if (layer) {
        if (layer.inFeatures !== inFeatures || layer.outFeatures !== outFeatures) {
          throw new AdapterError(
            `${module} is ${inFeatures}→${outFeatures} in one adapter but ${layer.inFeatures}→${layer.outFeatures} in ${p.name}: the adapters are for different base models`,
          );
        }
        const factor = (typeof p.weight === 'number' ? p.weight : p.weight(module)) * layerScale(p.adapter.config, layer);
        for (let k = 0; k < layer.r; k++) {
          const src = k * inFeatures;
          const dst = (offset + k) * inFeatures;
          for (let j = 0; j < inFeatures; j++) A[dst + j] = factor * layer.A[src + j];
        }
        for (let o = 0; o < outFeatures; o++) {
          for (let k = 0; k < layer.r; k++) B[o * rank + offset + k] = layer.B[o * layer.r + k];
        }
      }
      offset += ranks[i];
    });
    layers.set(module, { module, r: rank, inFeatures, outFeatures, A, B });
  }
  const config = {
    ...first,
    r: rank,
    lora_alpha: rank, // scale 1: the weights and each adapter's own scale are already in A
    use_rslora: false,
    rank_pattern: {},
    alpha_pattern: {},
    // Exact module paths (PEFT matches a list entry as a suffix), so the combined adapter targets precisely
    // the modules that carry weights even when the inputs targeted different layers.
    target_modules: modules,
    exclude_modules: null,
    layers_to_transform: null,
    layers_pattern: null,
    lora_dropout: Math.max(...parts.map((p) => p.adapter.config.lora_dropout)),
    modules_to_save: null,
    base_model_name_or_path: baseModel ?? first.base_model_name_or_path,
  };
  const trainingTemplate = parts.find((p) => p.adapter.trainingTemplate)?.adapter.trainingTemplate ?? null;
  return { config, layers, extra: new Map(), trainingTemplate };
}
