// The KV-cache decode graph against the full-sequence forward of the training executor: a prefill then one-token
// steps give the same logits at every position, with LoRA attached, for every Llama-style family (GQA, q/k/v
// bias, q/k norm, sliding window). Adapters as inputs: scale 0 is the base bit for bit, and several adapters with
// weights equal the base with those adapters merged into its weights.
import { describe, expect, it } from 'vitest';
import { buildLlamaProgram } from '../../../src/main/model/families/llama/program.ts';
import { applyLora } from '../../../src/main/engine/lora/model.ts';
import { createCpuTrainingSession } from '../../../src/main/engine/executors/onnx/session.ts';
import { Decoder, type AdapterFactors } from '../../../src/main/engine/generate/decoder.ts';
import type { Program } from '../../../src/main/model/ir.ts';
import { peftKey } from '../../../src/main/model/ir.ts';
import type { TensorMap } from '../../../src/main/engine/session.ts';
import { buildProgramFromSpec } from '../../../src/main/model/families/index.ts';
import { makeTinyModel } from '../../fixtures/tiny-models.ts';
import { quantizeProgram } from '../../../src/main/engine/quant/program.ts';
import { readProgramWeights } from '../../../src/main/engine/models/load.ts';
import { openModelFolder } from '../../../src/main/formats/model/index.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randn, relErr } from '../helpers.ts';
import { randomWeights, tinyConfig } from '../tiny.ts';

const T = 7;
const ids = Int32Array.from({ length: T }, (_, i) => (i * 5 + 2) % 11);

/** The training executor's full-sequence logits for `tokens` with these LoRA factors, in float64. */
async function fullLogits(lp: Program, weights: Map<string, Float64Array>, adapter: AdapterFactors, tokens: Int32Array): Promise<Float64Array> {
  const session = await createCpuTrainingSession({ program: lp, weights, seed: 1, elem: 'float64', threads: 1 });
  const trainables: TensorMap = new Map();
  for (const [module, l] of adapter.layers) {
    trainables.set(peftKey(`${module}.lora_A.weight`), { shape: [l.r, l.A.length / l.r], data: l.A });
    trainables.set(peftKey(`${module}.lora_B.weight`), { shape: [l.B.length / l.r, l.r], data: l.B });
  }
  session.setTrainables(trainables);
  const n = tokens.length;
  const batch = { B: 1, T: n, inputIds: tokens, attentionMask: new Uint8Array(n).fill(1), labels: new Int32Array(n).fill(-100) };
  const out = Float64Array.from((await session.forward(batch)).logits);
  await session.dispose();
  return out;
}

/** Random LoRA factors (B non-zero) for every targeted module of a LoRA program, as float32. */
function randomAdapter(lp: Program, seed: number, name: string): AdapterFactors {
  const layers: AdapterFactors['layers'] = new Map();
  let s = seed;
  for (const n of lp.nodes)
    if (n.op === 'linear' && n.lora) {
      const A = Float32Array.from(randn(n.lora.r * n.inF, s++, 0.4));
      const B = Float32Array.from(randn(n.outF * n.lora.r, s++, 0.4));
      layers.set(n.module, { r: n.lora.r, A, B, scale: n.lora.scale });
    }
  return { name, layers };
}

async function decodeAll(d: Decoder, prefill: number): Promise<Float64Array> {
  const V = d.vocab;
  const out = new Float64Array(T * V);
  const cache = d.newCache();
  out.set(await d.forward(cache, ids.subarray(0, prefill)), 0);
  for (let t = prefill; t < T; t++) out.set(await d.forward(cache, ids.subarray(t, t + 1)), t * V);
  expect(cache.length).toBe(T);
  return out;
}

describe('decode graph with a KV cache', () => {
  it.each(['llama', 'mistral', 'qwen2', 'qwen3'] as const)('%s: prefill + one-token steps equal the full forward at every position, LoRA attached', async (family) => {
    const base = buildLlamaProgram(tinyConfig(family));
    const lp = applyLora(base, { r: 2, alpha: 3, dropout: 0, targetModules: 'all-linear', bias: 'none', useRslora: false }).program;
    const weights = randomWeights(base, 7);
    const adapter = randomAdapter(lp, 100, 'a');
    const session = await createCpuTrainingSession({ program: lp, weights, seed: 1, elem: 'float64', threads: 1 });
    const trainables: TensorMap = new Map();
    for (const [module, l] of adapter.layers) {
      trainables.set(peftKey(`${module}.lora_A.weight`), { shape: [l.r, l.A.length / l.r], data: l.A });
      trainables.set(peftKey(`${module}.lora_B.weight`), { shape: [l.B.length / l.r, l.r], data: l.B });
    }
    session.setTrainables(trainables);
    const batch = { B: 1, T, inputIds: ids, attentionMask: new Uint8Array(T).fill(1), labels: new Int32Array(T).fill(-100) };
    const full = Float64Array.from((await session.forward(batch)).logits);
    await session.dispose();

    const d = await Decoder.create({ program: base, weights, elem: 'float64', threads: 1 });
    d.setAdapters([{ adapter, weight: 1 }]);
    for (const prefill of [1, 3]) expect(relErr(await decodeAll(d, prefill), full)).toBeLessThan(1e-12);
    // and the adapter matters: without it the logits differ
    d.setAdapters([]);
    expect(relErr(await decodeAll(d, 3), full)).toBeGreaterThan(1e-3);
    await d.dispose();
  });

  it.each(['gpt2', 'gemma3'] as const)('%s: the same at every position (learned positions / local rope, sliding window, soft-capping)', async (family) => {
    const dir = mkdtempSync(join(tmpdir(), 'decode-fam-'));
    try {
      const gemma = family === 'gemma3';
      const tiny = await makeTinyModel(dir, family, { layers: 3, tokenizer: false, ...(gemma ? { config: { sliding_window: 4, final_logit_softcapping: 3 } } : {}) });
      const base = buildProgramFromSpec(tiny.spec);
      const lp = applyLora(base, { r: 2, alpha: 4, dropout: 0, targetModules: 'all-linear', bias: 'none', useRslora: false }).program;
      const weights = randomWeights(base, 5);
      const adapter = randomAdapter(lp, 300, 'a');
      const n = 12;
      const tokens = Int32Array.from({ length: n }, (_, i) => (i * 37 + 5) % base.vocab);
      const full = await fullLogits(lp, weights, adapter, tokens);
      const d = await Decoder.create({ program: base, weights, elem: 'float64', threads: 1 });
      d.setAdapters([{ adapter, weight: 1 }]);
      const V = d.vocab;
      const got = new Float64Array(n * V);
      const cache = d.newCache();
      got.set(await d.forward(cache, tokens.subarray(0, 3)), 0);
      for (let t = 3; t < n; t++) got.set(await d.forward(cache, tokens.subarray(t, t + 1)), t * V);
      expect(relErr(got, full)).toBeLessThan(1e-12);
      await d.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('QLoRA: an NF4 base with LoRA on top decodes to the training graph\'s logits', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'decode-nf4-'));
    try {
      const tiny = await makeTinyModel(dir, 'llama', { tokenizer: false, seed: 21 });
      const q = quantizeProgram(buildProgramFromSpec(tiny.spec));
      const lp = applyLora(q, { r: 2, alpha: 4, dropout: 0, targetModules: ['q_proj', 'v_proj', 'down_proj'], bias: 'none', useRslora: false }).program;
      const folder = await openModelFolder(tiny.dir);
      const weights = await readProgramWeights(folder, q, { doubleQuant: true });
      await folder.close();
      expect(q.params.some((d) => d.quant === 'nf4')).toBe(true);
      const adapter = randomAdapter(lp, 500, 'q');
      const session = await createCpuTrainingSession({ program: lp, weights, seed: 1, elem: 'float64', threads: 1 });
      const trainables: TensorMap = new Map();
      for (const [module, l] of adapter.layers) {
        trainables.set(peftKey(`${module}.lora_A.weight`), { shape: [l.r, l.A.length / l.r], data: l.A });
        trainables.set(peftKey(`${module}.lora_B.weight`), { shape: [l.B.length / l.r, l.r], data: l.B });
      }
      session.setTrainables(trainables);
      const n = 9;
      const tokens = Int32Array.from({ length: n }, (_, i) => (i * 13 + 3) % q.vocab);
      const full = Float64Array.from((await session.forward({ B: 1, T: n, inputIds: tokens, attentionMask: new Uint8Array(n).fill(1), labels: new Int32Array(n).fill(-100) })).logits);
      await session.dispose();
      const d = await Decoder.create({ program: q, weights, elem: 'float64', threads: 1 });
      d.setAdapters([{ adapter, weight: 1 }]);
      const V = d.vocab;
      const got = new Float64Array(n * V);
      const cache = d.newCache();
      got.set(await d.forward(cache, tokens.subarray(0, 4)), 0);
      for (let t = 4; t < n; t++) got.set(await d.forward(cache, tokens.subarray(t, t + 1)), t * V);
      expect(relErr(got, full)).toBeLessThan(1e-12);
      await d.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('adapter scale 0 is exactly the base; several adapters with weights equal the base with them merged', async () => {
    const base = buildLlamaProgram(tinyConfig('llama'));
    const lora = (targets: string[], r: number) => applyLora(base, { r, alpha: 2 * r, dropout: 0, targetModules: targets, bias: 'none', useRslora: false }).program;
    const a1 = randomAdapter(lora(['q_proj', 'v_proj', 'down_proj'], 2), 10, 'one');
    const a2 = randomAdapter(lora(['q_proj', 'o_proj'], 3), 20, 'two');
    const weights = randomWeights(base, 3);
    const d = await Decoder.create({ program: base, weights, elem: 'float32', threads: 1 });
    const detached = await decodeAll(d, 4);
    d.setAdapters([{ adapter: a1, weight: 0 }]);
    expect(await decodeAll(d, 4)).toEqual(detached);
    d.setAdapters([{ adapter: a1, weight: 0 }, { adapter: a2, weight: 0 }]);
    expect(await decodeAll(d, 4)).toEqual(detached);
    await d.dispose();

    // W' = W + Σ wₐ·scaleₐ·Bₐ·Aₐ, in float64
    const w1 = 0.7, w2 = -1.3;
    const merged = new Map([...weights].map(([k, v]) => [k, Float64Array.from(v)]));
    for (const [a, w] of [[a1, w1], [a2, w2]] as const)
      for (const [module, l] of a.layers) {
        const W = merged.get(`${module}.weight`)!;
        const IC = l.A.length / l.r, OC = l.B.length / l.r;
        for (let o = 0; o < OC; o++)
          for (let i = 0; i < IC; i++) {
            let acc = 0;
            for (let j = 0; j < l.r; j++) acc += l.B[o * l.r + j] * l.A[j * IC + i];
            W[o * IC + i] += w * l.scale * acc;
          }
      }
    const d64 = await Decoder.create({ program: base, weights, elem: 'float64', threads: 1 });
    d64.setAdapters([{ adapter: a1, weight: w1 }, { adapter: a2, weight: w2 }]);
    const combined = await decodeAll(d64, 2);
    await d64.dispose();
    const dm = await Decoder.create({ program: base, weights: merged, elem: 'float64', threads: 1 });
    expect(relErr(combined, await decodeAll(dm, 2))).toBeLessThan(1e-12);
    await dm.dispose();
  });

  it('refuses an adapter for a module the model lacks, or with the wrong shape', async () => {
    const base = buildLlamaProgram(tinyConfig('llama'));
    const d = await Decoder.create({ program: base, weights: randomWeights(base, 1), threads: 1 });
    const bad: AdapterFactors = { name: 'x', layers: new Map([['model.layers.9.self_attn.q_proj', { r: 1, A: new Float32Array(8), B: new Float32Array(16), scale: 1 }]]) };
    expect(() => d.setAdapters([{ adapter: bad, weight: 1 }])).toThrow(/model.layers.9.self_attn.q_proj is not an adapter-capable linear/);
    const shape: AdapterFactors = { name: 'y', layers: new Map([['model.layers.0.self_attn.q_proj', { r: 2, A: new Float32Array(8), B: new Float32Array(16), scale: 1 }]]) };
    expect(() => d.setAdapters([{ adapter: shape, weight: 1 }])).toThrow(/r=2 needs A \(2, 8\)/);
    await expect(d.forward(d.newCache(), [11])).rejects.toThrow(/outside the vocabulary/);
    await d.dispose();
  });
});
