import { describe, expect, it } from 'vitest';
import {
  NF4_CODE, NF4_EDGES, dequantizeAbsmax, dequantizeNf4, doubleQuantize, dynamicMap, nf4CodeOf, nf4StorageBytes, quantizeNf4,
  quantizeNf4Blocks,
} from '../../../src/main/engine/quant/nf4.ts';
import { bf16BitsToF32, f32ToBf16Bits } from '../../../src/main/formats/safetensors/index.ts';

const codeAt = (codes: Uint8Array, i: number) => (i & 1 ? codes[i >> 1] & 15 : codes[i >> 1] >> 4);

describe('NF4 code table', () => {
  it('holds the 16 levels of the paper as float32, sorted, with exact −1, 0 and 1', () => {
    expect(NF4_CODE.length).toBe(16);
    expect(NF4_CODE[0]).toBe(-1);
    expect(NF4_CODE[7]).toBe(0);
    expect(NF4_CODE[15]).toBe(1);
    expect(NF4_CODE[8]).toBe(Math.fround(0.07958029955625534));
    for (let i = 1; i < 16; i++) expect(NF4_CODE[i]).toBeGreaterThan(NF4_CODE[i - 1]);
  });

  it('quantize → dequantize reproduces every code value bit for bit (block absmax 2.5)', () => {
    const absmax = 2.5;
    const w = Float32Array.from([...NF4_CODE, ...[...NF4_CODE].reverse()], (c) => c * absmax);
    const t = quantizeNf4(w, [2, 16], { blockSize: 32 });
    expect([...t.absmax]).toEqual([absmax]);
    for (let i = 0; i < 32; i++) expect(codeAt(t.codes, i)).toBe(i < 16 ? i : 31 - i);
    const back = dequantizeNf4(t);
    for (let i = 0; i < 32; i++) expect(back[i]).toBe(Math.fround(w[i] / absmax) * absmax === w[i] ? w[i] : Math.fround(NF4_CODE[codeAt(t.codes, i)] * absmax));
    // the stored value is exactly code × absmax in float32
    for (let i = 0; i < 32; i++) expect(back[i]).toBe(Math.fround(NF4_CODE[codeAt(t.codes, i)] * absmax));
  });

  it('packs the first element of each pair in the high nibble', () => {
    const { codes } = quantizeNf4Blocks(Float32Array.from([-1, 1, 0, -1]), 4);
    expect([...codes]).toEqual([0x0f, 0x70]);
  });

  it('edges are the float32 midpoints; a value on an edge takes the lower code, one ulp above the upper', () => {
    expect(NF4_EDGES[14]).toBe(Math.fround(0.8614784181118011)); // bitsandbytes' constant
    expect(NF4_EDGES[7]).toBe(Math.fround(0.03979014977812767));
    for (let c = 0; c < 15; c++) {
      const e = NF4_EDGES[c];
      expect(nf4CodeOf(e)).toBe(c);
      const above = new Float32Array(Float32Array.of(e).buffer.slice(0));
      new Uint32Array(above.buffer)[0] += e >= 0 ? 1 : -1; // next float32 toward +∞
      expect(nf4CodeOf(above[0])).toBe(c + 1);
    }
  });
});

describe('NF4 quantization of a known block (as bitsandbytes would: absmax per block, nearest code by midpoints)', () => {
  it('f32 block: hand-derived codes and absmax', () => {
    // absmax 2 → scaled values 0.5, −1, 0.3, 0.04, −0.05, 0.9, 0, −0.3 → codes from the midpoints:
    // 0.5 < 0.5017 → 12; −1 → 0; 0.3 > 0.2920 → 11; 0.04 > 0.0398 → 8; −0.05 < −0.0455 → 6; 0.9 > 0.8615 → 15;
    // 0 → 7; −0.3 < −0.2846 (mid of −0.2844/−0.3949 is −0.3397, so −0.3 > it) → 4
    const x = Float32Array.from([1, -2, 0.6, 0.08, -0.1, 1.8, 0, -0.6]);
    const { codes, absmax } = quantizeNf4Blocks(x, 8);
    expect([...absmax]).toEqual([2]);
    expect(Array.from({ length: 8 }, (_, i) => codeAt(codes, i))).toEqual([12, 0, 11, 8, 6, 15, 7, 4]);
  });

  it('bf16 checkpoint values: codes equal the nearest code of x/absmax computed independently', () => {
    let s = 7;
    const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
    const x = Float32Array.from({ length: 64 * 5 + 17 }, () => bf16BitsToF32(f32ToBf16Bits(rnd() * 0.3)));
    const t = quantizeNf4(x, [1, x.length]);
    expect(t.absmax.length).toBe(6);
    for (let b = 0; b < 6; b++) {
      const block = x.subarray(b * 64, b * 64 + 64);
      const am = Math.max(...Array.from(block, Math.abs));
      expect(t.absmax[b]).toBe(am);
      block.forEach((v, j) => {
        const scaled = v / am;
        // brute force nearest by distance; no draw here sits within 1e-6 of an edge, so ties cannot decide it
        let best = 0;
        for (let c = 1; c < 16; c++) if (Math.abs(NF4_CODE[c] - scaled) < Math.abs(NF4_CODE[best] - scaled)) best = c;
        expect(Math.min(...Array.from(NF4_EDGES, (e) => Math.abs(e - scaled)))).toBeGreaterThan(1e-6);
        expect(codeAt(t.codes, b * 64 + j)).toBe(best);
      });
    }
    // dequantization error is bounded by half the widest code gap times absmax
    const back = dequantizeNf4(t);
    const halfGap = Math.max(...Array.from({ length: 15 }, (_, c) => (NF4_CODE[c + 1] - NF4_CODE[c]) / 2));
    x.forEach((v, i) => expect(Math.abs(back[i] - v)).toBeLessThanOrEqual(halfGap * t.absmax[Math.floor(i / 64)] + 1e-7));
  });

  it('an all-zero block stores code 7 and absmax 0', () => {
    const t = quantizeNf4(new Float32Array(64), [1, 64]);
    expect([...t.absmax]).toEqual([0]);
    expect(t.codes.every((b) => b === 0x77)).toBe(true);
    expect(dequantizeNf4(t).every((v) => v === 0)).toBe(true);
  });

  it('refuses non-finite values and wrong shapes with the index / shape', () => {
    expect(() => quantizeNf4Blocks([0, Number.NaN])).toThrow(/index 1/);
    expect(() => quantizeNf4(new Float32Array(10), [3, 4])).toThrow(/\[3, 4\] needs 12/);
  });
});

describe('double quantization of absmax (8-bit dynamic map, blocks of 256)', () => {
  it('the signed dynamic map: 256 sorted entries, 127 negatives, 0, 127 positives and 1', () => {
    const m = dynamicMap();
    expect(m.length).toBe(256);
    for (let i = 1; i < 256; i++) expect(m[i]).toBeGreaterThan(m[i - 1]);
    expect(m[127]).toBe(0);
    expect(m[255]).toBe(1);
    expect(m[254]).toBeCloseTo(0.99296875, 6); // last midpoint of linspace(0.1, 1, 65)
    expect(m[128]).toBeCloseTo(5.5e-7, 12); // 1e-6 · mean(0.1, 1)
    for (let i = 0; i < 127; i++) expect(m[i]).toBe(-m[254 - i]);
  });

  it('offset is the mean; dequantized absmax is close (8-bit relative error) and reused by dequantize', () => {
    const absmax = Float32Array.from({ length: 600 }, (_, i) => 0.05 + 0.1 * Math.abs(Math.sin(i)));
    const d = doubleQuantize(absmax);
    expect(d.absmax2.length).toBe(3);
    expect(d.offset).toBeCloseTo(absmax.reduce((a, b) => a + b, 0) / 600, 6);
    const back = dequantizeAbsmax(d);
    absmax.forEach((a, i) => expect(Math.abs(back[i] - a)).toBeLessThan(0.02 * d.absmax2[Math.floor(i / 256)] + 1e-7));
    const w = Float32Array.from({ length: 64 * 300 }, (_, i) => Math.sin(i * 0.37) * (1 + (i % 7)));
    const t = quantizeNf4(w, [300, 64], { doubleQuant: true });
    expect(t.double).not.toBeNull();
    expect([...t.absmax]).toEqual([...dequantizeAbsmax(t.double!)]);
    expect(nf4StorageBytes(t)).toBe(64 * 300 / 2 + 300 + 2 * 4 + 4);
    expect(nf4StorageBytes(quantizeNf4(w, [300, 64]))).toBe(64 * 300 / 2 + 300 * 4);
  });
});
