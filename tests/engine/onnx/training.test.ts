// The optimizer graph against a float64 AdamW (+ global-norm clipping) reference, and a few hundred training
// steps on a tiny fixed dataset making the loss fall.
import { describe, expect, it } from 'vitest';
import { buildUpdateGraph } from '../../../src/main/engine/executors/onnx/graphs.ts';
import { OrtGraph } from '../../../src/main/engine/executors/onnx/ort.ts';
import { buildLlamaProgram } from '../../../src/main/model/families/llama/program.ts';
import { applyLora } from '../../../src/main/engine/lora/model.ts';
import { createCpuTrainingSession } from '../../../src/main/engine/executors/onnx/session.ts';
import type { Batch } from '../../../src/main/engine/session.ts';
import { randn, relErr } from '../helpers.ts';
import { randomWeights, tinyConfig } from '../tiny.ts';

/** torch.nn.utils.clip_grad_norm_ then torch.optim.AdamW, one step, in float64. */
function adamwReference(p: Float64Array, acc: Float64Array, m: Float64Array, v: Float64Array, noDecay: Uint8Array, o: {
  invTokens: number; lr: number; b1: number; b2: number; eps: number; wd: number; t: number; maxNorm: number | null;
}) {
  const g = acc.map((x) => x * o.invTokens);
  const norm = Math.sqrt(g.reduce((s, x) => s + x * x, 0));
  const coef = o.maxNorm === null ? 1 : Math.min(1, o.maxNorm / (norm + 1e-6));
  const p2 = new Float64Array(p.length), m2 = new Float64Array(p.length), v2 = new Float64Array(p.length);
  for (let i = 0; i < p.length; i++) {
    const gi = g[i] * coef;
    const pd = noDecay[i] ? p[i] : p[i] * (1 - o.lr * o.wd);
    m2[i] = o.b1 * m[i] + (1 - o.b1) * gi;
    v2[i] = o.b2 * v[i] + (1 - o.b2) * gi * gi;
    const mh = m2[i] / (1 - o.b1 ** o.t), vh = v2[i] / (1 - o.b2 ** o.t);
    p2[i] = pd - (o.lr * mh) / (Math.sqrt(vh) + o.eps);
  }
  return { p2, m2, v2, norm };
}

describe('AdamW update graph', () => {
  it.each([['float32', 1e-5], ['float64', 1e-13]] as const)('matches the float64 reference (%s), with and without clipping', async (elem, tol) => {
    const P = 50;
    const noDecay = Uint8Array.from({ length: P }, (_, i) => (i % 7 === 0 ? 1 : 0));
    const g = await OrtGraph.create(buildUpdateGraph(P, noDecay, elem), { threads: 1 });
    const cast = (a: Float64Array) => (elem === 'float32' ? Float32Array.from(a) : a);
    const back = (a: ArrayLike<number>) => Float64Array.from(a);
    for (const maxNorm of [0.5, null]) {
      const p = back(cast(randn(P, 1))), acc = back(cast(randn(P, 2, 10))), m = back(cast(randn(P, 3, 0.1))), v = back(cast(randn(P, 4, 0.1).map(Math.abs)));
      const o = { invTokens: 1 / 7, lr: 0.01, b1: 0.9, b2: 0.95, eps: 1e-8, wd: 0.1, t: 3, maxNorm };
      const s = (x: number) => ({ data: cast(Float64Array.of(x)), dims: [] });
      const out = await g.run({
        params: { data: cast(p), dims: [P] }, grad_acc: { data: cast(acc), dims: [P] }, m: { data: cast(m), dims: [P] }, v: { data: cast(v), dims: [P] },
        inv_tokens: s(o.invTokens), lr: s(o.lr), beta1: s(o.b1), beta2: s(o.b2), eps: s(o.eps), weight_decay: s(o.wd),
        bias_corr1: s(1 - o.b1 ** o.t), bias_corr2: s(1 - o.b2 ** o.t), clip_max: s(maxNorm ?? Number.MAX_VALUE),
      });
      const ref = adamwReference(p, acc, m, v, noDecay, o);
      expect(ref.norm).toBeGreaterThan(0.5); // the clipped case really clips
      expect(relErr(back(out.params_out.data as Float64Array), ref.p2)).toBeLessThan(tol);
      expect(relErr(back(out.m_out.data as Float64Array), ref.m2)).toBeLessThan(tol);
      expect(relErr(back(out.v_out.data as Float64Array), ref.v2)).toBeLessThan(tol);
      expect(Number(out.grad_norm.data[0])).toBeCloseTo(ref.norm, elem === 'float32' ? 4 : 10);
    }
    await g.release();
  });
});

describe('training a tiny model', () => {
  it('a few hundred LoRA steps on a fixed dataset make the loss fall clearly', async () => {
    const cfg = tinyConfig('qwen2', { vocabSize: 16, hiddenSize: 16, intermediateSize: 32 });
    const base = buildLlamaProgram(cfg);
    const weights = new Map([...randomWeights(base, 11, 0.5)].map(([k, v]) => [k, Float32Array.from(v)]));
    const program = applyLora(base, { r: 4, alpha: 8, dropout: 0.05, targetModules: 'all-linear', bias: 'none', useRslora: false }).program;
    const s = await createCpuTrainingSession({ program, weights, seed: 1, threads: 1 });
    // two fixed "documents", a counting pattern the model must learn, right-padded into one batch
    const T = 12;
    const seqs = [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [5, 7, 9, 11, 13, 15, 2, 4, 6]];
    const ids = new Int32Array(2 * T), mask = new Uint8Array(2 * T), labels = new Int32Array(2 * T).fill(-100);
    seqs.forEach((sq, b) => sq.forEach((tok, t) => {
      ids[b * T + t] = tok;
      mask[b * T + t] = 1;
      if (t + 1 < sq.length) labels[b * T + t] = sq[t + 1];
    }));
    const batch: Batch = { B: 2, T, inputIds: ids, attentionMask: mask, labels };
    const losses: number[] = [];
    for (let step = 0; step < 200; step++) {
      const r = await s.microStep(batch);
      losses.push(r.lossSum / r.tokens);
      await s.applyUpdate({ lr: 3e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 1 });
    }
    await s.dispose();
    expect(losses[0]).toBeGreaterThan(1.5);
    expect(losses.at(-1)!).toBeLessThan(0.25 * losses[0]);
  });
});

describe('large-model path', () => {
  it('weights routed through an external-data file give the same results as inline initializers', async () => {
    const { buildStepGraph } = await import('../../../src/main/engine/executors/onnx/graphs.ts');
    const { prepareBatch } = await import('../../../src/main/engine/batch-inputs.ts');
    const cfg = tinyConfig('llama');
    const program = buildLlamaProgram(cfg);
    const weights = randomWeights(program, 4);
    const def = buildStepGraph(program, { elem: 'float32', mode: 'logits', weight: (n) => weights.get(n)! });
    const inline = await OrtGraph.create(def, { threads: 1 });
    const external = await OrtGraph.create(def, { threads: 1, inlineLimitBytes: 0 });
    const inp = prepareBatch(program, { B: 1, T: 4, inputIds: Int32Array.from([1, 2, 3, 4]), attentionMask: new Uint8Array(4).fill(1), labels: Int32Array.from([2, 3, 4, -100]) });
    const HD = cfg.headDim;
    const G = cfg.numHeads / cfg.numKvHeads;
    const bias = new Float32Array(G * 16);
    for (let gi = 0; gi < G; gi++) bias.set(Float32Array.from(inp.bias), gi * 16);
    const feeds = {
      input_ids: { data: BigInt64Array.from([1n, 2n, 3n, 4n]), dims: [1, 4] },
      rope_cos: { data: Float32Array.from(inp.cos!), dims: [4, HD] }, rope_sin: { data: Float32Array.from(inp.sin!), dims: [4, HD] },
      attn_bias: { data: bias, dims: [1, 1, G * 4, 4] },
      label_idx: { data: BigInt64Array.from([2n, 3n, 4n, 0n]), dims: [4, 1] }, label_valid: { data: Float32Array.from([1, 1, 1, 0]), dims: [4, 1] },
    };
    const a = await inline.run(feeds);
    const b = await external.run(feeds);
    expect(b.logits.data).toEqual(a.logits.data);
    expect(Number(b.nll_seq.data[0])).toBeGreaterThan(0);
    await inline.release();
    await external.release();
  });
});
