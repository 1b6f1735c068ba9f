// Every op's hand-written backward against central finite differences, in float64, on tiny random shapes.
// The scalar probed is L = Σ out ⊙ R for a fixed random R, so dL/dout = R.
import { describe, expect, it } from 'vitest';
import { dot, numericGrad, randn, relErr } from '../helpers.ts';
import { embeddingBackward, embeddingForward } from '../../../src/main/engine/ops/embedding.ts';
import { rmsnormBackward, rmsnormForward } from '../../../src/main/engine/ops/rmsnorm.ts';
import { layernormBackward, layernormForward } from '../../../src/main/engine/ops/layernorm.ts';
import { linearBackward, linearForward } from '../../../src/main/engine/ops/linear.ts';
import { positionsFromMask, ropeBackward, ropeForward, ropeInvFreq, ropeTables } from '../../../src/main/engine/ops/rope.ts';
import { attentionBackward, attentionBias, attentionForward, type AttentionDims } from '../../../src/main/engine/ops/attention.ts';
import { swigluBackward, swigluForward } from '../../../src/main/engine/ops/swiglu.ts';
import { erf, geluErfBackward, geluErfForward, geluTanhBackward, geluTanhForward } from '../../../src/main/engine/ops/gelu.ts';
import { reluBackward, reluForward } from '../../../src/main/engine/ops/relu.ts';
import { crossEntropyBackward, crossEntropyForward } from '../../../src/main/engine/ops/cross-entropy.ts';
import { firstTokenBackward, firstTokenForward } from '../../../src/main/engine/ops/pooling.ts';
import { mseBackward, mseForward, spanLossBackward, spanLossForward } from '../../../src/main/engine/ops/task-loss.ts';

const TOL = 1e-7;

/**
 * Attention's q/k/v gradients against finite differences, on inputs drawn from seed … seed + 3; returns the
 * probabilities. Padded query rows are never trained: only real rows are probed (their fully-masked scores sit at
 * −1e9, where float64 keeps too few digits of the score for finite differences).
 */
function expectAttentionGradients(mask: Uint8Array, bias: Float64Array, d: AttentionDims, seed: number): Float64Array {
  const { B, T, NH, NKV, HD } = d;
  const N = B * T;
  const q = randn(N * NH * HD, seed), k = randn(N * NKV * HD, seed + 1), v = randn(N * NKV * HD, seed + 2), dout = randn(N * NH * HD, seed + 3);
  for (let n = 0; n < N; n++) if (!mask[n]) dout.fill(0, n * NH * HD, (n + 1) * NH * HD);
  const loss = () => { const o = new Float64Array(q.length); attentionForward(o, q, k, v, bias, d); return dot(o, dout); };
  const att = attentionForward(new Float64Array(q.length), q, k, v, bias, d);
  const dq = new Float64Array(q.length), dk = new Float64Array(k.length), dv = new Float64Array(v.length);
  attentionBackward(dq, dk, dv, dout, q, k, v, att, d);
  expect(relErr(dq, numericGrad(loss, q))).toBeLessThan(TOL);
  expect(relErr(dk, numericGrad(loss, k))).toBeLessThan(TOL);
  expect(relErr(dv, numericGrad(loss, v))).toBeLessThan(TOL);
  return att;
}

describe('op references: backward vs finite differences (float64)', () => {
  it('rmsnorm, both weight forms', () => {
    for (const plusOne of [false, true]) {
      const R = 3, W = 5;
      const x = randn(R * W, 1), w = randn(W, 2), dout = randn(R * W, 3);
      const loss = () => { const o = new Float64Array(R * W); rmsnormForward(o, new Float64Array(R), x, w, R, W, 1e-6, plusOne); return dot(o, dout); };
      const rstd = new Float64Array(R);
      rmsnormForward(new Float64Array(R * W), rstd, x, w, R, W, 1e-6, plusOne);
      const dx = new Float64Array(R * W), dw = new Float64Array(W);
      rmsnormBackward(dx, dw, dout, x, w, rstd, R, W, plusOne);
      expect(relErr(dx, numericGrad(loss, x))).toBeLessThan(TOL);
      expect(relErr(dw, numericGrad(loss, w))).toBeLessThan(TOL);
    }
  });

  it('layernorm', () => {
    const R = 3, W = 6;
    const x = randn(R * W, 4), w = randn(W, 5), b = randn(W, 6), dout = randn(R * W, 7);
    const run = () => { const o = new Float64Array(R * W); const m = new Float64Array(R), s = new Float64Array(R); layernormForward(o, m, s, x, w, b, R, W, 1e-5); return { o, m, s }; };
    const loss = () => dot(run().o, dout);
    const { m, s } = run();
    const dx = new Float64Array(R * W), dw = new Float64Array(W), db = new Float64Array(W);
    layernormBackward(dx, dw, db, dout, x, w, m, s, R, W);
    expect(relErr(dx, numericGrad(loss, x))).toBeLessThan(TOL);
    expect(relErr(dw, numericGrad(loss, w))).toBeLessThan(TOL);
    expect(relErr(db, numericGrad(loss, b))).toBeLessThan(TOL);
  });

  it('embedding (repeated ids sum their rows)', () => {
    const V = 5, C = 3, N = 4;
    const ids = Int32Array.from([1, 3, 1, 0]);
    const wte = randn(V * C, 8), dout = randn(N * C, 9);
    const loss = () => { const o = new Float64Array(N * C); embeddingForward(o, ids, wte, N, C, V); return dot(o, dout); };
    const dw = new Float64Array(V * C);
    embeddingBackward(dw, dout, ids, N, C);
    expect(relErr(dw, numericGrad(loss, wte))).toBeLessThan(TOL);
    expect(() => embeddingForward(new Float64Array(N * C), Int32Array.from([0, 9, 0, 0]), wte, N, C, V)).toThrow(/token id 9 at position 1/);
  });

  it('linear with bias and a LoRA branch with dropout', () => {
    const N = 4, IC = 5, OC = 3, r = 2, scale = 1.7;
    const x = randn(N * IC, 10), W = randn(OC * IC, 11), b = randn(OC, 12), A = randn(r * IC, 13), B = randn(OC * r, 14);
    const dropMask = Float64Array.from({ length: N * IC }, (_, i) => (i % 3 === 0 ? 0 : 1.25));
    const lora = { A, B, r, scale, dropMask };
    const dout = randn(N * OC, 15);
    const loss = () => { const o = new Float64Array(N * OC); linearForward(o, x, W, b, lora, N, IC, OC); return dot(o, dout); };
    const saved = linearForward(new Float64Array(N * OC), x, W, b, lora, N, IC, OC);
    const g = { dx: new Float64Array(N * IC), dW: new Float64Array(OC * IC), db: new Float64Array(OC), dA: new Float64Array(r * IC), dB: new Float64Array(OC * r) };
    linearBackward(g, dout, x, W, lora, saved, N, IC, OC);
    expect(relErr(g.dx, numericGrad(loss, x))).toBeLessThan(TOL);
    expect(relErr(g.dW, numericGrad(loss, W))).toBeLessThan(TOL);
    expect(relErr(g.db, numericGrad(loss, b))).toBeLessThan(TOL);
    expect(relErr(g.dA, numericGrad(loss, A))).toBeLessThan(TOL);
    expect(relErr(g.dB, numericGrad(loss, B))).toBeLessThan(TOL);
  });

  it('rope (backward is the inverse rotation) and llama3 scaling', () => {
    const B = 2, T = 3, N = B * T, H = 2, HD = 4;
    const cfg = { theta: 10000, headDim: HD, scaling: null };
    const { cos, sin } = ropeTables(cfg, positionsFromMask(Uint8Array.from([1, 1, 1, 0, 1, 1]), B, T));
    const x = randn(N * H * HD, 16), dout = randn(N * H * HD, 17);
    const loss = () => { const o = new Float64Array(x.length); ropeForward(o, x, cos, sin, N, H, HD); return dot(o, dout); };
    const dx = new Float64Array(x.length);
    ropeBackward(dx, dout, cos, sin, N, H, HD);
    expect(relErr(dx, numericGrad(loss, x))).toBeLessThan(TOL);
    // positions follow transformers: cumsum(mask) − 1, and 1 on padding
    expect([...positionsFromMask(Uint8Array.from([0, 1, 1, 1, 1, 0]), 2, 3)]).toEqual([1, 0, 1, 0, 1, 1]);
    // llama3 scaling: high frequencies untouched, low frequencies divided by factor
    const inv = ropeInvFreq({ theta: 500000, headDim: 64, scaling: { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 } });
    const plain = ropeInvFreq({ theta: 500000, headDim: 64, scaling: null });
    expect(inv[0]).toBe(plain[0]);
    expect(inv[31]).toBeCloseTo(plain[31] / 8, 15);
  });

  it('causal GQA attention with padding and a sliding window', () => {
    const B = 2, T = 4, NH = 4, NKV = 2, HD = 3;
    const mask = Uint8Array.from([1, 1, 1, 1, 0, 1, 1, 1]);
    for (const window of [null, 2]) {
      const bias = attentionBias(mask, B, T, window);
      const att = expectAttentionGradients(mask, bias, { B, T, NH, NKV, HD, scale: window === null ? undefined : 0.3 }, 18);
      // the future and padded keys get no weight
      expect(att[(0 * NH + 1) * T * T + 0 * T + 1]).toBe(0);
      expect(att[(1 * NH + 0) * T * T + 2 * T + 0]).toBe(0);
    }
  });

  it('bidirectional GQA attention with padding (encoders)', () => {
    const B = 2, T = 4, NH = 4, NKV = 2, HD = 3, N = B * T;
    const mask = Uint8Array.from([1, 1, 1, 1, 1, 1, 1, 0]); // the second sequence right-padded, as BERT batches are
    const bias = attentionBias(mask, B, T, null, undefined, false);
    const d = { B, T, NH, NKV, HD };
    const att = expectAttentionGradients(mask, bias, d, 40);
    const [q, k, v] = [randn(N * NH * HD, 40), randn(N * NKV * HD, 41), randn(N * NKV * HD, 42)]; // the inputs it checked
    const p = (b: number, h: number, i: number, j: number) => att[((b * NH + h) * T + i) * T + j];
    expect(p(0, 1, 0, 3)).toBeGreaterThan(0); // the first query reads the last key: no causal mask
    expect(p(1, 2, 0, 3)).toBe(0); // the padded key gets no weight, from any query
    for (let j = 0; j < 3; j++) expect(p(1, 2, 1, j)).toBeGreaterThan(0);
    // a key after the query changes its output (it would not under a causal mask); a padded key does not
    const out = (kk: Float64Array) => { const o = new Float64Array(q.length); attentionForward(o, q, kk, v, bias, d); return o; };
    const base = out(k);
    const later = k.slice(); later[(0 * T + 3) * NKV * HD] += 1; // sequence 0, key 3
    const padded = k.slice(); padded[(1 * T + 3) * NKV * HD] += 1; // sequence 1, its padded key 3
    expect(Math.abs(out(later)[0] - base[0])).toBeGreaterThan(1e-6); // query 0, head 0 of sequence 0
    expect([...out(padded)]).toEqual([...base]);
  });

  it('gelu_erf (exact GELU) and its erf', () => {
    // erf to float64 accuracy on both sides of the series / continued-fraction switch (values: scipy.special.erf)
    for (const [x, v] of [[0.01, 0.011283415555849618], [0.5, 0.5204998778130465], [1, 0.8427007929497149], [2, 0.9953222650189527], [3, 0.9999779095030014], [3.5, 0.9999992569016276], [-1, -0.8427007929497149]])
      expect(Math.abs(erf(x) - v), `erf(${x})`).toBeLessThan(1e-15);
    const n = 9;
    const x = randn(n, 44, 3), dout = randn(n, 45);
    const y = new Float64Array(n);
    geluErfForward(y, Float64Array.of(1, -1, 0), 3);
    expect(y[0]).toBeCloseTo(0.8413447460685429, 15); // Φ(1)
    expect(y[1]).toBeCloseTo(-0.15865525393145707, 15);
    const loss = () => { const o = new Float64Array(n); geluErfForward(o, x, n); return dot(o, dout); };
    const dx = new Float64Array(n);
    geluErfBackward(dx, dout, x, n);
    expect(relErr(dx, numericGrad(loss, x))).toBeLessThan(TOL);
  });

  it('relu (DistilBERT head): the derivative is 0 at and below 0, as torch', () => {
    const n = 9;
    const x = randn(n, 48).map((v) => (Math.abs(v) < 1e-3 ? v + 0.1 : v)); // away from the kink, where FD is exact
    const dout = randn(n, 49);
    const y = new Float64Array(3);
    reluForward(y, Float64Array.of(1.5, -2, 0), 3);
    expect([...y]).toEqual([1.5, 0, 0]);
    const at0 = new Float64Array(1);
    reluBackward(at0, Float64Array.of(1), Float64Array.of(0), 1);
    expect(at0[0]).toBe(0);
    const loss = () => { const o = new Float64Array(n); reluForward(o, x, n); return dot(o, dout); };
    const dx = new Float64Array(n);
    reluBackward(dx, dout, x, n);
    expect(relErr(dx, numericGrad(loss, x))).toBeLessThan(TOL);
  });

  it('first-token pooling', () => {
    const B = 2, T = 3, W = 4, N = B * T;
    const x = randn(N * W, 46), dout = randn(N * W, 47);
    const out = new Float64Array(N * W);
    firstTokenForward(out, x, B, T, W);
    expect([...out.subarray(2 * W, 3 * W)]).toEqual([...x.subarray(0, W)]); // sequence 0, row 2 ← row 0
    expect([...out.subarray(4 * W, 5 * W)]).toEqual([...x.subarray(3 * W, 4 * W)]); // sequence 1, row 1 ← row 3
    const loss = () => { const o = new Float64Array(N * W); firstTokenForward(o, x, B, T, W); return dot(o, dout); };
    const dx = new Float64Array(N * W);
    firstTokenBackward(dx, dout, B, T, W);
    expect(relErr(dx, numericGrad(loss, x))).toBeLessThan(TOL);
  });

  it('regression MSE and the extractive-QA span loss', () => {
    // MSE over one row per sequence; a NaN target is not trained
    const pred = randn(6, 48), rows = Int32Array.from([0, 3]), target = Float64Array.from([0.5, Number.NaN]);
    const m = mseForward(pred, rows, target);
    expect(m).toEqual({ lossSum: (pred[0] - 0.5) ** 2, count: 1 });
    const dpred = new Float64Array(6);
    mseBackward(dpred, pred, rows, target);
    expect(relErr(dpred, numericGrad(() => mseForward(pred, rows, target).lossSum, pred))).toBeLessThan(TOL);
    // span loss: (start CE + end CE) / 2 over positions; an out-of-range gold side is not trained
    const B = 3, T = 4;
    const logits = randn(B * T * 2, 49, 2);
    const starts = Int32Array.from([1, 0, 4]), ends = Int32Array.from([2, 3, 4]); // sequence 2: both clamped out
    const r = spanLossForward(logits, starts, ends, B, T);
    const ce = (b: number, side: number, gold: number) => {
      const col = Array.from({ length: T }, (_, t) => logits[(b * T + t) * 2 + side]);
      return Math.log(col.reduce((acc, v) => acc + Math.exp(v), 0)) - col[gold];
    };
    // transformers: start_loss = mean over trained starts, end_loss likewise, total = (start + end) / 2
    const hf = ((ce(0, 0, 1) + ce(1, 0, 0)) / 2 + (ce(0, 1, 2) + ce(1, 1, 3)) / 2) / 2;
    expect(r.count).toBe(2);
    expect(r.lossSum / r.count).toBeCloseTo(hf, 14);
    const dl = new Float64Array(logits.length);
    spanLossBackward(dl, r.probs, starts, ends, B, T);
    expect(relErr(dl, numericGrad(() => spanLossForward(logits, starts, ends, B, T).lossSum, logits))).toBeLessThan(TOL);
    expect([...dl.subarray(2 * T * 2)].every((v) => v === 0)).toBe(true);
  });

  it('swiglu and gelu_tanh', () => {
    const n = 7;
    const g = randn(n, 22, 2), u = randn(n, 23), dout = randn(n, 24);
    const loss = () => { const o = new Float64Array(n); swigluForward(o, g, u, n); return dot(o, dout); };
    const dg = new Float64Array(n), du = new Float64Array(n);
    swigluBackward(dg, du, dout, g, u, n);
    expect(relErr(dg, numericGrad(loss, g))).toBeLessThan(TOL);
    expect(relErr(du, numericGrad(loss, u))).toBeLessThan(TOL);
    const lossG = () => { const o = new Float64Array(n); geluTanhForward(o, g, n); return dot(o, dout); };
    const dx = new Float64Array(n);
    geluTanhBackward(dx, dout, g, n);
    expect(relErr(dx, numericGrad(lossG, g))).toBeLessThan(TOL);
  });

  it('cross-entropy with ignored labels', () => {
    const N = 4, V = 6;
    const logits = randn(N * V, 25, 3);
    const labels = Int32Array.from([2, -100, 5, 0]);
    const loss = () => crossEntropyForward(logits, labels, N, V).lossSum;
    const ce = crossEntropyForward(logits, labels, N, V);
    expect(ce.tokens).toBe(3);
    expect(ce.nll[1]).toBe(0);
    const d = new Float64Array(N * V);
    crossEntropyBackward(d, ce.probs, labels, N, V);
    expect(relErr(d, numericGrad(loss, logits))).toBeLessThan(TOL);
    expect(() => crossEntropyForward(logits, Int32Array.from([2, 7, 0, 0]), N, V)).toThrow(/label 7 at row 1/);
  });
});
