// The training methods' views of a family's program (model/families/index.ts buildProgramFromSpec): full
// fine-tuning (every weight trainable) and fresh weights for pretraining here, LoRA in lora/model.ts, the NF4 base
// of QLoRA in quant/program.ts.

import type { ParamDecl, Program } from '../../model/ir.ts';
import { familyNamed } from '../../model/families/index.ts';

/**
 * Full fine-tuning: every parameter trainable (a tied embedding is one parameter, trained through both uses).
 * Weight decay keeps the family's noDecay marks: biases and norm weights are excluded, as transformers' Trainer does.
 */
export function fullFineTuneProgram(base: Program): Program {
  if (base.nodes.some((n) => n.op === 'linear' && n.lora)) throw new Error('full fine-tuning: the program already carries LoRA branches');
  if (base.params.some((d) => d.quant)) throw new Error('full fine-tuning: quantized (NF4) weights cannot be trained; load the base in float');
  return { ...base, params: base.params.map((d) => ({ ...d, trainable: true })) };
}

/**
 * Fresh weights for a program with no checkpoint (pretraining from a config.json), as transformers'
 * _init_weights does: linear and embedding weights ~ N(0, initializer_range), biases 0, norm weights 1 (0 for
 * Gemma's (1 + w) form); the family's residual projections (GPT-2's c_proj: scaledResidualInit) by 1/√(2·n_layer).
 */
export function initProgramWeights(p: Program, options: { seed: number; std?: number; numLayers?: number }): Map<string, Float32Array> {
  const std = options.std ?? 0.02;
  let state = (options.seed >>> 0) || 1;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 1) / 4294967297;
  };
  const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  const norms = new Set<string>();
  for (const n of p.nodes) if (n.op === 'rmsnorm' || n.op === 'layernorm') norms.add(n.weight);
  const plusOne = new Set(p.nodes.flatMap((n) => (n.op === 'rmsnorm' && n.plusOne ? [n.weight] : [])));
  const out = new Map<string, Float32Array>();
  const scaled = familyNamed(p.family)?.scaledResidualInit;
  for (const d of p.params as ParamDecl[]) {
    const size = d.shape.reduce((a, b) => a * b, 1);
    const w = new Float32Array(size);
    if (norms.has(d.name)) w.fill(plusOne.has(d.name) ? 0 : 1);
    else if (d.shape.length === 1) w.fill(0); // biases
    else {
      const residual = scaled?.test(d.name) && options.numLayers ? 1 / Math.sqrt(2 * options.numLayers) : 1;
      for (let i = 0; i < size; i++) w[i] = normal() * std * residual;
    }
    out.set(d.name, w);
  }
  return out;
}
