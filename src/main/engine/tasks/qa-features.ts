/**
 * Extractive question answering, between examples and the model (what transformers' run_qa.py and utils_qa.py do):
 * - `qaFeatures`: question + context → one feature per window of the context (truncation only_second, doc stride),
 *   with the answer's character span turned into start/end token positions in each window; a window that does not
 *   hold the whole answer (and every window of an unanswerable question) is labelled at its CLS token, SQuAD v2 style.
 * - `postprocessQa`: start/end logits of every window → the example's answer: the n best starts × n best ends of each
 *   window, spans inside the context, end ≥ start, at most max_answer_length tokens, scored start + end logit, the
 *   text cut from the context by the tokens' offsets; with SQuAD v2, the no-answer score (CLS start + end, the
 *   smallest over the windows) wins when it beats the best span by more than the threshold.
 *
 * Answer positions and offsets are UTF-16 indices into the context (see formats/dataset/tasks/squad.ts for the
 * conversion from SQuAD's code-point answer_start).
 */
import {
  EncoderTokenizeError,
  type EncoderInput,
  type EncoderTokenizer,
} from '../../formats/tokenizer/encoder/index.ts';

export interface QaExample {
  id: string;
  question: string;
  context: string;
  /** Gold answers; empty arrays for a question without an answer. answerStart: UTF-16 index into the context. */
  answers: { text: string[]; answerStart: number[] };
}

export interface QaFeature extends EncoderInput {
  /** Index of the example this window belongs to. */
  exampleIndex: number;
  exampleId: string;
  /** Token index of the CLS token (the no-answer position). */
  clsIndex: number;
  /** Token positions of the first answer in this window; both at clsIndex when the window does not hold it. */
  startPosition: number;
  endPosition: number;
  /** Offsets of context tokens; null for question, special and padding tokens (run_qa's eval features). */
  contextOffsets: Array<[number, number] | null>;
}

export interface QaFeatureOptions {
  maxLength: number;
  docStride: number;
  /** Pad every feature to maxLength (run_qa's padding="max_length"); otherwise batching pads. */
  padToMaxLength?: boolean;
}

export function qaFeatures(
  tokenizer: EncoderTokenizer,
  examples: readonly QaExample[],
  options: QaFeatureOptions,
): QaFeature[] {
  const features: QaFeature[] = [];
  const contexts = new Map<string, ReturnType<EncoderTokenizer['tokenize']>>();
  examples.forEach((example, exampleIndex) => {
    // Contexts are shared by several questions in SQuAD: tokenize each once.
    let contextTokens = contexts.get(example.context);
    if (!contextTokens) contexts.set(example.context, (contextTokens = tokenizer.tokenize(example.context)));
    // run_qa.py strips the question's leading whitespace: it would only waste window room.
    const questionTokens = tokenizer.tokenize(example.question.trimStart());
    let windows: EncoderInput[];
    try {
      windows = tokenizer.encodeTokens(questionTokens, contextTokens, {
        maxLength: options.maxLength,
        truncation: 'only_second',
        stride: options.docStride,
        returnOverflowing: true,
      });
    } catch (err) {
      // Name the question: a long question or a stride too large for the room it leaves is about this example.
      if (err instanceof EncoderTokenizeError)
        throw new EncoderTokenizeError(`question "${example.id}": ${err.message}`);
      throw err;
    }
    for (const raw of windows) {
      const input = options.padToMaxLength ? tokenizer.pad(raw, options.maxLength) : raw;
      const clsIndex = tokenizer.clsId === null ? 0 : Math.max(0, input.inputIds.indexOf(tokenizer.clsId));
      const { start, end } = answerPositions(input, example, clsIndex);
      features.push({
        ...input,
        exampleIndex,
        exampleId: example.id,
        clsIndex,
        startPosition: start,
        endPosition: end,
        contextOffsets: input.offsets.map((o, i) => (input.sequenceIds[i] === 1 ? o : null)),
      });
    }
  });
  return features;
}

/**
 * The first answer's token span in one window, or CLS when the window does not contain all of it. The start is the
 * last context token starting at or before the answer's first character, the end the first context token ending at
 * or after its last. (run_qa.py walks the same way but can step past the context into [SEP] and padding, whose offsets
 * are (0, 0), when the answer starts in the window's last token; here the walk stays inside the context.)
 */
function answerPositions(input: EncoderInput, example: QaExample, clsIndex: number): { start: number; end: number } {
  if (example.answers.answerStart.length === 0) return { start: clsIndex, end: clsIndex };
  const startChar = example.answers.answerStart[0];
  const endChar = startChar + example.answers.text[0].length;
  const first = input.sequenceIds.indexOf(1);
  const last = input.sequenceIds.lastIndexOf(1);
  if (first < 0 || !(input.offsets[first][0] <= startChar && input.offsets[last][1] >= endChar))
    return { start: clsIndex, end: clsIndex };
  let start = first;
  while (start < last && input.offsets[start + 1][0] <= startChar) start++;
  let end = last;
  while (end > first && input.offsets[end - 1][1] >= endChar) end--;
  return { start, end };
}

export interface QaPostprocessOptions {
  nBestSize: number;
  maxAnswerLength: number;
  /** SQuAD v2: the model may answer nothing. */
  version2?: boolean;
  /** v2: answer nothing when nullScore − bestSpanScore > this. */
  nullScoreDiffThreshold?: number;
}

export interface QaCandidate {
  text: string;
  /** [start, end) in the context; [0, 0] for the no-answer candidate. */
  start: number;
  end: number;
  score: number;
  startLogit: number;
  endLogit: number;
  /** Softmax of the scores over the n-best list. */
  probability: number;
}

export interface QaPrediction {
  id: string;
  /** The answer; "" for "no answer" (v2). */
  text: string;
  start: number | null;
  end: number | null;
  /** The n best candidates, best first (utils_qa.py's nbest). */
  nBest: QaCandidate[];
  /** v2: null score minus the best span's start + end logits (utils_qa.py's scores_diff_json). */
  nullScoreDiff?: number;
}

export interface QaLogits {
  startLogits: ArrayLike<number>;
  endLogits: ArrayLike<number>;
}

/** Indices of the n largest values, largest first (np.argsort(x)[-1:-n-1:-1]; ties: the later index first, as there). */
function topIndices(values: ArrayLike<number>, n: number): number[] {
  const order = Array.from({ length: values.length }, (_, i) => i);
  order.sort((a, b) => values[b] - values[a] || b - a);
  return order.slice(0, n);
}

type Scored = Omit<QaCandidate, 'text' | 'probability'>;

/** utils_qa.py's postprocess_qa_predictions for the features of `examples` and their logits (same order as features). */
export function postprocessQa(
  examples: readonly QaExample[],
  features: readonly QaFeature[],
  logits: readonly QaLogits[],
  options: QaPostprocessOptions,
): QaPrediction[] {
  if (features.length !== logits.length)
    throw new Error(`QA post-processing: ${features.length} features but ${logits.length} logit rows`);
  const byExample = new Map<number, number[]>();
  features.forEach((f, i) => {
    const list = byExample.get(f.exampleIndex) ?? [];
    list.push(i);
    byExample.set(f.exampleIndex, list);
  });
  return examples.map((example, exampleIndex) => {
    let minNull: Scored | null = null;
    const prelim: Scored[] = [];
    for (const fi of byExample.get(exampleIndex) ?? []) {
      const feature = features[fi];
      const { startLogits, endLogits } = logits[fi];
      const cls = feature.clsIndex;
      const nullScore = startLogits[cls] + endLogits[cls];
      if (minNull === null || minNull.score > nullScore) {
        minNull = { start: 0, end: 0, score: nullScore, startLogit: startLogits[cls], endLogit: endLogits[cls] };
      }
      const offsets = feature.contextOffsets;
      for (const s of topIndices(startLogits, options.nBestSize)) {
        for (const e of topIndices(endLogits, options.nBestSize)) {
          if (s >= offsets.length || e >= offsets.length) continue;
          const so = offsets[s];
          const eo = offsets[e];
          if (so === null || eo === null) continue;
          if (e < s || e - s + 1 > options.maxAnswerLength) continue;
          prelim.push({
            start: so[0],
            end: eo[1],
            score: startLogits[s] + endLogits[e],
            startLogit: startLogits[s],
            endLogit: endLogits[e],
          });
        }
      }
    }
    const version2 = options.version2 === true;
    if (version2 && minNull) prelim.push(minNull);
    const ranked = [...prelim].sort((a, b) => b.score - a.score).slice(0, options.nBestSize);
    if (version2 && minNull && !ranked.some((p) => p.start === 0 && p.end === 0)) ranked.push(minNull);
    const candidates = ranked.map((p) => ({ ...p, text: example.context.slice(p.start, p.end), probability: 0 }));
    if (candidates.length > 0) {
      const max = Math.max(...candidates.map((c) => c.score));
      const exps = candidates.map((c) => Math.exp(c.score - max));
      const sum = exps.reduce((a, b) => a + b, 0);
      candidates.forEach((c, i) => (c.probability = exps[i] / sum));
    }
    // No span inside the context at all (every top start/end fell on the question or specials): no answer. utils_qa.py
    // puts a fake candidate with the text "empty" there to avoid failing; an answer "empty" would be shown to users.
    const bestSpan = candidates.find((c) => c.text !== '');
    if (!version2) {
      const best = bestSpan ?? null;
      return {
        id: example.id,
        text: best?.text ?? '',
        start: best?.start ?? null,
        end: best?.end ?? null,
        nBest: candidates,
      };
    }
    if (!bestSpan) return { id: example.id, text: '', start: null, end: null, nBest: candidates };
    const nullScoreDiff = (minNull?.score ?? 0) - bestSpan.startLogit - bestSpan.endLogit;
    const noAnswer = nullScoreDiff > (options.nullScoreDiffThreshold ?? 0);
    return {
      id: example.id,
      text: noAnswer ? '' : bestSpan.text,
      start: noAnswer ? null : bestSpan.start,
      end: noAnswer ? null : bestSpan.end,
      nBest: candidates,
      nullScoreDiff,
    };
  });
}
