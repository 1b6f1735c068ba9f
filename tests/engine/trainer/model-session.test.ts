// The model session of a run, per method, on tiny GPT-2 / Gemma 3 folders: what it writes is what the rest of the
// studio (and PEFT / transformers) reads. A GPT-2 LoRA adapter records fan_in_fan_out and merges through
// formats/export into a model whose logits equal base + attached adapter; a QLoRA session holds its base in NF4;
// a full session writes a model folder that opens as the same family.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTinyModel } from '../../fixtures/tiny-models.ts';
import { openModelSession } from '../../../src/main/engine/trainer/model-session.ts';
import { readAdapter } from '../../../src/main/formats/peft/index.ts';
import { exportHfModel } from '../../../src/main/formats/export/index.ts';
import { openModelFolder } from '../../../src/main/formats/model/index.ts';
import type { CpuTrainingSession } from '../../../src/main/engine/executors/onnx/session.ts';
import type { TensorMap } from '../../../src/main/engine/session.ts';
import type { RunConfig } from '../../../src/common/api/runs.ts';
import { randn, relErr } from '../helpers.ts';
import { tinyBatch } from '../tiny.ts';

const root = mkdtempSync(join(tmpdir(), 'model-session-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const lora = (targets: string[]): RunConfig['lora'] => ({ r: 4, lora_alpha: 8, lora_dropout: 0, target_modules: targets, bias: 'none', use_rslora: false });

describe('openModelSession', () => {
  it('GPT-2 LoRA: the adapter says fan_in_fan_out and its merge equals the attached adapter', async () => {
    const tiny = await makeTinyModel(join(root, 'gpt2'), 'gpt2', { seed: 8 });
    const m = await openModelSession({ config: { model: tiny.dir, method: 'lora', lora: lora(['c_attn', 'c_proj']), seed: 1 }, trainingTemplate: null, threads: 1 });
    const batch = tinyBatch(tiny.spec.vocabSize, 8);
    const trained: TensorMap = new Map([...m.session.getTrainables()].map(([k, t], i) => [k, { shape: t.shape, data: Float32Array.from(randn(t.data.length, 90 + i, 0.1)) }]));
    m.session.setTrainables(trained);
    const attached = (await (m.session as CpuTrainingSession).forward(batch)).logits;
    await m.writeAdapter(join(root, 'gpt2-adapter'), trained);
    await m.session.dispose();
    const adapter = await readAdapter(join(root, 'gpt2-adapter'), tiny.spec);
    expect(adapter.config.fan_in_fan_out).toBe(true);
    const cAttn = adapter.layers.get('transformer.h.0.attn.c_attn')!;
    expect([cAttn.outFeatures, cAttn.r, cAttn.B.length]).toEqual([3 * tiny.spec.hiddenSize, 4, 3 * tiny.spec.hiddenSize * 4]);

    await exportHfModel({ baseDir: tiny.dir, adapters: [{ adapter: join(root, 'gpt2-adapter') }], outDir: join(root, 'gpt2-merged'), dtype: 'f32' });
    const merged = await openModelSession({ config: { model: join(root, 'gpt2-merged'), method: 'lora', lora: lora(['c_attn']), seed: 1 }, trainingTemplate: null, threads: 1 });
    try {
      expect(relErr((await (merged.session as CpuTrainingSession).forward(batch)).logits, attached)).toBeLessThan(1e-5);
    } finally {
      await merged.session.dispose();
    }
  });

  it('Gemma 3 QLoRA holds its base linears in NF4; full writes a Gemma 3 model folder', async () => {
    const tiny = await makeTinyModel(join(root, 'gemma3'), 'gemma3', { seed: 9 });
    const targets = lora(['q_proj', 'k_proj', 'v_proj', 'o_proj']);
    const plain = await openModelSession({ config: { model: tiny.dir, method: 'lora', lora: targets, seed: 1 }, trainingTemplate: null, threads: 1 });
    const q = await openModelSession({ config: { model: tiny.dir, method: 'qlora', lora: targets, seed: 1, bnb_4bit_use_double_quant: true }, trainingTemplate: null, threads: 1 });
    await plain.session.dispose();
    await q.session.dispose();
    expect(q.trainableParameters).toBe(plain.trainableParameters);
    // embeddings and norms stay float32; 7 linears per layer shrink to NF4 (+ 8-bit scales)
    expect(q.baseWeightBytes).toBeLessThan(plain.baseWeightBytes * 0.6);

    const full = await openModelSession({ config: { model: tiny.dir, method: 'full', lora: targets, seed: 1 }, trainingTemplate: { template: { type: 'chat' }, chatTemplate: '{{ messages }}' }, threads: 1 });
    try {
      expect(full.trainableParameters).toBe(full.totalParameters);
      expect(full.baseWeightBytes).toBe(0);
      await full.writeAdapter(join(root, 'gemma3-full'), full.session.getTrainables());
    } finally {
      await full.session.dispose();
    }
    const folder = await openModelFolder(join(root, 'gemma3-full'));
    try {
      expect(folder.spec.family).toBe('gemma3');
      expect(folder.tokenizerFiles).toEqual(expect.arrayContaining(['tokenizer.json', 'chat_template.jinja']));
      expect([...(await folder.readHf('model.layers.1.mlp.down_proj.weight'))]).toEqual([...tiny.tensors.get('model.layers.1.mlp.down_proj.weight')!]);
    } finally {
      await folder.close();
    }
  });
});
