import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gguf } from '@huggingface/gguf';
import {
  writeGguf,
  gv,
  GgmlType,
  quantizeQ8_0,
  quantizeQ4_0,
  decodeGgml,
  exportGguf,
  exportLoraGguf,
  permuteQK,
  llama3RopeFactors,
  ggmlBytes,
  detectPreTokenizer,
} from '../../../src/main/formats/gguf/index.ts';
import { specFromConfig, transpose2d } from '../../../src/main/formats/model/index.ts';
import { defaultLoraConfig, matchTargetModules, initLoraAdapter, writeAdapter, type LoraAdapter } from '../../../src/main/formats/peft/index.ts';
import { mergeLayers } from '../../../src/main/formats/merge/index.ts';
import { f16BitsToF32, f32ToF16Bits } from '../../../src/main/formats/safetensors/index.ts';
import { makeTinyModel, seededNormal, seededRandom, type TinyModel } from '../../fixtures/tiny-models.ts';
import { buildTinyTokenizer, CHATML_TEMPLATE, TINY_TOKENIZER_VOCAB_SIZE } from '../../fixtures/tiny-tokenizer.ts';
import { LLAMA32_1B_CONFIG } from '../model/real-configs.ts';
import { buildTinySentencePieceTokenizer, writeTinySentencePieceTokenizer } from '../tokenizer/sentencepiece-fixture.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gguf-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Parsed = Awaited<ReturnType<typeof parse>>;
async function parse(path: string) {
  const out = await gguf(path, { allowLocalFile: true, typedMetadata: true });
  const bytes = await readFile(path);
  const tensor = (name: string) => {
    const info = out.tensorInfos.find((t) => t.name === name);
    if (!info) throw new Error(`no tensor ${name}`);
    const n = info.shape.reduce((a, b) => a * Number(b), 1);
    const start = Number(out.tensorDataOffset + info.offset);
    const size = ggmlBytes(info.dtype as unknown as GgmlType, n);
    return { info, values: decodeGgml(info.dtype as unknown as GgmlType, new Uint8Array(bytes.buffer, bytes.byteOffset + start, size), n) };
  };
  return { ...out, tensor, md: (k: string) => (out.typedMetadata as Record<string, { value: unknown; type: number; subType?: number }>)[k] };
}

describe('GGUF writer', () => {
  it('writes every value type and tensor info that @huggingface/gguf reads back', async () => {
    const path = join(dir, 'kv.gguf');
    const md = new Map([
      ['general.architecture', gv.str('llama')],
      ['test.u32', gv.u32(4_000_000_000)],
      ['test.i32', gv.i32(-5)],
      ['test.f32', gv.f32(0.5)],
      ['test.bool', gv.bool(true)],
      ['test.u64', gv.u64(2n ** 40n)],
      ['test.strs', gv.strs(['a', 'héllo', ''])],
      ['test.i32s', gv.i32s([1, -2, 3])],
    ]);
    const a = new Float32Array(64).map((_, i) => i / 8 - 4);
    const b = new Float32Array(3).fill(7);
    await writeGguf(path, md, [
      { name: 'a', shape: [2, 32], type: GgmlType.F16, data: () => a },
      { name: 'b', shape: [3], type: GgmlType.F32, data: () => b },
    ]);
    const p = await parse(path);
    expect(p.metadata.version).toBe(3);
    expect(p.md('test.u32')).toEqual({ value: 4_000_000_000, type: 4 });
    expect(p.md('test.i32')).toEqual({ value: -5, type: 5 });
    expect(p.md('test.f32')).toEqual({ value: 0.5, type: 6 });
    expect(p.md('test.bool')).toEqual({ value: true, type: 7 });
    expect(p.md('test.u64')).toEqual({ value: 2n ** 40n, type: 10 });
    expect(p.md('test.strs')).toEqual({ value: ['a', 'héllo', ''], type: 9, subType: 8 });
    expect(p.md('test.i32s')).toEqual({ value: [1, -2, 3], type: 9, subType: 5 });
    // ne[0] is the row length: PyTorch [2, 32] is written as [32, 2].
    expect(p.tensorInfos.map((t) => [t.name, t.shape.map(Number), t.dtype, Number(t.offset) % 32])).toEqual([
      ['a', [32, 2], 1, 0],
      ['b', [3], 0, 0],
    ]);
    expect(Number(p.tensorDataOffset) % 32).toBe(0);
    expect(p.tensor('a').values).toEqual(a);
    expect(p.tensor('b').values).toEqual(b);
  });

  it('Q8_0: matches the reference block layout and dequantizes within d/2 per value', () => {
    const x = new Float32Array(32 * 64).map(seededNormal(3));
    x[5] = 0;
    x.fill(0, 64, 96); // an all-zero block gets d = 0
    const q = quantizeQ8_0(x);
    expect(q.length).toBe(64 * 34);
    const y = decodeGgml(GgmlType.Q8_0, q, x.length);
    const view = new DataView(q.buffer);
    for (let blk = 0; blk < 64; blk++) {
      let amax = 0;
      for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[blk * 32 + j]));
      const d = f16BitsToF32(view.getUint16(blk * 34, true));
      expect(d).toBe(f16BitsToF32(f32ToF16Bits(amax / 127)));
      for (let j = 0; j < 32; j++) {
        const i = blk * 32 + j;
        // Rounding to the nearest code costs ≤ d/2 in units of the exact scale; the f16 scale adds ≤ 127·|d − amax/127|.
        const bound = (amax / 127) / 2 + 127 * Math.abs(d - amax / 127) + 1e-7;
        expect(Math.abs(y[i] - x[i])).toBeLessThanOrEqual(bound);
      }
      // The largest magnitude maps to ±127.
      if (amax > 0) expect(Math.max(...Array.from({ length: 32 }, (_, j) => Math.abs(view.getInt8(blk * 34 + 2 + j))))).toBe(127);
    }
    expect([...y.subarray(64, 96)]).toEqual(new Array(32).fill(0));
  });

  it('Q4_0: nibble order and error bound', () => {
    const x = new Float32Array(32 * 16).map(seededNormal(4));
    const q = quantizeQ4_0(x);
    expect(q.length).toBe(16 * 18);
    const y = decodeGgml(GgmlType.Q4_0, q, x.length);
    for (let blk = 0; blk < 16; blk++) {
      let amax = 0;
      for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[blk * 32 + j]));
      // Step d = amax/8: rounding costs ≤ d/2, except that codes stop at 15, so a value of the
      // opposite sign to the extreme, near +amax, can be off by up to one step.
      for (let j = 0; j < 32; j++) expect(Math.abs(y[blk * 32 + j] - x[blk * 32 + j])).toBeLessThanOrEqual(amax / 8 + amax * 1e-3);
    }
    // A hand-made block: max magnitude −8 → d = 1; value 3 → code 11 in element 0's low nibble.
    const hand = new Float32Array(32);
    hand[0] = 3;
    hand[16] = -8;
    const hq = quantizeQ4_0(hand);
    expect(f16BitsToF32(new DataView(hq.buffer).getUint16(0, true))).toBe(1);
    expect(hq[2]).toBe(11 | (0 << 4));
  });

  it('refuses quantized rows that are not whole blocks', async () => {
    await expect(writeGguf(join(dir, 'bad.gguf'), new Map(), [{ name: 'w', shape: [2, 48], type: GgmlType.Q8_0, data: () => new Float32Array(96) }])).rejects.toThrow(
      /GGUF tensor "w": rows of 48 are not a multiple of 32 \(needed by Q8_0\)/,
    );
  });
});

describe('llama.cpp conventions', () => {
  it('q/k permutation: interleaves each head’s two halves', () => {
    // 2 heads of head_dim 4, rows labelled by their index.
    const rows = Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7]);
    expect([...permuteQK(rows, 2, 1)]).toEqual([0, 2, 1, 3, 4, 6, 5, 7]);
    const wide = Float32Array.from([0, 0, 1, 1, 2, 2, 3, 3]); // 4 rows of 2
    expect([...permuteQK(wide, 1, 2)]).toEqual([0, 0, 2, 2, 1, 1, 3, 3]);
  });

  it('llama3 rope factors: 1 for high frequencies, factor for low, smooth between', () => {
    const f = llama3RopeFactors(specFromConfig(LLAMA32_1B_CONFIG));
    expect(f.length).toBe(32);
    expect(f[0]).toBe(1);
    expect(f[31]).toBe(32);
    for (let i = 1; i < 32; i++) expect(f[i]).toBeGreaterThanOrEqual(f[i - 1]);
    expect(f.some((v) => v > 1 && v < 32)).toBe(true);
  });
});

describe('pre-tokenizer names', () => {
  // pre_tokenizer sections as published in tokenizer.json files.
  const split = (regex: string) => ({
    type: 'Sequence',
    pretokenizers: [
      { type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    ],
  });
  const llama3 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
  const qwen2 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
  it('recognises GPT-2, Llama 3, Qwen2 and SmolLM structures', () => {
    expect(detectPreTokenizer({ type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true }, { family: 'gpt2' })).toBe('gpt-2');
    expect(detectPreTokenizer(JSON.parse(JSON.stringify(split(llama3))), { family: 'mistral' })).toBe('llama-bpe');
    expect(detectPreTokenizer(JSON.parse(JSON.stringify(split(qwen2))), { family: 'llama' })).toBe('qwen2');
    const smol = { type: 'Sequence', pretokenizers: [{ type: 'Digits', individual_digits: true }, { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true }] };
    expect(detectPreTokenizer(smol, { family: 'llama' })).toBe('smollm');
    expect(detectPreTokenizer(null, { family: 'qwen3' })).toBe('qwen2');
  });
});

describe('model → GGUF', () => {
  let llama: TinyModel;
  let adapter: LoraAdapter;
  let adapterDir: string;
  beforeAll(async () => {
    llama = await makeTinyModel(join(dir, 'llama'), 'llama', { tied: false, seed: 21 });
    const config = defaultLoraConfig({ r: 4, lora_alpha: 8, target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'], base_model_name_or_path: 'tiny-llama' });
    adapter = initLoraAdapter(matchTargetModules(llama.spec, config).targets, config, seededRandom(22));
    const n = seededNormal(23);
    for (const l of adapter.layers.values()) l.B = l.B.map(() => 0.1 * n());
    adapter.trainingTemplate = { template: { type: 'chat' }, chatTemplate: CHATML_TEMPLATE };
    adapterDir = join(dir, 'llama-adapter');
    await writeAdapter(adapterDir, adapter);
  });

  it('merged tiny Llama as F32: metadata, tokenizer, names, permuted q/k equal to the merged HF weights', async () => {
    const out = join(dir, 'llama-f32.gguf');
    const res = await exportGguf({ baseDir: llama.dir, adapters: [{ adapter: adapterDir }], outFile: out, type: 'f32', name: 'tiny' });
    const p: Parsed = await parse(out);
    const v = (k: string) => p.md(k)?.value;
    expect(v('general.architecture')).toBe('llama');
    expect(v('general.name')).toBe('tiny');
    expect(v('general.file_type')).toBe(0);
    expect(v('llama.context_length')).toBe(256);
    expect(v('llama.embedding_length')).toBe(64);
    expect(v('llama.block_count')).toBe(2);
    expect(v('llama.feed_forward_length')).toBe(160);
    expect(v('llama.attention.head_count')).toBe(4);
    expect(v('llama.attention.head_count_kv')).toBe(2);
    expect(v('llama.attention.layer_norm_rms_epsilon')).toBeCloseTo(1e-5, 10);
    expect(v('llama.rope.freq_base')).toBe(100000);
    expect(v('llama.rope.dimension_count')).toBe(16);
    expect(v('llama.vocab_size')).toBe(TINY_TOKENIZER_VOCAB_SIZE);
    const tok = buildTinyTokenizer({ bos: true });
    const tokens = v('tokenizer.ggml.tokens') as string[];
    expect(tokens.length).toBe(TINY_TOKENIZER_VOCAB_SIZE);
    expect(tokens[tok.specialIds['<|im_end|>']]).toBe('<|im_end|>');
    const types = v('tokenizer.ggml.token_type') as number[];
    expect(types[tok.specialIds['<|im_start|>']]).toBe(3);
    expect(types[100]).toBe(1);
    expect((v('tokenizer.ggml.merges') as string[])[0]).toBe(((tok.tokenizerJson.model as { merges: string[] }).merges[0]));
    expect(v('tokenizer.ggml.model')).toBe('gpt2');
    expect(v('tokenizer.ggml.pre')).toBe('gpt-2');
    expect(v('tokenizer.ggml.bos_token_id')).toBe(tok.specialIds['<|begin_of_text|>']);
    expect(v('tokenizer.ggml.eos_token_id')).toBe(tok.specialIds['<|im_end|>']);
    expect(v('tokenizer.ggml.padding_token_id')).toBe(tok.specialIds['<|endoftext|>']);
    expect(v('tokenizer.ggml.add_bos_token')).toBe(true);
    expect(v('tokenizer.chat_template')).toBe(CHATML_TEMPLATE);

    expect(p.tensorInfos.map((t) => t.name)).toEqual(res.tensors.map((t) => t.name));
    expect(p.tensorInfos.map((t) => t.name).slice(0, 10)).toEqual([
      'token_embd.weight',
      'blk.0.attn_norm.weight',
      'blk.0.attn_q.weight',
      'blk.0.attn_k.weight',
      'blk.0.attn_v.weight',
      'blk.0.attn_output.weight',
      'blk.0.ffn_norm.weight',
      'blk.0.ffn_gate.weight',
      'blk.0.ffn_up.weight',
      'blk.0.ffn_down.weight',
    ]);
    expect(p.tensorInfos.at(-2)!.name).toBe('output_norm.weight');
    expect(p.tensorInfos.at(-1)!.name).toBe('output.weight');
    expect(p.tensor('blk.0.attn_k.weight').info.shape.map(Number)).toEqual([64, 32]);

    const merged = (module: string) => {
      const l = adapter.layers.get(module)!;
      return mergeLayers(llama.tensors.get(`${module}.weight`)!, [{ layer: l, scale: 2 }], { fanInFanOut: false });
    };
    expect(p.tensor('blk.1.attn_q.weight').values).toEqual(permuteQK(merged('model.layers.1.self_attn.q_proj'), 4, 64));
    expect(p.tensor('blk.1.attn_k.weight').values).toEqual(permuteQK(merged('model.layers.1.self_attn.k_proj'), 2, 64));
    expect(p.tensor('blk.1.attn_v.weight').values).toEqual(merged('model.layers.1.self_attn.v_proj'));
    expect(p.tensor('blk.0.ffn_down.weight').values).toEqual(llama.tensors.get('model.layers.0.mlp.down_proj.weight'));
    expect(p.tensor('output.weight').values).toEqual(llama.tensors.get('lm_head.weight'));
    await expect(exportGguf({ baseDir: llama.dir, outFile: out })).rejects.toThrow(/llama-f32\.gguf already exists \(a GGUF file written earlier\); choose another file or pass overwrite: true/);
  });

  it('Q8_0: 2-D weights quantized within the Q8_0 bound, norms in F32', async () => {
    const out = join(dir, 'llama-q8.gguf');
    await exportGguf({ baseDir: llama.dir, outFile: out, type: 'q8_0' });
    const p = await parse(out);
    expect(p.md('general.file_type')?.value).toBe(7);
    expect(p.md('general.quantization_version')?.value).toBe(2);
    const { info, values } = p.tensor('blk.0.ffn_up.weight');
    expect(info.dtype).toBe(8);
    const ref = llama.tensors.get('model.layers.0.mlp.up_proj.weight')!;
    for (let blk = 0; blk < ref.length / 32; blk++) {
      let amax = 0;
      for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(ref[blk * 32 + j]));
      for (let j = 0; j < 32; j++) expect(Math.abs(values[blk * 32 + j] - ref[blk * 32 + j])).toBeLessThanOrEqual(amax / 127 / 2 + amax * 1e-3);
    }
    expect(p.tensor('blk.0.attn_norm.weight').info.dtype).toBe(0);
  });

  it('GPT-2: Conv1D transposed, fused attn_qkv, LayerNorm biases, layer_norm_epsilon', async () => {
    const gpt2 = await makeTinyModel(join(dir, 'gpt2'), 'gpt2', { seed: 5 });
    const out = join(dir, 'gpt2.gguf');
    await exportGguf({ baseDir: gpt2.dir, outFile: out, type: 'f32' });
    const p = await parse(out);
    expect(p.md('general.architecture')?.value).toBe('gpt2');
    expect(p.md('gpt2.attention.layer_norm_epsilon')?.value).toBeCloseTo(1e-5, 10);
    expect(p.md('gpt2.rope.freq_base')).toBeUndefined();
    const names = p.tensorInfos.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['position_embd.weight', 'blk.0.attn_qkv.weight', 'blk.0.attn_qkv.bias', 'blk.1.attn_norm.bias', 'blk.1.ffn_up.bias', 'output_norm.bias']));
    expect(names).not.toContain('output.weight'); // tied
    const qkv = p.tensor('blk.1.attn_qkv.weight');
    expect(qkv.info.shape.map(Number)).toEqual([64, 192]);
    expect(qkv.values).toEqual(transpose2d(gpt2.tensors.get('transformer.h.1.attn.c_attn.weight')!, 64, 192));
    expect(p.tensor('blk.0.attn_qkv.bias').values).toEqual(gpt2.tensors.get('transformer.h.0.attn.c_attn.bias'));
  });

  it('Qwen3 (no permutation, q/k norms, key_length), Qwen2 (biases), Gemma 3 (norms + 1, sliding window)', async () => {
    const q3 = await makeTinyModel(join(dir, 'qwen3'), 'qwen3');
    const p3 = await parse((await exportGguf({ baseDir: q3.dir, outFile: join(dir, 'qwen3.gguf'), type: 'bf16' })).outFile);
    expect(p3.md('general.architecture')?.value).toBe('qwen3');
    expect(p3.md('qwen3.attention.key_length')?.value).toBe(24);
    expect(p3.md('tokenizer.ggml.pre')?.value).toBe('gpt-2');
    expect(p3.tensor('blk.0.attn_q.weight').info.shape.map(Number)).toEqual([64, 96]);
    expect(p3.tensor('blk.0.attn_k_norm.weight').values).toEqual(q3.tensors.get('model.layers.0.self_attn.k_norm.weight'));
    const q = p3.tensor('blk.0.attn_q.weight');
    expect(q.info.dtype).toBe(30);
    const ref = q3.tensors.get('model.layers.0.self_attn.q_proj.weight')!;
    for (let i = 0; i < ref.length; i += 17) expect(Math.abs(q.values[i] - ref[i])).toBeLessThanOrEqual(Math.abs(ref[i]) * 2 ** -8);

    const q2 = await makeTinyModel(join(dir, 'qwen2'), 'qwen2');
    const p2 = await parse((await exportGguf({ baseDir: q2.dir, outFile: join(dir, 'qwen2.gguf'), type: 'q8_0' })).outFile);
    expect(p2.tensor('blk.1.attn_k.bias').values).toEqual(q2.tensors.get('model.layers.1.self_attn.k_proj.bias'));
    expect(p2.tensor('blk.1.ffn_down.weight').info.dtype).toBe(1); // rows of 176 are not whole Q8_0 blocks → F16

    const layerTypes = Array.from({ length: 6 }, (_, i) => ((i + 1) % 6 === 0 ? 'full_attention' : 'sliding_attention'));
    const g = await makeTinyModel(join(dir, 'gemma3'), 'gemma3', { layers: 6, config: { layer_types: layerTypes } });
    const pg = await parse((await exportGguf({ baseDir: g.dir, outFile: join(dir, 'gemma3.gguf'), type: 'f32' })).outFile);
    expect(pg.md('general.architecture')?.value).toBe('gemma3');
    expect(pg.md('gemma3.attention.sliding_window')?.value).toBe(8);
    expect(pg.md('gemma3.attention.key_length')?.value).toBe(32);
    expect(pg.tensor('blk.2.post_ffw_norm.weight').values).toEqual(g.tensors.get('model.layers.2.post_feedforward_layernorm.weight')!.map((x) => x + 1));
    expect(pg.tensor('blk.2.ffn_norm.weight').values).toEqual(g.tensors.get('model.layers.2.pre_feedforward_layernorm.weight')!.map((x) => x + 1));
    const bad = await makeTinyModel(join(dir, 'gemma3-3'), 'gemma3', { tokenizer: true });
    await expect(exportGguf({ baseDir: bad.dir, outFile: join(dir, 'g3.gguf') })).rejects.toThrow(/differ from llama\.cpp's fixed pattern/);
  });

  it('LoRA adapter GGUF: general.type adapter, alpha, lora_a/lora_b with q/k rows permuted', async () => {
    const out = join(dir, 'lora.gguf');
    await exportLoraGguf({ baseDir: llama.dir, adapter: adapterDir, outFile: out });
    const p = await parse(out);
    expect(p.md('general.type')?.value).toBe('adapter');
    expect(p.md('adapter.type')?.value).toBe('lora');
    expect(p.md('adapter.lora.alpha')?.value).toBe(8);
    expect(p.md('general.architecture')?.value).toBe('llama');
    expect(p.tensorInfos.length).toBe(2 * 4 * 2);
    const a = p.tensor('blk.0.attn_q.weight.lora_a');
    const b = p.tensor('blk.0.attn_q.weight.lora_b');
    expect(a.info.shape.map(Number)).toEqual([64, 4]);
    expect(b.info.shape.map(Number)).toEqual([4, 64]);
    const l = adapter.layers.get('model.layers.0.self_attn.q_proj')!;
    expect(a.values).toEqual(l.A);
    expect(b.values).toEqual(permuteQK(l.B, 4, 4));
    expect(p.tensor('blk.1.attn_v.weight.lora_b').values).toEqual(adapter.layers.get('model.layers.1.self_attn.v_proj')!.B);
  });

  it('SentencePiece-style tokenizer → llama.cpp "llama" vocab: scores from merge ranks, BYTE and UNKNOWN types', async () => {
    const spm = buildTinySentencePieceTokenizer();
    const d = join(dir, 'spm');
    await makeTinyModel(d, 'llama', { tokenizer: false, config: { vocab_size: spm.vocabSize, bos_token_id: 1, eos_token_id: spm.specialIds['<|im_end|>'] } });
    writeTinySentencePieceTokenizer(d);
    const p = await parse((await exportGguf({ baseDir: d, outFile: join(dir, 'spm.gguf'), type: 'f32' })).outFile);
    const v = (k: string) => p.md(k)?.value;
    expect(v('tokenizer.ggml.model')).toBe('llama');
    expect(v('tokenizer.ggml.pre')).toBe('default');
    expect(v('tokenizer.ggml.merges')).toBeUndefined();
    expect(v('tokenizer.ggml.add_space_prefix')).toBe(true);
    expect(v('tokenizer.ggml.unknown_token_id')).toBe(0);
    const tokens = v('tokenizer.ggml.tokens') as string[];
    const types = v('tokenizer.ggml.token_type') as number[];
    const scores = v('tokenizer.ggml.scores') as number[];
    expect([types[0], types[1], types[2], types[3 + 0x41]]).toEqual([2, 3, 3, 6]);
    expect(tokens[3 + 0x41]).toBe('<0x41>');
    const merges = (spm.tokenizerJson.model as { merges: string[]; vocab: Record<string, number> });
    expect(scores[merges.vocab[merges.merges[0].replace(' ', '')]]).toBe(-1);
    expect(scores[merges.vocab[merges.merges[9].replace(' ', '')]]).toBe(-10);
  });
});
