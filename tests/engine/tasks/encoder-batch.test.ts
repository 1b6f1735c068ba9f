// Encoder-task batches: right padding, token types, and each task's targets where the programs read them.
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EncoderTokenizer } from '../../../src/main/formats/tokenizer/encoder/index.ts';
import { classificationBatch, classificationInputs, qaBatch } from '../../../src/main/engine/tasks/encoder-batch.ts';
import { qaFeatures } from '../../../src/main/engine/tasks/qa-features.ts';
import { validateBatch } from '../../../src/main/engine/batch-inputs.ts';
import { writeBertTokenizer } from '../../formats/tokenizer/encoder/fixtures.ts';

let tok: EncoderTokenizer;
beforeAll(() => {
  tok = EncoderTokenizer.load(writeBertTokenizer(join(mkdtempSync(join(tmpdir(), 'encoder-batch-')), 'bert')));
});

describe('encoder batches', () => {
  it('classification: pairs padded to the longest row, label on each first row, −100 elsewhere', () => {
    const rows = classificationInputs(
      tok,
      [
        { text: 'hello world', textPair: 'the model', label: 1 },
        { text: 'what', textPair: 'is', label: 0 },
      ],
      { maxLength: 16 },
    );
    const b = classificationBatch(rows, { padId: tok.padId });
    validateBatch(b);
    expect([b.B, b.T]).toEqual([2, 7]); // [CLS] hello world [SEP] the model [SEP]
    const id = (t: string) => tok.hf.tokenToId(t)!;
    expect(Array.from(b.inputIds.slice(7))).toEqual([
      id('[CLS]'),
      id('what'),
      id('[SEP]'),
      id('is'),
      id('[SEP]'),
      0,
      0,
    ]);
    expect(Array.from(b.attentionMask.slice(7))).toEqual([1, 1, 1, 1, 1, 0, 0]);
    expect(Array.from(b.tokenTypeIds!.slice(0, 7))).toEqual([0, 0, 0, 0, 1, 1, 1]);
    expect(Array.from(b.labels)).toEqual([
      1, -100, -100, -100, -100, -100, -100, 0, -100, -100, -100, -100, -100, -100,
    ]);
  });

  it('classification truncates long pairs to max length (longest_first); regression targets one per sequence', () => {
    const rows = classificationInputs(
      tok,
      [{ text: 'the analyst does work in the studio', textPair: 'where', label: 2.5 }],
      { maxLength: 6 },
    );
    expect(rows[0].tokens).toEqual(['[CLS]', 'the', 'analyst', '[SEP]', 'where', '[SEP]']);
    const b = classificationBatch(rows, { padId: tok.padId, regression: true, length: 8 });
    expect(b.T).toBe(8);
    expect(Array.from(b.regressionTargets!)).toEqual([2.5]);
    expect(b.labels.every((l) => l === -100)).toBe(true);
  });

  it('QA: span starts and ends per window', () => {
    const context = 'The analyst does work in the studio. She work in Seoul.';
    const features = qaFeatures(
      tok,
      [
        {
          id: 'q',
          question: 'Where does she work?',
          context,
          answers: { text: ['in Seoul'], answerStart: [context.indexOf('in Seoul')] },
        },
      ],
      { maxLength: 14, docStride: 2 },
    );
    const b = qaBatch(features, { padId: tok.padId });
    validateBatch(b);
    expect(b.B).toBe(3);
    expect(Array.from(b.spanStarts!)).toEqual([0, 0, 9]);
    expect(Array.from(b.spanEnds!)).toEqual([0, 0, 10]);
  });
});
