/**
 * Encoder-task examples → tokenized inputs → the engine's `Batch` (right padding to the longest row or a given
 * length). The targets follow the programs' conventions (tests/engine/encoder-programs.ts): a class label on each
 * sequence's first row of `labels` (−100 elsewhere, so the program's cross-entropy is transformers' mean over
 * sequences); regression targets and QA start/end positions one per sequence, with `labels` all −100.
 */
import type { EncoderInput, EncoderTokenizer } from '../../formats/tokenizer/encoder/index.ts';
import type { Batch } from '../session.ts';
import type { QaFeature } from './qa-features.ts';

export interface ClassificationInput extends EncoderInput {
  /** Class id, or the target value for regression. */
  label: number;
}

/** Texts (or pairs) truncated to maxLength as transformers' default truncation=True does (longest_first). */
export function classificationInputs(
  tokenizer: EncoderTokenizer,
  examples: ReadonlyArray<{ text: string; textPair: string | null; label: number }>,
  { maxLength }: { maxLength: number },
): ClassificationInput[] {
  return examples.map((e) => ({
    ...tokenizer.encode(e.text, e.textPair, { maxLength, truncation: 'longest_first' })[0],
    label: e.label,
  }));
}

interface Padded {
  B: number;
  T: number;
  inputIds: Int32Array;
  attentionMask: Uint8Array;
  tokenTypeIds: Int32Array;
  labels: Int32Array;
}

function pad(rows: readonly EncoderInput[], padId: number, length: number | undefined): Padded {
  if (rows.length === 0) throw new Error('encoder batch: no rows');
  const longest = Math.max(...rows.map((r) => r.inputIds.length));
  const T = length ?? longest;
  if (longest > T) throw new Error(`encoder batch: a row has ${longest} tokens, more than the batch length ${T}`);
  const B = rows.length;
  const out: Padded = {
    B,
    T,
    inputIds: new Int32Array(B * T).fill(padId),
    attentionMask: new Uint8Array(B * T),
    tokenTypeIds: new Int32Array(B * T),
    labels: new Int32Array(B * T).fill(-100),
  };
  rows.forEach((r, b) => {
    out.inputIds.set(r.inputIds, b * T);
    out.attentionMask.set(r.attentionMask, b * T);
    out.tokenTypeIds.set(r.tokenTypeIds, b * T);
  });
  return out;
}

export function classificationBatch(
  rows: readonly ClassificationInput[],
  { padId, regression = false, length }: { padId: number; regression?: boolean; length?: number },
): Batch {
  const p = pad(rows, padId, length);
  if (regression) return { ...p, regressionTargets: Float64Array.from(rows, (r) => r.label) };
  rows.forEach((r, b) => (p.labels[b * p.T] = r.label));
  return p;
}

/** QA windows with their answer positions (CLS when the window lacks the answer, as qaFeatures labels them). */
export function qaBatch(features: readonly QaFeature[], { padId, length }: { padId: number; length?: number }): Batch {
  const p = pad(features, padId, length);
  return {
    ...p,
    spanStarts: Int32Array.from(features, (f) => f.startPosition),
    spanEnds: Int32Array.from(features, (f) => f.endPosition),
  };
}
