// The double is only a fair stand-in if its gradients and AdamW are right: check them.
import { describe, expect, it } from 'vitest';
import { BigramLoraDouble, A_NAME, B_NAME } from './bigram-lora-double.ts';
import { collate } from '../../../src/main/engine/data/batches.ts';
import { makeExamples, PAD, VOCAB } from './fixtures.ts';

describe('bigram LoRA test double', () => {
  const batch = collate(makeExamples(3, 5), { padId: PAD, maxLength: 16 });

  it('has gradients that match central finite differences', async () => {
    const session = new BigramLoraDouble({ vocab: VOCAB, rank: 2, alpha: 4, seed: 3, randomB: true });
    await session.microStep(batch);
    const { A: gA, B: gB } = session.gradients();
    const loss = async () => {
      const r = await session.evaluate(batch);
      return r.nllPerSequence.reduce((a, b) => a + b, 0);
    };
    // Perturb a float32 parameter; float32 storage limits the step, so the tolerance is loose-ish.
    for (const [param, grad] of [
      [session.A, gA],
      [session.B, gB],
    ] as const) {
      for (const i of [0, 3, 7, param.length - 1]) {
        const original = param[i];
        const h = 1e-2;
        param[i] = original + h;
        const up = await loss();
        param[i] = original - h;
        const down = await loss();
        param[i] = original;
        const numeric = (up - down) / (Math.fround(original + h) - Math.fround(original - h)); // the step float32 really took
        expect(Math.abs(grad[i] - numeric)).toBeLessThan(1e-3 * Math.max(1, Math.abs(numeric)));
      }
    }
    expect(session.getTrainables().get(A_NAME)!.shape).toEqual([2, VOCAB]);
    expect(session.getTrainables().get(B_NAME)!.shape).toEqual([VOCAB, 2]);
  });

  it('with B = 0 gives exactly the base model', async () => {
    const session = new BigramLoraDouble({ vocab: VOCAB, rank: 2, alpha: 4, seed: 3 });
    const r = await session.evaluate(batch);
    // Recompute the base NLL straight from W0.
    let expected = 0;
    for (let i = 0; i < batch.labels.length; i++) {
      if (batch.labels[i] === -100) continue;
      const x = batch.inputIds[i];
      const row = Array.from(session.W0.subarray(x * VOCAB, (x + 1) * VOCAB));
      const max = Math.max(...row);
      const logZ = max + Math.log(row.reduce((s, z) => s + Math.exp(z - max), 0));
      expected += logZ - row[batch.labels[i]];
    }
    expect(r.nllPerSequence.reduce((a, b) => a + b, 0)).toBeCloseTo(expected, 10);
  });
});
