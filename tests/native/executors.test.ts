// Executors by name: 'cpu', 'cuda' or 'auto' open the same TrainingSession and DecodeSession contracts over one
// flat trainables layout. With the addon replaced by the float64 plan harness (fake-addon.ts), the CUDA executor opened by name
// trains like the CPU one; 'auto' falls back to the CPU with the probe's reason; asking for CUDA without a GPU is an
// error saying why and what to use instead.
import { describe, expect, it } from 'vitest';
import { buildLlamaProgram } from '../../src/main/model/families/llama/program.ts';
import { applyLora } from '../../src/main/engine/lora/model.ts';
import { openExecutor } from '../../src/main/engine/executors/index.ts';
import { CpuTrainingSession } from '../../src/main/engine/executors/onnx/session.ts';
import { CudaTrainingSession } from '../../src/main/engine/executors/cuda/session.ts';
import { randomWeights, tinyBatch, tinyConfig } from '../engine/tiny.ts';
import { relErr } from '../engine/helpers.ts';
import { adapterFromTrainables, Decoder } from '../../src/main/engine/generate/decoder.ts';
import { TrainableLayout } from '../../src/main/engine/trainables.ts';
import { fakeAddon } from './fake-addon.ts';

const noGpu = () => ({ available: false, device: null, reason: 'no NVIDIA driver (libcuda.so.1 not found)' });

describe('openExecutor', () => {
  const p = applyLora(buildLlamaProgram(tinyConfig('llama')), { r: 2, alpha: 4, dropout: 0, targetModules: 'all-linear', bias: 'none', useRslora: false }).program;
  const weights = randomWeights(p, 4);
  const batch = tinyBatch(p.vocab, 5);
  const request = { program: p, weights, seed: 7, capacityTokens: batch.B * batch.T };

  it('cpu and cuda (by name) give the same loss and the same trainables layout', async () => {
    const cpu = await openExecutor('cpu').createTrainingSession(request);
    const gpuExec = openExecutor('cuda', { addon: fakeAddon(p) });
    expect(gpuExec.name).toBe('cuda');
    const gpu = await gpuExec.createTrainingSession(request);
    expect(cpu).toBeInstanceOf(CpuTrainingSession);
    expect(gpu).toBeInstanceOf(CudaTrainingSession);
    const [a, b] = [await cpu.microStep(batch), await gpu.microStep(batch)];
    expect(b.tokens).toBe(a.tokens);
    expect(Math.abs(b.lossSum - a.lossSum) / a.lossSum).toBeLessThan(1e-5);
    const [ta, tb] = [cpu.getTrainables(), gpu.getTrainables()];
    expect([...tb.keys()]).toEqual([...ta.keys()]);
    for (const [k, t] of ta) expect(relErr(tb.get(k)!.data, t.data), k).toBeLessThan(1e-6);
    await cpu.dispose();
    await gpu.dispose();
  });

  it('auto takes CUDA when the probe finds a GPU, else the CPU with the reason', () => {
    expect(openExecutor('auto', { addon: fakeAddon(p) })).toMatchObject({ name: 'cuda', reason: 'auto: CUDA on fake' });
    expect(openExecutor('auto', { probe: noGpu })).toMatchObject({ name: 'cpu', reason: expect.stringMatching(/auto: CPU \(no NVIDIA driver/) });
    expect(openExecutor('cpu', { probe: () => { throw new Error('the CPU never probes'); } }).name).toBe('cpu');
    // full fine-tuning is beyond the CUDA executor (LoRA A/B only): auto keeps the CPU and says why
    const full = { ...p, params: p.params.map((d) => ({ ...d, trainable: true })) };
    expect(openExecutor('auto', { addon: fakeAddon(full), program: full })).toMatchObject({ name: 'cpu', reason: expect.stringMatching(/auto: CPU \(CUDA executor: trainable .* is not a LoRA matrix/) });
  });

  it("the decoding side: a session's trained flat trainables, attached as an adapter, decode to its own logits on either executor", async () => {
    const base = buildLlamaProgram(tinyConfig('llama'));
    const cpuExec = openExecutor('cpu');
    const gpuExec = openExecutor('cuda', { addon: fakeAddon(p) });
    expect(cpuExec.decodeReason).toBeNull();
    expect(gpuExec.decodeReason).toMatch(/ONNX decode graph on the CPU/);
    // train one step on the device so LoRA B is not zero, then read its trainables in the shared layout
    const gpu = await gpuExec.createTrainingSession(request);
    await gpu.microStep(batch);
    await gpu.applyUpdate({ lr: 5e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: null });
    const tuned = gpu.getTrainables();
    await gpu.dispose();
    const flat = new TrainableLayout(p).fromMap(tuned, 'test');
    const adapter = adapterFromTrainables('tuned', p, flat);
    expect(adapter.layers.size).toBe(p.nodes.filter((n) => n.op === 'linear' && n.lora).length);
    expect(() => adapterFromTrainables('short', p, flat.subarray(1))).toThrow(/trainable values, the program has/);
    // the CPU training session's full forward with those trainables is what the decoders must reproduce
    const cpu = await openExecutor('cpu').createTrainingSession(request);
    cpu.setTrainables(tuned);
    const T = batch.T;
    const ids = batch.inputIds.subarray(0, T);
    const full = await (cpu as CpuTrainingSession).forward({ B: 1, T, inputIds: ids, attentionMask: new Uint8Array(T).fill(1), labels: new Int32Array(T).fill(-100) });
    await cpu.dispose();
    for (const executor of [cpuExec, gpuExec]) {
      const d = await Decoder.create({ program: base, weights, threads: 1, executor });
      d.setAdapters([{ adapter, weight: 1 }]);
      const cache = d.newCache();
      const logits = new Float32Array(T * p.vocab);
      logits.set(await d.forward(cache, ids.subarray(0, 2)), 0);
      for (let t = 2; t < T; t++) logits.set(await d.forward(cache, ids.subarray(t, t + 1)), t * p.vocab);
      expect(relErr(logits, full.logits), executor.name).toBeLessThan(1e-4);
      await d.dispose();
    }
  });

  it('asking for CUDA without a usable GPU says why and what to use', () => {
    expect(() => openExecutor('cuda', { probe: noGpu })).toThrow(/CUDA executor is not available: no NVIDIA driver .*--device cpu/);
  });
});
