// Which executor an encoder task run trains on: the run's `executor` as decoder runs choose it (openExecutor) —
// 'cpu' as asked; 'auto' the CPU when no GPU is seen, CUDA when the addon sees one, the CPU for full fine-tuning
// (LoRA A/B and full heads only on the device); 'cuda' without a GPU refused with the usual sentence that points to
// --device cpu. With the addon replaced by the float64 plan harness (tests/native/fake-addon.ts), the CUDA session
// opened for a LoRA classification run computes the CPU session's loss and logits.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunConfig, type RunConfigInput } from '../../../src/common/api/runs.ts';
import { openTaskModelSession } from '../../../src/main/engine/trainer/task-session.ts';
import type { Batch } from '../../../src/main/engine/session.ts';
import { fakeAddon } from '../../native/fake-addon.ts';
import { writeTinyEncoder } from '../../fixtures/tiny-encoders.ts';
import { probeCuda } from '../../../src/main/engine/executors/cuda/probe.ts';
import { loadAddon } from '../../../src/main/engine/executors/cuda/addon.ts';
import { BUNDLED_ENCODER_DATA_DIR, BUNDLED_ENCODER_DIR } from '../../../src/main/core/bundled.ts';

const noGpu = () => ({ available: false, device: null, reason: 'no NVIDIA driver (libcuda.so.1 not found)' });
const request = { task: 'sequence_classification' as const, labels: ['negative', 'positive'] };

let dir: string;
let model: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'task-executor-'));
  model = (await writeTinyEncoder(join(dir, 'bert'), 'bert', 'masked_lm', { seed: 3 })).dir;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = (o: Partial<RunConfigInput> = {}) =>
  RunConfig.parse({
    model,
    dataset: { path: '-', eval_split: { kind: 'none' } },
    task: 'classification',
    method: 'lora',
    lora: { r: 2, lora_alpha: 4, lora_dropout: 0, target_modules: ['query', 'value'] },
    micro_batch_size: 2,
    max_seq_length: 6,
    save_steps: null,
    ...o,
  });

function batch(): Batch {
  const B = 2,
    T = 6;
  const inputIds = Int32Array.from({ length: B * T }, (_, i) => 3 + ((i * 5 + 1) % 17));
  const attentionMask = new Uint8Array(B * T).fill(1);
  attentionMask[T + 5] = 0;
  inputIds[T + 5] = 0;
  const labels = new Int32Array(B * T).fill(-100);
  labels[0] = 1;
  labels[T] = 0;
  return { B, T, inputIds, attentionMask, labels, tokenTypeIds: Int32Array.from([0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 0]) };
}

describe('encoder task runs choose their executor like decoder runs', () => {
  it('cpu as asked; auto on a machine without a GPU is the CPU and says why', async () => {
    const cpu = await openTaskModelSession({ config: config({ executor: 'cpu' }), request });
    await cpu.session.dispose();
    expect(cpu.executor).toEqual({ name: 'cpu', reason: 'asked for the CPU executor' });
    const auto = await openTaskModelSession({
      config: config({ executor: 'auto' }),
      request,
      executorOptions: () => ({ probe: noGpu }),
    });
    await auto.session.dispose();
    expect(auto.executor).toEqual({ name: 'cpu', reason: 'auto: CPU (no NVIDIA driver (libcuda.so.1 not found))' });
  });

  it('--device cuda without a GPU is refused with the usual sentence, before any weight is read', async () => {
    await expect(
      openTaskModelSession({ config: config({ executor: 'cuda' }), request, executorOptions: () => ({ probe: noGpu }) }),
    ).rejects.toThrow(
      'the CUDA executor is not available: no NVIDIA driver (libcuda.so.1 not found). Use --device cpu (executor "cpu"), or "auto" to fall back to the CPU.',
    );
  });

  it('auto with a GPU: LoRA + the head train on CUDA with the CPU’s loss and logits; full fine-tuning stays on the CPU', async () => {
    let addon: ReturnType<typeof fakeAddon> | undefined;
    const gpu = await openTaskModelSession({
      config: config({ executor: 'auto' }),
      request,
      executorOptions: (program) => ({ addon: (addon = fakeAddon(program)) }),
    });
    const cpu = await openTaskModelSession({ config: config({ executor: 'cpu' }), request });
    try {
      expect(gpu.executor).toEqual({ name: 'cuda', reason: 'auto: CUDA on fake' });
      expect(addon!.sessions).toHaveLength(1);
      // the device's activation slots fit the run's micro-batch (micro_batch_size × max_seq_length tokens)
      expect(addon!.sessions[0].capacityTokens).toBe(2 * 6);
      const [a, b] = [await cpu.session.microStep(batch()), await gpu.session.microStep(batch())];
      expect(b.tokens).toBe(a.tokens);
      expect(Math.abs(b.lossSum - a.lossSum) / a.lossSum).toBeLessThan(1e-5);
      const forward = (s: typeof cpu.session) =>
        (s as unknown as { forward(b: Batch): Promise<{ logits: ArrayLike<number> }> }).forward(batch());
      const [la, lb] = [(await forward(cpu.session)).logits, (await forward(gpu.session)).logits];
      expect(lb.length).toBe(la.length);
      for (let i = 0; i < la.length; i++) expect(lb[i]).toBeCloseTo(la[i], 5);
    } finally {
      await gpu.session.dispose();
      await cpu.session.dispose();
    }
    const full = await openTaskModelSession({
      config: config({ executor: 'auto', method: 'full' }),
      request,
      executorOptions: (program) => ({ addon: fakeAddon(program) }),
    });
    await full.session.dispose();
    expect(full.executor.name).toBe('cpu');
    expect(full.executor.reason).toMatch(/^auto: CPU \(/);
  });
});

describe('lora-studio train --task classification --device cuda', () => {
  // where a GPU really is, the run would train there: the refusal is for machines without one (these)
  it.skipIf(probeCuda(loadAddon).available)('fails with the usual sentence, not a stack', async () => {
    const bin = resolve(import.meta.dirname, '../../../bin/lora-studio.js');
    const args = ['--data-dir', join(dir, 'data'), 'train', '--task', 'classification', '--model', BUNDLED_ENCODER_DIR,
      '--dataset', join(BUNDLED_ENCODER_DATA_DIR, 'sst2/train.jsonl'), '--labels', 'negative,positive',
      '--max-steps', '1', '--eval-ratio', '0', '--device', 'cuda'];
    const r = await new Promise<{ code: number; out: string }>((done) =>
      execFile(process.execPath, [bin, ...args], { timeout: 300_000 }, (err, stdout, stderr) =>
        done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
      ),
    );
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/the CUDA executor is not available: .*Use --device cpu \(executor "cpu"\), or "auto" to fall back to the CPU\./);
    expect(r.out).not.toMatch(/\n\s+at /);
  }, 300_000);
});
