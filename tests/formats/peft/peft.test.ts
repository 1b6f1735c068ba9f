import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { specFromConfig } from '../../../src/main/formats/model/index.ts';
import {
  defaultLoraConfig,
  parseLoraConfig,
  serializeLoraConfig,
  matchTargetModules,
  countTrainable,
  readAdapter,
  writeAdapter,
  initLoraAdapter,
  adapterTensors,
  adapterFromTensors,
  type LoraConfig,
} from '../../../src/main/formats/peft/index.ts';
import { writeSafetensors, SafetensorsFile } from '../../../src/main/formats/safetensors/index.ts';
import { tinyModelConfig, seededRandom } from '../../fixtures/tiny-models.ts';
import { CHATML_TEMPLATE } from '../../fixtures/tiny-tokenizer.ts';
import { GEMMA3_1B_CONFIG, QWEN25_05B_CONFIG, GPT2_CONFIG } from '../model/real-configs.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'peft-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const cfg = (o: Partial<LoraConfig>) => defaultLoraConfig({ r: 16, lora_alpha: 32, ...o });

describe('trainable parameters from shapes (DESIGN.md figures)', () => {
  it('Gemma-3-1b, r=16, ["q_prog","k_proj","v_proj","o_prog"]: 1,171,456 of 1,001,057,408, warning on both typos', () => {
    const spec = specFromConfig(GEMMA3_1B_CONFIG);
    const config = cfg({ target_modules: ['q_prog', 'k_proj', 'v_proj', 'o_prog'] });
    const match = matchTargetModules(spec, config);
    expect(match.targets.length).toBe(26 * 2);
    expect(match.warnings).toHaveLength(2);
    expect(match.warnings[0]).toMatch(/target module "q_prog" matches no module of Gemma3ForCausalLM; it is ignored \(linear modules here: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj, lm_head\)/);
    expect(match.warnings[1]).toMatch(/"o_prog"/);
    const count = countTrainable(spec, config, match);
    expect(count.trainable).toBe(1_171_456);
    expect(count.all).toBe(1_001_057_408);
  });

  it('Qwen2.5-0.5B, r=16, q/k/v/o: 2,162,688', () => {
    const spec = specFromConfig(QWEN25_05B_CONFIG);
    const count = countTrainable(spec, cfg({ target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] }));
    expect(count.trainable).toBe(2_162_688);
    expect(count.trainable).toBe(24 * 16 * (2 * (896 + 896) + 2 * (896 + 128)));
  });

  it('rsLoRA scale, rank/alpha patterns, bias and modules_to_save counts', () => {
    const spec = specFromConfig(QWEN25_05B_CONFIG);
    const m = matchTargetModules(spec, cfg({ target_modules: ['q_proj', 'v_proj'], use_rslora: true, rank_pattern: { 'layers\\.0\\.self_attn\\.q_proj': 4 }, alpha_pattern: { v_proj: 8 } }));
    const q0 = m.targets.find((t) => t.module === 'model.layers.0.self_attn.q_proj')!;
    const q1 = m.targets.find((t) => t.module === 'model.layers.1.self_attn.q_proj')!;
    const v1 = m.targets.find((t) => t.module === 'model.layers.1.self_attn.v_proj')!;
    expect([q0.r, q0.scale]).toEqual([4, 32 / 2]);
    expect([q1.r, q1.scale]).toEqual([16, 32 / 4]);
    expect([v1.r, v1.scale]).toEqual([16, 8 / 4]);
    const withBias = countTrainable(spec, cfg({ target_modules: ['q_proj'], bias: 'lora_only' }));
    expect(withBias.bias).toBe(24 * 896);
    const allBias = countTrainable(spec, cfg({ target_modules: ['q_proj'], bias: 'all' }));
    expect(allBias.bias).toBe(24 * (896 + 128 + 128));
    const mts = countTrainable(spec, cfg({ target_modules: ['q_proj'], modules_to_save: ['lm_head'] }));
    expect(mts.modulesToSave).toBe(151936 * 896);
  });
});

describe('target-module matching as PEFT does it', () => {
  const llama = specFromConfig(tinyModelConfig('llama'));
  const gpt2 = specFromConfig(GPT2_CONFIG);
  const names = (c: Partial<LoraConfig>, spec = llama) => matchTargetModules(spec, cfg(c)).targets.map((t) => t.module);

  it('exact names and suffixes on dot boundaries only', () => {
    expect(names({ target_modules: ['self_attn.q_proj'] })).toEqual(['model.layers.0.self_attn.q_proj', 'model.layers.1.self_attn.q_proj']);
    expect(names({ target_modules: ['model.layers.1.mlp.up_proj'] })).toEqual(['model.layers.1.mlp.up_proj']);
    // "proj" is a substring but never a dot-bounded suffix.
    expect(() => names({ target_modules: ['proj'] })).toThrow(/matches no linear module of LlamaForCausalLM \(available: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj, lm_head\)/);
  });

  it('a string is a full-match regex', () => {
    expect(names({ target_modules: '.*\\.1\\.self_attn\\.(q|v)_proj' })).toEqual(['model.layers.1.self_attn.q_proj', 'model.layers.1.self_attn.v_proj']);
    expect(() => names({ target_modules: 'q_proj' })).toThrow(/matches no linear module/); // full match, not search
  });

  it('"all-linear" takes every linear but the head, and is saved expanded', () => {
    const m = matchTargetModules(llama, cfg({ target_modules: 'all-linear' }));
    expect(m.targets.length).toBe(2 * 7);
    expect(m.targets.some((t) => t.module === 'lm_head')).toBe(false);
    expect(m.resolvedTargetModules).toEqual(['down_proj', 'gate_proj', 'k_proj', 'o_proj', 'q_proj', 'up_proj', 'v_proj']);
    const g = matchTargetModules(gpt2, cfg({ target_modules: 'all-linear' }));
    expect(g.resolvedTargetModules).toEqual(['c_attn', 'c_fc', 'c_proj']);
    expect(g.targets.every((t) => t.fanInFanOut)).toBe(true);
  });

  it('GPT-2 c_attn: one fused module, 768 → 2304', () => {
    const m = matchTargetModules(gpt2, cfg({ target_modules: ['c_attn'], r: 8 }));
    expect(m.targets.length).toBe(12);
    expect(m.targets[0]).toMatchObject({ module: 'transformer.h.0.attn.c_attn', inFeatures: 768, outFeatures: 2304 });
    expect(countTrainable(gpt2, cfg({ target_modules: ['c_attn'], r: 8 })).trainable).toBe(12 * 8 * (768 + 2304));
  });

  it('exclude_modules and layers_to_transform', () => {
    expect(names({ target_modules: ['q_proj', 'v_proj'], exclude_modules: ['model.layers.0.self_attn.v_proj'] })).toEqual([
      'model.layers.0.self_attn.q_proj',
      'model.layers.1.self_attn.q_proj',
      'model.layers.1.self_attn.v_proj',
    ]);
    expect(names({ target_modules: ['q_proj'], layers_to_transform: [1] })).toEqual(['model.layers.1.self_attn.q_proj']);
  });

  it('nothing at all → error; a container or norm → error naming it; empty list → error', () => {
    expect(() => names({ target_modules: ['q_prog'] })).toThrow(/target_modules \["q_prog"\] matches no linear module/);
    expect(() => names({ target_modules: ['q_proj', 'mlp'] })).toThrow(/target module "mlp" matches model\.layers\.0\.mlp, which is not a linear layer/);
    expect(() => names({ target_modules: ['q_proj', 'input_layernorm'] })).toThrow(/"input_layernorm" matches model\.layers\.0\.input_layernorm/);
    expect(() => names({ target_modules: [] })).toThrow(/target_modules is empty/);
  });
});

describe('adapter_config.json', () => {
  it('reads a config PEFT wrote, keeps unknown fields, and refuses features we lack', () => {
    const peftWritten = {
      alpha_pattern: {},
      auto_mapping: null,
      base_model_name_or_path: 'Qwen/Qwen2.5-0.5B',
      bias: 'none',
      eva_config: null,
      exclude_modules: null,
      fan_in_fan_out: false,
      inference_mode: true,
      init_lora_weights: true,
      layer_replication: null,
      layers_pattern: null,
      layers_to_transform: null,
      loftq_config: {},
      lora_alpha: 32,
      lora_bias: false,
      lora_dropout: 0.05,
      megatron_config: null,
      megatron_core: 'megatron.core',
      modules_to_save: null,
      peft_type: 'LORA',
      r: 16,
      rank_pattern: {},
      revision: null,
      some_future_field: [1, 2],
      target_modules: ['v_proj', 'q_proj'],
      task_type: 'CAUSAL_LM',
      use_dora: false,
      use_rslora: false,
    };
    const c = parseLoraConfig(peftWritten);
    expect(c).toMatchObject({ r: 16, lora_alpha: 32, lora_dropout: 0.05, target_modules: ['v_proj', 'q_proj'], base_model_name_or_path: 'Qwen/Qwen2.5-0.5B' });
    expect(JSON.parse(serializeLoraConfig(c)).some_future_field).toEqual([1, 2]);
    expect(() => parseLoraConfig({ ...peftWritten, use_dora: true }, 'a/adapter_config.json')).toThrow(/a\/adapter_config\.json: use_dora=true \(DoRA\) is not supported/);
    expect(() => parseLoraConfig({ ...peftWritten, peft_type: 'IA3' })).toThrow(/peft_type "IA3" is not supported/);
    expect(() => parseLoraConfig({ ...peftWritten, r: 0 })).toThrow(/"r" must be a positive integer, got 0/);
    expect(() => parseLoraConfig({ ...peftWritten, bias: 'some' })).toThrow(/"bias" must be "none", "all" or "lora_only"/);
    expect(() => parseLoraConfig({ ...peftWritten, layer_replication: [[0, 2]] })).toThrow(/"layer_replication" = \[\[0,2\]\] is not supported/);
  });

  it('writes sorted keys with PEFT’s fields', () => {
    const text = serializeLoraConfig(cfg({ target_modules: ['q_proj'] }));
    const keys = Object.keys(JSON.parse(text));
    expect(keys).toEqual([...keys].sort());
    expect(keys).toEqual(expect.arrayContaining(['peft_type', 'task_type', 'r', 'lora_alpha', 'target_modules', 'fan_in_fan_out', 'use_rslora', 'modules_to_save', 'megatron_core', 'lora_bias']));
    expect(text.startsWith('{\n  "alpha_pattern": {},\n')).toBe(true);
  });
});

describe('adapter folders', () => {
  async function tinyAdapter(family: 'llama' | 'gpt2', targets: string[]) {
    const spec = specFromConfig(tinyModelConfig(family));
    const config = cfg({ r: 4, lora_alpha: 8, target_modules: targets, fan_in_fan_out: family === 'gpt2', base_model_name_or_path: `tiny-${family}` });
    const match = matchTargetModules(spec, config);
    const adapter = initLoraAdapter(match.targets, config, seededRandom(5));
    const rnd = seededRandom(6);
    for (const l of adapter.layers.values()) l.B = l.B.map(() => rnd() - 0.5);
    return { spec, adapter };
  }

  it('save → load → save gives identical bytes; the saved key set is frozen', async () => {
    const { spec, adapter } = await tinyAdapter('llama', ['q_proj', 'v_proj']);
    adapter.trainingTemplate = { template: { type: 'chat' }, chatTemplate: CHATML_TEMPLATE };
    const a = join(dir, 'a1');
    const b = join(dir, 'a2');
    expect(await writeAdapter(a, adapter)).toEqual(['adapter_config.json', 'adapter_model.safetensors', 'training_template.json', 'chat_template.jinja']);
    const loaded = await readAdapter(a, spec);
    await writeAdapter(b, loaded);
    for (const f of await readdir(a)) expect((await readFile(join(b, f))).equals(await readFile(join(a, f)))).toBe(true);
    const st = await SafetensorsFile.open(join(a, 'adapter_model.safetensors'));
    expect(st.names().sort()).toEqual([
      'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight',
      'base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight',
      'base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight',
      'base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight',
      'base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight',
      'base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight',
      'base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight',
      'base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight',
    ]);
    // lora_A [r, in], lora_B [out, r]: v_proj is 64 → 2 kv heads × 16.
    expect(st.info('base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight').shape).toEqual([4, 64]);
    expect(st.info('base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight').shape).toEqual([32, 4]);
    expect(st.metadata).toEqual({ format: 'pt' });
    await st.close();
    expect(loaded.trainingTemplate).toEqual({ template: { type: 'chat' }, chatTemplate: CHATML_TEMPLATE });
    expect(await readFile(join(a, 'chat_template.jinja'), 'utf8')).toBe(CHATML_TEMPLATE);
    expect(loaded.layers.get('model.layers.1.self_attn.q_proj')!.B).toEqual(adapter.layers.get('model.layers.1.self_attn.q_proj')!.B);
  });

  it('GPT-2 keys: base_model.model.transformer.h.N.attn.c_attn, A [r, in] and B [out, r]', async () => {
    const { spec, adapter } = await tinyAdapter('gpt2', ['c_attn']);
    const d = join(dir, 'gpt2');
    await writeAdapter(d, adapter);
    const st = await SafetensorsFile.open(join(d, 'adapter_model.safetensors'));
    expect(st.info('base_model.model.transformer.h.0.attn.c_attn.lora_A.weight').shape).toEqual([4, 64]);
    expect(st.info('base_model.model.transformer.h.0.attn.c_attn.lora_B.weight').shape).toEqual([192, 4]);
    await st.close();
    expect(JSON.parse(await readFile(join(d, 'adapter_config.json'), 'utf8')).fan_in_fan_out).toBe(true);
    expect((await readAdapter(d, spec)).layers.size).toBe(2);
  });

  it('TensorMap conversion round-trips', async () => {
    const { adapter } = await tinyAdapter('llama', ['o_proj']);
    const back = adapterFromTensors(adapter.config, adapterTensors(adapter));
    expect([...back.layers.keys()]).toEqual([...adapter.layers.keys()]);
    expect(back.layers.get('model.layers.0.self_attn.o_proj')).toEqual(adapter.layers.get('model.layers.0.self_attn.o_proj'));
  });

  it('reads an adapter laid out by hand like PEFT, and rejects one for another model', async () => {
    const d = join(dir, 'hand');
    const llama = specFromConfig(tinyModelConfig('llama'));
    await writeAdapter(d, (await tinyAdapter('llama', ['k_proj'])).adapter);
    await writeSafetensors(join(d, 'adapter_model.safetensors'), [
      { name: 'base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight', dtype: 'BF16', shape: [2, 64], data: new Float32Array(128).fill(0.5) },
      { name: 'base_model.model.model.layers.0.self_attn.k_proj.lora_B.weight', dtype: 'BF16', shape: [32, 2], data: new Float32Array(64).fill(-1) },
    ]);
    // The config still says the r of the adapter written first (4): the scale alpha/r would be wrong, so it is refused.
    const configPath = join(d, 'adapter_config.json');
    const written = JSON.parse(await readFile(configPath, 'utf8')) as Record<string, unknown>;
    expect(written.r).toBe(4);
    await expect(readAdapter(d, llama)).rejects.toThrow(/adapter_config\.json says r=4 but model\.layers\.0\.self_attn\.k_proj's tensors in .*adapter_model\.safetensors have rank 2/);
    await writeFile(configPath, JSON.stringify({ ...written, r: 2 }));
    const a = await readAdapter(d, llama);
    expect(a.layers.get('model.layers.0.self_attn.k_proj')).toMatchObject({ r: 2, inFeatures: 64, outFeatures: 32 });
    await writeSafetensors(join(d, 'adapter_model.safetensors'), [
      { name: 'base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight', dtype: 'F32', shape: [2, 64], data: new Float32Array(128) },
      { name: 'base_model.model.model.layers.0.self_attn.k_proj.lora_B.weight', dtype: 'F32', shape: [48, 2], data: new Float32Array(96) },
    ]);
    await expect(readAdapter(d, llama)).rejects.toThrow(/k_proj is 64→32 in the base model but the adapter has 64→48 \(adapter for another model\?\)/);
    await writeSafetensors(join(d, 'adapter_model.safetensors'), [
      { name: 'base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight', dtype: 'F32', shape: [2, 64], data: new Float32Array(128) },
    ]);
    await expect(readAdapter(d, llama)).rejects.toThrow(/k_proj has lora_A but no lora_B/);
    await writeSafetensors(join(d, 'adapter_model.safetensors'), [
      { name: 'base_model.model.model.embed_tokens.lora_embedding_A', dtype: 'F32', shape: [2, 64], data: new Float32Array(128) },
    ]);
    await expect(readAdapter(d, llama)).rejects.toThrow(/unsupported tensors \(LoRA on embeddings, DoRA/);
    await expect(readAdapter(join(dir, 'nope'))).rejects.toThrow(/adapter_config\.json: missing \(not a PEFT adapter folder\)/);
  });
});
