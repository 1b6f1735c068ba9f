// RunConfig base_dtype through the model session: `auto` holds a bf16 (or f16) checkpoint's base in its own type —
// lossless, so the logits are the f32 session's exactly — and an f32 checkpoint in f32; f16 asked for on an f32
// checkpoint halves the base as held and reported (baseWeightBytes), at a small stated error; QLoRA's auto holds an
// f32 checkpoint's embedding and norms in f16. A misspelt type is
// refused by the contract, naming the field.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTinyModel } from '../../fixtures/tiny-models.ts';
import { openModelSession } from '../../../src/main/engine/trainer/model-session.ts';
import type { CpuTrainingSession } from '../../../src/main/engine/executors/onnx/session.ts';
import { RunConfig } from '../../../src/common/api/runs.ts';
import { relErr } from '../helpers.ts';
import { tinyBatch } from '../tiny.ts';

const root = mkdtempSync(join(tmpdir(), 'base-dtype-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const lora: RunConfig['lora'] = { r: 4, lora_alpha: 8, lora_dropout: 0, target_modules: ['q_proj', 'v_proj'], bias: 'none', use_rslora: false };

async function open(dir: string, base_dtype: RunConfig['base_dtype'], method: 'lora' | 'qlora' = 'lora') {
  const m = await openModelSession({ config: { model: dir, method, lora, seed: 1, base_dtype }, trainingTemplate: null, threads: 1 });
  const s = m.session as CpuTrainingSession;
  const logits = (await s.forward(tinyBatch(m.spec.vocabSize, 6))).logits;
  const mem = s.memory();
  await s.dispose();
  return { logits, mem, baseWeightBytes: m.baseWeightBytes };
}

describe('base_dtype', () => {
  it('auto keeps a bf16 checkpoint in bf16 with exactly the f32 logits; f32 checkpoints stay f32', async () => {
    const bf = await makeTinyModel(join(root, 'bf16'), 'llama', { seed: 3, dtype: 'BF16', tokenizer: false });
    const auto = await open(bf.dir, 'auto');
    const f32 = await open(bf.dir, 'f32');
    expect(auto.mem.baseDtype).toBe('bf16');
    expect(f32.mem.baseDtype).toBe('f32');
    expect(auto.mem.weightFileBytes * 2).toBe(f32.mem.weightFileBytes);
    expect(auto.baseWeightBytes * 2).toBe(f32.baseWeightBytes);
    expect(relErr(auto.logits, f32.logits)).toBeLessThan(1e-6); // the same float32 values, the same arithmetic

    const plain = await makeTinyModel(join(root, 'f32'), 'llama', { seed: 3, tokenizer: false });
    expect((await open(plain.dir, 'auto')).mem.baseDtype).toBe('f32');
  });

  it('f16 on an f32 checkpoint halves the base (LoRA and QLoRA) within 2e-3 of the f32 logits', async () => {
    const plain = await makeTinyModel(join(root, 'f32b'), 'qwen2', { seed: 5, tokenizer: false });
    const exact = await open(plain.dir, 'f32');
    const half = await open(plain.dir, 'f16');
    expect(half.mem.baseDtype).toBe('f16');
    expect(half.baseWeightBytes * 2).toBe(exact.baseWeightBytes);
    const err = relErr(half.logits, exact.logits);
    expect(err).toBeGreaterThan(0);
    expect(err).toBeLessThan(2e-3);
    const q32 = await open(plain.dir, 'f32', 'qlora');
    const q16 = await open(plain.dir, 'f16', 'qlora');
    expect(q16.mem.jsWeightBytes).toBe(q32.mem.jsWeightBytes); // NF4 linears unchanged
    expect(q16.mem.weightFileBytes * 2).toBe(q32.mem.weightFileBytes); // embedding and norms halved
    expect(relErr(q16.logits, q32.logits)).toBeLessThan(2e-3); // the half embedding's error, beside NF4's own
    const qAuto = await open(plain.dir, 'auto', 'qlora');
    expect(qAuto.mem.baseDtype).toBe('f16'); // QLoRA's auto on an f32 checkpoint: the float rest in f16
    expect(relErr(qAuto.logits, q16.logits)).toBe(0);
  });

  it('the contract refuses an unknown type, naming the field, and defaults to auto', () => {
    const r = RunConfig.safeParse({ model: '/m', dataset: { path: '/d.jsonl' }, base_dtype: 'fp16' });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues.map((i) => i.path))).toContain('base_dtype');
    const ok = RunConfig.safeParse({ model: '/m', dataset: { path: '/d.jsonl' } });
    expect(ok.success && ok.data.base_dtype).toBe('auto');
  });
});
