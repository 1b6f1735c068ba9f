import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm, writeFile, readFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  specFromConfig,
  parameterCount,
  openModelFolder,
  tensorTable,
  linearModules,
  transpose2d,
  fromCanonical,
  toCanonical,
} from '../../../src/main/formats/model/index.ts';
import { writeSafetensors, SafetensorsFile, type TensorToWrite } from '../../../src/main/formats/safetensors/index.ts';
import { makeTinyModel, TINY_FAMILIES, tinyModelConfig } from '../../fixtures/tiny-models.ts';
import { TINY_TOKENIZER_VOCAB_SIZE } from '../../fixtures/tiny-tokenizer.ts';
import { GEMMA3_1B_CONFIG, QWEN25_05B_CONFIG, LLAMA32_1B_CONFIG, GPT2_CONFIG, QWEN3_06B_CONFIG } from './real-configs.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'model-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('architecture registry on published configs', () => {
  it('Gemma-3-1b: spec and 999,885,952 parameters', () => {
    const s = specFromConfig(GEMMA3_1B_CONFIG);
    expect(s).toMatchObject({
      family: 'gemma3',
      hiddenSize: 1152,
      numHeads: 4,
      numKvHeads: 1,
      headDim: 256,
      normKind: 'rms_one_plus',
      activation: 'gelu_tanh',
      qkNorm: true,
      sandwichNorms: true,
      tiedEmbeddings: true,
      slidingWindow: 512,
      eosTokenIds: [1, 106],
      bosTokenId: 2,
      padTokenId: 0,
    });
    expect(s.embeddingScale).toBeCloseTo(Math.sqrt(1152), 12);
    expect(s.attentionScale).toBe(1 / 16);
    expect(s.rope).toEqual({ theta: 1000000, scaling: null, localTheta: 10000 });
    // Every 6th layer is global.
    expect(s.layerTypes.map((t, i) => (t === 'full' ? i : -1)).filter((i) => i >= 0)).toEqual([5, 11, 17, 23]);
    expect(parameterCount(s)).toBe(999_885_952);
  });

  it('Qwen2.5-0.5B: q/k/v biases, GQA, 494,032,768 parameters', () => {
    const s = specFromConfig(QWEN25_05B_CONFIG);
    expect(s).toMatchObject({ family: 'qwen2', headDim: 64, numKvHeads: 2, bias: { qkv: true, o: false, mlp: false }, tiedEmbeddings: true, slidingWindow: null });
    expect(parameterCount(s)).toBe(494_032_768);
  });

  it('Llama-3.2-1B: llama3 rope scaling, 1,235,814,400 parameters', () => {
    const s = specFromConfig(LLAMA32_1B_CONFIG);
    expect(s.rope).toEqual({ theta: 500000, scaling: { type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 }, localTheta: null });
    expect(parameterCount(s)).toBe(1_235_814_400);
  });

  it('GPT-2: Conv1D, fused c_attn, learned positions, 124,439,808 parameters', () => {
    const s = specFromConfig(GPT2_CONFIG);
    expect(s).toMatchObject({ family: 'gpt2', conv1dWeights: true, fusedQkv: true, positionEmbedding: 'learned', normKind: 'layer', activation: 'gelu_tanh', intermediateSize: 3072, tiedEmbeddings: true, eosTokenIds: [50256] });
    expect(parameterCount(s)).toBe(124_439_808);
  });

  it('Qwen3-0.6B: head_dim 128 ≠ 1024/16, q/k norm, 596,049,920 parameters', () => {
    const s = specFromConfig(QWEN3_06B_CONFIG);
    expect(s).toMatchObject({ headDim: 128, qkNorm: true, bias: { qkv: false, o: false, mlp: false } });
    // embed 151936·1024 + 28·(q 1024·2048 + k,v 2·1024·1024 + o 2048·1024 + mlp 3·1024·3072 + norms 2·1024 + q/k norm 2·128) + final norm
    expect(parameterCount(s)).toBe(151936 * 1024 + 28 * (2 * 2048 * 1024 + 2 * 1024 * 1024 + 3 * 1024 * 3072 + 2 * 1024 + 2 * 128) + 1024);
  });

  it('linear rope scaling, and transformers v5 rope_parameters', () => {
    expect(specFromConfig({ ...LLAMA32_1B_CONFIG, rope_scaling: { type: 'linear', factor: 2 } }).rope?.scaling).toEqual({ type: 'linear', factor: 2 });
    const v5 = { ...LLAMA32_1B_CONFIG, rope_scaling: undefined, rope_theta: undefined, rope_parameters: { rope_type: 'default', rope_theta: 12345 } };
    expect(specFromConfig(v5).rope).toEqual({ theta: 12345, scaling: null, localTheta: null });
  });

  const errors: [string, Record<string, unknown>, RegExp][] = [
    ['an unsupported architecture', { ...GPT2_CONFIG, architectures: ['FalconForCausalLM'] }, /architecture "FalconForCausalLM" is not supported \(supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, GPT2LMHeadModel, Gemma3ForCausalLM, BertModel, .*, DistilBertForSequenceClassification, .*, XLMRobertaForQuestionAnswering, ElectraModel, .*, ElectraForQuestionAnswering\)/],
    ['multimodal Gemma 3', { ...GEMMA3_1B_CONFIG, architectures: ['Gemma3ForConditionalGeneration'], model_type: 'gemma3' }, /Gemma3ForConditionalGeneration" is not supported \(the multimodal Gemma 3/],
    ['an unknown rope scaling', { ...LLAMA32_1B_CONFIG, rope_scaling: { rope_type: 'yarn', factor: 4 } }, /rope_scaling\.rope_type "yarn" is not supported \(supported: none\/default, linear, llama3\)/],
    ['llama3 scaling without its fields', { ...LLAMA32_1B_CONFIG, rope_scaling: { rope_type: 'llama3', factor: 8 } }, /required field "low_freq_factor" is missing/],
    ['a missing field', { ...QWEN25_05B_CONFIG, hidden_size: undefined }, /required field "hidden_size" is missing/],
    ['a bad field type', { ...QWEN25_05B_CONFIG, num_hidden_layers: '24' }, /field "num_hidden_layers" must be a non-negative integer, got "24"/],
    ['heads not a multiple of kv heads', { ...QWEN25_05B_CONFIG, num_key_value_heads: 3 }, /num_attention_heads \(14\) must be a positive multiple of num_key_value_heads \(3\)/],
    ['an unknown activation', { ...QWEN25_05B_CONFIG, hidden_act: 'relu2' }, /hidden_act "relu2" is not supported \(supported: silu/],
    ['Qwen2 sliding window', { ...QWEN25_05B_CONFIG, use_sliding_window: true }, /use_sliding_window=true is not supported/],
    ['a mismatched model_type', { ...QWEN25_05B_CONFIG, model_type: 'llama' }, /model_type "llama" does not match architecture Qwen2ForCausalLM/],
    ['GPT-2 attention variants', { ...GPT2_CONFIG, scale_attn_by_inverse_layer_idx: true }, /scale_attn_by_inverse_layer_idx=true is not supported/],
  ];
  for (const [what, config, pattern] of errors) {
    it(`rejects ${what}`, () => {
      expect(() => specFromConfig(config, '/m/config.json')).toThrow(pattern);
      expect(() => specFromConfig(config, '/m/config.json')).toThrow(/^\/m\/config\.json[: ]/);
    });
  }

  it('accepts model_type gemma3_text without architectures', () => {
    expect(specFromConfig({ ...GEMMA3_1B_CONFIG, architectures: undefined }).architecture).toBe('Gemma3ForCausalLM');
  });
});

describe('tiny model folders', () => {
  for (const family of TINY_FAMILIES) {
    it(`${family}: writes a folder that opens, validates and reads back the exact weights`, async () => {
      const tiny = await makeTinyModel(join(dir, family), family, { seed: 7 });
      const m = await openModelFolder(tiny.dir);
      try {
        expect(m.spec.family).toBe(family);
        expect(m.spec.vocabSize).toBe(TINY_TOKENIZER_VOCAB_SIZE);
        expect(m.tokenizerFiles).toEqual(expect.arrayContaining(['tokenizer.json', 'tokenizer_config.json']));
        expect(m.generationConfig).not.toBeNull();
        for (const e of m.table) expect(await m.readHf(e.hfName)).toEqual(tiny.tensors.get(e.hfName));
        if (family !== 'gpt2') expect(m.spec.numKvHeads).toBeLessThan(m.spec.numHeads);
      } finally {
        await m.close();
      }
    });
  }

  it('the same seed gives the same bytes; another seed does not', async () => {
    const a = await makeTinyModel(join(dir, 'seed-a'), 'qwen2', { seed: 3 });
    const b = await makeTinyModel(join(dir, 'seed-b'), 'qwen2', { seed: 3 });
    const c = await makeTinyModel(join(dir, 'seed-c'), 'qwen2', { seed: 4 });
    const bytes = (d: string) => readFile(join(d, 'model.safetensors'));
    expect((await bytes(a.dir)).equals(await bytes(b.dir))).toBe(true);
    expect((await bytes(a.dir)).equals(await bytes(c.dir))).toBe(false);
  });

  it('sharded bf16 weights open through the index', async () => {
    const tiny = await makeTinyModel(join(dir, 'sharded'), 'llama', { dtype: 'BF16', maxShardBytes: 40_000, tied: false });
    expect(tiny.files.filter((f) => f.startsWith('model-')).length).toBeGreaterThan(2);
    const m = await openModelFolder(tiny.dir);
    try {
      expect(m.spec.torchDtype).toBe('bfloat16');
      expect(m.weights.fileNames.length).toBeGreaterThan(2);
      expect(await m.readParam('lm_head.weight')).toEqual(tiny.tensors.get('lm_head.weight'));
    } finally {
      await m.close();
    }
  });

  it('GPT-2 Conv1D: canonical q/k/v are the transposed thirds of c_attn', async () => {
    const tiny = await makeTinyModel(join(dir, 'gpt2-conv'), 'gpt2');
    const m = await openModelFolder(tiny.dir);
    try {
      const C = m.spec.hiddenSize;
      const cAttn = tiny.tensors.get('transformer.h.1.attn.c_attn.weight')!; // [C, 3C] = [in, out]
      const k = await m.readParam('layers.1.attn.k.weight'); // [C out, C in]
      for (let o = 0; o < C; o++) for (let i = 0; i < C; i += 7) expect(k[o * C + i]).toBe(cAttn[i * 3 * C + C + o]);
      const vBias = await m.readParam('layers.1.attn.v.bias');
      expect(vBias).toEqual(tiny.tensors.get('transformer.h.1.attn.c_attn.bias')!.slice(2 * C));
      const entry = m.table.find((e) => e.hfName === 'transformer.h.1.attn.c_attn.weight')!;
      expect(fromCanonical(entry, toCanonical(entry, cAttn))).toEqual(cAttn);
      const up = await m.readParam('layers.0.mlp.up.weight');
      expect(up).toEqual(transpose2d(tiny.tensors.get('transformer.h.0.mlp.c_fc.weight')!, C, m.spec.intermediateSize));
    } finally {
      await m.close();
    }
  });

  it('GPT-2 checkpoints without the "transformer." prefix and with attn.bias buffers still open', async () => {
    const tiny = await makeTinyModel(join(dir, 'gpt2-old'), 'gpt2', { tokenizer: false });
    const tensors = [...tiny.tensors].map(([name, data]) => ({ name: name.replace(/^transformer\./, ''), dtype: 'F32' as const, shape: tensorTable(tiny.spec).find((e) => e.hfName === name)!.shape, data }));
    tensors.push({ name: 'h.0.attn.bias', dtype: 'F32', shape: [1, 1, 4, 4], data: new Float32Array(16) });
    await writeSafetensors(join(tiny.dir, 'model.safetensors'), tensors);
    const m = await openModelFolder(tiny.dir);
    try {
      expect(await m.readParam('embed')).toEqual(tiny.tensors.get('transformer.wte.weight'));
    } finally {
      await m.close();
    }
  });

  it('lists missing, unexpected and mis-shaped tensors in one error', async () => {
    const tiny = await makeTinyModel(join(dir, 'broken'), 'qwen3', { tokenizer: false });
    const st = await SafetensorsFile.open(join(tiny.dir, 'model.safetensors'));
    const tensors: TensorToWrite[] = [];
    for (const name of st.names()) {
      if (name === 'model.layers.1.self_attn.k_norm.weight') continue;
      const info = st.info(name);
      if (name === 'model.norm.weight') tensors.push({ name, dtype: info.dtype, shape: [32], data: new Float32Array(32) });
      else tensors.push({ name, dtype: info.dtype, shape: info.shape, data: await st.readBytes(name) });
    }
    await st.close();
    tensors.push({ name: 'model.layers.0.self_attn.rotary_emb.inv_freq', dtype: 'F32', shape: [4], data: new Float32Array(4) });
    tensors.push({ name: 'model.layers.0.mlp.extra.weight', dtype: 'F32', shape: [4], data: new Float32Array(4) });
    await writeSafetensors(join(tiny.dir, 'model.safetensors'), tensors);
    const err = await openModelFolder(tiny.dir).then(() => null, (e: Error) => e);
    expect(err?.message).toMatch(/weights do not match Qwen3ForCausalLM/);
    expect(err?.message).toMatch(/missing 1 tensor\(s\): model\.layers\.1\.self_attn\.k_norm\.weight/);
    expect(err?.message).toMatch(/unexpected 1 tensor\(s\): model\.layers\.0\.mlp\.extra\.weight/);
    expect(err?.message).toMatch(/wrong shape: model\.norm\.weight is \[32\], expected \[64\]/);
  });

  it('names a missing config.json and a folder without weights', async () => {
    await expect(openModelFolder(join(dir, 'empty-nothing'))).rejects.toThrow(/config\.json: missing \(every Hugging Face model folder has a config\.json\)/);
    const d = join(dir, 'no-weights');
    await makeTinyModel(d, 'llama', { tokenizer: false });
    await rename(join(d, 'model.safetensors'), join(d, 'elsewhere.bin'));
    await expect(openModelFolder(d)).rejects.toThrow(/no model\.safetensors or model\.safetensors\.index\.json/);
    await writeFile(join(d, 'config.json'), '{"architectures": ["LlamaForCausalLM"], ');
    await expect(openModelFolder(d)).rejects.toThrow(/config\.json: not valid JSON/);
  });

  it('linear modules: what PEFT can target, with fan_in_fan_out for GPT-2', () => {
    const gpt2 = linearModules(specFromConfig(tinyModelConfig('gpt2')));
    expect(gpt2.filter((m) => m.layer === 0).map((m) => [m.module, m.inFeatures, m.outFeatures, m.fanInFanOut])).toEqual([
      ['transformer.h.0.attn.c_attn', 64, 192, true],
      ['transformer.h.0.attn.c_proj', 64, 64, true],
      ['transformer.h.0.mlp.c_fc', 64, 256, true],
      ['transformer.h.0.mlp.c_proj', 256, 64, true],
    ]);
    const qwen3 = linearModules(specFromConfig(tinyModelConfig('qwen3')));
    expect(qwen3.find((m) => m.module === 'model.layers.1.self_attn.q_proj')).toMatchObject({ inFeatures: 64, outFeatures: 96 });
    expect(qwen3.find((m) => m.module === 'model.layers.1.self_attn.o_proj')).toMatchObject({ inFeatures: 96, outFeatures: 64 });
    expect(qwen3.at(-1)).toMatchObject({ module: 'lm_head', isOutputHead: true });
  });
});
