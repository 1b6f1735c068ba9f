// Self-attention with grouped KV heads (GQA) and a padding mask, on already-projected, already-rotated
// q (N, NH·HD), k, v (N, NKV·HD). Query head h reads KV head floor(h / G), G = NH / NKV (transformers' repeat_kv).
// Causal (decoders) or bidirectional (encoders): only the bias differs, so forward and backward are shared.
// Masking is additive: scores get MASK_BIAS where key j is in the future (j > i, causal only), padding, or outside
// the sliding window. A finite bias (not −∞) keeps fully-masked rows (padded queries under left padding) finite: they become
// uniform, and never reach the loss because padded rows are neither attended nor trained.

export const MASK_BIAS = -1e9;

/**
 * bias (B, T, T): 0 where query i may attend key j, MASK_BIAS elsewhere. window = sliding window size or null;
 * segments (B, T) = packed rows' example ids: attention stays inside one example; causal false = keys after the
 * query are read too (a padded key is still masked: BERT's extended attention mask).
 */
export function attentionBias(
  mask: Uint8Array | null, B: number, T: number, window: number | null = null, segments?: Int32Array, causal = true,
): Float64Array {
  const bias = new Float64Array(B * T * T);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < T; i++)
      for (let j = 0; j < T; j++) {
        const sameSegment = !segments || segments[b * T + i] === segments[b * T + j];
        const ok = (!causal || j <= i) && sameSegment && (!mask || mask[b * T + j] !== 0) && (window === null || i - j < window);
        bias[(b * T + i) * T + j] = ok ? 0 : MASK_BIAS;
      }
  return bias;
}

export interface AttentionDims {
  B: number;
  T: number;
  NH: number;
  NKV: number;
  HD: number;
  /** Multiplier on q·k; default 1/√HD (Gemma 3 uses query_pre_attn_scalar^-½). */
  scale?: number;
}

/** out (N, NH·HD); returns att (B, NH, T, T), the softmax probabilities, saved for backward. */
export function attentionForward(
  out: Float64Array, q: Float64Array, k: Float64Array, v: Float64Array, bias: Float64Array, d: AttentionDims,
): Float64Array {
  const { B, T, NH, NKV, HD } = d;
  const G = NH / NKV;
  const scale = d.scale ?? 1 / Math.sqrt(HD);
  const att = new Float64Array(B * NH * T * T);
  const row = new Float64Array(T);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < NH; h++) {
      const kh = Math.floor(h / G);
      for (let i = 0; i < T; i++) {
        const qo = ((b * T + i) * NH + h) * HD;
        let max = -Infinity;
        for (let j = 0; j < T; j++) {
          const ko = ((b * T + j) * NKV + kh) * HD;
          let s = 0;
          for (let e = 0; e < HD; e++) s += q[qo + e] * k[ko + e];
          row[j] = s * scale + bias[(b * T + i) * T + j];
          if (row[j] > max) max = row[j];
        }
        let sum = 0;
        for (let j = 0; j < T; j++) sum += row[j] = Math.exp(row[j] - max);
        const ao = ((b * NH + h) * T + i) * T;
        for (let j = 0; j < T; j++) att[ao + j] = row[j] / sum;
        for (let e = 0; e < HD; e++) {
          let acc = 0;
          for (let j = 0; j < T; j++) acc += att[ao + j] * v[((b * T + j) * NKV + kh) * HD + e];
          out[qo + e] = acc;
        }
      }
    }
  return att;
}

/**
 * Softmax backward as y·(dy − Σ dy·y). dq (N, NH·HD) assigned; dk, dv (N, NKV·HD) assigned (each KV head sums the
 * gradients of the G query heads sharing it).
 */
export function attentionBackward(
  dq: Float64Array, dk: Float64Array, dv: Float64Array, dout: Float64Array, q: Float64Array, k: Float64Array,
  v: Float64Array, att: Float64Array, d: AttentionDims,
): void {
  const { B, T, NH, NKV, HD } = d;
  const G = NH / NKV;
  const scale = d.scale ?? 1 / Math.sqrt(HD);
  dq.fill(0);
  dk.fill(0);
  dv.fill(0);
  const datt = new Float64Array(T);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < NH; h++) {
      const kh = Math.floor(h / G);
      for (let i = 0; i < T; i++) {
        const qo = ((b * T + i) * NH + h) * HD;
        const ao = ((b * NH + h) * T + i) * T;
        let dot = 0;
        for (let j = 0; j < T; j++) {
          const vo = ((b * T + j) * NKV + kh) * HD;
          let s = 0;
          for (let e = 0; e < HD; e++) {
            s += dout[qo + e] * v[vo + e];
            dv[vo + e] += att[ao + j] * dout[qo + e];
          }
          datt[j] = s;
          dot += s * att[ao + j];
        }
        for (let j = 0; j < T; j++) {
          const ds = att[ao + j] * (datt[j] - dot) * scale; // gradient of the pre-softmax score
          const ko = ((b * T + j) * NKV + kh) * HD;
          for (let e = 0; e < HD; e++) {
            dq[qo + e] += ds * k[ko + e];
            dk[ko + e] += ds * q[qo + e];
          }
        }
      }
    }
}
