// Whole tiny Llama-family models (GQA, 2 layers, a padded batch): LoRA gradients of the float64 reference against
// finite differences, and the ONNX executor (float64 graphs) against the reference: loss, logits, gradients.
import { describe, expect, it } from 'vitest';
import { buildLlamaProgram } from '../../../src/main/model/families/llama/program.ts';
import { applyLora } from '../../../src/main/engine/lora/model.ts';
import { ReferenceExecutor } from '../../../src/main/engine/executors/reference/executor.ts';
import { prepareBatch } from '../../../src/main/engine/batch-inputs.ts';
import { createCpuTrainingSession } from '../../../src/main/engine/executors/onnx/session.ts';
import { peftKey } from '../../../src/main/model/ir.ts';
import { relErr } from '../helpers.ts';
import { randomWeights, tinyBatch, tinyConfig } from '../tiny.ts';

const families = ['llama', 'qwen2', 'qwen3', 'mistral'] as const;

describe.each(families)('tiny %s model', (family) => {
  const cfg = tinyConfig(family);
  const lora = applyLora(buildLlamaProgram(cfg), { r: 2, alpha: 4, dropout: 0, targetModules: 'all-linear', bias: family === 'qwen2' ? 'all' : 'none', useRslora: false });
  const program = lora.program;
  const weights = randomWeights(program, 7);
  const batch = tinyBatch(cfg.vocabSize);

  it('reference LoRA gradients match finite differences', () => {
    const ref = new ReferenceExecutor(program, weights);
    const inp = prepareBatch(program, batch);
    const grads = ref.backward(inp, ref.forward(inp));
    const trainables = program.params.filter((d) => d.trainable);
    expect(trainables.length).toBeGreaterThan(0);
    for (const d of trainables) {
      const w = weights.get(d.name)!;
      // probe a few entries per tensor: full FD over every tensor would be slow and adds nothing
      for (const i of [0, Math.floor(w.length / 2), w.length - 1]) {
        const old = w[i], h = 1e-5;
        w[i] = old + h;
        const fp = ref.forward(inp).lossSum;
        w[i] = old - h;
        const fm = ref.forward(inp).lossSum;
        w[i] = old;
        const num = (fp - fm) / (2 * h);
        expect(Math.abs(grads.get(d.name)![i] - num)).toBeLessThan(1e-6 * Math.max(1, Math.abs(num)));
      }
    }
  });

  it('ONNX executor (float64) matches the reference: loss, logits, gradients', async () => {
    const ref = new ReferenceExecutor(program, weights);
    const inp = prepareBatch(program, batch);
    const fwd = ref.forward(inp);
    const grads = ref.backward(inp, fwd);
    const s = await createCpuTrainingSession({ program, weights, seed: 1, elem: 'float64', threads: 1 });
    try {
      // start from the same trainables as the reference (random B, not the zero init)
      s.setTrainables(new Map(program.params.filter((d) => d.trainable).map((d) => [peftKey(d.name), { shape: d.shape, data: Float32Array.from(weights.get(d.name)!) }])));
      // setTrainables goes through float32: re-run the reference on the same rounded values
      for (const d of program.params) if (d.trainable) weights.set(d.name, Float64Array.from(Float32Array.from(weights.get(d.name)!)));
      const fwd2 = ref.forward(inp);
      const grads2 = ref.backward(inp, fwd2);
      void fwd; void grads;
      const r = await s.microStep(batch);
      expect(r.tokens).toBe(fwd2.tokens);
      expect(Math.abs(r.lossSum - fwd2.lossSum)).toBeLessThan(1e-10 * Math.abs(fwd2.lossSum));
      const acc = s.getAccumulatedGradients();
      for (const d of program.params.filter((p) => p.trainable))
        expect(relErr(acc.get(peftKey(d.name))!.data, grads2.get(d.name)!)).toBeLessThan(1e-6); // the map is float32
      const { logits, nllPerSequence } = await s.forward(batch);
      expect(relErr(logits, fwd2.logits)).toBeLessThan(1e-12);
      const ev = await s.evaluate(batch);
      expect(ev.nllPerSequence[0] + ev.nllPerSequence[1]).toBeCloseTo(fwd2.lossSum, 10);
      expect(nllPerSequence[1]).toBeCloseTo(ev.nllPerSequence[1], 12);
      expect(ev.tokensPerSequence[0] + ev.tokensPerSequence[1]).toBe(fwd2.tokens);
    } finally {
      await s.dispose();
    }
  });
});

describe('full fine-tuning (every weight trainable)', () => {
  it('ONNX gradients of all weights, tied embedding included, match the reference', async () => {
    const cfg = tinyConfig('qwen2'); // tied embeddings, q/k/v bias
    const base = buildLlamaProgram(cfg);
    const program = { ...base, params: base.params.map((d) => ({ ...d, trainable: true })) };
    const weights = new Map([...randomWeights(program, 8)].map(([k, v]) => [k, Float64Array.from(Float32Array.from(v))]));
    const batch = tinyBatch(cfg.vocabSize);
    const ref = new ReferenceExecutor(program, weights);
    const inp = prepareBatch(program, batch);
    const grads = ref.backward(inp, ref.forward(inp));
    const s = await createCpuTrainingSession({ program, weights, seed: 0, elem: 'float64', threads: 1 });
    await s.microStep(batch);
    const acc = s.getAccumulatedGradients();
    expect(acc.size).toBe(program.params.length);
    for (const d of program.params) expect(relErr(acc.get(peftKey(d.name))!.data, grads.get(d.name)!), d.name).toBeLessThan(1e-6);
    // the embedding gradient has both contributions: the lookup and the tied output head
    expect(Math.max(...acc.get(peftKey('model.embed_tokens.weight'))!.data.map(Math.abs))).toBeGreaterThan(0);
    await s.dispose();
  });
});
