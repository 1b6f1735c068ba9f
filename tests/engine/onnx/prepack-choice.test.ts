// Pre-packing chosen per frozen tensor (issue 16: speed for memory on the CPU step). A packed copy saves the GEMMs
// that read a weight the packing they otherwise do on every call, and costs a copy of it; the session's `prepack`
// picks which weights by key (default none). Checked on the graph (the left-out weights
// are overridable initializers, which ORT neither folds nor packs; the chosen ones constants) and on the numbers (float32 with ORT's optimizations and pre-packing on: the
// float64 reference's loss and every LoRA gradient, the same as the unpacked session's).
import { describe, expect, it } from 'vitest';
import { buildLlamaProgram } from '../../../src/main/model/families/llama/program.ts';
import { applyLora } from '../../../src/main/engine/lora/model.ts';
import { buildStepGraph } from '../../../src/main/engine/executors/onnx/graphs.ts';
import { createCpuTrainingSession } from '../../../src/main/engine/executors/onnx/session.ts';
import { peftKey } from '../../../src/main/model/ir.ts';
import { referenceRun } from '../executor-checks.ts';
import { relErr } from '../helpers.ts';
import { randomWeights, tinyBatch, tinyConfig } from '../tiny.ts';

const LORA = { r: 2, alpha: 4, dropout: 0, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'], bias: 'none' as const, useRslora: false };
const mlpOnly = (key: string) => key.includes('.mlp.');

describe('pre-packing chosen per frozen weight', () => {
  const program = applyLora(buildLlamaProgram(tinyConfig('qwen2')), LORA).program;
  const weights = randomWeights(program, 3);
  const graph = (prepacked?: (key: string) => boolean) =>
    buildStepGraph(program, { elem: 'float32', mode: 'train', weight: (n) => weights.get(n)!, prepacked }).graph;

  it('the left-out weights are overridable initializers (graph inputs too: not constant, not packed); the chosen ones constant', () => {
    const g = graph(mlpOnly);
    const isInput = (t: string) => g.inputs.some((i) => i.name === t);
    const init = (part: string) => g.initializers.map((t) => t.name).find((n) => n.includes('layers.1.') && n.includes(part) && n.endsWith('.weight'))!;
    const readers = (t: string) => g.nodes.filter((n) => n.inputs.includes(t)).map((n) => n.op).sort();
    for (const part of ['gate_proj+', 'down_proj']) {
      expect(isInput(init(part)), part).toBe(false); // constant: x·Wᵀ forward and dy·W backward read one packed copy
      expect(readers(init(part))).toEqual(['Gemm', 'MatMul']);
    }
    for (const part of ['q_proj+', 'o_proj']) {
      expect(isInput(init(part)), part).toBe(true); // packed per call, read in place (no reshape, no copy)
      expect(readers(init(part))).toEqual(['Gemm', 'MatMul']);
    }
    // the tied head / embedding is left out too; without a choice no frozen weight is an input
    expect(isInput('model.embed_tokens.weight')).toBe(true);
    const plain = graph();
    expect(plain.inputs.filter((i) => plain.initializers.some((t) => t.name === i.name))).toEqual([]);
  });

  it('float32 with pre-packing of the MLP weights: the reference loss and LoRA gradients, as the unpacked session', async () => {
    const batch = tinyBatch(program.vocab, 6);
    const { weights: w, fwd, grads } = referenceRun(program, 5, batch);
    const trainables = program.params.filter((d) => d.trainable);
    const run = async (prepack: boolean | ((key: string) => boolean)) => {
      const s = await createCpuTrainingSession({ program, weights: w, seed: 0, threads: 1, prepack });
      try {
        s.setTrainables(new Map(trainables.map((d) => [peftKey(d.name), { shape: d.shape, data: Float32Array.from(w.get(d.name)!) }])));
        const r = await s.microStep(batch);
        return { loss: r.lossSum, acc: s.getAccumulatedGradients() };
      } finally {
        await s.dispose();
      }
    };
    const packed = await run(mlpOnly);
    const plain = await run(false);
    expect(Math.abs(packed.loss - fwd.lossSum)).toBeLessThan(1e-5 * Math.abs(fwd.lossSum));
    for (const d of trainables) {
      const got = packed.acc.get(peftKey(d.name))!.data;
      expect(relErr(got, grads.get(d.name)!), d.name).toBeLessThan(5e-4);
      expect(relErr(got, plain.acc.get(peftKey(d.name))!.data), d.name).toBeLessThan(1e-5);
    }
  });
});
