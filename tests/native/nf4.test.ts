// NF4 on the CPU (src/main/engine/quant/nf4.ts, the engine's; native/cuda/nf4.cu mirrors it and is checked against
// it on the GPU): what the kernels rely on — the code table and decision thresholds bit for bit against
// bitsandbytes' constants, the block layout (64 per absmax, first element in the high nibble, blocks over the
// row-major flattening), the dynamic 8-bit map and grouping of the double quantization, round-trip error.
import { describe, expect, it } from 'vitest';
import { DOUBLE_QUANT_BLOCK as DQ_BLOCK, NF4_CODE, NF4_EDGES as NF4_MIDPOINTS, dequantizeNf4, dynMap, nearestIndex, nf4CodeOf as nf4Index, quantizeNf4Blocks as quantizeBlocks, quantizeNf4, type Nf4Tensor } from '../../src/main/engine/quant/nf4.ts';

const dynamicMap = dynMap;
const nf4CodeAt = (q: Nf4Tensor, i: number) => (i % 2 === 0 ? q.codes[i >> 1] >> 4 : q.codes[i >> 1] & 15);
const nf4BlockAbsmax = (q: Nf4Tensor, b: number) => q.absmax[b];
import { randn } from '../engine/helpers.ts';

const f32 = Math.fround;

describe('NF4 code table and rounding', () => {
  it('is the QLoRA table (DESIGN.md to 7 digits) and every value is exactly a float32', () => {
    const design = [-1.0, -0.6961928, -0.5250731, -0.3949175, -0.2844414, -0.1847734, -0.0910500, 0.0, 0.0795803, 0.1609302, 0.2461123, 0.3379152, 0.4407098, 0.5626170, 0.7229568, 1.0];
    expect(Array.from(NF4_CODE, (v) => Number(v.toFixed(7)))).toEqual(design);
    for (const v of NF4_CODE) expect(f32(v)).toBe(v);
  });

  it('thresholds are bitsandbytes\' decision-tree constants (float32 midpoints)', () => {
    // constants of bitsandbytes' dQuantizeNF4 (as float32 literals)
    const bnb = [-0.33967943489551544, -0.23460740596055984, -0.13791173323988914, -0.045525018125772476, 0.03979014977812767, 0.1202552504837513, 0.2035212516784668, 0.2920137718319893, 0.3893125355243683, 0.5016634166240692, 0.6427869200706482, 0.8614784181118011];
    for (const c of bnb) expect(Array.from(NF4_MIDPOINTS)).toContain(f32(c));
  });

  it('rounds to the nearest code; a midpoint itself goes down, the next float32 above goes up', () => {
    NF4_CODE.forEach((v, i) => expect(nf4Index(v)).toBe(i));
    NF4_MIDPOINTS.forEach((m, i) => {
      expect(nf4Index(m)).toBe(i);
      const above = new Float32Array(new Uint32Array([new Uint32Array(new Float32Array([m]).buffer)[0] + (m >= 0 ? 1 : -1)]).buffer)[0];
      expect(above).toBeGreaterThan(m);
      expect(nf4Index(above)).toBe(i + 1);
    });
    expect(nf4Index(Number.NaN)).toBe(0);
  });
});

describe('block layout', () => {
  it('packs the first element of each pair in the high nibble, one absmax per 64 values', () => {
    const x = new Float32Array(130); // two full blocks and a partial one of 2
    x[0] = 2; // absmax of block 0 → code 15
    x[1] = -2; // → code 0
    x[2] = 0.5; // 0.25 → nearest 0.2461123 (10)
    x[64] = -4; // block 1 absmax 4, element 0 → code 0
    x[65] = 1; // 0.25 → 10
    x[128] = 3;
    x[129] = 0; // partial block: absmax 3, codes 15 and 7
    const { codes, absmax } = quantizeBlocks(x);
    expect(codes.length).toBe(65);
    expect(codes[0]).toBe(0xf0);
    expect(codes[1] >> 4).toBe(10);
    expect(codes[1] & 15).toBe(7); // x[3] = 0
    expect(codes[32]).toBe((0 << 4) | 10);
    expect(codes[64]).toBe(0xf7);
    expect(Array.from(absmax)).toEqual([2, 4, 3]);
  });

  it('blocks run over the row-major flattening of (OC, IC), across row ends', () => {
    const OC = 3, IC = 40; // 120 values: block 0 = row 0 and the first 24 of row 1
    const w = randn(OC * IC, 1, 1);
    w[IC + 10] = 9; // row 1, col 10: inside block 0
    const q = quantizeNf4(w, [OC, IC], { doubleQuant: true });
    expect(nf4CodeAt(q, IC + 10)).toBe(15);
    expect(Math.abs(nf4BlockAbsmax(q, 0) - 9)).toBeLessThan(9 * 0.02);
    expect(() => quantizeNf4(w, [OC, IC + 1])).toThrow(/shape \[3, 41\] needs 123/);
  });
});

describe('double quantization', () => {
  it('uses the signed dynamic 8-bit map: 256 sorted values, 0 and 1, symmetric below 1', () => {
    const m = dynamicMap();
    expect(m.length).toBe(256);
    for (let i = 1; i < 256; i++) expect(m[i]).toBeGreaterThan(m[i - 1]);
    expect(m[255]).toBe(1);
    expect(Array.from(m)).toContain(0);
    expect(m[0]).toBe(-m[254]); // the most negative mirrors the largest below 1
    expect(m[128] / 5.5e-7 - 1).toBeLessThan(1e-6); // smallest positive: 10⁻⁶ · mean(0.1, 1) (last bit: GPU check vs torch)
    expect(m[254]).toBeCloseTo(0.99296875, 6); // 1 · mean of linspace(0.1, 1, 65)'s last pair
    expect(nearestIndex(m, 0.5)).toBe(Array.from(m).reduce((best, v, i) => (Math.abs(v - 0.5) < Math.abs(m[best] - 0.5) ? i : best), 0));
  });

  it('offset = mean(absmax), groups of 256 blocks, and a small error on each absmax', () => {
    const n = 64 * 600; // 600 blocks → 3 groups
    const x = randn(n, 7, 0.02);
    const { absmax } = quantizeBlocks(x);
    const q = quantizeNf4(x, [600, 64], { doubleQuant: true });
    const d = q.double!;
    expect(d.qabsmax.length).toBe(600);
    expect(d.absmax2.length).toBe(Math.ceil(600 / DQ_BLOCK));
    expect(d.offset).toBeCloseTo(absmax.reduce((a, b) => a + b, 0) / 600, 7);
    // the dequantized absmax is dyn[q]·absmax2 + offset with each step rounded to float32 (nf4.cu does the same)
    expect(q.absmax[300]).toBe(f32(f32(dynamicMap()[d.qabsmax[300]] * d.absmax2[1]) + d.offset));
    for (let b = 0; b < 600; b++) expect(Math.abs(nf4BlockAbsmax(q, b) - absmax[b]) / absmax[b]).toBeLessThan(0.02);
  });

  it('round trip: each value within half the widest NF4 gap of its block, and unbiased overall', () => {
    const x = randn(64 * 64, 3, 0.05);
    const q = quantizeNf4(x, [64, 64], { doubleQuant: true });
    const y = dequantizeNf4(q);
    let sumErr = 0;
    for (let i = 0; i < x.length; i++) {
      const am = nf4BlockAbsmax(q, Math.floor(i / 64));
      expect(Math.abs(y[i] - x[i])).toBeLessThan(am * 0.17); // widest gap 1 − 0.723 = 0.277, halved, + absmax error
      sumErr += y[i] - x[i];
    }
    expect(Math.abs(sumErr / x.length)).toBeLessThan(1e-3);
    expect(y[0]).toBe(f32(NF4_CODE[nf4CodeAt(q, 0)] * nf4BlockAbsmax(q, 0)));
  });

  it('an all-zero block stays exactly zero', () => {
    const q = quantizeNf4(new Float32Array(128), [2, 64], { doubleQuant: true });
    expect(Array.from(new Set(q.codes))).toEqual([0x77]);
    expect(Array.from(dequantizeNf4(q)).every((v) => v === 0)).toBe(true);
  });
});
