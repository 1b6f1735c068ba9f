// An independent check of what the GPT-2 and Gemma 3 programs compute: a direct float64 forward written the way
// transformers' modeling_gpt2 / modeling_gemma3 read, straight from the checkpoint tensors in their stored
// layouts (Conv1D [in, out], fused c_attn), with no IR and none of the engine's ops — against the reference
// executor on the program. One 12-token row, longer than the fixture's sliding window (8), so local layers differ
// from global ones; Gemma 3 also with final logit soft-capping.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTinyModel, type TinyModel } from '../../fixtures/tiny-models.ts';
import { openModelFolder } from '../../../src/main/formats/model/index.ts';
import { buildProgramFromSpec } from '../../../src/main/model/families/index.ts';
import { readProgramWeights } from '../../../src/main/engine/models/load.ts';
import { ReferenceExecutor } from '../../../src/main/engine/executors/reference/executor.ts';
import { prepareBatch } from '../../../src/main/engine/batch-inputs.ts';
import { relErr } from '../helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'hf-semantics-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

type M = Float64Array; // row-major matrices

/** x (n, k) · w where w is (k, m) when `wIsInOut`, else (m, k) used transposed (nn.Linear). */
function mm(x: M, n: number, k: number, w: Float32Array, m: number, wIsInOut: boolean, bias?: Float32Array): M {
  const y = new Float64Array(n * m);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < m; j++) {
      let s = bias ? bias[j] : 0;
      for (let t = 0; t < k; t++) s += x[i * k + t] * (wIsInOut ? w[t * m + j] : w[j * k + t]);
      y[i * m + j] = s;
    }
  return y;
}
function layerNorm(x: M, n: number, c: number, w: Float32Array, b: Float32Array, eps: number): M {
  const y = new Float64Array(x.length);
  for (let i = 0; i < n; i++) {
    const row = x.subarray(i * c, i * c + c);
    const mean = row.reduce((a, v) => a + v, 0) / c;
    const v = row.reduce((a, z) => a + (z - mean) ** 2, 0) / c;
    for (let j = 0; j < c; j++) y[i * c + j] = ((row[j] - mean) / Math.sqrt(v + eps)) * w[j] + b[j];
  }
  return y;
}
/** Gemma3RMSNorm: x / √(mean x² + eps) · (1 + w), over rows of width c. */
function gemmaNorm(x: M, c: number, w: Float32Array, eps: number): M {
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length / c; i++) {
    let ss = 0;
    for (let j = 0; j < c; j++) ss += x[i * c + j] ** 2;
    const r = 1 / Math.sqrt(ss / c + eps);
    for (let j = 0; j < c; j++) y[i * c + j] = x[i * c + j] * r * (1 + w[j]);
  }
  return y;
}
const gelu = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
/** rotate_half rope on (T, H·D) with positions 0..T−1. */
function rope(x: M, T: number, H: number, D: number, theta: number): M {
  const y = new Float64Array(x.length);
  for (let t = 0; t < T; t++)
    for (let h = 0; h < H; h++)
      for (let j = 0; j < D / 2; j++) {
        const a = t / theta ** ((2 * j) / D);
        const o = (t * H + h) * D;
        const x1 = x[o + j], x2 = x[o + j + D / 2];
        y[o + j] = x1 * Math.cos(a) - x2 * Math.sin(a);
        y[o + j + D / 2] = x2 * Math.cos(a) + x1 * Math.sin(a);
      }
  return y;
}
/** Causal attention (one row), query head h reads kv head floor(h·KV/NH); keys j with i − j < window when given. */
function attend(q: M, k: M, v: M, T: number, NH: number, KV: number, D: number, scale: number, window: number | null): M {
  const out = new Float64Array(T * NH * D);
  for (let h = 0; h < NH; h++) {
    const kh = Math.floor(h / (NH / KV));
    for (let i = 0; i < T; i++) {
      const s: (number | null)[] = [];
      for (let j = 0; j <= i; j++) {
        let d = 0;
        for (let e = 0; e < D; e++) d += q[(i * NH + h) * D + e] * k[(j * KV + kh) * D + e];
        s.push(window !== null && i - j >= window ? null : d * scale);
      }
      const max = Math.max(...s.filter((z) => z !== null));
      const p = s.map((z) => (z === null ? 0 : Math.exp(z - max)));
      const sum = p.reduce((a, b) => a + b, 0);
      for (let j = 0; j < p.length; j++) for (let e = 0; e < D; e++) out[(i * NH + h) * D + e] += (p[j] / sum) * v[(j * KV + kh) * D + e];
    }
  }
  return out;
}
const add = (a: M, b: M) => a.map((x, i) => x + b[i]);

function gpt2Logits(m: TinyModel, ids: number[]): M {
  const s = m.spec, t = (n: string) => m.tensors.get(n)!;
  const T = ids.length, C = s.hiddenSize, I = s.intermediateSize, NH = s.numHeads, D = s.headDim, V = s.vocabSize;
  let h = new Float64Array(T * C);
  for (let i = 0; i < T; i++) for (let j = 0; j < C; j++) h[i * C + j] = t('transformer.wte.weight')[ids[i] * C + j] + t('transformer.wpe.weight')[i * C + j];
  for (let l = 0; l < s.numLayers; l++) {
    const p = `transformer.h.${l}`;
    const a = layerNorm(h, T, C, t(`${p}.ln_1.weight`), t(`${p}.ln_1.bias`), s.normEps);
    const qkv = mm(a, T, C, t(`${p}.attn.c_attn.weight`), 3 * C, true, t(`${p}.attn.c_attn.bias`));
    const part = (k: number) => Float64Array.from({ length: T * C }, (_, idx) => qkv[Math.floor(idx / C) * 3 * C + k * C + (idx % C)]);
    const o = attend(part(0), part(1), part(2), T, NH, NH, D, 1 / Math.sqrt(D), null);
    h = add(h, mm(o, T, C, t(`${p}.attn.c_proj.weight`), C, true, t(`${p}.attn.c_proj.bias`)));
    const f = mm(layerNorm(h, T, C, t(`${p}.ln_2.weight`), t(`${p}.ln_2.bias`), s.normEps), T, C, t(`${p}.mlp.c_fc.weight`), I, true, t(`${p}.mlp.c_fc.bias`)).map(gelu);
    h = add(h, mm(f, T, I, t(`${p}.mlp.c_proj.weight`), C, true, t(`${p}.mlp.c_proj.bias`)));
  }
  return mm(layerNorm(h, T, C, t('transformer.ln_f.weight'), t('transformer.ln_f.bias'), s.normEps), T, C, t('transformer.wte.weight'), V, false);
}

function gemma3Logits(m: TinyModel, ids: number[]): M {
  const s = m.spec, t = (n: string) => m.tensors.get(n)!;
  const T = ids.length, C = s.hiddenSize, I = s.intermediateSize, NH = s.numHeads, KV = s.numKvHeads, D = s.headDim, V = s.vocabSize;
  const cfg = m.config as { query_pre_attn_scalar: number; rope_theta: number; rope_local_base_freq: number; sliding_window: number; layer_types: string[]; final_logit_softcapping: number | null };
  let h = new Float64Array(T * C);
  for (let i = 0; i < T; i++) for (let j = 0; j < C; j++) h[i * C + j] = t('model.embed_tokens.weight')[ids[i] * C + j] * Math.fround(Math.sqrt(C));
  for (let l = 0; l < s.numLayers; l++) {
    const p = `model.layers.${l}`;
    const local = cfg.layer_types[l] === 'sliding_attention';
    const theta = local ? cfg.rope_local_base_freq : cfg.rope_theta;
    const x = gemmaNorm(h, C, t(`${p}.input_layernorm.weight`), s.normEps);
    const q = rope(gemmaNorm(mm(x, T, C, t(`${p}.self_attn.q_proj.weight`), NH * D, false), D, t(`${p}.self_attn.q_norm.weight`), s.normEps), T, NH, D, theta);
    const k = rope(gemmaNorm(mm(x, T, C, t(`${p}.self_attn.k_proj.weight`), KV * D, false), D, t(`${p}.self_attn.k_norm.weight`), s.normEps), T, KV, D, theta);
    const v = mm(x, T, C, t(`${p}.self_attn.v_proj.weight`), KV * D, false);
    const o = mm(attend(q, k, v, T, NH, KV, D, cfg.query_pre_attn_scalar ** -0.5, local ? cfg.sliding_window : null), T, NH * D, t(`${p}.self_attn.o_proj.weight`), C, false);
    h = add(h, gemmaNorm(o, C, t(`${p}.post_attention_layernorm.weight`), s.normEps));
    const y = gemmaNorm(h, C, t(`${p}.pre_feedforward_layernorm.weight`), s.normEps);
    const g = mm(y, T, C, t(`${p}.mlp.gate_proj.weight`), I, false).map(gelu);
    const u = mm(y, T, C, t(`${p}.mlp.up_proj.weight`), I, false);
    const d = mm(g.map((z, i) => z * u[i]), T, I, t(`${p}.mlp.down_proj.weight`), C, false);
    h = add(h, gemmaNorm(d, C, t(`${p}.post_feedforward_layernorm.weight`), s.normEps));
  }
  const logits = mm(gemmaNorm(h, C, t('model.norm.weight'), s.normEps), T, C, t('model.embed_tokens.weight'), V, false);
  const cap = cfg.final_logit_softcapping;
  return cap === null ? logits : logits.map((z) => cap * Math.tanh(z / cap));
}

describe.each([
  ['gpt2', {}],
  ['gemma3', {}],
  ['gemma3', { final_logit_softcapping: 4 }],
] as const)('%s %j: the program computes what transformers computes', (family, config) => {
  it('logits of a 12-token row match a direct implementation from the checkpoint tensors', async () => {
    const tiny = await makeTinyModel(join(root, `${family}-${Object.keys(config).length}`), family, { tokenizer: false, seed: 17, config });
    const folder = await openModelFolder(tiny.dir);
    const program = buildProgramFromSpec(folder.spec);
    let weights: Map<string, Float64Array>;
    try {
      const w = await readProgramWeights(folder, program);
      weights = new Map([...w].map(([k, v]) => [k, Float64Array.from(v as Float32Array)]));
    } finally {
      await folder.close();
    }
    const T = 12;
    const ids = Array.from({ length: T }, (_, i) => (i * 37 + 11) % tiny.spec.vocabSize);
    const batch = { B: 1, T, inputIds: Int32Array.from(ids), attentionMask: new Uint8Array(T).fill(1), labels: new Int32Array(T).fill(-100) };
    const ref = new ReferenceExecutor(program, weights);
    const logits = ref.forward(prepareBatch(program, batch)).logits;
    const direct = family === 'gpt2' ? gpt2Logits(tiny, ids) : gemma3Logits(tiny, ids);
    expect(relErr(logits, direct)).toBeLessThan(1e-10);
  });
});
