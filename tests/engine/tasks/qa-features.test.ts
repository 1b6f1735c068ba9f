// QA features and post-processing worked by hand on the BERT-format test tokenizer (one token per word here):
// windows of the context, answer positions per window (an answer cut by a window boundary is labelled at CLS in the
// window that holds only part of it), no-answer questions, and post-processing's n-best / max length / v2 null score.
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EncoderTokenizer } from '../../../src/main/formats/tokenizer/encoder/index.ts';
import {
  postprocessQa,
  qaFeatures,
  type QaExample,
  type QaFeature,
  type QaLogits,
} from '../../../src/main/engine/tasks/qa-features.ts';
import { writeBertTokenizer } from '../../formats/tokenizer/encoder/fixtures.ts';

// Context tokens: the(0) analyst(1) does(2) work(3) in(4) the(5) studio(6) .(7) she(8) work(9) in(10) seoul(11) .(12)
const CONTEXT = 'The analyst does work in the studio. She work in Seoul.';
const QUESTION = '  Where does she work?'; // leading spaces are stripped, as run_qa.py does
// Question tokens: where does she work ? → 5; a window is [CLS] q×5 [SEP] ctx×6 [SEP] = 14 tokens.
const OPTIONS = { maxLength: 14, docStride: 2 };
// Context windows start every 6 − 2 = 4 tokens: [0,6) [4,10) [8,13). Context token k of window w sits at 7 + k − 4w.

function example(id: string, answer: string | null): QaExample {
  if (answer === null) return { id, question: QUESTION, context: CONTEXT, answers: { text: [], answerStart: [] } };
  return {
    id,
    question: QUESTION,
    context: CONTEXT,
    answers: { text: [answer], answerStart: [CONTEXT.indexOf(answer)] },
  };
}

let tok: EncoderTokenizer;
beforeAll(() => {
  tok = EncoderTokenizer.load(writeBertTokenizer(join(mkdtempSync(join(tmpdir(), 'qa-features-')), 'bert')));
});

describe('qaFeatures', () => {
  it('windows the context and puts the answer in the windows that hold all of it', () => {
    const features = qaFeatures(tok, [example('q1', 'in Seoul')], OPTIONS);
    expect(features.map((f) => f.tokens.filter((_, i) => f.sequenceIds[i] === 1).join(' '))).toEqual([
      'the analyst does work in the',
      'in the studio . she work',
      'she work in seoul .',
    ]);
    expect(features.every((f) => f.tokens.slice(0, 7).join(' ') === '[CLS] where does she work ? [SEP]')).toBe(true);
    // "in Seoul" = context tokens 10, 11: only the last window (w = 2) → positions 9, 10.
    expect(features.map((f) => [f.startPosition, f.endPosition])).toEqual([
      [0, 0],
      [0, 0],
      [9, 10],
    ]);
    const last = features[2];
    expect(CONTEXT.slice(last.offsets[9][0], last.offsets[10][1])).toBe('in Seoul');
    expect(last.contextOffsets.slice(0, 7)).toEqual(new Array(7).fill(null));
    expect(last.exampleId).toBe('q1');
    expect(last.clsIndex).toBe(0);
  });

  it('an answer across a window boundary: CLS in the window with part of it, the span in the next', () => {
    // "the studio" = context tokens 5, 6. Window 0 ends after token 5 (holds "the" only) → CLS.
    // Window 1 holds both: 7 + 5 − 4 = 8, 9. Window 2 holds neither → CLS.
    const features = qaFeatures(tok, [example('q2', 'the studio')], OPTIONS);
    expect(features.map((f) => [f.startPosition, f.endPosition])).toEqual([
      [0, 0],
      [8, 9],
      [0, 0],
    ]);
    expect(features[1].tokens.slice(8, 10)).toEqual(['the', 'studio']);
  });

  it('an answer that starts inside a token still maps to that token (character positions, not words)', () => {
    const ex: QaExample = {
      id: 'q3',
      question: QUESTION,
      context: CONTEXT,
      answers: { text: ['tudio'], answerStart: [CONTEXT.indexOf('tudio')] },
    };
    const features = qaFeatures(tok, [ex], OPTIONS);
    expect([features[1].startPosition, features[1].endPosition]).toEqual([9, 9]);
  });

  it('no-answer questions are labelled at CLS in every window; padding to max length keeps offsets null', () => {
    const features = qaFeatures(tok, [example('q4', null)], { ...OPTIONS, padToMaxLength: true });
    expect(features.every((f) => f.startPosition === 0 && f.endPosition === 0)).toBe(true);
    const padded = features[2]; // 5 context tokens: one pad
    expect(padded.inputIds).toHaveLength(14);
    expect(padded.attentionMask.at(-1)).toBe(0);
    expect(padded.contextOffsets.at(-1)).toBeNull();
  });
});

/** Logits that are 0 everywhere except the given positions. */
function logitsFor(feature: QaFeature, starts: Record<number, number>, ends: Record<number, number>): QaLogits {
  const startLogits = new Array<number>(feature.inputIds.length).fill(0);
  const endLogits = new Array<number>(feature.inputIds.length).fill(0);
  for (const [i, v] of Object.entries(starts)) startLogits[Number(i)] = v;
  for (const [i, v] of Object.entries(ends)) endLogits[Number(i)] = v;
  return { startLogits, endLogits };
}

describe('postprocessQa', () => {
  it('picks the best span over all windows and cuts its text from the context by offsets', () => {
    const examples = [example('q', 'the studio')];
    const features = qaFeatures(tok, examples, OPTIONS);
    const logits = [
      logitsFor(features[0], { 8: 2 }, { 9: 2 }), // "analyst does": 4
      logitsFor(features[1], { 8: 3 }, { 9: 4 }), // "the studio": 7
      logitsFor(features[2], { 1: 9 }, { 2: 9 }), // in the question: never a candidate
    ];
    const [p] = postprocessQa(examples, features, logits, { nBestSize: 3, maxAnswerLength: 30 });
    expect(p.text).toBe('the studio');
    expect([p.start, p.end]).toEqual([CONTEXT.indexOf('the studio'), CONTEXT.indexOf('the studio') + 10]);
    expect(p.nBest[0].score).toBe(7);
    expect(p.nBest[0].probability).toBeGreaterThan(p.nBest[1].probability);
    expect(p.nBest.reduce((s, c) => s + c.probability, 0)).toBeCloseTo(1, 12);
  });

  it('skips spans longer than max_answer_length and spans that end before they start', () => {
    const examples = [example('q', null)];
    const features = qaFeatures(tok, examples, OPTIONS);
    // Window 0: the(7) analyst(8) does(9) work(10) in(11) the(12) [SEP](13).
    // Candidates: 7→12 scores 10 but is 6 tokens; 9→8 scores 6.5 but ends before it starts; 13 is [SEP];
    // so with max_answer_length 3 the best is 7→8 "The analyst" (6), ahead of 9→9..11 (5.5).
    const logits = [
      logitsFor(features[0], { 7: 5, 9: 5.5, 13: 8 }, { 12: 5, 8: 1 }),
      logitsFor(features[1], {}, {}),
      logitsFor(features[2], {}, {}),
    ];
    const [p] = postprocessQa(examples, features, logits, { nBestSize: 20, maxAnswerLength: 3 });
    expect(p.text).toBe('The analyst');
    expect(p.nBest[0].score).toBe(6);
    // With 6 tokens allowed, 9→12 "does work in the" (10.5) beats 7→12 (10).
    const [long] = postprocessQa(examples, features, logits, { nBestSize: 20, maxAnswerLength: 6 });
    expect(long.text).toBe('does work in the');
    expect(long.nBest[1].text).toBe('The analyst does work in the');
  });

  it('no span inside any context window: no answer (not utils_qa.py\'s fake "empty")', () => {
    const examples = [example('q', null)];
    const features = qaFeatures(tok, examples, OPTIONS);
    // Every window's single best start and end lie in the question; n-best 1 leaves no context span.
    const logits = features.map((f) => logitsFor(f, { 2: 9 }, { 3: 9 }));
    const [p] = postprocessQa(examples, features, logits, { nBestSize: 1, maxAnswerLength: 30 });
    expect(p).toEqual({ id: 'q', text: '', start: null, end: null, nBest: [] });
  });

  it('v2: the smallest null score over the windows against the best span, with the threshold', () => {
    const examples = [example('q', null)];
    const features = qaFeatures(tok, examples, OPTIONS);
    const logits = [
      logitsFor(features[0], { 0: 4 }, { 0: 4 }), // null 8
      logitsFor(features[1], { 0: 1, 9: 2 }, { 0: 1, 9: 1.5 }), // null 2 (the minimum), span "studio" 3.5
      logitsFor(features[2], { 0: 3 }, { 0: 3 }), // null 6
    ];
    const options = { nBestSize: 5, maxAnswerLength: 30, version2: true };
    const [answered] = postprocessQa(examples, features, logits, options);
    // null − best span = 2 − 3.5 = −1.5 ≤ 0 → the span is the answer.
    expect(answered.nullScoreDiff).toBeCloseTo(-1.5, 12);
    expect(answered.text).toBe('studio');
    expect(answered.nBest.some((c) => c.text === '' && c.score === 2)).toBe(true);
    const [unanswered] = postprocessQa(examples, features, logits, { ...options, nullScoreDiffThreshold: -2 });
    expect(unanswered.text).toBe('');
    expect(unanswered.start).toBeNull();
  });
});
