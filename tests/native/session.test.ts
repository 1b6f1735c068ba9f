// The TypeScript half of the CUDA executor against the CPU executor, with the addon replaced by a float64 plan
// harness (fake-addon.ts): same loss, gradients, optimizer steps, evaluation and logits; probeCuda never throws;
// out-of-memory turns into a message naming what to change.
import { describe, expect, it } from 'vitest';
import { buildLlamaProgram } from '../../src/main/model/families/llama/program.ts';
import { applyLora } from '../../src/main/engine/lora/model.ts';
import type { LoraConfig } from '../../src/main/engine/lora/config.ts';
import { createCpuTrainingSession } from '../../src/main/engine/executors/onnx/session.ts';
import { createCudaTrainingSession, CudaOutOfMemoryError, estimateCudaMemory, probeCuda } from '../../src/main/engine/executors/cuda/index.ts';
import { loadAddon } from '../../src/main/engine/executors/cuda/addon.ts';
import type { TensorMap } from '../../src/main/engine/session.ts';
import { randomWeights, tinyBatch, tinyConfig } from '../engine/tiny.ts';
import { relErr } from '../engine/helpers.ts';
import { fakeAddon } from './fake-addon.ts';
import { quantizeProgram, quantizeWeight } from '../../src/main/engine/quant/program.ts';
import { isNf4, type Nf4Tensor } from '../../src/main/engine/quant/nf4.ts';

const lora = (over: Partial<LoraConfig> = {}): LoraConfig => ({ r: 4, alpha: 8, dropout: 0.1, targetModules: 'all-linear', bias: 'none', useRslora: false, ...over });
const update = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, maxGradNorm: 0.5 };

function expectSameTensors(a: TensorMap, b: TensorMap, tol: number) {
  expect([...a.keys()]).toEqual([...b.keys()]);
  for (const [k, t] of a) expect(relErr(t.data, b.get(k)!.data), k).toBeLessThanOrEqual(tol);
}

describe('CudaTrainingSession (plan harness in place of the GPU) vs CpuTrainingSession', () => {
  it('trains like the CPU executor: loss, gradients, clipped AdamW steps with dropout, eval and logits', async () => {
    const p = applyLora(buildLlamaProgram(tinyConfig('qwen2')), lora()).program;
    const weights = randomWeights(p, 3);
    const batch = tinyBatch(p.vocab, 6);
    const cpu = await createCpuTrainingSession({ program: p, weights, seed: 9, elem: 'float64' });
    const gpu = await createCudaTrainingSession({ program: p, weights, seed: 9, capacityTokens: 16, exactDropout: true, addon: fakeAddon(p) });
    expectSameTensors(gpu.getTrainables(), cpu.getTrainables(), 1e-6); // same init (kaiming A, zero B), f32 on the device
    for (let step = 0; step < 3; step++) {
      for (let micro = 0; micro < 2; micro++) {
        const [a, b] = [await cpu.microStep(batch), await gpu.microStep(batch)];
        expect(b.tokens).toBe(a.tokens);
        expect(Math.abs(b.lossSum - a.lossSum) / a.lossSum).toBeLessThan(1e-5);
      }
      if (step === 0) expectSameTensors(gpu.getAccumulatedGradients(), cpu.getAccumulatedGradients(), 1e-5);
      const [ua, ub] = [await cpu.applyUpdate(update), await gpu.applyUpdate(update)];
      expect(Math.abs(ub.gradNorm - ua.gradNorm) / ua.gradNorm).toBeLessThan(1e-5);
    }
    expectSameTensors(gpu.getTrainables(), cpu.getTrainables(), 1e-4);
    const [ea, eb] = [await cpu.evaluate(batch), await gpu.evaluate(batch)];
    expect(Array.from(eb.tokensPerSequence)).toEqual(Array.from(ea.tokensPerSequence));
    expect(relErr(eb.nllPerSequence, ea.nllPerSequence)).toBeLessThan(1e-4);
    const [fa, fb] = [await cpu.forward(batch), await gpu.forward(batch)];
    expect(relErr(fb.logits, fa.logits)).toBeLessThan(1e-4);
    // optimizer state round trip resets the step's accumulation like the CPU session
    const st = gpu.getOptimizerState();
    expect(st.step).toBe(3);
    gpu.setOptimizerState(st);
    expectSameTensors(gpu.getOptimizerState().m, st.m, 0);
    await cpu.dispose();
    await gpu.dispose();
  });

  it('QLoRA: NF4 weights quantized on the host go up as they are (double-quantized or not) and train like the CPU', async () => {
    const base = buildLlamaProgram(tinyConfig('llama', { hiddenSize: 64, intermediateSize: 128, numHeads: 4, numKvHeads: 2, headDim: 16, rope: { theta: 10000, headDim: 16, scaling: null } }));
    const p = applyLora(quantizeProgram(base), lora({ dropout: 0 })).program;
    for (const doubleQuant of [true, false]) {
      const weights = new Map<string, Float32Array | Nf4Tensor>();
      for (const [k, v] of randomWeights(p, 4, 0.1))
        weights.set(k, p.params.find((d) => d.name === k)!.quant === 'nf4' ? quantizeWeight(p, k, v, { doubleQuant }) : Float32Array.from(v));
      expect([...weights.values()].filter(isNf4).length).toBe(2 * 7);
      const addon = fakeAddon(p);
      const gpu = await createCudaTrainingSession({ program: p, weights, seed: 2, capacityTokens: 12, addon });
      expect(addon.sessions[0].weights.filter((w) => w.nf4)).toHaveLength(14);
      const cpu = await createCpuTrainingSession({ program: p, weights, seed: 2 });
      const batch = tinyBatch(p.vocab, 6);
      const [a, b] = [await cpu.microStep(batch), await gpu.microStep(batch)];
      expect(Math.abs(b.lossSum - a.lossSum) / a.lossSum).toBeLessThan(1e-4);
      expectSameTensors(gpu.getAccumulatedGradients(), cpu.getAccumulatedGradients(), 1e-3);
      await cpu.dispose();
    }
    // an NF4 value for a weight the program holds dense is refused
    const dense = applyLora(base, lora({ dropout: 0 })).program;
    const w = new Map<string, Float32Array | Nf4Tensor>([...randomWeights(dense, 4)].map(([k, v]) => [k, Float32Array.from(v)]));
    w.set('model.layers.0.mlp.up_proj.weight', quantizeWeight(p, 'model.layers.0.mlp.up_proj.weight', w.get('model.layers.0.mlp.up_proj.weight') as Float32Array, { doubleQuant: true }));
    await expect(createCudaTrainingSession({ program: dense, weights: w, seed: 2, capacityTokens: 12, addon: fakeAddon(dense) })).rejects.toThrow(/up_proj.weight arrived as NF4 but the program does not mark it quantized/);
  });

  it('sends one plan per mode, NF4 only for linear weights under QLoRA, and refuses oversize batches', async () => {
    const p = applyLora(buildLlamaProgram(tinyConfig('llama')), lora({ dropout: 0 })).program;
    const addon = fakeAddon(p);
    const s = await createCudaTrainingSession({ program: p, weights: randomWeights(p, 1), seed: 1, capacityTokens: 8, qlora: true, addon });
    const o = addon.sessions[0];
    expect(o.plans).toHaveLength(3);
    const nf4 = o.weights.filter((w) => w.nf4).map((w) => w.name);
    expect(nf4.length).toBe(2 * 7); // 2 layers × q, k, v, o, gate, up, down
    expect(nf4.some((n) => n.includes('embed') || n.includes('lm_head') || n.includes('norm'))).toBe(false);
    await expect(s.microStep(tinyBatch(p.vocab, 5))).rejects.toThrow(/2 × 5 = 10 tokens exceeds the session's capacity of 8/);
    const bad = tinyBatch(p.vocab, 4);
    bad.inputIds[3] = p.vocab;
    await expect(s.microStep(bad)).rejects.toThrow(/token id 11 at position 3 is outside the vocabulary/);
  });

  it('turns the addon\'s CUDA_OOM into a message naming batch, sequence length, checkpointing and QLoRA', async () => {
    const p = applyLora(buildLlamaProgram(tinyConfig('llama')), lora({ dropout: 0 })).program;
    const oom = Object.assign(new Error('CUDA out of memory allocating activation slots'), { code: 'CUDA_OOM', allocating: 'activation slots', freeBytes: 2 ** 30, totalBytes: 80 * 2 ** 30 });
    const s = await createCudaTrainingSession({ program: p, weights: randomWeights(p, 1), seed: 1, capacityTokens: 16, addon: fakeAddon(p, { failRun: () => oom }) });
    const err = await s.microStep(tinyBatch(p.vocab, 6)).catch((e) => e);
    expect(err).toBeInstanceOf(CudaOutOfMemoryError);
    expect(err.message).toMatch(/while allocating activation slots \(1\.0 GiB free of 80\.0 GiB\)/);
    expect(err.message).toMatch(/batch 2 × sequence length 6/);
    expect(err.message).toMatch(/lower the batch size or the maximum sequence length/);
    expect(err.message).toMatch(/turn on gradient checkpointing/);
    expect(err.message).toMatch(/use QLoRA/);
  });
});

describe('memory estimate', () => {
  it('Qwen2.5-0.5B shape at 2 × 2048 tokens: QLoRA shrinks linear weights ~3.5×, checkpointing the activations', () => {
    const cfg = { ...tinyConfig('qwen2'), vocabSize: 151936, hiddenSize: 896, intermediateSize: 4864, numLayers: 24, numHeads: 14, numKvHeads: 2, headDim: 64, attentionBias: true, rope: { theta: 1e6, headDim: 64, scaling: null } };
    const p = applyLora(buildLlamaProgram(cfg), lora({ r: 16, alpha: 32, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] })).program;
    const base = estimateCudaMemory(p, { dtype: 'bf16', capacityTokens: 4096, qlora: false, checkpointing: false });
    const q = estimateCudaMemory(p, { dtype: 'bf16', capacityTokens: 4096, qlora: true, checkpointing: false });
    const ck = estimateCudaMemory(p, { dtype: 'bf16', capacityTokens: 4096, qlora: false, checkpointing: true });
    expect(base.weights).toBeCloseTo(494_032_768 * 2, -3); // bf16 base weights, tied head counted once
    const embed = 151936 * 896 * 2;
    expect((base.weights - embed) / (q.weights - embed)).toBeGreaterThan(3.5);
    expect(ck.activations).toBeLessThan(base.activations / 3);
    expect(base.lora).toBe(2_162_688 * 17); // f32 weights, grads, m, v + decay flags
  });
});

describe('probeCuda', () => {
  it('reports why there is no GPU path, and never throws', () => {
    const missing = probeCuda(() => loadAddon(['/nonexistent/lora_native.node']));
    expect(missing).toEqual({ available: false, device: null, reason: expect.stringMatching(/not built.*npm run build:native/) });
    const cpuOnly = probeCuda(() => ({ addon: { abiVersion: 1, probe: () => ({ builtWithCuda: false, available: false, reason: 'built without CUDA' }) } }));
    expect(cpuOnly).toEqual({ available: false, device: null, reason: 'built without CUDA' });
    const broken = probeCuda(() => { throw new Error('dlopen: libcudart.so.13 missing'); });
    expect(broken.available).toBe(false);
    expect(broken.reason).toMatch(/libcudart/);
    const gpu = probeCuda(() => ({ addon: { abiVersion: 1, probe: () => ({ builtWithCuda: true, available: true, reason: '', name: 'NVIDIA H100 80GB HBM3', computeCapability: '9.0', totalMemory: 85e9, freeMemory: 84e9, multiprocessors: 132, driverVersion: 13000, runtimeVersion: 13000, cublasLt: true }) } }));
    expect(gpu.available).toBe(true);
    expect(gpu.device?.name).toBe('NVIDIA H100 80GB HBM3');
    expect(gpu.reason).toBeNull();
  });
});
