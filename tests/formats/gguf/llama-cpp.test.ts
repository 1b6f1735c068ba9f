// The GGUF files we write, loaded by a real llama.cpp (node-llama-cpp's prebuilt CPU binary):
// next-token logits must match the engine's float64 reference forward pass on the same weights.
// Covers merged Llama (q/k permutation), Qwen2 (biases), Qwen3 (q/k norms, head_dim ≠ hidden/heads),
// Gemma 3 (sliding layers, 1 + w norms) and GPT-2 (Conv1D, fused qkv), Q8_0, and the LoRA adapter
// GGUF applied by llama.cpp at runtime, and the K-quant types (Q6_K, Q5_K_M, Q4_K_M): layout and
// perplexity against f16. Observed F32 errors are ~5e-7 of the logit scale.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getLlama, LlamaLogLevel, type Llama, type Token } from 'node-llama-cpp';
import { exportGguf, exportLoraGguf, quantizeQ4_0, decodeGgml, encodeGgml, GgmlType, ggufTensorTypes, type GgufOutType } from '../../../src/main/formats/gguf/index.ts';
import { openModelFolder } from '../../../src/main/formats/model/index.ts';
import { defaultLoraConfig, matchTargetModules, initLoraAdapter, writeAdapter, type LoraAdapter } from '../../../src/main/formats/peft/index.ts';
import { mergedTensorReader } from '../../../src/main/formats/merge/index.ts';
import { buildProgramFromSpec } from '../../../src/main/model/families/index.ts';
import { readProgramWeights } from '../../../src/main/engine/models/load.ts';
import { ReferenceExecutor } from '../../../src/main/engine/executors/reference/executor.ts';
import { prepareBatch } from '../../../src/main/engine/batch-inputs.ts';
import { makeTinyModel, seededNormal, seededRandom } from '../../fixtures/tiny-models.ts';
import { writeTinySentencePieceTokenizer, buildTinySentencePieceTokenizer } from '../tokenizer/sentencepiece-fixture.ts';
import { HfTokenizer } from '../../../src/main/formats/tokenizer/index.ts';

let dir: string;
let llama: Llama;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llama-cpp-test-'));
  llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
});
afterAll(async () => {
  await llama?.dispose();
  await rm(dir, { recursive: true, force: true });
});

const PROMPT = [5, 300, 17, 42, 511, 260, 99, 7];

/** Our float64 forward pass on the folder's weights (+ merged adapter): logits of the last position. */
async function referenceLogits(baseDir: string, adapter: LoraAdapter | null, ids: number[], roundTrip?: (name: string, shape: number[], w: Float32Array) => Float32Array): Promise<Float64Array> {
  const model = await openModelFolder(baseDir);
  try {
    const program = buildProgramFromSpec(model.spec);
    const merged = mergedTensorReader(model, adapter ? [{ adapter }] : []);
    const shapes = new Map(model.table.map((e) => [e.hfName, e.shape]));
    const read = async (name: string) => (roundTrip ? roundTrip(name, shapes.get(name)!, await merged(name)) : merged(name));
    const weights = new Map<string, Float64Array>();
    for (const [name, w] of await readProgramWeights({ readHf: read }, program)) weights.set(name, Float64Array.from(w as Float32Array));
    const T = ids.length;
    const batch = { B: 1, T, inputIds: Int32Array.from(ids), attentionMask: new Uint8Array(T).fill(1), labels: new Int32Array(T).fill(-100) };
    const out = new ReferenceExecutor(program, weights).forward(prepareBatch(program, batch));
    const V = model.spec.vocabSize;
    return out.logits.slice((T - 1) * V, T * V);
  } finally {
    await model.close();
  }
}

/**
 * llama.cpp's next-token log-probabilities at the last prompt position. node-llama-cpp 3.21 exposes the
 * full softmax (temperature 1, no top-k/top-p/min-p filtering) rather than raw logits; log p equals
 * the logits up to one constant, which `compare` removes.
 */
async function llamaCppLogProbs(modelPath: string, ids: number[], lora?: string): Promise<Float64Array> {
  const model = await llama.loadModel({ modelPath });
  try {
    // llama.cpp keeps its KV cache in F16 by default (~1e-3 relative error on these logits): ask for F32.
    const context = await model.createContext({
      contextSize: 64,
      threads: 2,
      flashAttention: false,
      experimentalKvCacheKeyType: 'F32',
      experimentalKvCacheValueType: 'F32',
      ...(lora ? { lora: { adapters: [{ filePath: lora, scale: 1 }] } } : {}),
    });
    const seq = context.getSequence();
    const sampling = { temperature: 1, topK: 0, topP: 1, minP: 0 };
    const input = ids.map((t, i) => (i === ids.length - 1 ? ([t, { generateNext: { probabilities: true, options: sampling } }] as const) : t));
    const res = await seq.controlledEvaluate(input as Parameters<typeof seq.controlledEvaluate>[0]);
    const probabilities = res.at(-1)?.next.probabilities;
    if (!probabilities) throw new Error('llama.cpp returned no probabilities');
    const out = new Float64Array(probabilities.size);
    for (const [token, p] of probabilities) out[token] = Math.log(p);
    await context.dispose();
    return out;
  } finally {
    await model.dispose();
  }
}

/** GPT-2 forward in float64 straight from its definition (HF Conv1D weights are [in, out]): last-position logits. */
function gpt2ReferenceLogits(t: Map<string, Float32Array>, C: number, NH: number, L: number, V: number, ids: number[]): Float64Array {
  const T = ids.length;
  const HD = C / NH;
  const w = (n: string) => t.get(`transformer.${n}`)!;
  const layerNorm = (x: Float64Array, g: Float32Array, b: Float32Array) => {
    const out = new Float64Array(x.length);
    for (let r = 0; r < x.length / C; r++) {
      let mean = 0;
      for (let i = 0; i < C; i++) mean += x[r * C + i] / C;
      let v = 0;
      for (let i = 0; i < C; i++) v += (x[r * C + i] - mean) ** 2 / C;
      for (let i = 0; i < C; i++) out[r * C + i] = ((x[r * C + i] - mean) / Math.sqrt(v + 1e-5)) * g[i] + b[i];
    }
    return out;
  };
  const conv1d = (x: Float64Array, W: Float32Array, b: Float32Array, IN: number, OUT: number) => {
    const out = new Float64Array((x.length / IN) * OUT);
    for (let r = 0; r < x.length / IN; r++)
      for (let o = 0; o < OUT; o++) {
        let s = b[o];
        for (let i = 0; i < IN; i++) s += x[r * IN + i] * W[i * OUT + o];
        out[r * OUT + o] = s;
      }
    return out;
  };
  const gelu = (u: number) => 0.5 * u * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (u + 0.044715 * u ** 3)));
  let x = new Float64Array(T * C);
  for (let p = 0; p < T; p++) for (let i = 0; i < C; i++) x[p * C + i] = w('wte.weight')[ids[p] * C + i] + w('wpe.weight')[p * C + i];
  for (let l = 0; l < L; l++) {
    const h = layerNorm(x, w(`h.${l}.ln_1.weight`), w(`h.${l}.ln_1.bias`));
    const qkv = conv1d(h, w(`h.${l}.attn.c_attn.weight`), w(`h.${l}.attn.c_attn.bias`), C, 3 * C);
    const att = new Float64Array(T * C);
    for (let hd = 0; hd < NH; hd++)
      for (let i = 0; i < T; i++) {
        const scores: number[] = [];
        for (let j = 0; j <= i; j++) {
          let s = 0;
          for (let d = 0; d < HD; d++) s += qkv[i * 3 * C + hd * HD + d] * qkv[j * 3 * C + C + hd * HD + d];
          scores.push(s / Math.sqrt(HD));
        }
        const m = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - m));
        const z = e.reduce((a, b) => a + b, 0);
        for (let d = 0; d < HD; d++) {
          let s = 0;
          for (let j = 0; j <= i; j++) s += (e[j] / z) * qkv[j * 3 * C + 2 * C + hd * HD + d];
          att[i * C + hd * HD + d] = s;
        }
      }
    const o = conv1d(att, w(`h.${l}.attn.c_proj.weight`), w(`h.${l}.attn.c_proj.bias`), C, C);
    x = x.map((v, i) => v + o[i]);
    const h2 = layerNorm(x, w(`h.${l}.ln_2.weight`), w(`h.${l}.ln_2.bias`));
    const up = conv1d(h2, w(`h.${l}.mlp.c_fc.weight`), w(`h.${l}.mlp.c_fc.bias`), C, 4 * C).map(gelu);
    const down = conv1d(up, w(`h.${l}.mlp.c_proj.weight`), w(`h.${l}.mlp.c_proj.bias`), 4 * C, C);
    x = x.map((v, i) => v + down[i]);
  }
  const xf = layerNorm(x.slice((T - 1) * C), w('ln_f.weight'), w('ln_f.bias'));
  const logits = new Float64Array(V);
  for (let v = 0; v < V; v++) for (let i = 0; i < C; i++) logits[v] += xf[i] * w('wte.weight')[v * C + i];
  return logits;
}

/** Our logits vs llama.cpp's log-probabilities: both as log-softmax, error relative to the logit scale. */
function compare(logits: Float64Array, theirLogProbs: Float64Array, tolerance: number): number {
  expect(theirLogProbs.length).toBe(logits.length);
  let max = -Infinity;
  let scale = 0;
  for (const v of logits) {
    max = Math.max(max, v);
    scale = Math.max(scale, Math.abs(v));
  }
  let sum = 0;
  for (const v of logits) sum += Math.exp(v - max);
  const lse = max + Math.log(sum);
  let worst = 0;
  for (let i = 0; i < logits.length; i++) worst = Math.max(worst, Math.abs(logits[i] - lse - theirLogProbs[i]));
  expect(scale).toBeGreaterThan(0.1); // logits that carry signal, so a match means something
  expect(worst / scale).toBeLessThan(tolerance);
  return worst / scale;
}

function argmax(x: Float64Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

async function tinyAdapter(spec: Parameters<typeof matchTargetModules>[0], targets: string[], seed: number): Promise<LoraAdapter> {
  const config = defaultLoraConfig({ r: 4, lora_alpha: 8, target_modules: targets });
  const adapter = initLoraAdapter(matchTargetModules(spec, config).targets, config, seededRandom(seed));
  const n = seededNormal(seed + 1);
  for (const l of adapter.layers.values()) l.B = l.B.map(() => 0.3 * n());
  return adapter;
}

describe('llama.cpp loads our GGUF and computes our logits', () => {
  it('merged tiny Llama (F32): logits match the reference; Q8_0 stays close; greedy generation runs', async () => {
    const tiny = await makeTinyModel(join(dir, 'llama'), 'llama', { tied: false, seed: 31, std: 0.2 });
    const adapter = await tinyAdapter(tiny.spec, ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj'], 32);
    const ours = await referenceLogits(tiny.dir, adapter, PROMPT);
    const f32 = join(dir, 'llama-merged-f32.gguf');
    await exportGguf({ baseDir: tiny.dir, adapters: [{ adapter }], outFile: f32, type: 'f32' });
    compare(ours, await llamaCppLogProbs(f32, PROMPT), 1e-4);

    const q8 = join(dir, 'llama-merged-q8.gguf');
    await exportGguf({ baseDir: tiny.dir, adapters: [{ adapter }], outFile: q8, type: 'q8_0' });
    // Q8_0 rounds weights to 8 bits and llama.cpp also quantizes activations to Q8_0 for these
    // matmuls, so only closeness is expected (a layout error gives errors of order 1).
    compare(ours, await llamaCppLogProbs(q8, PROMPT), 0.1);

    const model = await llama.loadModel({ modelPath: f32 });
    const context = await model.createContext({ contextSize: 64, threads: 2 });
    const generated: number[] = [];
    for await (const t of context.getSequence().evaluate(PROMPT as Token[], { temperature: 0 })) {
      generated.push(t);
      if (generated.length === 4) break;
    }
    expect(generated[0]).toBe(argmax(ours));
    expect(generated.length).toBe(4);
    await context.dispose();
    await model.dispose();

    // Q4_0 is too coarse to compare with the float model (0.7 relative here), so compare with our
    // forward on the Q4_0-rounded weights: what is left is llama.cpp's Q8_0 activations. Rows are
    // permuted whole, so rounding before or after the q/k permutation is the same.
    const q4 = join(dir, 'llama-merged-q4.gguf');
    await exportGguf({ baseDir: tiny.dir, adapters: [{ adapter }], outFile: q4, type: 'q4_0' });
    const q4Weights = (_name: string, shape: number[], w: Float32Array) =>
      shape.length === 2 && shape[1] % 32 === 0 ? decodeGgml(GgmlType.Q4_0, quantizeQ4_0(w), w.length) : w;
    compare(await referenceLogits(tiny.dir, adapter, PROMPT, q4Weights), await llamaCppLogProbs(q4, PROMPT), 0.1);
  });

  it('LoRA adapter GGUF applied by llama.cpp on the base GGUF equals the merged model', async () => {
    const tiny = await makeTinyModel(join(dir, 'llama-lora'), 'llama', { tied: true, seed: 41, std: 0.2 });
    const adapter = await tinyAdapter(tiny.spec, ['q_proj', 'k_proj', 'v_proj', 'down_proj'], 42);
    const adapterDir = join(dir, 'llama-lora-adapter');
    await writeAdapter(adapterDir, adapter);
    const base = join(dir, 'llama-base.gguf');
    const loraFile = join(dir, 'llama-lora.gguf');
    await exportGguf({ baseDir: tiny.dir, outFile: base, type: 'f32' });
    await exportLoraGguf({ baseDir: tiny.dir, adapter: adapterDir, outFile: loraFile });
    const merged = await referenceLogits(tiny.dir, adapter, PROMPT);
    const plain = await referenceLogits(tiny.dir, null, PROMPT);
    compare(plain, await llamaCppLogProbs(base, PROMPT), 1e-4);
    compare(merged, await llamaCppLogProbs(base, PROMPT, loraFile), 1e-4);
  });

  it('Qwen2 (q/k/v biases, NeoX rope) and Qwen3 (q/k norms, head_dim 24 ≠ 64/4)', async () => {
    for (const family of ['qwen2', 'qwen3'] as const) {
      const tiny = await makeTinyModel(join(dir, family), family, { seed: 51, std: 0.2 });
      const adapter = await tinyAdapter(tiny.spec, ['q_proj', 'k_proj', 'up_proj'], 52);
      const out = join(dir, `${family}.gguf`);
      await exportGguf({ baseDir: tiny.dir, adapters: [{ adapter }], outFile: out, type: 'f32' });
      compare(await referenceLogits(tiny.dir, adapter, PROMPT), await llamaCppLogProbs(out, PROMPT), 1e-4);
    }
  });

  it('GPT-2 (fused qkv transposed from Conv1D, learned positions, LayerNorm): logits match a float64 GPT-2', async () => {
    const tiny = await makeTinyModel(join(dir, 'gpt2-logits'), 'gpt2', { seed: 71, std: 0.2 });
    const out = join(dir, 'gpt2-logits.gguf');
    await exportGguf({ baseDir: tiny.dir, outFile: out, type: 'f32' });
    const s = tiny.spec;
    // ggml's CPU GELU reads an f16 lookup table, so activations carry ~1e-3 relative error here; a
    // layout error (untransposed Conv1D, mis-split qkv) gives errors of order 1.
    compare(gpt2ReferenceLogits(tiny.tensors, s.hiddenSize, s.numHeads, s.numLayers, s.vocabSize, PROMPT), await llamaCppLogProbs(out, PROMPT), 2e-3);
  });

  it('GPT-2 LoRA GGUF (Conv1D modules, fan_in_fan_out) applied by llama.cpp equals the merged GPT-2', async () => {
    const tiny = await makeTinyModel(join(dir, 'gpt2-lora'), 'gpt2', { seed: 73, std: 0.2 });
    const config = defaultLoraConfig({ r: 4, lora_alpha: 8, target_modules: ['c_attn', 'c_fc'], fan_in_fan_out: true });
    const adapter = initLoraAdapter(matchTargetModules(tiny.spec, config).targets, config, seededRandom(74));
    const n = seededNormal(75);
    for (const l of adapter.layers.values()) l.B = l.B.map(() => 0.3 * n());
    const base = join(dir, 'gpt2-base.gguf');
    const loraFile = join(dir, 'gpt2-lora.gguf');
    await exportGguf({ baseDir: tiny.dir, outFile: base, type: 'f32' });
    await exportLoraGguf({ baseDir: tiny.dir, adapter, outFile: loraFile });
    const model = await openModelFolder(tiny.dir);
    const merged = new Map<string, Float32Array>();
    try {
      const read = mergedTensorReader(model, [{ adapter }]);
      for (const e of model.table) merged.set(e.hfName, await read(e.hfName));
    } finally {
      await model.close();
    }
    const s = tiny.spec;
    compare(gpt2ReferenceLogits(merged, s.hiddenSize, s.numHeads, s.numLayers, s.vocabSize, PROMPT), await llamaCppLogProbs(base, PROMPT, loraFile), 2e-3);
  });

  it('Gemma 3 (sliding and global layers, norms stored as 1 + w, √hidden embedding scale): logits match the engine', async () => {
    const layerTypes = Array.from({ length: 6 }, (_, i) => ((i + 1) % 6 === 0 ? 'full_attention' : 'sliding_attention'));
    const tiny = await makeTinyModel(join(dir, 'gemma3-logits'), 'gemma3', { seed: 81, std: 0.2, layers: 6, config: { layer_types: layerTypes, sliding_window: 4 } });
    const adapter = await tinyAdapter(tiny.spec, ['q_proj', 'o_proj', 'gate_proj'], 82);
    const out = join(dir, 'gemma3-logits.gguf');
    await exportGguf({ baseDir: tiny.dir, adapters: [{ adapter }], outFile: out, type: 'f32' });
    // 12 tokens with a window of 4, so the sliding layers really mask. GELU runs through ggml's f16 table.
    const prompt = [...PROMPT, 33, 401, 12, 250];
    compare(await referenceLogits(tiny.dir, adapter, prompt), await llamaCppLogProbs(out, prompt), 2e-3);
  });

  it('GPT-2 (fused qkv, learned positions) and Gemma 3 (sliding layers, norms + 1) load and generate', async () => {
    const layerTypes = Array.from({ length: 6 }, (_, i) => ((i + 1) % 6 === 0 ? 'full_attention' : 'sliding_attention'));
    const models = [
      await makeTinyModel(join(dir, 'gpt2'), 'gpt2', { seed: 61 }),
      await makeTinyModel(join(dir, 'gemma3'), 'gemma3', { seed: 62, layers: 6, config: { layer_types: layerTypes } }),
    ];
    for (const tiny of models) {
      const out = join(dir, `${tiny.family}.gguf`);
      await exportGguf({ baseDir: tiny.dir, outFile: out, type: 'f16' });
      const model = await llama.loadModel({ modelPath: out });
      expect(model.fileInfo.metadata.general.architecture).toBe(tiny.family);
      // Byte-level BPE with GPT-2's pre-tokenizer regex: llama.cpp splits and merges as tokenizers does.
      const hf = HfTokenizer.load(tiny.dir);
      for (const text of ["The analyst's adapter, trained twice: 3 epochs!", 'naïve café\n\n  spaces', '<|im_start|>user'])
        expect(model.tokenize(text, true)).toEqual(hf.encode(text));
      const context = await model.createContext({ contextSize: 64, threads: 2 });
      const generated: number[] = [];
      for await (const t of context.getSequence().evaluate(PROMPT as Token[], { temperature: 0 })) {
        generated.push(t);
        if (generated.length === 3) break;
      }
      expect(generated.length).toBe(3);
      expect(generated.every((t) => t >= 0 && t < tiny.spec.vocabSize)).toBe(true);
      await context.dispose();
      await model.dispose();
    }
  });

  it('SentencePiece-style tokenizer (byte fallback, "▁"): llama.cpp tokenizes as tokenizers does, and the logits match', async () => {
    const spm = buildTinySentencePieceTokenizer();
    const d = join(dir, 'llama-spm');
    const tiny = await makeTinyModel(d, 'llama', {
      seed: 91,
      std: 0.2,
      tokenizer: false,
      config: { vocab_size: spm.vocabSize, bos_token_id: spm.specialIds['<s>'], eos_token_id: spm.specialIds['<|im_end|>'], pad_token_id: null },
    });
    writeTinySentencePieceTokenizer(d);
    const out = join(dir, 'llama-spm.gguf');
    await exportGguf({ baseDir: d, outFile: out, type: 'f32' });
    const hf = HfTokenizer.load(d);
    const model = await llama.loadModel({ modelPath: out });
    try {
      expect(model.tokens.bos).toBe(spm.specialIds['<s>']);
      for (const text of ['The analyst trains an adapter on her own machine.', 'exports the merged model', 'naïve café 42\nnew line', 'the the the model']) {
        expect(model.tokenize(text)).toEqual(hf.encode(text));
      }
    } finally {
      await model.dispose();
    }
    const ids = hf.encode('The adapter learns the names');
    compare(await referenceLogits(tiny.dir, null, ids), await llamaCppLogProbs(out, ids), 1e-4);
  });
});

/** llama.cpp's perplexity of a token sequence, from its next-token probabilities at every position. */
async function llamaCppPerplexity(modelPath: string, ids: number[]): Promise<{ ppl: number; tokens: number }> {
  const model = await llama.loadModel({ modelPath });
  try {
    const context = await model.createContext({ contextSize: 512, threads: 2, flashAttention: false });
    const seq = context.getSequence();
    const sampling = { temperature: 1, topK: 0, topP: 1, minP: 0 };
    const input = ids
      .slice(0, -1)
      .map((t) => [t, { generateNext: { probabilities: true, options: sampling } }] as const);
    const res = await seq.controlledEvaluate(input as unknown as Parameters<typeof seq.controlledEvaluate>[0]);
    let nll = 0;
    for (let i = 0; i + 1 < ids.length; i++) {
      const p = res[i]?.next.probabilities?.get(ids[i + 1] as Token);
      if (!p) throw new Error(`llama.cpp gave no probability for token ${i + 1}`);
      nll -= Math.log(p);
    }
    await context.dispose();
    return { ppl: Math.exp(nll / (ids.length - 1)), tokens: ids.length };
  } finally {
    await model.dispose();
  }
}

/** The model's own continuations of `starts` (sampled by llama.cpp after <|endoftext|>), as one token sequence. */
async function sampleText(modelPath: string, starts: string[]): Promise<number[]> {
  const model = await llama.loadModel({ modelPath });
  const ids: number[] = [];
  try {
    for (const [i, start] of starts.entries()) {
      const prefix = [model.tokens.eos ?? (0 as Token), ...model.tokenize(start)];
      const context = await model.createContext({ contextSize: 256, threads: 2 });
      const text: number[] = [];
      for await (const t of context.getSequence().evaluate(prefix, { temperature: 0.8, seed: 17 + i })) {
        text.push(t);
        if (text.length >= 100) break;
      }
      await context.dispose();
      ids.push(...prefix, ...text);
    }
  } finally {
    await model.dispose();
  }
  return ids.slice(0, 500);
}

const K_TYPES: { type: GgufOutType; pplShare: number }[] = [
  { type: 'q6_k', pplShare: 0.01 },
  { type: 'q5_k_m', pplShare: 0.02 },
  { type: 'q4_k_m', pplShare: 0.05 },
];

describe('K-quant GGUF (Q6_K, Q5_K_M, Q4_K_M) in llama.cpp', () => {
  it('tiny Llama with rows of 256: llama.cpp computes our forward on the K-quant-rounded weights', async () => {
    // The bundled model's ffn_down rows (688) are not whole super-blocks, so a generated model with
    // every row a multiple of 256 checks each K layout on every weight.
    const tiny = await makeTinyModel(join(dir, 'llama-k'), 'llama', {
      tied: false,
      seed: 101,
      std: 0.2,
      layers: 3,
      config: {
        hidden_size: 256,
        intermediate_size: 512,
        num_attention_heads: 4,
        num_key_value_heads: 2,
        head_dim: 64,
      },
    });
    const model = await openModelFolder(tiny.dir);
    const table = model.table.map((e) => ({ hf: e.hfName, name: e.gguf, shape: e.shape }));
    await model.close();
    for (const { type } of K_TYPES) {
      const out = join(dir, `llama-k-${type}.gguf`);
      const result = await exportGguf({ baseDir: tiny.dir, outFile: out, type });
      const types = new Map(table.map((t, i) => [t.hf, ggufTensorTypes(table, type)[i]]));
      const written = new Set(result.tensors.map((t) => t.type));
      expect(written).toContain(type === 'q6_k' ? 'Q6_K' : type === 'q5_k_m' ? 'Q5_K' : 'Q4_K');
      // Rows are permuted whole (q/k), so rounding before or after the permutation is the same.
      const rounded = (name: string, _shape: number[], w: Float32Array) => {
        const t = types.get(name)!;
        return t === GgmlType.F32 ? w : decodeGgml(t, encodeGgml(t, w), w.length);
      };
      // What is left is llama.cpp's Q8_K activations (a layout error gives errors of order 1).
      // Random weights (std 0.2) make this small model sensitive: llama.cpp's Q8_K activations alone
      // move its logits ~0.1 of their scale, while ignoring the rounding (or misreading a layout)
      // costs 0.25–0.9 here.
      const theirs = await llamaCppLogProbs(out, PROMPT);
      const onRounded = compare(await referenceLogits(tiny.dir, null, PROMPT, rounded), theirs, 0.15);
      const onFloat = compare(await referenceLogits(tiny.dir, null, PROMPT), theirs, 10);
      expect(onRounded).toBeLessThan(0.6 * onFloat);
    }
  });

  it('rows that are not whole super-blocks (64 wide): the Q5_0 / Q5_1 / Q8_0 fallbacks are read by llama.cpp as we wrote them', async () => {
    const tiny = await makeTinyModel(join(dir, 'llama-k64'), 'llama', { tied: false, seed: 103, std: 0.2 });
    const model = await openModelFolder(tiny.dir);
    const table = model.table.map((e) => ({ hf: e.hfName, name: e.gguf, shape: e.shape }));
    await model.close();
    for (const type of ['q4_k_m', 'q5_k_m'] as const) {
      const out = join(dir, `llama-k64-${type}.gguf`);
      const result = await exportGguf({ baseDir: tiny.dir, outFile: out, type });
      expect(new Set(result.tensors.map((t) => t.type))).toContain(type === 'q4_k_m' ? 'Q5_0' : 'Q5_1');
      const types = new Map(table.map((t, i) => [t.hf, ggufTensorTypes(table, type)[i]]));
      const rounded = (name: string, _shape: number[], w: Float32Array) => {
        const t = types.get(name)!;
        return t === GgmlType.F32 ? w : decodeGgml(t, encodeGgml(t, w), w.length);
      };
      compare(await referenceLogits(tiny.dir, null, PROMPT, rounded), await llamaCppLogProbs(out, PROMPT), 0.1);
    }
  });

  it('bundled model: perplexity on its own sampled text within a few percent of f16 (Q4_K_M ≤ 5%), files smaller', async () => {
    const base = join(process.cwd(), 'resources', 'default-model');
    const f16 = join(dir, 'default-f16.gguf');
    const f16Result = await exportGguf({ baseDir: base, outFile: f16, type: 'f16' });
    // Text from the model's own small world (the pirate demo set is what a fine-tune teaches it, so
    // the base is lost there): its f16 export's stories, sampled at temperature 0.8 with fixed seeds.
    const ids = await sampleText(f16, [
      'Once upon a time, a fox',
      'The cow eats',
      'A little duck',
      'The owl lives',
      'One day, a brave rabbit',
      'The dog says',
      'Two plus three is',
      'In the forest, a bear',
      'The cat was sad because',
      'A frog and a bird',
    ]);
    const reference = await llamaCppPerplexity(f16, ids);
    const lines = [`f16: ppl ${reference.ppl.toFixed(4)}, ${f16Result.bytes} bytes, ${reference.tokens} tokens`];
    const measured: { ppl: number; bytes: number; pplShare: number }[] = [];
    for (const { type, pplShare } of K_TYPES) {
      const out = join(dir, `default-${type}.gguf`);
      const result = await exportGguf({ baseDir: base, outFile: out, type });
      const { ppl } = await llamaCppPerplexity(out, ids);
      lines.push(
        `${type}: ppl ${ppl.toFixed(4)} (${(100 * (ppl / reference.ppl - 1)).toFixed(2)}%), ${result.bytes} bytes`,
      );
      measured.push({ ppl, bytes: result.bytes, pplShare });
    }
    console.log(`K-quant perplexity vs f16 (bundled model, its own sampled text):\n  ${lines.join('\n  ')}`);
    expect(reference.tokens).toBeGreaterThan(150);
    expect(reference.ppl).toBeGreaterThan(1.05); // not so predictable that nothing can change
    // Far better than uniform over its 1,349 ids (measured ~43 on these short samples), so the
    // weights carry what quantization could lose.
    expect(reference.ppl).toBeLessThan(1349 / 10);
    for (const [i, m] of measured.entries()) {
      expect(Math.abs(m.ppl / reference.ppl - 1)).toBeLessThan(m.pplShare);
      expect(m.bytes).toBeLessThan(i ? measured[i - 1].bytes : f16Result.bytes);
    }
  });
});
