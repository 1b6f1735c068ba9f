import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm, readFile, readdir, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportHfModel } from '../../../src/main/formats/export/index.ts';
import { openModelFolder } from '../../../src/main/formats/model/index.ts';
import { defaultLoraConfig, matchTargetModules, initLoraAdapter, writeAdapter } from '../../../src/main/formats/peft/index.ts';
import { mergeLayers, type ScaledLayer } from '../../../src/main/formats/merge/index.ts';
import { f32ToBf16Bits, bf16BitsToF32, SafetensorsFile } from '../../../src/main/formats/safetensors/index.ts';
import { HfTokenizer } from '../../../src/main/formats/tokenizer/index.ts';
import { makeTinyModel, seededNormal, seededRandom } from '../../fixtures/tiny-models.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'export-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const TEMPLATE = "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

async function tinyWithAdapter(family: 'qwen3' | 'gpt2') {
  const tiny = await makeTinyModel(join(dir, `${family}-base`), family);
  const config = defaultLoraConfig({ r: 4, lora_alpha: 16, target_modules: family === 'gpt2' ? ['c_attn', 'c_fc'] : ['q_proj', 'v_proj', 'down_proj'], fan_in_fan_out: family === 'gpt2' });
  const adapter = initLoraAdapter(matchTargetModules(tiny.spec, config).targets, config, seededRandom(1));
  const n = seededNormal(2);
  for (const l of adapter.layers.values()) l.B = l.B.map(() => 0.2 * n());
  adapter.trainingTemplate = { template: { type: 'chat', template: TEMPLATE }, chatTemplate: TEMPLATE };
  const adapterDir = join(dir, `${family}-adapter`);
  await writeAdapter(adapterDir, adapter);
  return { tiny, adapter, adapterDir };
}

describe('HF export', () => {
  it('Qwen3 + adapter → bf16 folder: merged weights, config dtype, tokenizer and the trained chat template', async () => {
    const { tiny, adapter, adapterDir } = await tinyWithAdapter('qwen3');
    const out = join(dir, 'qwen3-merged');
    const progress: string[] = [];
    const res = await exportHfModel({ baseDir: tiny.dir, adapters: [{ adapter: adapterDir }], outDir: out, onProgress: (_d, _t, name) => progress.push(name) });
    expect(res.outDir).toBe(out);
    expect(res.dtype).toBe('bf16');
    expect(res.chatTemplate).toBe('adapter');
    expect(progress.length).toBe(tiny.tensors.size);
    expect((await readdir(out)).sort()).toEqual(
      ['.lora-studio-output.json', 'chat_template.jinja', 'config.json', 'generation_config.json', 'model.safetensors', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json', 'training_template.json'].sort(),
    );
    expect((await readdir(dir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
    expect(config.torch_dtype).toBe('bfloat16');
    expect(config.architectures).toEqual(['Qwen3ForCausalLM']);

    const m = await openModelFolder(out);
    try {
      expect(m.weights.info('model.layers.0.self_attn.q_proj.weight').dtype).toBe('BF16');
      const layer = adapter.layers.get('model.layers.1.mlp.down_proj')!;
      const parts: ScaledLayer[] = [{ layer, scale: 16 / 4 }];
      const expected = mergeLayers(tiny.tensors.get('model.layers.1.mlp.down_proj.weight')!, parts, { fanInFanOut: false }).map((v) => bf16BitsToF32(f32ToBf16Bits(v)));
      expect(await m.readHf('model.layers.1.mlp.down_proj.weight')).toEqual(expected);
      const untouched = tiny.tensors.get('model.layers.1.self_attn.k_proj.weight')!.map((v) => bf16BitsToF32(f32ToBf16Bits(v)));
      expect(await m.readHf('model.layers.1.self_attn.k_proj.weight')).toEqual(untouched);
    } finally {
      await m.close();
    }
    // The exported tokenizer carries the training template in both places, and it loads.
    expect(await readFile(join(out, 'chat_template.jinja'), 'utf8')).toBe(TEMPLATE);
    expect(JSON.parse(await readFile(join(out, 'tokenizer_config.json'), 'utf8')).chat_template).toBe(TEMPLATE);
    const tok = HfTokenizer.load(out);
    expect(Object.values(tok.chatTemplates)).toContain(TEMPLATE);
  });

  it('GPT-2 → f32, sharded: merged Conv1D weights exact, index written', async () => {
    const { tiny, adapter, adapterDir } = await tinyWithAdapter('gpt2');
    const out = join(dir, 'gpt2-merged');
    const res = await exportHfModel({ baseDir: tiny.dir, adapters: [{ adapter: adapterDir, weight: 0.5 }], outDir: out, dtype: 'f32', maxShardBytes: 64 * 1024 });
    expect(res.files.filter((f) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(f)).length).toBeGreaterThan(1);
    expect(res.files).toContain('model.safetensors.index.json');
    const m = await openModelFolder(out);
    try {
      const layer = adapter.layers.get('transformer.h.1.mlp.c_fc')!;
      const expected = mergeLayers(tiny.tensors.get('transformer.h.1.mlp.c_fc.weight')!, [{ layer, scale: 0.5 * 4 }], { fanInFanOut: true });
      expect(await m.readHf('transformer.h.1.mlp.c_fc.weight')).toEqual(expected);
      expect(JSON.parse(await readFile(join(out, 'config.json'), 'utf8')).torch_dtype).toBe('float32');
    } finally {
      await m.close();
    }
  });

  it('never overwrites unless told; overwrite replaces only a previous export; f16 without adapters is a plain conversion', async () => {
    const tiny = await makeTinyModel(join(dir, 'llama-base'), 'llama', { tokenizer: false });
    const out = join(dir, 'existing');
    await mkdir(out);
    await writeFile(join(out, 'keep.txt'), 'mine');
    await expect(exportHfModel({ baseDir: tiny.dir, outDir: out, dtype: 'f16', overwrite: true })).rejects.toThrow(
      /existing already exists and is not something LoRA Studio wrote \(it holds keep\.txt\); overwrite only replaces a previous merged model folder/,
    );
    expect(await readFile(join(out, 'keep.txt'), 'utf8')).toBe('mine');
    await rm(join(out, 'keep.txt'));
    const first = await exportHfModel({ baseDir: tiny.dir, outDir: out, dtype: 'f32' }); // an empty folder is fine
    expect(first.dtype).toBe('f32');
    await expect(exportHfModel({ baseDir: tiny.dir, outDir: out, dtype: 'f16' })).rejects.toThrow(/existing already exists \(a merged model folder written earlier\); choose another folder or pass overwrite: true/);
    const res = await exportHfModel({ baseDir: tiny.dir, outDir: out, dtype: 'f16', overwrite: true });
    expect(res.chatTemplate).toBe('none');
    expect((await readdir(out)).sort()).toEqual(['.lora-studio-output.json', 'config.json', 'generation_config.json', 'model.safetensors']);
    const st = await SafetensorsFile.open(join(out, 'model.safetensors'));
    expect(st.info('model.embed_tokens.weight').dtype).toBe('F16');
    await st.close();
    expect((await readdir(dir)).filter((f) => f.includes('.old-') || f.includes('.tmp-'))).toEqual([]);
    await expect(exportHfModel({ baseDir: tiny.dir, outDir: tiny.dir, overwrite: true })).rejects.toThrow(/is the base model .*: an output never replaces an input/);
    // The folder holding the base (and an unrelated file) is refused too, overwrite or not: nothing is deleted.
    await writeFile(join(dir, 'unrelated.txt'), 'keep me');
    await expect(exportHfModel({ baseDir: tiny.dir, outDir: dir, overwrite: true })).rejects.toThrow(/contains the base model .*: replacing it would delete the input/);
    const { adapterDir } = await tinyWithAdapter('qwen3');
    await expect(
      exportHfModel({ baseDir: join(dir, 'qwen3-base'), adapters: [{ adapter: adapterDir }], outDir: adapterDir, overwrite: true }),
    ).rejects.toThrow(/is the adapter /);
    expect(await readFile(join(dir, 'unrelated.txt'), 'utf8')).toBe('keep me');
    expect(await readdir(tiny.dir)).toContain('model.safetensors');
  });

  it('a failing merge leaves nothing behind', async () => {
    const { tiny, adapter } = await tinyWithAdapter('qwen3');
    adapter.layers.values().next().value!.B[0] = Infinity;
    const out = join(dir, 'never');
    await expect(exportHfModel({ baseDir: tiny.dir, adapters: [{ adapter }], outDir: out })).rejects.toThrow(/is not finite/);
    expect((await readdir(dir)).filter((f) => f.includes('never'))).toEqual([]);
  });
});
