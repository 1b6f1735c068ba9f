// Task metrics against values worked out by hand from the definitions in scikit-learn and the official SQuAD
// evaluation scripts (evaluate-v1.1.py / evaluate-v2.0.py).
import { describe, expect, it } from 'vitest';
import {
  argmax,
  classificationMetrics,
  regressionMetrics,
  softmax,
} from '../../../src/main/engine/tasks/classification-metrics.ts';
import { exactMatch, f1Score, normalizeAnswer, squadScores } from '../../../src/main/engine/tasks/squad-metrics.ts';

describe('classification metrics', () => {
  it('accuracy, per-class scores, macro-F1 and the confusion matrix (gold rows, predicted columns)', () => {
    // gold:      0 0 0 1 1 2
    // predicted: 0 0 1 1 2 2
    const m = classificationMetrics([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2], 3);
    expect(m.accuracy).toBeCloseTo(4 / 6, 12);
    expect(m.confusionMatrix).toEqual([
      [2, 1, 0],
      [0, 1, 1],
      [0, 0, 1],
    ]);
    // class 0: P 2/2, R 2/3 → F1 0.8; class 1: P 1/2, R 1/2 → 0.5; class 2: P 1/2, R 1/1 → 2/3.
    expect(m.perClass.map((c) => c.f1)).toEqual([
      expect.closeTo(0.8, 12),
      expect.closeTo(0.5, 12),
      expect.closeTo(2 / 3, 12),
    ]);
    expect(m.macroF1).toBeCloseTo((0.8 + 0.5 + 2 / 3) / 3, 12);
    expect(m.perClass.map((c) => c.support)).toEqual([3, 2, 1]);
  });

  it('macro-F1 averages only classes seen in gold or predictions (sklearn labels=None), 0/0 ratios are 0', () => {
    // 4 classes, class 3 never appears: average over classes 0..2. Class 2 is predicted but never gold → F1 0.
    const m = classificationMetrics([0, 1, 1], [0, 1, 2], 4);
    expect(m.perClass[2]).toEqual({ precision: 0, recall: 0, f1: 0, support: 0 });
    expect(m.perClass[1].f1).toBeCloseTo(2 / 3, 12); // P 1/1, R 1/2
    expect(m.macroF1).toBeCloseTo((1 + 2 / 3 + 0) / 3, 12);
  });

  it('refuses labels outside the classes and length mismatches', () => {
    expect(() => classificationMetrics([0, 2], [0, 1], 2)).toThrow(/row 1 has gold 2/);
    expect(() => classificationMetrics([0], [0, 1], 2)).toThrow(/1 gold labels but 2 predictions/);
  });

  it('argmax takes the first of equal logits; softmax sums to 1 and keeps order', () => {
    expect(argmax([0.5, 2, 2, -1])).toBe(1);
    const p = softmax([1, 2, 3]);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(p[2] / p[1]).toBeCloseTo(Math.E, 12);
    expect(softmax([1000, 1000])).toEqual([0.5, 0.5]); // no overflow
  });

  it('regression: MSE and Pearson r', () => {
    const r = regressionMetrics([1, 2, 3], [1, 2, 5]);
    expect(r.mse).toBeCloseTo(4 / 3, 12);
    // gold centred (-1, 0, 1), predicted centred (-5/3, -2/3, 7/3): cov 4, var 2 and 26/3.
    expect(r.pearson).toBeCloseTo(4 / Math.sqrt(2 * (26 / 3)), 12);
    expect(regressionMetrics([1, 1], [0, 2]).pearson).toBeNull();
  });
});

describe('SQuAD normalisation, EM and F1 (official scripts)', () => {
  it('lower-cases, drops ASCII punctuation and the articles, collapses whitespace', () => {
    expect(normalizeAnswer('  The  Eiffel-Tower, in PARIS! ')).toBe('eiffeltower in paris');
    expect(normalizeAnswer('an apple a day')).toBe('apple day');
    // Articles only as whole words, with Python's Unicode \b: "théa" keeps its "a"; "the" inside "there" stays.
    expect(normalizeAnswer('théa there')).toBe('théa there');
    // Non-ASCII punctuation is not in string.punctuation: kept.
    expect(normalizeAnswer('«서울»에서 “quote”')).toBe('«서울»에서 “quote”');
  });

  it('exact match and token F1', () => {
    expect(exactMatch('the Eiffel Tower', 'Eiffel tower.')).toBe(1);
    expect(exactMatch('Eiffel', 'Eiffel Tower')).toBe(0);
    // pred [eiffel, tower, paris], gold [eiffel, tower]: P 2/3, R 1 → F1 0.8.
    expect(f1Score('Eiffel Tower, Paris', 'the Eiffel Tower')).toBeCloseTo(0.8, 12);
    // repeated tokens count once per occurrence (Counter intersection): pred [a1 a1 b], gold [a1 b b] → same 2.
    expect(f1Score('x x y', 'x y y')).toBeCloseTo(2 / 3, 12);
    expect(f1Score('', '')).toBe(1); // v2's compute_f1
  });

  it('v1: max over gold answers, missing predictions score 0, totals in percent', () => {
    const s = squadScores(
      [
        { id: 'q1', answers: ['Denver Broncos', 'The Broncos'] },
        { id: 'q2', answers: ['Seoul'] },
        { id: 'q3', answers: ['1984'] },
      ],
      [
        { id: 'q1', text: 'Broncos' }, // vs 'The Broncos' → 'broncos': EM 1, F1 1 (vs 'Denver Broncos': F1 2/3)
        { id: 'q2', text: 'in Seoul' }, // EM 0, F1 2/3
      ],
    );
    expect(s.perExample.map((e) => [e.exact, e.f1])).toEqual([
      [1, 1],
      [0, expect.closeTo(2 / 3, 12)],
      [0, 0],
    ]);
    expect(s.exact).toBeCloseTo(100 / 3, 10);
    expect(s.f1).toBeCloseTo((100 * (1 + 2 / 3)) / 3, 10);
    expect(s.total).toBe(3);
  });

  it('v2: unanswerable questions, HasAns/NoAns breakdown, and the no-answer threshold', () => {
    const gold = [
      { id: 'a', answers: ['Seoul'] },
      { id: 'b', answers: [] },
      { id: 'c', answers: ['the'] }, // normalises to nothing: counts as unanswerable gold "" but has_ans stays true
    ];
    const s = squadScores(
      gold,
      [
        { id: 'a', text: 'Seoul' },
        { id: 'b', text: '' },
        { id: 'c', text: 'a' },
      ],
      { version2: true },
    );
    expect(s.perExample.map((e) => [e.exact, e.f1])).toEqual([
      [1, 1],
      [1, 1],
      [1, 1],
    ]);
    expect(s.hasAnswer).toEqual({ exact: 100, f1: 100, total: 2 });
    expect(s.noAnswer).toEqual({ exact: 100, f1: 100, total: 1 });
    // A no-answer probability above the threshold turns the prediction into "no answer".
    const t = squadScores(
      gold.slice(0, 2),
      [
        { id: 'a', text: 'Seoul', noAnswerProbability: 0.9 },
        { id: 'b', text: 'Busan', noAnswerProbability: 0.9 },
      ],
      { version2: true, noAnswerThreshold: 0.5 },
    );
    expect(t.perExample.map((e) => e.exact)).toEqual([0, 1]);
    expect(t.exact).toBe(50);
  });
});
