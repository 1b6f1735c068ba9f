// Tiny Llama-family configs and random weights built in memory, for engine tests.
import type { LlamaConfig } from '../../src/main/model/families/llama/program.ts';
import type { Program } from '../../src/main/model/ir.ts';
import type { Batch } from '../../src/main/engine/session.ts';
import { randn } from './helpers.ts';

export function tinyConfig(family: LlamaConfig['family'] = 'llama', over: Partial<LlamaConfig> = {}): LlamaConfig {
  const headDim = family === 'qwen3' ? 6 : 4; // Qwen3: head_dim ≠ hidden/heads, as the real ones
  return {
    family, vocabSize: 11, hiddenSize: 8, intermediateSize: 12, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim,
    rmsNormEps: 1e-6, rope: { theta: 10000, headDim, scaling: null },
    tieWordEmbeddings: family !== 'llama', attentionBias: family === 'qwen2', qkNorm: family === 'qwen3',
    slidingWindow: family === 'mistral' ? 3 : null, ...over,
  };
}

/** Random weights for every param of the program (norm weights around 1; LoRA B non-zero so gradients flow). */
export function randomWeights(p: Program, seed: number, std = 0.3): Map<string, Float64Array> {
  const w = new Map<string, Float64Array>();
  p.params.forEach((d, i) => {
    const size = d.shape.reduce((a, b) => a * b, 1);
    const a = randn(size, seed * 1000 + i, std);
    if (d.name.endsWith('norm.weight') || d.name.endsWith('layernorm.weight')) for (let j = 0; j < size; j++) a[j] += 1;
    w.set(d.name, a);
  });
  return w;
}

/** Two sequences, the second right-padded, labels shifted with −100 on padding and on the first token. */
export function tinyBatch(V: number, T = 5): Batch {
  const B = 2;
  const ids = Int32Array.from({ length: B * T }, (_, i) => (i * 7 + 3) % V);
  const mask = new Uint8Array(B * T).fill(1);
  mask[T + T - 1] = 0;
  mask[T + T - 2] = 0;
  ids[T + T - 1] = 0;
  ids[T + T - 2] = 0;
  const labels = new Int32Array(B * T);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++) {
      const next = t + 1 < T ? b * T + t + 1 : -1;
      labels[b * T + t] = next >= 0 && mask[next] ? ids[next] : -100;
    }
  labels[0] = -100; // a prompt token, not trained
  return { B, T, inputIds: ids, attentionMask: mask, labels };
}
