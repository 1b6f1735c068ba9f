import { describe, expect, it } from 'vitest';
import { BatchPlan, collate } from '../../../src/main/engine/data/batches.ts';
import { evaluateBeforeAfter, evaluateSplit } from '../../../src/main/engine/trainer/evaluate.ts';
import { BigramLoraDouble } from './bigram-lora-double.ts';
import { makeExamples, PAD, VOCAB } from './fixtures.ts';

const examples = makeExamples(7, 11);
const plan = new BatchPlan(examples, { seed: 0, microBatchSize: 3, maxLength: 16, padId: PAD, shuffle: false });

describe('evaluation', () => {
  it('perplexity is exp of the token-weighted mean NLL, per example kept in split order', async () => {
    const session = new BigramLoraDouble({ vocab: VOCAB, rank: 2, alpha: 4, seed: 5, randomB: true });
    const result = await evaluateSplit(session, plan);
    expect(result.examples.map((e) => e.index)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    // Each example alone, then weighted by its trained tokens (not a mean of per-example means).
    let nll = 0;
    let tokens = 0;
    for (const [i, example] of examples.entries()) {
      const alone = await session.evaluate(collate([example], { padId: PAD, maxLength: 16 }));
      expect(result.examples[i].nll).toBeCloseTo(alone.nllPerSequence[0], 10);
      expect(result.examples[i].tokens).toBe(alone.tokensPerSequence[0]);
      const trainedAfterFirst = Array.from(example.trained).slice(1).reduce((a, b) => a + b, 0);
      expect(alone.tokensPerSequence[0]).toBe(trainedAfterFirst); // prompt tokens are masked as in training
      nll += alone.nllPerSequence[0];
      tokens += alone.tokensPerSequence[0];
    }
    expect(result.tokens).toBe(tokens);
    expect(result.loss).toBeCloseTo(nll / tokens, 12);
    expect(result.perplexity).toBeCloseTo(Math.exp(nll / tokens), 10);
  });

  it('compares base and base + adapter on the same rows, most improved first', async () => {
    const base = new BigramLoraDouble({ vocab: VOCAB, rank: 2, alpha: 4, seed: 5 }); // B = 0: exactly the base
    const tuned = new BigramLoraDouble({ vocab: VOCAB, rank: 2, alpha: 4, seed: 5, randomB: true });
    const result = await evaluateBeforeAfter(base, tuned, plan);
    expect(result.examples).toHaveLength(7);
    const change = result.examples.map((e) => (e.adapterNll - e.baseNll) / e.tokens);
    expect([...change].sort((a, b) => a - b)).toEqual(change);
    expect(result.base.perplexity).not.toBeCloseTo(result.adapter.perplexity, 3);
    expect(result.examples.reduce((a, e) => a + e.baseNll, 0) / result.base.tokens).toBeCloseTo(result.base.loss, 12);
  });

  it('refuses packed plans, which would merge examples', async () => {
    const packed = new BatchPlan(examples, { seed: 0, microBatchSize: 3, maxLength: 16, padId: PAD, packing: true });
    await expect(evaluateSplit(new BigramLoraDouble({ vocab: VOCAB, rank: 2, alpha: 4, seed: 5 }), packed)).rejects.toThrow(/one example per row/);
  });
});
