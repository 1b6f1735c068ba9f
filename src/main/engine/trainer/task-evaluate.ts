// An encoder task's predictions and metrics on an eval split, from the head's logits:
//   classification  the first row's logits of each sequence → softmax → label; accuracy, macro-F1 and the confusion
//                   matrix (engine/tasks classificationMetrics); regression: MSE and Pearson;
//   QA              each window's start/end logits → utils_qa.py's post-processing (engine/tasks postprocessQa) →
//                   the answer text per question; SQuAD exact match and F1 with the official normalisation.
// Metrics are logged as fractions (0–1) under eval_<name>, so accuracy and F1 share one axis; the official SQuAD
// script prints the same figures ×100.
import type { Batch, TrainingSession } from '../session.ts';
import type { BatchPlan } from '../data/batches.ts';
import {
  classificationMetrics,
  postprocessQa,
  regressionMetrics,
  softmax,
  squadScores,
  type QaLogits,
  type QaPrediction,
} from '../tasks/index.ts';
import type { TaskData } from './task-data.ts';

/** What a session must offer to read a head's logits (the CPU executor's forward). */
export interface LogitsSession {
  forward(batch: Batch): Promise<{ logits: ArrayLike<number>; nllPerSequence: Float64Array }>;
}

export function logitsSession(session: TrainingSession): LogitsSession {
  const s = session as TrainingSession & Partial<LogitsSession>;
  if (typeof s.forward !== 'function')
    throw new Error(
      'this executor cannot return a task head’s logits (no forward); train encoder tasks with executor "cpu"',
    );
  return s as LogitsSession;
}

/** Per-sequence head outputs: a sequence's first-row logits (classification) or its start/end logits over T (QA). */
export interface SequenceLogits {
  index: number; // the input's index in the plan
  width: number; // logits per row: labels (classification) or 2 (QA)
  T: number;
  rows: Float64Array; // (T, width) of this sequence
  nll: number;
}

export async function sequenceLogits(
  session: LogitsSession,
  plan: BatchPlan,
  signal?: AbortSignal,
): Promise<SequenceLogits[]> {
  const out: SequenceLogits[] = [];
  const total = plan.microBatchesInEpoch(0);
  for (let microBatch = 0; microBatch < total; microBatch++) {
    signal?.throwIfAborted();
    const { batch, exampleIndices } = plan.batchAt({ epoch: 0, microBatch });
    const { logits, nllPerSequence } = await session.forward(batch);
    const width = logits.length / (batch.B * batch.T);
    exampleIndices.forEach((index, b) => {
      const rows = Float64Array.from({ length: batch.T * width }, (_, i) => logits[b * batch.T * width + i]);
      out.push({ index, width, T: batch.T, rows, nll: nllPerSequence[b] });
    });
  }
  return out.sort((a, b) => a.index - b.index);
}

export interface ClassificationPrediction {
  index: number;
  label: number;
  probabilities: number[];
}

export interface TaskEvaluationResult {
  loss: number;
  metrics: Record<`eval_${string}`, number>;
  /** Classification: matrix[gold][predicted]. */
  confusionMatrix?: number[][];
  classification?: ClassificationPrediction[];
  qa?: QaPrediction[];
  /** Per example: 1 right … 0 wrong (classification: the gold label's probability; QA: F1), for "worst examples". */
  perExample: Array<{ index: number; score: number }>;
}

/** The start / end logits of one QA window (columns 0 and 1 of its rows). */
export function spanLogits(s: SequenceLogits): QaLogits {
  const start = new Float64Array(s.T);
  const end = new Float64Array(s.T);
  for (let t = 0; t < s.T; t++) {
    start[t] = s.rows[t * s.width];
    end[t] = s.rows[t * s.width + 1];
  }
  return { startLogits: start, endLogits: end };
}

export async function evaluateTask(
  session: LogitsSession,
  plan: BatchPlan,
  data: TaskData,
  options: {
    signal?: AbortSignal;
    nBestSize?: number;
    maxAnswerLength?: number;
    version2?: boolean;
    nullScoreDiffThreshold?: number;
  } = {},
): Promise<TaskEvaluationResult> {
  const outputs = await sequenceLogits(session, plan, options.signal);
  const loss = outputs.reduce((a, o) => a + o.nll, 0) / Math.max(1, outputs.length);
  if (data.task === 'classification') {
    const gold = data.eval.map((e) => e.target ?? 0);
    if (data.problemType === 'regression') {
      const predicted = outputs.map((o) => o.rows[0]);
      const r = regressionMetrics(gold, predicted);
      return {
        loss,
        metrics: { eval_mse: r.mse, eval_pearson: r.pearson ?? Number.NaN },
        perExample: outputs.map((o, i) => ({ index: o.index, score: -Math.abs(predicted[i] - gold[i]) })),
      };
    }
    const predictions = outputs.map((o) => {
      const probabilities = softmax(o.rows.subarray(0, o.width));
      return { index: o.index, label: probabilities.indexOf(Math.max(...probabilities)), probabilities };
    });
    const m = classificationMetrics(
      gold,
      predictions.map((p) => p.label),
      data.labels.length,
    );
    return {
      loss,
      metrics: { eval_accuracy: m.accuracy, eval_macro_f1: m.macroF1 },
      confusionMatrix: m.confusionMatrix,
      classification: predictions,
      perExample: predictions.map((p) => ({ index: p.index, score: p.probabilities[gold[p.index]] })),
    };
  }
  const predictions = postprocessQa(data.evalExamples, data.evalFeatures, outputs.map(spanLogits), {
    nBestSize: options.nBestSize ?? 20,
    maxAnswerLength: options.maxAnswerLength ?? 30,
    version2: options.version2,
    nullScoreDiffThreshold: options.nullScoreDiffThreshold,
  });
  const scores = squadScores(
    data.evalExamples.map((e) => ({ id: e.id, answers: e.answers.text })),
    predictions.map((p) => ({ id: p.id, text: p.text })),
    { version2: options.version2 },
  );
  const byId = new Map(scores.perExample.map((s) => [s.id, s.f1]));
  return {
    loss,
    metrics: { eval_exact_match: scores.exact / 100, eval_f1: scores.f1 / 100 },
    qa: predictions,
    perExample: data.evalExamples.map((e, index) => ({ index, score: byId.get(e.id) ?? 0 })),
  };
}
