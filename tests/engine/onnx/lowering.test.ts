// Each op's ONNX lowering, forward and backward, against its float64 reference on random inputs. A harness feeds
// the op's inputs and a random upstream gradient as graph inputs and reads back the output and every gradient.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../src/main/engine/executors/onnx/builder.ts';
import { DataType } from '../../../src/main/engine/executors/onnx/proto.ts';
import { OrtGraph } from '../../../src/main/engine/executors/onnx/ort.ts';
import type { BatchValues, LowerCtx } from '../../../src/main/engine/executors/onnx/lower/context.ts';
import * as L from '../../../src/main/engine/executors/onnx/lower/linear.ts';
import * as RN from '../../../src/main/engine/executors/onnx/lower/rmsnorm.ts';
import * as LN from '../../../src/main/engine/executors/onnx/lower/layernorm.ts';
import * as RO from '../../../src/main/engine/executors/onnx/lower/rope.ts';
import * as AT from '../../../src/main/engine/executors/onnx/lower/attention.ts';
import * as EW from '../../../src/main/engine/executors/onnx/lower/elementwise.ts';
import * as EM from '../../../src/main/engine/executors/onnx/lower/embedding.ts';
import * as CE from '../../../src/main/engine/executors/onnx/lower/cross-entropy.ts';
import * as PO from '../../../src/main/engine/executors/onnx/lower/pooling.ts';
import { firstTokenBackward, firstTokenForward } from '../../../src/main/engine/ops/pooling.ts';
import { linearBackward, linearForward } from '../../../src/main/engine/ops/linear.ts';
import { rmsnormBackward, rmsnormForward } from '../../../src/main/engine/ops/rmsnorm.ts';
import { layernormBackward, layernormForward } from '../../../src/main/engine/ops/layernorm.ts';
import { positionsFromMask, ropeBackward, ropeForward, ropeTables } from '../../../src/main/engine/ops/rope.ts';
import { attentionBackward, attentionBias, attentionForward } from '../../../src/main/engine/ops/attention.ts';
import { swigluBackward, swigluForward } from '../../../src/main/engine/ops/swiglu.ts';
import { geluErfBackward, geluErfForward, geluTanhBackward, geluTanhForward } from '../../../src/main/engine/ops/gelu.ts';
import { embeddingBackward, embeddingForward } from '../../../src/main/engine/ops/embedding.ts';
import { crossEntropyBackward, crossEntropyForward } from '../../../src/main/engine/ops/cross-entropy.ts';
import { randn, relErr } from '../helpers.ts';

const B = 2, T = 3, N = B * T;

interface Harness {
  ctx: LowerCtx;
  feed(name: string, data: Float64Array, dims: number[]): string;
  /** A bool input (ONNX tensor(bool), one byte a flag), as a LoRA dropout keep mask is fed. */
  feedBool(name: string, data: Uint8Array, dims: number[]): string;
  run(outputs: Record<string, string>, dims?: Record<string, number[]>): Promise<Record<string, Float64Array>>;
}

function harness(extra: Partial<BatchValues> = {}, feeds: Record<string, { data: Float64Array | BigInt64Array | Uint8Array; dims: number[]; bool?: true }> = {}): Harness {
  const g = new GraphBuilder('float64');
  const values = new Map<string, string>();
  const grads = new Map<string, string>();
  const ids = g.input('ids', DataType.INT64, [N]);
  feeds.ids ??= { data: BigInt64Array.from([1n, 0n, 3n, 1n, 2n, 4n]), dims: [N] };
  const ctx: LowerCtx = {
    g, saved: new Map(),
    batch: {
      ids, shapeBT: g.i64([B, T]), cos: null, sin: null, labelIdx: '', labelValid: '',
      bias: () => { throw new Error('no bias in this harness'); }, dropMask: () => null, ...extra,
    },
    nf4: () => null, // float weights only here; NF4 lowering has its own tests
    value: (n) => values.get(n)!,
    setValue: (n, v) => void values.set(n, v),
    needsGrad: () => true,
    addGrad: (n, v) => void grads.set(n, grads.has(n) ? g.add(grads.get(n)!, v) : v),
  };
  return {
    ctx,
    feed(name, data, dims) {
      feeds[name] = { data, dims };
      const v = g.input(name, DataType.DOUBLE, dims);
      values.set(name, v);
      return v;
    },
    feedBool(name, data, dims) {
      feeds[name] = { data, dims, bool: true };
      return g.input(name, DataType.BOOL, dims);
    },
    async run(outputs) {
      const all: Record<string, string> = { ...outputs };
      for (const [k, v] of grads) all[`d_${k}`] = v;
      for (const [k, v] of Object.entries(all)) g.output(`o_${k}`, v, DataType.DOUBLE);
      const s = await OrtGraph.create(g.model('op-test'), { threads: 1, optimization: 'basic' });
      try {
        const out = await s.run(feeds);
        return Object.fromEntries(Object.keys(all).map((k) => [k, Float64Array.from(out[`o_${k}`].data as Float64Array)]));
      } finally {
        await s.release();
      }
    },
  };
}

const TOL = 1e-12;

describe('ONNX lowerings vs float64 references', () => {
  it('linear with bias and LoRA (with a dropout mask)', async () => {
    const IC = 5, OC = 4, r = 2, scale = 0.75;
    const x = randn(N * IC, 1), W = randn(OC * IC, 2), b = randn(OC, 3), A = randn(r * IC, 4), Bm = randn(OC * r, 5), dy = randn(N * OC, 6);
    // the graph takes which inputs are kept (bool) and scales by 1/(1−p) itself; the reference takes the multipliers
    const keep = Uint8Array.from({ length: N * IC }, (_, i) => (i % 4 === 1 ? 0 : 1));
    const mask = Float64Array.from(keep, (k) => k / 0.75);
    const h = harness({ dropMask: () => 'mask' });
    h.feedBool('mask', keep, [N, IC]);
    for (const [k, v, d] of [['x', x, [N, IC]], ['W', W, [OC, IC]], ['b', b, [OC]], ['A', A, [r, IC]], ['B', Bm, [OC, r]]] as const) h.feed(k, v, [...d]);
    const node = { op: 'linear' as const, module: 'm', x: 'x', weight: 'W', bias: 'b', lora: { A: 'A', B: 'B', r, scale, dropout: 0.25 }, out: 'y', inF: IC, outF: OC };
    L.linearForward(h.ctx, node, 0);
    L.linearBackward(h.ctx, node, 0, h.feed('dy', dy, [N, OC]));
    const o = await h.run({ y: h.ctx.value('y') });
    const y = new Float64Array(N * OC);
    const lora = { A, B: Bm, r, scale, dropMask: mask };
    const saved = linearForward(y, x, W, b, lora, N, IC, OC);
    const g = { dx: new Float64Array(N * IC), dW: new Float64Array(OC * IC), db: new Float64Array(OC), dA: new Float64Array(r * IC), dB: new Float64Array(OC * r) };
    linearBackward(g, dy, x, W, lora, saved, N, IC, OC);
    expect(relErr(o.y, y)).toBeLessThan(TOL);
    for (const [k, ref] of [['d_x', g.dx], ['d_W', g.dW], ['d_b', g.db], ['d_A', g.dA], ['d_B', g.dB]] as const) expect(relErr(o[k], ref!), k).toBeLessThan(TOL);
  });

  it('rmsnorm (full rows, per head, and the 1+w form)', async () => {
    for (const [width, rowWidth, plusOne] of [[6, 6, false], [3, 6, false], [6, 6, true]] as const) {
      const x = randn(N * rowWidth, 7), w = randn(width, 8), dy = randn(N * rowWidth, 9);
      const h = harness();
      h.feed('x', x, [N, rowWidth]);
      h.feed('w', w, [width]);
      const node = { op: 'rmsnorm' as const, x: 'x', weight: 'w', out: 'y', width, eps: 1e-5, plusOne };
      RN.rmsnormForward(h.ctx, node, 0, rowWidth);
      RN.rmsnormBackward(h.ctx, node, 0, h.feed('dy', dy, [N, rowWidth]), rowWidth);
      const o = await h.run({ y: h.ctx.value('y') });
      const R = (N * rowWidth) / width;
      const y = new Float64Array(x.length), rstd = new Float64Array(R), dx = new Float64Array(x.length), dw = new Float64Array(width);
      rmsnormForward(y, rstd, x, w, R, width, 1e-5, plusOne);
      rmsnormBackward(dx, dw, dy, x, w, rstd, R, width, plusOne);
      expect(relErr(o.y, y)).toBeLessThan(TOL);
      expect(relErr(o.d_x, dx)).toBeLessThan(TOL);
      expect(relErr(o.d_w, dw)).toBeLessThan(TOL);
    }
  });

  it('layernorm', async () => {
    const W = 5;
    const x = randn(N * W, 10), w = randn(W, 11), b = randn(W, 12), dy = randn(N * W, 13);
    const h = harness();
    h.feed('x', x, [N, W]); h.feed('w', w, [W]); h.feed('b', b, [W]);
    const node = { op: 'layernorm' as const, x: 'x', weight: 'w', bias: 'b', out: 'y', width: W, eps: 1e-5 };
    LN.layernormForward(h.ctx, node, 0);
    LN.layernormBackward(h.ctx, node, 0, h.feed('dy', dy, [N, W]));
    const o = await h.run({ y: h.ctx.value('y') });
    const y = new Float64Array(x.length), m = new Float64Array(N), s = new Float64Array(N), dx = new Float64Array(x.length), dw = new Float64Array(W), db = new Float64Array(W);
    layernormForward(y, m, s, x, w, b, N, W, 1e-5);
    layernormBackward(dx, dw, db, dy, x, w, m, s, N, W);
    expect(relErr(o.y, y)).toBeLessThan(TOL);
    expect(relErr(o.d_x, dx)).toBeLessThan(TOL);
    expect(relErr(o.d_w, dw)).toBeLessThan(TOL);
    expect(relErr(o.d_b, db)).toBeLessThan(TOL);
  });

  it('rope', async () => {
    const H = 2, HD = 6;
    const { cos, sin } = ropeTables({ theta: 1e4, headDim: HD, scaling: { type: 'linear', factor: 2 } }, positionsFromMask(Uint8Array.from([1, 1, 1, 0, 1, 1]), B, T));
    const x = randn(N * H * HD, 14), dy = randn(N * H * HD, 15);
    const h = harness();
    const c3 = h.ctx.g.op('Unsqueeze', [h.feed('cos', cos, [N, HD]), h.ctx.g.i64([1])]);
    const s3 = h.ctx.g.op('Unsqueeze', [h.feed('sin', sin, [N, HD]), h.ctx.g.i64([1])]);
    Object.assign(h.ctx.batch, { cos: c3, sin: s3 });
    h.feed('x', x, [N, H * HD]);
    const node = { op: 'rope' as const, x: 'x', out: 'y', heads: H, headDim: HD };
    RO.ropeForward(h.ctx, node);
    RO.ropeBackward(h.ctx, node, h.feed('dy', dy, [N, H * HD]));
    const o = await h.run({ y: h.ctx.value('y') });
    const y = new Float64Array(x.length), dx = new Float64Array(x.length);
    ropeForward(y, x, cos, sin, N, H, HD);
    ropeBackward(dx, dy, cos, sin, N, H, HD);
    expect(relErr(o.y, y)).toBeLessThan(TOL);
    expect(relErr(o.d_x, dx)).toBeLessThan(TOL);
  });

  for (const causal of [true, false])
    it(`GQA attention with padding (${causal ? 'causal' : 'bidirectional: its own bias input'})`, async () => {
      const NH = 6, NKV = 2, HD = 4, G = NH / NKV;
      const mask = Uint8Array.from([1, 1, 1, 1, 1, 0]);
      const bias = attentionBias(mask, B, T, null, undefined, causal);
      const tiled = new Float64Array(B * G * T * T);
      for (let b = 0; b < B; b++) for (let gi = 0; gi < G; gi++) tiled.set(bias.subarray(b * T * T, (b + 1) * T * T), (b * G + gi) * T * T);
      const q = randn(N * NH * HD, 16), k = randn(N * NKV * HD, 17), v = randn(N * NKV * HD, 18), dy = randn(N * NH * HD, 19);
      const h = harness();
      const biasV = h.feed('bias', tiled, [B, 1, G * T, T]);
      const asked: (boolean | undefined)[] = [];
      h.ctx.batch.bias = (_w, c) => (asked.push(c), biasV);
      h.feed('q', q, [N, NH * HD]); h.feed('k', k, [N, NKV * HD]); h.feed('v', v, [N, NKV * HD]);
      const node = { op: 'attention' as const, q: 'q', k: 'k', v: 'v', out: 'y', NH, NKV, HD, window: null, scale: 0.3, ...(causal ? {} : { causal }) };
      AT.attentionForward(h.ctx, node, 0);
      AT.attentionBackward(h.ctx, node, 0, h.feed('dy', dy, [N, NH * HD]));
      expect(asked).toEqual([causal]);
      const o = await h.run({ y: h.ctx.value('y') });
      const d = { B, T, NH, NKV, HD, scale: 0.3 };
      const y = new Float64Array(q.length);
      const att = attentionForward(y, q, k, v, bias, d);
      const dq = new Float64Array(q.length), dk = new Float64Array(k.length), dv = new Float64Array(v.length);
      attentionBackward(dq, dk, dv, dy, q, k, v, att, d);
      expect(relErr(o.y, y)).toBeLessThan(TOL);
      expect(relErr(o.d_q, dq)).toBeLessThan(TOL);
      expect(relErr(o.d_k, dk)).toBeLessThan(TOL);
      expect(relErr(o.d_v, dv)).toBeLessThan(TOL);
    });

  it('first-token pooling', async () => {
    const W = 4;
    const x = randn(N * W, 56), dy = randn(N * W, 57);
    const h = harness();
    h.feed('x', x, [N, W]);
    const node = { op: 'first_token' as const, x: 'x', out: 'y', width: W };
    PO.firstTokenForward(h.ctx, node);
    PO.firstTokenBackward(h.ctx, node, h.feed('dy', dy, [N, W]));
    const o = await h.run({ y: h.ctx.value('y') });
    const y = new Float64Array(N * W), dx = new Float64Array(N * W);
    firstTokenForward(y, x, B, T, W);
    firstTokenBackward(dx, dy, B, T, W);
    expect(relErr(o.y, y)).toBeLessThan(TOL);
    expect(relErr(o.d_x, dx)).toBeLessThan(TOL);
  });

  it('gelu_erf (exact GELU)', async () => {
    const n = N * 4;
    const x = randn(n, 54, 3), dy = randn(n, 55);
    x.set([0, 6, -5, 4.2, -4.25, 1e-3]); // both sides of the float64 erf's switch at |x/√2| = 3, and near 0
    const h = harness();
    h.feed('x', x, [N, 4]);
    const node = { op: 'gelu_erf' as const, x: 'x', out: 'y', width: 4 };
    EW.geluErfForward(h.ctx, node, 0);
    EW.geluErfBackward(h.ctx, node, 0, h.feed('dy', dy, [N, 4]));
    const o = await h.run({ y: h.ctx.value('y') });
    const y = new Float64Array(n), dx = new Float64Array(n);
    geluErfForward(y, x, n);
    geluErfBackward(dx, dy, x, n);
    expect(relErr(o.y, y)).toBeLessThan(TOL);
    expect(relErr(o.d_x, dx)).toBeLessThan(TOL);
  });

  it('swiglu, gelu_tanh, add', async () => {
    const n = N * 4;
    const a = randn(n, 20, 2), u = randn(n, 21), dy = randn(n, 22), dy2 = randn(n, 23);
    const h = harness();
    h.feed('a', a, [N, 4]); h.feed('u', u, [N, 4]);
    const sw = { op: 'swiglu' as const, gate: 'a', up: 'u', out: 'y', width: 4 };
    const ge = { op: 'gelu_tanh' as const, x: 'u', out: 'z', width: 4 };
    EW.swigluForward(h.ctx, sw, 0);
    EW.geluForward(h.ctx, ge, 1);
    EW.swigluBackward(h.ctx, sw, 0, h.feed('dy', dy, [N, 4]));
    EW.geluBackward(h.ctx, ge, 1, h.feed('dy2', dy2, [N, 4]));
    const o = await h.run({ y: h.ctx.value('y'), z: h.ctx.value('z') });
    const y = new Float64Array(n), z = new Float64Array(n), da = new Float64Array(n), du = new Float64Array(n), du2 = new Float64Array(n);
    swigluForward(y, a, u, n);
    geluTanhForward(z, u, n);
    swigluBackward(da, du, dy, a, u, n);
    geluTanhBackward(du2, dy2, u, n);
    expect(relErr(o.y, y)).toBeLessThan(TOL);
    expect(relErr(o.z, z)).toBeLessThan(TOL);
    expect(relErr(o.d_a, da)).toBeLessThan(TOL);
    expect(relErr(o.d_u, du.map((x, i) => x + du2[i]))).toBeLessThan(TOL);
  });

  it('embedding (trainable table) and cross-entropy with ignored labels', async () => {
    const V = 5, C = 3;
    const wte = randn(V * C, 24), dy = randn(N * C, 25), logits = randn(N * V, 26, 2);
    const labels = Int32Array.from([2, -100, 4, 0, -100, 1]);
    const h = harness({}, {
      lidx: { data: BigInt64Array.from(labels, (y) => BigInt(Math.max(y, 0))), dims: [N, 1] },
    });
    const g = h.ctx.g;
    Object.assign(h.ctx.batch, {
      labelIdx: g.input('lidx', DataType.INT64, [N, 1]),
      labelValid: h.feed('lvalid', Float64Array.from(labels, (y) => (y === -100 ? 0 : 1)), [N, 1]),
    });
    h.feed('wte', wte, [V, C]);
    const node = { op: 'embedding' as const, weight: 'wte', out: 'e', width: C, scale: 1.5 };
    EM.embeddingForward(h.ctx, node);
    EM.embeddingBackward(h.ctx, node, h.feed('dy', dy, [N, C]));
    const ce = CE.crossEntropyForward(h.ctx, h.feed('logits', logits, [N, V]));
    const dl = CE.crossEntropyBackward(h.ctx, ce);
    const o = await h.run({ e: h.ctx.value('e'), loss: ce.lossSum, dlogits: dl });
    const ids = Int32Array.from([1, 0, 3, 1, 2, 4]);
    const e = new Float64Array(N * C);
    embeddingForward(e, ids, wte, N, C, V);
    const dw = new Float64Array(V * C);
    embeddingBackward(dw, dy.map((x) => x * 1.5), ids, N, C);
    expect(relErr(o.e, e.map((x) => x * 1.5))).toBeLessThan(TOL);
    expect(relErr(o.d_wte, dw)).toBeLessThan(TOL);
    const ref = crossEntropyForward(logits, labels, N, V);
    const dref = new Float64Array(N * V);
    crossEntropyBackward(dref, ref.probs, labels, N, V);
    expect(o.loss[0]).toBeCloseTo(ref.lossSum, 12);
    expect(relErr(o.dlogits, dref)).toBeLessThan(TOL);
  });
});
