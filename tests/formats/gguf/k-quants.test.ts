// K-quants (Q4_K, Q5_K, Q6_K): block sizes, round-trip error, the mixes llama.cpp picks per tensor.
// That llama.cpp reads the bytes as we mean them is checked in llama-cpp.test.ts (logits on the
// rounded weights match); here, what the quantizers promise on their own.
import { describe, it, expect } from 'vitest';
import {
  GgmlType,
  ggmlBytes,
  encodeGgml,
  decodeGgml,
  quantizeQ4_0,
  quantizeQ5,
  ggufTensorTypes,
  useMoreBits,
  writeGguf,
  QK_K,
} from '../../../src/main/formats/gguf/index.ts';
import { seededNormal } from '../../fixtures/tiny-models.ts';

function errors(x: Float32Array, y: Float32Array): { rms: number; max: number } {
  let s = 0;
  let max = 0;
  for (let i = 0; i < x.length; i++) {
    s += (x[i] - y[i]) ** 2;
    max = Math.max(max, Math.abs(x[i] - y[i]));
  }
  return { rms: Math.sqrt(s / x.length), max };
}

const K_TYPES = [
  // bytes per 256 values; RMS error bound for unit Gaussians (uniform rounding over the sub-block
  // range would give step/√12: Q4_K ≈ 5σ/15/√12 ≈ 0.096, Q5_K ≈ 0.047, Q6_K (16 values, ±2σ over 64 codes) ≈ 0.018 —
  // the least-squares (scale, min) search lands below those); max error about one step.
  { type: GgmlType.Q4_K, bytes: 144, rms: 0.08, max: 0.3 },
  { type: GgmlType.Q5_K, bytes: 176, rms: 0.04, max: 0.16 },
  { type: GgmlType.Q6_K, bytes: 210, rms: 0.02, max: 0.08 },
] as const;

describe('K-quants', () => {
  it('block sizes: Q4_K 144, Q5_K 176, Q6_K 210 bytes per 256 values', () => {
    for (const k of K_TYPES) {
      expect(ggmlBytes(k.type, 4 * QK_K)).toBe(4 * k.bytes);
      expect(encodeGgml(k.type, new Float32Array(4 * QK_K).map(seededNormal(1))).length).toBe(4 * k.bytes);
    }
  });

  it('round trip within each type’s error bound, finer with more bits, better than Q4_0 at 4 bits', () => {
    const x = new Float32Array(64 * QK_K).map(seededNormal(7));
    const rms: number[] = [];
    for (const k of K_TYPES) {
      const e = errors(x, decodeGgml(k.type, encodeGgml(k.type, x), x.length));
      expect(e.rms).toBeLessThan(k.rms);
      expect(e.max).toBeLessThan(k.max);
      rms.push(e.rms);
    }
    expect(rms[0]).toBeGreaterThan(rms[1]);
    expect(rms[1]).toBeGreaterThan(rms[2]);
    expect(rms[0]).toBeLessThan(errors(x, decodeGgml(GgmlType.Q4_0, quantizeQ4_0(x), x.length)).rms);
  });

  it('scale-free (while f16 scales stay normal): a scaled input gives the scaled error; offsets (Q4_K/Q5_K mins) are kept', () => {
    const x = new Float32Array(8 * QK_K).map(seededNormal(9));
    for (const k of K_TYPES)
      for (const c of [0.05, 100]) {
        const scaled = x.map((v) => v * c);
        expect(errors(scaled, decodeGgml(k.type, encodeGgml(k.type, scaled), x.length)).rms).toBeLessThan(k.rms * c);
      }
    // All-negative values: the asymmetric types subtract a min (ggml keeps min ≤ 0), so the codes
    // span only the values' range and the error stays at the spread's scale, not the offset's.
    const shifted = x.map((v) => 0.1 * v - 3);
    for (const k of K_TYPES.slice(0, 2))
      expect(errors(shifted, decodeGgml(k.type, encodeGgml(k.type, shifted), x.length)).rms).toBeLessThan(
        0.1 * k.rms * 2,
      );
  });

  it('zero and constant blocks decode exactly or nearly so; mixed blocks are independent', () => {
    const x = new Float32Array(3 * QK_K).map(seededNormal(11));
    x.fill(0, QK_K, 2 * QK_K);
    for (const k of K_TYPES) {
      const y = decodeGgml(k.type, encodeGgml(k.type, x), x.length);
      expect([...y.subarray(QK_K, 2 * QK_K)].every((v) => v === 0)).toBe(true);
      expect(errors(x.subarray(0, QK_K), y.subarray(0, QK_K)).rms).toBeLessThan(k.rms * 1.5);
    }
    const c = new Float32Array(QK_K).fill(-0.75);
    for (const k of K_TYPES)
      expect(errors(c, decodeGgml(k.type, encodeGgml(k.type, c), c.length)).max).toBeLessThan(0.75 / 60);
  });

  it('Q5_0 / Q5_1 (the fallbacks for rows that are not whole super-blocks): 22 / 24 bytes per 32, error within a step', () => {
    const x = new Float32Array(32 * 64).map(seededNormal(13));
    for (const [type, withMin, bytes] of [
      [GgmlType.Q5_0, false, 22],
      [GgmlType.Q5_1, true, 24],
    ] as const) {
      const q = quantizeQ5(x, withMin);
      expect(q.length).toBe(64 * bytes);
      expect(ggmlBytes(type, x.length)).toBe(q.length);
      const y = decodeGgml(type, q, x.length);
      for (let b = 0; b < 64; b++) {
        const xb = x.subarray(32 * b, 32 * b + 32);
        const range = withMin ? Math.max(...xb) - Math.min(...xb) : 2 * Math.max(...xb.map(Math.abs));
        // 32 levels over the range: rounding costs ≤ half a step, plus what the f16 d and min round off
        // (Q5_0's top code stops at 31, so a value near +max may be one step off).
        for (let j = 0; j < 32; j++)
          expect(Math.abs(y[32 * b + j] - xb[j])).toBeLessThanOrEqual(
            (withMin ? 0.6 : 1.05) * (range / (withMin ? 31 : 32)),
          );
      }
    }
    // Hand-made Q5_0 block: max magnitude −16 → d = 1; value 3 → code 19: low nibble 3, fifth bit set.
    const hand = new Float32Array(32);
    hand[0] = 3;
    hand[16] = -16;
    const hq = quantizeQ5(hand, false);
    expect(new DataView(hq.buffer).getUint32(2, true) & 1).toBe(1);
    expect(hq[6] & 0xf).toBe(3);
    expect(hq[6] >> 4).toBe(0); // −16 → code 0
  });

  it('refuses lengths and rows that are not whole super-blocks', async () => {
    expect(() => encodeGgml(GgmlType.Q6_K, new Float32Array(300))).toThrow(
      /Q6_K needs a multiple of 256 values, got 300/,
    );
    await expect(
      writeGguf('/nonexistent/never.gguf', new Map(), [
        { name: 'w', shape: [2, 128], type: GgmlType.Q4_K, data: () => new Float32Array(256) },
      ]),
    ).rejects.toThrow(/rows of 128 are not a multiple of 256 \(needed by Q4_K\)/);
  });
});

describe('K-quant mixes (llama_tensor_get_type without an importance matrix)', () => {
  const layers = 8;
  const tensors = (tied: boolean, ffn = 512) => [
    { name: 'token_embd.weight', shape: [1000, 256] },
    ...Array.from({ length: layers }, (_, i) => [
      { name: `blk.${i}.attn_norm.weight`, shape: [256] },
      { name: `blk.${i}.attn_q.weight`, shape: [256, 256] },
      { name: `blk.${i}.attn_v.weight`, shape: [256, 256] },
      { name: `blk.${i}.ffn_up.weight`, shape: [ffn, 256] },
      { name: `blk.${i}.ffn_down.weight`, shape: [256, ffn] },
    ]).flat(),
    ...(tied ? [] : [{ name: 'output.weight', shape: [1000, 256] }]),
  ];
  const typeOf = (list: { name: string }[], types: GgmlType[], name: string) =>
    GgmlType[types[list.findIndex((t) => t.name === name)]];

  it('use_more_bits: first and last eighth, every third between', () => {
    expect(Array.from({ length: 8 }, (_, i) => useMoreBits(i, 8))).toEqual([
      true,
      false,
      false,
      true,
      false,
      false,
      true,
      true,
    ]);
    expect(Array.from({ length: 16 }, (_, i) => i).filter((i) => useMoreBits(i, 16))).toEqual([
      0, 1, 4, 7, 10, 13, 14, 15,
    ]);
  });

  it('Q4_K_M: output Q6_K, token_embd Q4_K, attn_v/ffn_down Q6_K on use_more_bits layers, norms F32', () => {
    const list = tensors(false);
    const types = ggufTensorTypes(list, 'q4_k_m');
    expect(typeOf(list, types, 'output.weight')).toBe('Q6_K');
    expect(typeOf(list, types, 'token_embd.weight')).toBe('Q4_K');
    expect(typeOf(list, types, 'blk.0.attn_norm.weight')).toBe('F32');
    expect(typeOf(list, types, 'blk.0.attn_q.weight')).toBe('Q4_K');
    for (let i = 0; i < layers; i++) {
      const want = useMoreBits(i, layers) ? 'Q6_K' : 'Q4_K';
      expect(typeOf(list, types, `blk.${i}.attn_v.weight`)).toBe(want);
      expect(typeOf(list, types, `blk.${i}.ffn_down.weight`)).toBe(want);
      expect(typeOf(list, types, `blk.${i}.ffn_up.weight`)).toBe('Q4_K');
    }
  });

  it('Q5_K_M and Q6_K; tied embeddings are the output; rows not whole super-blocks fall back as llama.cpp does (Q5_0, Q5_1, Q8_0, else F16)', () => {
    const tied = tensors(true, 640);
    const q5 = ggufTensorTypes(tied, 'q5_k_m');
    expect(typeOf(tied, q5, 'token_embd.weight')).toBe('Q6_K');
    expect(typeOf(tied, q5, 'blk.1.attn_v.weight')).toBe('Q5_K');
    expect(typeOf(tied, q5, 'blk.0.attn_v.weight')).toBe('Q6_K');
    expect(typeOf(tied, q5, 'blk.1.ffn_down.weight')).toBe('Q5_1'); // rows of 640: Q5_K falls back to Q5_1
    expect(typeOf(tied, q5, 'blk.0.ffn_down.weight')).toBe('Q8_0'); // and Q6_K to Q8_0
    expect(typeOf(tied, ggufTensorTypes(tied, 'q4_k_m'), 'blk.1.ffn_down.weight')).toBe('Q5_0'); // and Q4_K to Q5_0
    expect(typeOf(tied, q5, 'blk.1.ffn_up.weight')).toBe('Q5_K');
    const q6 = ggufTensorTypes(tied, 'q6_k');
    expect(
      new Set(q6.filter((_, i) => tied[i].shape.length === 2 && tied[i].shape[1] === 256).map((t) => GgmlType[t])),
    ).toEqual(new Set(['Q6_K']));
    // Rows of 688 (the bundled model's ffn_down) are not whole Q8_0 blocks either.
    expect(GgmlType[ggufTensorTypes([{ name: 'blk.0.ffn_down.weight', shape: [256, 688] }], 'q6_k')[0]]).toBe('F16');
  });
});
