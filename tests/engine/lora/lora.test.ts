// LoRA as PEFT defines it, on the CPU executor (float32): trainable counts from shapes, target matching,
// B = 0 leaves the base logits untouched, merged weights reproduce the attached adapter, padding is inert,
// dropout masks are reproducible across a resume.
import { describe, expect, it } from 'vitest';
import { buildLlamaProgram, type LlamaConfig } from '../../../src/main/model/families/llama/program.ts';
import { countParams } from '../../../src/main/model/ir.ts';
import { applyLora } from '../../../src/main/engine/lora/model.ts';
import { matchTargetModules } from '../../../src/main/engine/lora/model.ts';
import { loraDelta, mergeInto, initLoraA } from '../../../src/main/engine/lora/layer.ts';
import { loraScaling, type LoraConfig } from '../../../src/main/engine/lora/config.ts';
import { createCpuTrainingSession } from '../../../src/main/engine/executors/onnx/session.ts';
import { peftKey } from '../../../src/main/model/ir.ts';
import type { Batch } from '../../../src/main/engine/session.ts';
import { randn, relErr } from '../helpers.ts';
import { randomWeights, tinyBatch, tinyConfig } from '../tiny.ts';

const lora = (over: Partial<LoraConfig> = {}): LoraConfig => ({ r: 4, alpha: 8, dropout: 0, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'], bias: 'none', useRslora: false, ...over });

function shapedConfig(over: Partial<LlamaConfig>): LlamaConfig {
  return { ...tinyConfig('qwen2'), ...over, rope: { theta: 1e6, headDim: over.headDim!, scaling: null } };
}

describe('LoRA trainable counts and target matching', () => {
  it('Qwen2.5-0.5B and SmolLM2-135M shapes, r=16 on q/k/v/o, match counts derived from shapes', () => {
    const qwen = shapedConfig({ vocabSize: 151936, hiddenSize: 896, intermediateSize: 4864, numLayers: 24, numHeads: 14, numKvHeads: 2, headDim: 64, attentionBias: true });
    const p = applyLora(buildLlamaProgram(qwen), lora({ r: 16, alpha: 32 })).program;
    expect(countParams(p, (d) => d.trainable)).toBe(2_162_688); // 24·16·(2·(896+896) + 2·(896+128))
    // base parameters of Qwen2.5-0.5B (tied): 494,032,768 as its model card's shapes give
    expect(countParams(p, (d) => !d.trainable)).toBe(494_032_768);
    const smol = shapedConfig({ family: 'smollm2', vocabSize: 49152, hiddenSize: 576, intermediateSize: 1536, numLayers: 30, numHeads: 9, numKvHeads: 3, headDim: 64, attentionBias: false });
    const ps = applyLora(buildLlamaProgram(smol), lora({ r: 16, alpha: 32 })).program;
    expect(countParams(ps, (d) => d.trainable)).toBe(30 * 16 * (2 * (576 + 576) + 2 * (576 + 192)));
    expect(countParams(ps, (d) => !d.trainable)).toBe(134_515_008);
  });

  it('matches as PEFT does: suffix on dots, regex full match, all-linear without the head, warnings and errors', () => {
    const mods = ['model.layers.0.self_attn.q_proj', 'model.layers.0.self_attn.k_proj', 'model.layers.0.mlp.up_proj', 'lm_head'];
    const typo = matchTargetModules(mods, { targetModules: ['q_prog', 'k_proj'] });
    expect([...typo.targeted]).toEqual(['model.layers.0.self_attn.k_proj']);
    expect(typo.warnings).toEqual(['LoRA target module "q_prog" matches no linear layer of this model']);
    expect(() => matchTargetModules(mods, { targetModules: ['proj'] })).toThrow(/match no linear layer.*q_proj, k_proj, up_proj, lm_head/);
    expect([...matchTargetModules(mods, { targetModules: 'all-linear' }).targeted]).not.toContain('lm_head');
    expect([...matchTargetModules(mods, { targetModules: '.*\\.(q|k)_proj' }).targeted]).toHaveLength(2);
    expect(() => matchTargetModules(mods, { targetModules: 'q_proj' })).toThrow(); // a regex must match the whole name
  });

  it('scaling and init follow PEFT', () => {
    expect(loraScaling({ r: 16, alpha: 32, useRslora: false })).toBe(2);
    expect(loraScaling({ r: 16, alpha: 32, useRslora: true })).toBe(8);
    const A = initLoraA(4, 100, 3, 'x');
    expect(Math.max(...A.map(Math.abs))).toBeLessThanOrEqual(0.1); // kaiming_uniform(a=√5): bound 1/√fan_in
    expect(Math.max(...A.map(Math.abs))).toBeGreaterThan(0.09);
    expect(initLoraA(4, 100, 3, 'x')).toEqual(A);
    expect(initLoraA(4, 100, 4, 'x')).not.toEqual(A);
  });
});

describe('LoRA on the CPU executor (float32)', () => {
  const cfg = tinyConfig('llama');
  const base = buildLlamaProgram(cfg);
  const weights32 = new Map([...randomWeights(base, 3)].map(([k, v]) => [k, Float32Array.from(v)]));
  const batch = tinyBatch(cfg.vocabSize, 6);

  it('B = 0 gives exactly the base logits; merged weights give the attached adapter logits', async () => {
    const b = await createCpuTrainingSession({ program: base, weights: weights32, seed: 0 });
    const lp = applyLora(base, lora({ targetModules: 'all-linear' })).program;
    const l = await createCpuTrainingSession({ program: lp, weights: weights32, seed: 0 });
    try {
      const baseLogits = (await b.forward(batch)).logits;
      expect((await l.forward(batch)).logits).toEqual(baseLogits);
      // a trained-looking adapter: random B
      const t = l.getTrainables();
      let i = 0;
      for (const [k, v] of t) if (k.endsWith('lora_B.weight')) v.data.set(randn(v.data.length, 100 + i++, 0.2));
      l.setTrainables(t);
      const attached = (await l.forward(batch)).logits;
      expect(relErr(attached, baseLogits)).toBeGreaterThan(1e-2);
      const merged = new Map([...weights32].map(([k, v]) => [k, Float32Array.from(v)]));
      for (const n of lp.nodes) {
        if (n.op !== 'linear' || !n.lora) continue;
        const A = t.get(peftKey(n.lora.A))!.data, Bm = t.get(peftKey(n.lora.B))!.data;
        mergeInto(merged.get(n.weight)!, loraDelta(A, Bm, n.lora.r, n.inF, n.outF, n.lora.scale));
      }
      const m = await createCpuTrainingSession({ program: base, weights: merged, seed: 0 });
      expect(relErr((await m.forward(batch)).logits, attached)).toBeLessThan(1e-5);
      await m.dispose();
      // unmerge restores the base weights up to one float32 rounding
      for (const n of lp.nodes) {
        if (n.op !== 'linear' || !n.lora) continue;
        const A = t.get(peftKey(n.lora.A))!.data, Bm = t.get(peftKey(n.lora.B))!.data;
        mergeInto(merged.get(n.weight)!, loraDelta(A, Bm, n.lora.r, n.inF, n.outF, n.lora.scale), -1);
        expect(relErr(merged.get(n.weight)!, weights32.get(n.weight)!)).toBeLessThan(1e-6);
      }
    } finally {
      await b.dispose();
      await l.dispose();
    }
  });

  it('padding (right or left) does not change the loss of real tokens', async () => {
    const s = await createCpuTrainingSession({ program: applyLora(base, lora()).program, weights: weights32, seed: 0 });
    try {
      const ids = [3, 1, 4, 1, 5];
      const single: Batch = { B: 1, T: 5, inputIds: Int32Array.from(ids), attentionMask: new Uint8Array(5).fill(1), labels: Int32Array.from([1, 4, 1, 5, -100]) };
      const ref = (await s.evaluate(single)).nllPerSequence[0];
      const P = 0; // pad id
      const padded: Batch = {
        B: 2, T: 8,
        inputIds: Int32Array.from([...ids, P, P, P, P, P, P, ...ids]),
        attentionMask: Uint8Array.from([1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1]),
        labels: Int32Array.from([1, 4, 1, 5, -100, -100, -100, -100, -100, -100, -100, 1, 4, 1, 5, -100]),
      };
      const ev = await s.evaluate(padded);
      expect(ev.nllPerSequence[0]).toBeCloseTo(ref, 5);
      expect(ev.nllPerSequence[1]).toBeCloseTo(ref, 5);
      expect([...ev.tokensPerSequence]).toEqual([4, 4]);
      // and the gradient too: the padded batch's gradient is twice the single sequence's
      await s.microStep(single);
      const g1 = s.getAccumulatedGradients();
      s.setOptimizerState(s.getOptimizerState()); // zeroes the accumulator
      await s.microStep(padded);
      const g2 = s.getAccumulatedGradients();
      for (const [k, v] of g1) expect(relErr(g2.get(k)!.data, v.data.map((x) => 2 * x))).toBeLessThan(1e-4);
    } finally {
      await s.dispose();
    }
  });

  it('dropout masks are seeded by (seed, step, micro-step): a resumed session reproduces the losses', async () => {
    const lp = applyLora(base, lora({ dropout: 0.3, targetModules: 'all-linear' })).program;
    const opt = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, maxGradNorm: 1 };
    const a = await createCpuTrainingSession({ program: lp, weights: weights32, seed: 5 });
    const losses: number[] = [];
    for (let i = 0; i < 3; i++) {
      losses.push((await a.microStep(batch)).lossSum);
      await a.applyUpdate(opt);
    }
    const b = await createCpuTrainingSession({ program: lp, weights: weights32, seed: 5 });
    expect((await b.microStep(batch)).lossSum).toBe(losses[0]);
    await b.applyUpdate(opt);
    const c = await createCpuTrainingSession({ program: lp, weights: weights32, seed: 5 });
    c.setTrainables(b.getTrainables());
    c.setOptimizerState(b.getOptimizerState());
    for (let i = 1; i < 3; i++) {
      expect((await c.microStep(batch)).lossSum).toBeCloseTo(losses[i], 5);
      await c.applyUpdate(opt);
    }
    // B starts at zero, so masks first matter after an update; same seed and same A, another dropout key → another loss
    const d = await createCpuTrainingSession({ program: lp, weights: weights32, seed: 6 });
    d.setTrainables(a.getTrainables());
    expect((await d.microStep(batch)).lossSum).not.toBe((await a.microStep(batch)).lossSum);
    for (const s of [a, b, c, d]) await s.dispose();
  });

  it('rejects mismatched trainables and missing weights with specific errors', async () => {
    const lp = applyLora(base, lora()).program;
    const s = await createCpuTrainingSession({ program: lp, weights: weights32, seed: 0 });
    const t = s.getTrainables();
    const [k, v] = [...t][0];
    t.set(k, { shape: [v.shape[1], v.shape[0]], data: v.data });
    expect(() => s.setTrainables(t)).toThrow(new RegExp(`${k.replace(/\./g, '\\.')} has shape`));
    await s.dispose();
    const missing = new Map(weights32);
    missing.delete('model.norm.weight');
    await expect(createCpuTrainingSession({ program: lp, weights: missing, seed: 0 })).rejects.toThrow(/missing base weight model\.norm\.weight/);
  });
});
