// The frozen base held as float16 / bfloat16 (weight-file.ts BaseDtype) and the decode session's weight file.
// A half base is stored rounded and widened to float32 where a node reads it, so a session with base_dtype f16
// must compute exactly what a float32 session computes from weights rounded to f16 beforehand (the only error is
// the rounding), and its error against the unrounded f32 base is stated here: f16 logits within 2e-3 relative,
// bf16 within 2e-2. Training (LoRA and QLoRA) gradients are checked the same way, and the decode session keeps its
// base in its weight file (no JS copy), as the training session does.
import { describe, expect, it } from 'vitest';
import { buildLlamaProgram } from '../../../src/main/model/families/llama/program.ts';
import { applyLora } from '../../../src/main/engine/lora/model.ts';
import { createCpuTrainingSession } from '../../../src/main/engine/executors/onnx/session.ts';
import { OnnxDecodeSession } from '../../../src/main/engine/executors/onnx/decode-session.ts';
import { bf16Bits, bf16Value, f16Bits, f16Value, type BaseDtype } from '../../../src/main/engine/executors/onnx/weight-file.ts';
import { quantizeProgram, quantizeWeight } from '../../../src/main/engine/quant/program.ts';
import type { Nf4Tensor } from '../../../src/main/engine/quant/nf4.ts';
import type { Program } from '../../../src/main/model/ir.ts';
import type { TensorMap } from '../../../src/main/engine/session.ts';
import { randn, relErr } from '../helpers.ts';
import { randomWeights, tinyBatch, tinyConfig } from '../tiny.ts';

const LORA = { r: 2, alpha: 4, dropout: 0, targetModules: 'all-linear' as const, bias: 'none' as const, useRslora: false };

const rounders: Record<Exclude<BaseDtype, 'f32'>, (x: number) => number> = {
  f16: (x) => f16Value(f16Bits(x)),
  bf16: (x) => bf16Value(bf16Bits(x)),
};

/** Frozen float weights of a program (NF4 where quantized), optionally rounded to a half type first. */
function frozen(p: Program, seed: number, round?: (x: number) => number, quant = false): Map<string, Float32Array | Nf4Tensor> {
  const out = new Map<string, Float32Array | Nf4Tensor>();
  for (const [k, w] of randomWeights(p, seed)) {
    const d = p.params.find((x) => x.name === k)!;
    if (d.trainable || d.init) continue;
    if (quant && d.quant === 'nf4') out.set(k, quantizeWeight(p, k, Float32Array.from(w), { doubleQuant: true }));
    else out.set(k, Float32Array.from(w, (x) => (round ? round(Math.fround(x)) : x)));
  }
  return out;
}

const frozenFloatValues = (p: Program) =>
  p.params.filter((d) => !d.trainable && !d.init && d.quant !== 'nf4').reduce((s, d) => s + d.shape.reduce((a, b) => a * b, 1), 0);

describe('half conversions', () => {
  it('f16 and bf16: every finite pattern round-trips; ties go to even; overflow and subnormals as IEEE says', () => {
    for (let h = 0; h < 0x10000; h++) {
      const e16 = (h >>> 10) & 0x1f;
      if (!(e16 === 0x1f && h & 0x3ff)) expect(f16Bits(f16Value(h))).toBe(h);
      const ebf = (h >>> 7) & 0xff;
      if (!(ebf === 0xff && h & 0x7f)) expect(bf16Bits(bf16Value(h))).toBe(h);
    }
    expect(f16Bits(1)).toBe(0x3c00);
    expect(f16Bits(1 + 2 ** -11)).toBe(0x3c00); // halfway between 1 and the next half: to the even one
    expect(f16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // halfway, odd below: up
    expect(f16Bits(65504)).toBe(0x7bff);
    expect(f16Bits(65520)).toBe(0x7c00); // halfway to the next binade: rounds to even = infinity
    expect(f16Bits(-(2 ** -24))).toBe(0x8001); // the smallest subnormal
    expect(f16Bits(2 ** -25)).toBe(0); // half of it: to even (zero)
    expect(f16Bits(1.5 * 2 ** -24)).toBe(2); // 1.5 subnormal steps: to even (2)
    expect(Number.isNaN(f16Value(f16Bits(Number.NaN)))).toBe(true);
    expect(bf16Bits(1 + 2 ** -8)).toBe(0x3f80); // tie to even
    expect(bf16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(Number.isNaN(bf16Value(bf16Bits(Number.NaN)))).toBe(true);
  });
});

describe('decode session weight file', () => {
  const base = buildLlamaProgram(tinyConfig('qwen2'));
  const ids = Int32Array.from({ length: 6 }, (_, i) => (i * 5 + 2) % base.vocab);
  const adapters = (s: OnnxDecodeSession) =>
    new Map(s.adapterModules.map((m) => [m.module, { R: 1, A: new Float32Array(m.inF), B: new Float32Array(m.outF), s: new Float32Array(1) }]));
  async function logits(s: OnnxDecodeSession): Promise<Float32Array> {
    const cache = { length: 0, k: s.layers.map(() => new Float32Array(0)), v: s.layers.map(() => new Float32Array(0)) };
    const out: number[] = [];
    out.push(...(await s.forward(cache, ids.subarray(0, 3), adapters(s))));
    for (let t = 3; t < ids.length; t++) out.push(...(await s.forward(cache, ids.subarray(t, t + 1), adapters(s))));
    return Float32Array.from(out);
  }

  it('the base sits in the weight file once, JS keeps none, and a read-on-demand source gives the same logits', async () => {
    const weights = frozen(base, 4);
    const ref = await OnnxDecodeSession.create({ program: base, weights, threads: 1 });
    const want = await logits(ref);
    expect(ref.memory()).toEqual({ weightFileBytes: 4 * frozenFloatValues(base), jsWeightBytes: 0, baseDtype: 'f32' });
    await ref.dispose();
    const asked: string[] = [];
    const lazy = await OnnxDecodeSession.create({ program: base, weights: async (n) => (asked.push(n), frozen(base, 4).get(n)!), threads: 1 });
    expect(new Set(asked).size).toBe(asked.length); // each weight read once
    expect(relErr(await logits(lazy), want)).toBe(0);
    const dir = (lazy as unknown as { weightFile: { dir: string } }).weightFile.dir;
    await lazy.dispose();
    const { existsSync } = await import('node:fs');
    expect(existsSync(dir)).toBe(false);
  });

  it.each([
    ['f16', 2e-3, undefined],
    ['bf16', 2e-2, undefined],
    ['f16 (every weight widened row by row)', 2e-3, 7],
  ] as const)('%s base: half the file, exactly the f32 logits of the rounded weights, within %s of the f32 base', async (name, tol, chunk) => {
    const dtype = name.startsWith('bf16') ? 'bf16' : 'f16';
    const f32 = await OnnxDecodeSession.create({ program: base, weights: frozen(base, 4), threads: 1 });
    const exact = await logits(f32);
    await f32.dispose();
    const rounded = await OnnxDecodeSession.create({ program: base, weights: frozen(base, 4, rounders[dtype]), threads: 1 });
    const wantRounded = await logits(rounded);
    await rounded.dispose();
    const half = await OnnxDecodeSession.create({ program: base, weights: frozen(base, 4), threads: 1, baseDtype: dtype, halfChunkElems: chunk });
    expect(half.memory()).toEqual({ weightFileBytes: 2 * frozenFloatValues(base), jsWeightBytes: 0, baseDtype: dtype });
    const got = await logits(half);
    await half.dispose();
    expect(relErr(got, wantRounded)).toBeLessThan(1e-6);
    const err = relErr(got, exact);
    expect(err).toBeGreaterThan(0); // the rounding is real…
    expect(err).toBeLessThan(tol); // …and small
  });
});

describe('training with a half base', () => {
  async function gradients(p: Program, weights: Map<string, Float32Array | Nf4Tensor>, baseDtype: BaseDtype, halfChunkElems?: number) {
    const s = await createCpuTrainingSession({ program: p, weights, seed: 0, baseDtype, threads: 1, halfChunkElems });
    const t: TensorMap = new Map();
    let seed = 50;
    for (const [k, v] of s.getTrainables()) t.set(k, { shape: v.shape, data: Float32Array.from(randn(v.data.length, seed++, 0.3)) });
    s.setTrainables(t);
    const { lossSum } = await s.microStep(tinyBatch(p.vocab));
    const g = [...s.getAccumulatedGradients().values()].flatMap((x) => Array.from(x.data));
    const mem = s.memory();
    await s.dispose();
    return { lossSum, g: Float64Array.from(g), mem };
  }

  it.each([
    ['LoRA', false],
    ['QLoRA (NF4 linears; embedding and norms halved)', true],
  ] as const)('%s: f16 gradients equal the f32 gradients of the rounded base; file halves', async (_name, quant) => {
    const raw = buildLlamaProgram(tinyConfig('qwen2', { hiddenSize: 16, intermediateSize: 32 }));
    const base = quant ? quantizeProgram(raw) : raw;
    const p = applyLora(base, LORA).program;
    const exact = await gradients(p, frozen(p, 9, undefined, quant), 'f32');
    const rounded = await gradients(p, frozen(p, 9, rounders.f16, quant), 'f32');
    const half = await gradients(p, frozen(p, 9, undefined, quant), 'f16');
    expect(half.mem.weightFileBytes).toBe(2 * frozenFloatValues(p));
    expect(half.mem.weightFileBytes * 2).toBe(exact.mem.weightFileBytes);
    expect(half.mem.jsWeightBytes).toBe(exact.mem.jsWeightBytes); // NF4 codes unchanged
    expect(relErr(half.g, rounded.g)).toBeLessThan(1e-5);
    expect(Math.abs(half.lossSum - rounded.lossSum) / Math.abs(rounded.lossSum)).toBeLessThan(1e-6);
    expect(relErr(half.g, exact.g)).toBeLessThan(5e-3);
  });

  it('a big half weight read by a GEMM (the tied head, forward and dx) widened block by block: the same gradients', async () => {
    // blocks of 20 values: every (OC, IC) weight above 20 values is cut into row blocks, the tied 11 × 16 embedding
    // (the head) into 1-row ones; input gradients flow through the head's MatMul to the LoRA factors below
    const p = applyLora(buildLlamaProgram(tinyConfig('qwen2', { hiddenSize: 16, intermediateSize: 32 })), LORA).program;
    const rounded = await gradients(p, frozen(p, 9, rounders.f16), 'f32');
    const blocks = await gradients(p, frozen(p, 9), 'f16', 20);
    expect(relErr(blocks.g, rounded.g)).toBeLessThan(1e-5);
    expect(Math.abs(blocks.lossSum - rounded.lossSum) / Math.abs(rounded.lossSum)).toBeLessThan(1e-6);
  });
});
