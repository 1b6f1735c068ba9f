// The CPU training graph does only the work a LoRA step needs, checked on the graph itself (which nodes read what)
// and on its numbers in float32 with onnxruntime's graph optimizations on (the path bench:cpu times) against the
// float64 reference: no input gradient for layer 0's frozen q/k/v, and the loss hands the frozen head its input
// gradient directly, valid ⊙ (softmax·W − W[label]), without a (N, V) dlogits, and the head runs on the labelled rows
// alone (a masked prompt costs no head work).
import { describe, expect, it } from 'vitest';
import { buildLlamaProgram } from '../../../src/main/model/families/llama/program.ts';
import { applyLora } from '../../../src/main/engine/lora/model.ts';
import { fullFineTuneProgram } from '../../../src/main/engine/models/index.ts';
import { buildStepGraph, LABEL_ROWS, labelledRowsOnly, lossHead } from '../../../src/main/engine/executors/onnx/graphs.ts';
import { createCpuTrainingSession } from '../../../src/main/engine/executors/onnx/session.ts';
import { backwardWalk } from '../../../src/main/engine/autodiff.ts';
import type { Program } from '../../../src/main/model/ir.ts';
import { expectOnnxMatches, referenceRun } from '../executor-checks.ts';
import { randomWeights, tinyBatch, tinyConfig } from '../tiny.ts';

const LORA = { r: 2, alpha: 4, dropout: 0, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'], bias: 'none' as const, useRslora: false };

function trainGraph(p: Program) {
  const weights = randomWeights(p, 3);
  return buildStepGraph(p, { elem: 'float32', mode: 'train', weight: (n) => weights.get(n)! }).graph;
}

/** The ops of the nodes reading a tensor. */
function readers(graph: ReturnType<typeof trainGraph>, tensor: string): string[] {
  return graph.nodes.filter((n) => n.inputs.includes(tensor)).map((n) => n.op);
}

describe.each(['qwen2', 'llama'] as const)('LoRA training graph of a tiny %s (q/k/v/o adapted)', (family) => {
  const program = applyLora(buildLlamaProgram(tinyConfig(family)), LORA).program;
  const graph = trainGraph(program);

  it("reads layer 0's stacked q/k/v weight only forward; later layers' also for their input gradient", () => {
    const qkv = (layer: number) => graph.initializers.map((t) => t.name).find((n) => n.includes(`layers.${layer}.`) && n.includes('q_proj+') && n.endsWith('.weight'))!;
    expect(qkv(0)).toBeDefined();
    expect(readers(graph, qkv(0))).toEqual(['Gemm']); // x·Wᵀ; no dy·W: layer 0's input (the frozen embedding) needs no gradient
    expect(readers(graph, qkv(1)).sort()).toEqual(['Gemm', 'MatMul']);
  });

  it('builds no (N, V) dlogits: the head input gradient comes from the softmax and the label rows of W', () => {
    expect(lossHead(program, backwardWalk(program).needGrad)?.node.module).toBe('lm_head');
    expect(graph.nodes.filter((n) => n.op === 'ScatterElements')).toEqual([]);
    const head = program.nodes.find((n) => n.out === program.logits)!;
    if (head.op !== 'linear') throw new Error('the head is a linear');
    // the head weight: forward Gemm, the softmax·W MatMul and the Gather of the label rows (+ the embedding's own Gather when tied)
    expect(readers(graph, head.weight).filter((op) => op !== 'Gather').sort()).toEqual(['Gemm', 'MatMul']);
  });

  it('runs the head on the labelled rows alone: Gather(x, label_rows) feeds its Gemm, labels are one per such row', () => {
    expect(labelledRowsOnly(program)).toBe(true);
    expect(graph.inputs.find((i) => i.name === LABEL_ROWS)?.dims).toEqual(['M']);
    expect(graph.inputs.find((i) => i.name === 'label_idx')?.dims).toEqual(['M', 1]);
    const head = program.nodes.find((n) => n.out === program.logits)!;
    if (head.op !== 'linear') throw new Error('the head is a linear');
    const headGemm = graph.nodes.find((n) => n.op === 'Gemm' && n.inputs[1] === graph.initializers.find((t) => t.name === head.weight)?.name);
    expect(headGemm).toBeDefined();
    expect(graph.nodes.find((n) => n.outputs.includes(headGemm!.inputs[0]))?.op).toBe('Gather');
    // its input gradient goes back to the labelled rows' places, zero at the others
    expect(graph.nodes.filter((n) => n.op === 'ScatterND')).toHaveLength(1);
  });

  it('a micro-step with no labelled token: loss 0, no tokens, a zero gradient (the head still gets one row, weighted 0)', async () => {
    const weights = randomWeights(program, 5);
    const s = await createCpuTrainingSession({ program, weights, seed: 0, threads: 1 });
    try {
      const batch = { ...tinyBatch(program.vocab, 6) };
      batch.labels = new Int32Array(batch.labels.length).fill(-100);
      const r = await s.microStep(batch);
      expect(r).toEqual({ lossSum: 0, tokens: 0 });
      for (const [, g] of s.getAccumulatedGradients()) expect(g.data.every((v) => v === 0)).toBe(true);
    } finally {
      await s.dispose();
    }
  });

  it('float32 with graph optimizations: loss and every LoRA gradient as the float64 reference', async () => {
    const batch = tinyBatch(program.vocab, 6); // padded rows and an untrained prompt token: label_valid 0 rows
    const { weights, fwd, grads } = referenceRun(program, 5, batch);
    // float32 rounding through two layers of these large random weights: 2.2e-4 on llama's layer-0 A both with and
    // without the hand-over (the ScatterElements graph gave the same to 3 digits); a wrong term would be O(1)
    await expectOnnxMatches(program, weights, batch, fwd, grads, { elem: 'float32', lossTol: 1e-5, gradTol: 5e-4 });
  });
});

describe('a head that trains keeps the dlogits path', () => {
  const program = fullFineTuneProgram(buildLlamaProgram(tinyConfig('llama')));

  it('no hand-over when the head weight needs its own gradient, and the gradients still match the reference', async () => {
    expect(lossHead(program, backwardWalk(program).needGrad)).toBeNull();
    expect(trainGraph(program).nodes.filter((n) => n.op === 'ScatterElements')).toHaveLength(1);
    const batch = tinyBatch(program.vocab, 6);
    const { weights, fwd, grads } = referenceRun(program, 5, batch);
    await expectOnnxMatches(program, weights, batch, fwd, grads, { elem: 'float64', lossTol: 1e-10, gradTol: 1e-6 });
  });
});
