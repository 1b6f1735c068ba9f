import { describe, expect, it } from 'vitest';
import { BatchPlan, IGNORE_INDEX, collate, packInOrder, shiftLabels, truncateExample, type TokenizedExample } from '../../../src/main/engine/data/batches.ts';
import { epochPermutation, hashSeed, SeededRandom } from '../../../src/main/engine/data/random.ts';

const example = (ids: number[], trained: number[]): TokenizedExample => ({ ids: Int32Array.from(ids), trained: Uint8Array.from(trained) });

describe('labels, padding, truncation', () => {
  it('shifts labels: label[t] = ids[t+1] where token t+1 is trained, else -100', () => {
    // prompt 10 11 | completion 12 13 <eos>=2
    const labels = shiftLabels(example([10, 11, 12, 13, 2], [0, 0, 1, 1, 1]));
    expect(Array.from(labels)).toEqual([IGNORE_INDEX, 12, 13, 2, IGNORE_INDEX]);
  });

  it('pads on the right with the pad id, masks and never trains padding', () => {
    const batch = collate([example([5, 6, 7], [1, 1, 1]), example([8], [1])], { padId: 0, maxLength: 16 });
    expect([batch.B, batch.T]).toEqual([2, 3]);
    expect(Array.from(batch.inputIds)).toEqual([5, 6, 7, 8, 0, 0]);
    expect(Array.from(batch.attentionMask)).toEqual([1, 1, 1, 1, 0, 0]);
    expect(Array.from(batch.labels)).toEqual([6, 7, IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX]);
    expect(batch.segmentIds).toBeUndefined();
  });

  it('pads to max length when fixed shapes are asked for', () => {
    const batch = collate([example([5, 6], [1, 1])], { padId: 9, maxLength: 4, padTo: 'max_length' });
    expect(batch.T).toBe(4);
    expect(Array.from(batch.inputIds)).toEqual([5, 6, 9, 9]);
  });

  it('truncates to max length, keeping the start, and says so', () => {
    const cut = truncateExample(example([1, 2, 3, 4, 5], [0, 1, 1, 1, 1]), 3);
    expect(Array.from(cut.ids)).toEqual([1, 2, 3]);
    expect(cut.truncated).toBe(true);
    const batch = collate([example([1, 2, 3, 4, 5], [0, 1, 1, 1, 1])], { padId: 0, maxLength: 3 });
    expect(Array.from(batch.labels)).toEqual([2, 3, IGNORE_INDEX]);
  });

  it('rejects an example whose ids and trained flags differ in length', () => {
    expect(() => collate([example([1, 2], [1])], { padId: 0, maxLength: 8 })).toThrow(/2 ids but 1 trained flags/);
  });
});

describe('packing', () => {
  it('packs whole examples first-fit and never splits one', () => {
    expect(packInOrder([3, 4, 2, 5, 1], [0, 1, 2, 3, 4], 6)).toEqual([[0, 2, 4], [1], [3]]);
  });

  it('tags each example with its own segment and never trains across a boundary', () => {
    const plan = new BatchPlan([example([1, 2, 3], [1, 1, 1]), example([4, 5], [1, 1]), example([6, 7, 8, 9], [1, 1, 1, 1])], {
      seed: 0,
      microBatchSize: 8,
      maxLength: 5,
      padId: 0,
      packing: true,
      shuffle: false,
    });
    const { batch } = plan.batchAt({ epoch: 0, microBatch: 0 });
    expect([batch.B, batch.T]).toEqual([2, 5]);
    expect(Array.from(batch.inputIds)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 0]);
    expect(Array.from(batch.segmentIds!)).toEqual([1, 1, 1, 2, 2, 1, 1, 1, 1, 0]);
    // token 3's "next token" is 4 from another example: not a target.
    expect(Array.from(batch.labels)).toEqual([2, 3, IGNORE_INDEX, 5, IGNORE_INDEX, 7, 8, 9, IGNORE_INDEX, IGNORE_INDEX]);
    // Packed labels are exactly the unpacked ones, laid side by side.
    const unpacked = collate([example([1, 2, 3], [1, 1, 1]), example([4, 5], [1, 1])], { padId: 0, maxLength: 5 });
    expect(Array.from(batch.labels.subarray(0, 5))).toEqual([...Array.from(unpacked.labels.subarray(0, 3)), ...Array.from(unpacked.labels.subarray(3, 5))]);
  });
});

describe('order and position', () => {
  const examples = Array.from({ length: 10 }, (_, i) => example([100 + i, 200 + i], [1, 1]));
  const options = { seed: 7, microBatchSize: 3, maxLength: 8, padId: 0 };

  it('shuffles deterministically per seed and differently per epoch', () => {
    expect(Array.from(epochPermutation(10, 7, 0))).toEqual(Array.from(epochPermutation(10, 7, 0)));
    expect(Array.from(epochPermutation(10, 7, 0))).not.toEqual(Array.from(epochPermutation(10, 7, 1)));
    expect(Array.from(epochPermutation(10, 8, 0))).not.toEqual(Array.from(epochPermutation(10, 7, 0)));
    expect(Array.from(epochPermutation(10, 7, 3)).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('visits every example exactly once per epoch, the last micro-batch partial', () => {
    const plan = new BatchPlan(examples, options);
    expect(plan.microBatchesInEpoch(0)).toBe(4);
    const seen: number[] = [];
    let position = { epoch: 0, microBatch: 0 };
    while (position.epoch === 0) {
      const { batch, exampleIndices } = plan.batchAt(position);
      expect(batch.B).toBe(exampleIndices.length);
      exampleIndices.forEach((index, b) => expect(batch.inputIds[b * batch.T]).toBe(100 + index));
      seen.push(...exampleIndices);
      position = plan.advance(position);
    }
    expect(seen.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(position).toEqual({ epoch: 1, microBatch: 0 });
  });

  it('a fresh plan resumed from a JSON position yields the same batches', () => {
    const a = new BatchPlan(examples, options);
    let position = { epoch: 0, microBatch: 0 };
    for (let i = 0; i < 6; i++) position = a.advance(position);
    const saved = JSON.parse(JSON.stringify(position));
    const b = new BatchPlan(examples, options);
    for (let i = 0; i < 5; i++) {
      expect(Array.from(b.batchAt(saved).batch.inputIds)).toEqual(Array.from(a.batchAt(position).batch.inputIds));
      position = a.advance(position);
      Object.assign(saved, b.advance(saved));
    }
  });

  it('seeded random is reproducible from its saved state', () => {
    const r = new SeededRandom(hashSeed(1, 2));
    r.next();
    const copy = new SeededRandom(r.state);
    expect([r.next(), r.next()]).toEqual([copy.next(), copy.next()]);
  });
});
