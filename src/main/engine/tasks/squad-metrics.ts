/**
 * SQuAD exact match and F1 as the official evaluation scripts compute them (evaluate-v1.1.py, evaluate-v2.0.py):
 * an answer is normalised (lower-cased, ASCII punctuation removed, the articles a/an/the removed, whitespace
 * collapsed), EM is 1 when the normalised strings are equal, F1 is the token-overlap F1 of the normalised words, and
 * a prediction scores the maximum over the question's gold answers. Totals are percentages.
 *
 * Python's semantics are kept where JavaScript's differ: `\b` around the articles is Unicode-aware in Python
 * (`é` and Hangul are word characters), `string.punctuation` is ASCII only, and `str.split()` splits on Python's
 * whitespace set.
 */

/** Python's `string.punctuation`. */
const PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');
/** \b(a|an|the)\b with Python 3's Unicode word characters ([\p{L}\p{N}_]). */
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;
/** What Python's str.split() splits on (str.isspace), which includes \x1c-\x1f and leaves out U+FEFF. */
// eslint-disable-next-line no-control-regex -- Python's whitespace set includes the separators \x1c-\x1f
const PY_WHITESPACE = /[\t\n\v\f\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/u;

function pySplit(text: string): string[] {
  return text.split(PY_WHITESPACE).filter((t) => t.length > 0);
}

export function normalizeAnswer(text: string): string {
  const lower = text.toLowerCase();
  let noPunct = '';
  for (const ch of lower) if (!PUNCTUATION.has(ch)) noPunct += ch;
  return pySplit(noPunct.replace(ARTICLES, ' ')).join(' ');
}

export function exactMatch(prediction: string, gold: string): number {
  return normalizeAnswer(prediction) === normalizeAnswer(gold) ? 1 : 0;
}

/** evaluate-v2.0.py's compute_f1 (v1.1's f1_score is the same except that two empty answers score 0 there, 1 here). */
export function f1Score(prediction: string, gold: string): number {
  const predTokens = pySplit(normalizeAnswer(prediction));
  const goldTokens = pySplit(normalizeAnswer(gold));
  if (predTokens.length === 0 || goldTokens.length === 0) return predTokens.length === goldTokens.length ? 1 : 0;
  const counts = new Map<string, number>();
  for (const t of goldTokens) counts.set(t, (counts.get(t) ?? 0) + 1);
  let same = 0;
  for (const t of predTokens) {
    const left = counts.get(t) ?? 0;
    if (left > 0) {
      same++;
      counts.set(t, left - 1);
    }
  }
  if (same === 0) return 0;
  const precision = same / predTokens.length;
  const recall = same / goldTokens.length;
  return (2 * precision * recall) / (precision + recall);
}

export interface SquadGold {
  id: string;
  /** Gold answer texts; empty for a question without an answer (SQuAD v2). */
  answers: readonly string[];
}

export interface SquadPrediction {
  id: string;
  /** The predicted answer; "" for "no answer". */
  text: string;
  /** SQuAD v2: the model's probability that there is no answer (0 when the decision is already in `text`). */
  noAnswerProbability?: number;
}

export interface ExampleScore {
  id: string;
  exact: number;
  f1: number;
  hasAnswer: boolean;
}

export interface SquadScores {
  /** Percentages, as the official scripts print them. */
  exact: number;
  f1: number;
  total: number;
  /** v2 breakdown: questions with an answer / without one (absent when there are none of that kind). */
  hasAnswer?: { exact: number; f1: number; total: number };
  noAnswer?: { exact: number; f1: number; total: number };
  /** Per question, for "worst examples" lists. */
  perExample: ExampleScore[];
}

/**
 * Scores predictions against gold answers. v1 (default): the max over gold answers. `version2`: as evaluate-v2.0.py —
 * gold answers that normalise to nothing are dropped, a question left with none is unanswerable (gold ""), and a
 * prediction whose noAnswerProbability is above `noAnswerThreshold` counts as "no answer".
 * A gold question without a prediction scores 0 (the official v1.1 script's "Unanswered question … will receive
 * score 0").
 */
export function squadScores(
  gold: readonly SquadGold[],
  predictions: readonly SquadPrediction[],
  { version2 = false, noAnswerThreshold = 1.0 }: { version2?: boolean; noAnswerThreshold?: number } = {},
): SquadScores {
  const byId = new Map(predictions.map((p) => [p.id, p]));
  const perExample: ExampleScore[] = gold.map((g) => {
    const prediction = byId.get(g.id);
    let answers = [...g.answers];
    if (version2) {
      answers = answers.filter((a) => normalizeAnswer(a).length > 0);
      if (answers.length === 0) answers = [''];
    }
    // As the v2 script's qid_to_has_ans: the question has gold answers at all (before normalisation).
    const hasAnswer = g.answers.length > 0;
    if (!prediction) return { id: g.id, exact: 0, f1: 0, hasAnswer };
    if (version2 && (prediction.noAnswerProbability ?? 0) > noAnswerThreshold) {
      const score = hasAnswer ? 0 : 1;
      return { id: g.id, exact: score, f1: score, hasAnswer };
    }
    const exact = Math.max(0, ...answers.map((a) => exactMatch(prediction.text, a)));
    const f1 = Math.max(0, ...answers.map((a) => (version2 ? f1Score(prediction.text, a) : f1V1(prediction.text, a))));
    return { id: g.id, exact, f1, hasAnswer };
  });
  const summary = (rows: ExampleScore[]) => ({
    exact: rows.length === 0 ? 0 : (100 * rows.reduce((s, r) => s + r.exact, 0)) / rows.length,
    f1: rows.length === 0 ? 0 : (100 * rows.reduce((s, r) => s + r.f1, 0)) / rows.length,
    total: rows.length,
  });
  const scores: SquadScores = { ...summary(perExample), perExample };
  if (version2) {
    const has = perExample.filter((r) => r.hasAnswer);
    const no = perExample.filter((r) => !r.hasAnswer);
    if (has.length > 0) scores.hasAnswer = summary(has);
    if (no.length > 0) scores.noAnswer = summary(no);
  }
  return scores;
}

/** evaluate-v1.1.py's f1_score: an empty side gives 0 (no overlap), even when both are empty. */
function f1V1(prediction: string, gold: string): number {
  const predTokens = pySplit(normalizeAnswer(prediction));
  const goldTokens = pySplit(normalizeAnswer(gold));
  if (predTokens.length === 0 || goldTokens.length === 0) return 0;
  return f1Score(prediction, gold);
}
