import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mergeLayers, unmergeLayers, loraDelta, mergedTensorReader } from '../../../src/main/formats/merge/index.ts';
import { openModelFolder, transpose2d } from '../../../src/main/formats/model/index.ts';
import { defaultLoraConfig, matchTargetModules, initLoraAdapter, type LoraLayer, type LoraAdapter } from '../../../src/main/formats/peft/index.ts';
import { makeTinyModel, seededNormal, seededRandom } from '../../fixtures/tiny-models.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'merge-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function randomLayer(seed: number, r: number, IN: number, OUT: number): LoraLayer {
  const n = seededNormal(seed);
  return { module: 'm', r, inFeatures: IN, outFeatures: OUT, A: new Float32Array(r * IN).map(() => n()), B: new Float32Array(OUT * r).map(() => n()) };
}

/** Float64 reference: W[o,i] + Σ s·Σ_k B[o,k]·A[k,i], straight from the definition. */
function reference(W: Float32Array, parts: { layer: LoraLayer; scale: number }[], OUT: number, IN: number): Float64Array {
  const out = Float64Array.from(W);
  for (const { layer, scale } of parts)
    for (let o = 0; o < OUT; o++)
      for (let i = 0; i < IN; i++) {
        let s = 0;
        for (let k = 0; k < layer.r; k++) s += layer.B[o * layer.r + k] * layer.A[k * IN + i];
        out[o * IN + i] += scale * s;
      }
  return out;
}

describe('merge math', () => {
  const OUT = 24;
  const IN = 40;
  const W = new Float32Array(OUT * IN).map(seededNormal(1));

  it('W + (alpha/r)·B·A matches a float64 reference within one f32 rounding', () => {
    const layer = randomLayer(2, 8, IN, OUT);
    const scale = 16 / 8;
    const merged = mergeLayers(W, [{ layer, scale }], { fanInFanOut: false });
    const ref = reference(W, [{ layer, scale }], OUT, IN);
    for (let i = 0; i < merged.length; i++) expect(Math.abs(merged[i] - ref[i])).toBeLessThanOrEqual(Math.abs(ref[i]) * 2 ** -24 + 1e-12);
    expect(merged).not.toEqual(W);
  });

  it('rsLoRA scale alpha/√r', () => {
    const layer = randomLayer(3, 16, IN, OUT);
    const merged = mergeLayers(W, [{ layer, scale: 32 / Math.sqrt(16) }], { fanInFanOut: false });
    const ref = reference(W, [{ layer, scale: 8 }], OUT, IN);
    for (let i = 0; i < merged.length; i += 13) expect(merged[i]).toBeCloseTo(ref[i], 5);
  });

  it('unmerge restores W within f32 tolerance', () => {
    const parts = [{ layer: randomLayer(4, 4, IN, OUT), scale: 2 }];
    const back = unmergeLayers(mergeLayers(W, parts, { fanInFanOut: false }), parts, { fanInFanOut: false });
    let worst = 0;
    for (let i = 0; i < W.length; i++) worst = Math.max(worst, Math.abs(back[i] - W[i]));
    expect(worst).toBeLessThan(1e-5);
  });

  it('fan_in_fan_out: the delta is transposed to the [in, out] storage', () => {
    const layer = randomLayer(5, 4, IN, OUT);
    const d = loraDelta([{ layer, scale: 1 }], false);
    const dt = loraDelta([{ layer, scale: 1 }], true);
    for (let o = 0; o < OUT; o++) for (let i = 0; i < IN; i++) expect(dt[i * OUT + o]).toBe(d[o * IN + i]);
    const Wt = transpose2d(W, OUT, IN); // [in, out]
    const mergedT = mergeLayers(Wt, [{ layer, scale: 1 }], { fanInFanOut: true });
    expect(transpose2d(mergedT, IN, OUT)).toEqual(mergeLayers(W, [{ layer, scale: 1 }], { fanInFanOut: false }));
  });

  it('weighted combination of adapters equals the weighted sum of deltas', () => {
    const a = randomLayer(6, 4, IN, OUT);
    const b = randomLayer(7, 8, IN, OUT);
    const parts = [
      { layer: a, scale: 0.7 * 2 },
      { layer: b, scale: 0.3 * 4 },
    ];
    const merged = mergeLayers(W, parts, { fanInFanOut: false });
    const ref = reference(W, parts, OUT, IN);
    for (let i = 0; i < merged.length; i++) expect(Math.abs(merged[i] - ref[i])).toBeLessThanOrEqual(Math.abs(ref[i]) * 2 ** -24 + 1e-12);
  });

  it('safe merge refuses non-finite values, naming the module', () => {
    const layer = randomLayer(8, 2, IN, OUT);
    layer.B[5] = NaN;
    expect(() => mergeLayers(W, [{ layer, scale: 1 }], { fanInFanOut: false })).toThrow(/m \(merged\): value NaN at index \d+ is not finite; refusing to merge/);
    layer.B[5] = 1e38;
    expect(() => mergeLayers(W, [{ layer, scale: 1e3 }], { fanInFanOut: false })).toThrow(/is not finite/);
    expect(() => mergeLayers(new Float32Array(3), [{ layer: randomLayer(9, 2, IN, OUT), scale: 1 }], { fanInFanOut: false })).toThrow(/base weight has 3 values, LoRA expects 24×40/);
  });
});

describe('merging adapters into a model folder', () => {
  async function setup(family: 'qwen2' | 'gpt2', targets: string[] | 'all-linear') {
    const tiny = await makeTinyModel(join(dir, family), family, { tokenizer: false });
    const model = await openModelFolder(tiny.dir);
    const config = defaultLoraConfig({ r: 4, lora_alpha: 8, target_modules: targets, fan_in_fan_out: family === 'gpt2' });
    const make = (seed: number): LoraAdapter => {
      const ad = initLoraAdapter(matchTargetModules(model.spec, config).targets, config, seededRandom(seed));
      const n = seededNormal(seed + 100);
      for (const l of ad.layers.values()) l.B = l.B.map(() => 0.1 * n());
      return ad;
    };
    return { tiny, model, make };
  }

  it('Qwen2: targeted weights get the delta, others pass through; B=0 leaves the model unchanged', async () => {
    const { tiny, model, make } = await setup('qwen2', ['q_proj', 'down_proj']);
    try {
      const ad = make(11);
      const read = mergedTensorReader(model, [{ adapter: ad }]);
      const name = 'model.layers.1.self_attn.q_proj.weight';
      const layer = ad.layers.get('model.layers.1.self_attn.q_proj')!;
      const ref = reference(tiny.tensors.get(name)!, [{ layer, scale: 2 }], layer.outFeatures, layer.inFeatures);
      const merged = await read(name);
      for (let i = 0; i < merged.length; i++) expect(Math.abs(merged[i] - ref[i])).toBeLessThanOrEqual(Math.abs(ref[i]) * 2 ** -24 + 1e-12);
      expect(await read('model.layers.1.self_attn.k_proj.weight')).toEqual(tiny.tensors.get('model.layers.1.self_attn.k_proj.weight'));
      for (const l of ad.layers.values()) l.B.fill(0);
      expect(await mergedTensorReader(model, [{ adapter: ad }])(name)).toEqual(tiny.tensors.get(name));
    } finally {
      await model.close();
    }
  });

  it('GPT-2 Conv1D: the merged c_attn, read canonically, is W + s·B·A in [out, in]', async () => {
    const { tiny, model, make } = await setup('gpt2', ['c_attn']);
    try {
      const ad = make(12);
      const merged = await mergedTensorReader(model, [{ adapter: ad, weight: 0.5 }])('transformer.h.0.attn.c_attn.weight'); // [in, out]
      const C = model.spec.hiddenSize;
      const W = transpose2d(tiny.tensors.get('transformer.h.0.attn.c_attn.weight')!, C, 3 * C); // [out, in]
      const layer = ad.layers.get('transformer.h.0.attn.c_attn')!;
      const ref = reference(W, [{ layer, scale: 0.5 * 2 }], 3 * C, C);
      const got = transpose2d(merged, C, 3 * C);
      for (let i = 0; i < got.length; i++) expect(Math.abs(got[i] - ref[i])).toBeLessThanOrEqual(Math.abs(ref[i]) * 2 ** -24 + 1e-12);
      ad.config.fan_in_fan_out = false;
      expect(() => mergedTensorReader(model, [{ adapter: ad }])).toThrow(/fan_in_fan_out=false but GPT2LMHeadModel stores this weight \[in, out\] \(Conv1D\)/);
    } finally {
      await model.close();
    }
  });
});
