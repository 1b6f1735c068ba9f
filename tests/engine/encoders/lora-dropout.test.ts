// LoRA dropout on encoder task models (the recipes' lora_dropout 0.1): PEFT drops the input of each LoRA branch
// (lora_B(lora_A(dropout(x)))) in training only. Checked on a tiny BERT classifier trained one step (so B ≠ 0):
// training steps draw a fresh mask per seed and differ from the same weights without dropout; evaluation and the
// forward have no dropout (equal to the dropout-free session's, run after run); with dropout 0 nothing is random;
// and a run's adapter_config.json records the rate.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoraSection } from '../../../src/common/api/runs.ts';
import { openEncoderSession } from '../../../src/main/engine/encoders/open.ts';
import type { Batch } from '../../../src/main/engine/session.ts';
import { writeTinyEncoder } from '../../fixtures/tiny-encoders.ts';

const UPDATE = { lr: 0.05, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 1 };
const lora = (dropout: number): LoraSection => ({
  r: 4,
  lora_alpha: 8,
  lora_dropout: dropout,
  target_modules: ['query', 'value'],
  bias: 'none',
  use_rslora: false,
});

function batch(): Batch {
  const B = 3,
    T = 6;
  const inputIds = Int32Array.from({ length: B * T }, (_, i) => 3 + ((i * 7 + 2) % 19));
  const attentionMask = new Uint8Array(B * T).fill(1);
  const labels = new Int32Array(B * T).fill(-100);
  labels[0] = 1;
  labels[T] = 0;
  labels[2 * T] = 2;
  return { B, T, inputIds, attentionMask, labels, tokenTypeIds: new Int32Array(B * T) };
}

let dir: string;
let model: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'enc-lora-dropout-'));
  model = (await writeTinyEncoder(join(dir, 'bert'), 'bert', 'masked_lm', { seed: 5 })).dir;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const open = (dropout: number) =>
  openEncoderSession({
    model,
    method: 'lora',
    lora: lora(dropout),
    seed: 1,
    task: { task: 'sequence_classification', labels: ['a', 'b', 'c'] },
  });

describe('LoRA dropout on an encoder task model', () => {
  it('drops the LoRA input in training steps only; evaluation and the forward are deterministic', async () => {
    const dropped = await open(0.5);
    const plain = await open(0);
    try {
      // one update so the LoRA branch (B starts at 0) says something
      await dropped.session.microStep(batch(), { dropoutSeed: 11 });
      await dropped.session.applyUpdate(UPDATE);
      plain.session.setTrainables(dropped.session.getTrainables());

      // the loss of a micro-step (gradients accumulate meanwhile; no update is applied)
      const step = async (s: typeof dropped, seed: number) =>
        (await s.session.microStep(batch(), { dropoutSeed: seed })).lossSum;
      const [a, b, again] = [await step(dropped, 1), await step(dropped, 2), await step(dropped, 1)];
      expect(again).toBe(a); // the mask comes from the seed (exact resume)
      expect(Math.abs(a - b)).toBeGreaterThan(1e-6); // another seed, another mask
      const none = await step(plain, 1);
      expect(Math.abs(a - none)).toBeGreaterThan(1e-6);
      expect(await step(plain, 2)).toBe(none); // rate 0: nothing random

      const evalD = await dropped.session.evaluate(batch());
      const evalP = await plain.session.evaluate(batch());
      for (let i = 0; i < evalD.nllPerSequence.length; i++)
        expect(evalD.nllPerSequence[i]).toBeCloseTo(evalP.nllPerSequence[i], 6);
      const [fd, fp] = [await dropped.forward(batch()), await plain.forward(batch())];
      if (fd.task !== 'sequence_classification' || fp.task !== 'sequence_classification') throw new Error('task');
      for (let i = 0; i < fd.logits.length; i++) expect(fd.logits[i]).toBeCloseTo(fp.logits[i], 6);
    } finally {
      await dropped.dispose();
      await plain.dispose();
    }
  });

  it('the adapter written records lora_dropout as trained', async () => {
    const s = await open(0.1);
    try {
      const out = join(dir, 'adapter');
      await s.writeAdapter(out, s.session.getTrainables());
      const config = JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8'));
      expect(config).toMatchObject({ lora_dropout: 0.1, task_type: 'SEQ_CLS' });
    } finally {
      await s.dispose();
    }
  });
});
