// QLoRA on a tiny Llama fixture: base linears held as NF4 (double-quantized absmax), LoRA in float on top.
// The ONNX executor's NF4 paths — MatMulBnb4 (float32 forward) and the standard-op dequantize (input gradient,
// and the whole float64 graph) — against the float64 reference run on the dequantized weights; QLoRA's training
// loss tracks LoRA's; the NF4 base is a fraction of the float32 one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTinyModel } from '../../fixtures/tiny-models.ts';
import { openModelFolder, type ModelSpec } from '../../../src/main/formats/model/index.ts';
import { buildProgramFromSpec } from '../../../src/main/model/families/index.ts';
import { readProgramWeights } from '../../../src/main/engine/models/load.ts';
import { quantizeProgram } from '../../../src/main/engine/quant/program.ts';
import { NF4_CODE, dequantizeNf4, isNf4, nf4StorageBytes, type Nf4Tensor } from '../../../src/main/engine/quant/nf4.ts';
import { applyLora } from '../../../src/main/engine/lora/model.ts';
import { ReferenceExecutor } from '../../../src/main/engine/executors/reference/executor.ts';
import { prepareBatch } from '../../../src/main/engine/batch-inputs.ts';
import { createCpuTrainingSession } from '../../../src/main/engine/executors/onnx/session.ts';
import { peftKey, type Program } from '../../../src/main/model/ir.ts';
import type { Batch } from '../../../src/main/engine/session.ts';
import { randn, relErr } from '../helpers.ts';
import { tinyBatch } from '../tiny.ts';

const root = mkdtempSync(join(tmpdir(), 'qlora-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let spec: ModelSpec;
let floatWeights: Map<string, Float32Array>;
let nf4Weights: Map<string, Float32Array | Nf4Tensor>;
let lora: Program; // float base + LoRA
let qlora: Program; // NF4 base + LoRA
const loraConfig = { r: 4, alpha: 8, dropout: 0, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'], bias: 'none' as const, useRslora: false };

beforeAll(async () => {
  const tiny = await makeTinyModel(join(root, 'llama'), 'llama', { tokenizer: false, seed: 21 });
  spec = tiny.spec;
  const base = buildProgramFromSpec(spec);
  lora = applyLora(base, loraConfig).program;
  qlora = applyLora(quantizeProgram(base), loraConfig).program;
  const folder = await openModelFolder(tiny.dir);
  try {
    floatWeights = (await readProgramWeights(folder, lora)) as Map<string, Float32Array>;
    nf4Weights = await readProgramWeights(folder, qlora, { doubleQuant: true });
  } finally {
    await folder.close();
  }
});

/**
 * code × absmax in float64, as a float64 graph forms it (dequantizeNf4 rounds each product to float32, which is
 * what the float32 graphs see); checked against dequantizeNf4 to within that rounding.
 */
function dequantizeExact(t: Nf4Tensor): Float64Array {
  const out = Float64Array.from({ length: t.shape[0] * t.shape[1] }, (_, i) => NF4_CODE[i & 1 ? t.codes[i >> 1] & 15 : t.codes[i >> 1] >> 4] * t.absmax[Math.floor(i / t.blockSize)]);
  expect(relErr(dequantizeNf4(t), out)).toBeLessThan(1e-7);
  return out;
}

/** Random (non-zero) LoRA tensors, so gradients reach A and the input gradient passes through B. */
function loraTensors(p: Program) {
  return new Map(p.params.filter((d) => d.trainable).map((d, i) => [peftKey(d.name), { shape: d.shape, data: Float32Array.from(randn(d.shape.reduce((a, b) => a * b, 1), 40 + i, 0.1)) }]));
}

describe('QLoRA program and weights', () => {
  it('marks every non-head linear NF4; embeddings, norms and the tied head stay float', () => {
    const quantized = qlora.params.filter((d) => d.quant === 'nf4').map((d) => d.name);
    expect(quantized.length).toBe(spec.numLayers * 7);
    expect(quantized.every((n) => /(q|k|v|o|gate|up|down)_proj\.weight$/.test(n))).toBe(true);
    expect(isNf4(nf4Weights.get('model.embed_tokens.weight'))).toBe(false);
    expect(isNf4(nf4Weights.get('model.layers.0.mlp.down_proj.weight'))).toBe(true);
  });

  it('the NF4 base takes under 30% of the float32 bytes of the same weights', () => {
    let f32 = 0;
    let nf4 = 0;
    for (const [name, w] of nf4Weights)
      if (isNf4(w)) {
        nf4 += nf4StorageBytes(w);
        f32 += floatWeights.get(name)!.byteLength;
      }
    expect(nf4 / f32).toBeLessThan(0.3);
    expect(nf4 / f32).toBeGreaterThan(0.125); // 4 bits plus scales: never below the codes alone
  });
});

describe('NF4 linears in the ONNX executor vs the float64 reference on the dequantized weights', () => {
  const batch = (): Batch => tinyBatch(spec.vocabSize, 7);
  function reference(tensors: ReturnType<typeof loraTensors>) {
    const w64 = new Map<string, Float64Array>();
    for (const d of qlora.params) {
      const w = nf4Weights.get(d.name);
      if (d.trainable) w64.set(d.name, Float64Array.from(tensors.get(peftKey(d.name))!.data));
      else w64.set(d.name, isNf4(w) ? dequantizeExact(w) : Float64Array.from(w as Float32Array));
    }
    const ref = new ReferenceExecutor({ ...qlora, params: qlora.params.map(({ quant: _q, ...d }) => d) }, w64);
    const inp = prepareBatch(qlora, batch());
    const fwd = ref.forward(inp);
    return { fwd, grads: ref.backward(inp, fwd) };
  }

  it.each(['float64', 'float32'] as const)('%s graph: loss, logits and LoRA gradients', async (elem) => {
    const tensors = loraTensors(qlora);
    const { fwd, grads } = reference(tensors);
    const s = await createCpuTrainingSession({ program: qlora, weights: nf4Weights, seed: 0, elem, threads: 1 });
    try {
      s.setTrainables(tensors);
      const r = await s.microStep(batch());
      const tol = elem === 'float64' ? 1e-10 : 2e-5; // float32: MatMulBnb4 and float32 accumulation
      expect(Math.abs(r.lossSum - fwd.lossSum) / fwd.lossSum).toBeLessThan(tol);
      const acc = s.getAccumulatedGradients();
      for (const d of qlora.params.filter((p) => p.trainable))
        expect(relErr(acc.get(peftKey(d.name))!.data, grads.get(d.name)!), d.name).toBeLessThan(elem === 'float64' ? 1e-6 : 1e-3);
      expect(relErr((await s.forward(batch())).logits, fwd.logits)).toBeLessThan(elem === 'float64' ? 1e-12 : 1e-5);
    } finally {
      await s.dispose();
    }
  });
});

describe('QLoRA trains like LoRA', () => {
  it('loss falls and tracks LoRA over the same steps', async () => {
    const run = async (program: Program, weights: Map<string, Float32Array | Nf4Tensor>) => {
      const s = await createCpuTrainingSession({ program, weights, seed: 3, threads: 1 });
      const losses: number[] = [];
      try {
        for (let step = 0; step < 10; step++) {
          const r = await s.microStep(tinyBatch(spec.vocabSize, 12));
          losses.push(r.lossSum / r.tokens);
          await s.applyUpdate({ lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 1 });
        }
      } finally {
        await s.dispose();
      }
      return losses;
    };
    const l = await run(lora, floatWeights);
    const q = await run(qlora, nf4Weights);
    expect(q.at(-1)!).toBeLessThan(q[0] * 0.85);
    // same start up to the quantization error of the base, same trajectory within a few percent
    q.forEach((x, i) => expect(Math.abs(x - l[i]) / l[i], `step ${i}`).toBeLessThan(0.05));
  });
});
