// An encoder task's dataset as model inputs (the causal-lm counterpart is data/run-examples.ts):
//   classification  rows (formats/dataset/tasks) → one tokenized input per row, a pair when the run names a
//                   second text column, cut to max_seq_length (longest_first, as transformers truncates a pair);
//   QA              SQuAD questions → one feature per context window (engine/tasks qaFeatures: only_second + doc
//                   stride), each with its gold span (CLS when the window lacks the answer).
// TaskBatchPlan batches them exactly as the trainer's BatchPlan does (the same seeded order per epoch, the same
// resumable position) and adds what the head's loss reads: token types, the class on each sequence's first row
// (Program's cross-entropy over rows), a regression target, or the gold start/end (Program.loss 'span').
import type { RunConfig } from '../../../common/api/runs.ts';
import { classificationSettings, questionAnsweringSettings } from '../../../common/api/runs.ts';
import {
  readClassificationDataset,
  readQaDataset,
  type ClassificationDataset,
  type ClassificationExample,
  type QaDatasetExample,
} from '../../formats/dataset/tasks/index.ts';
import { formatProblem } from '../../formats/dataset/problems.ts';
import { seededPermutation } from '../../formats/dataset/split.ts';
import type { EncoderTokenizer } from '../../formats/tokenizer/encoder/index.ts';
import {
  BatchPlan,
  IGNORE_INDEX,
  type BatchPlanOptions,
  type DataPosition,
  type TokenizedExample,
} from '../data/batches.ts';
import type { Batch } from '../session.ts';
import { qaFeatures, type QaExample, type QaFeature } from '../tasks/index.ts';

/** One model input of a task with its target. */
export interface TaskInput extends TokenizedExample {
  tokenTypeIds: Int32Array;
  /** Classification: the class id; regression: the target value. */
  target?: number;
  /** QA: gold start / end token (the CLS position when the window does not hold the answer). */
  start?: number;
  end?: number;
}

export interface ClassificationData {
  task: 'classification';
  labels: string[];
  problemType: ClassificationDataset['problemType'];
  train: TaskInput[];
  eval: TaskInput[];
  evalExamples: ClassificationExample[];
  truncated: number;
}

export interface QaData {
  task: 'question-answering';
  train: TaskInput[];
  eval: TaskInput[];
  /** The eval questions and their windows (post-processing maps window logits back to answers with them). */
  evalExamples: QaExample[];
  evalFeatures: QaFeature[];
  trainQuestions: number;
}

export type TaskData = (ClassificationData | QaData) & { problems: string[]; datasetHash: string; padId: number };

/** Items held out for evaluation by the run's seed, as splitByRatio picks rows (at least one, never all). */
export function holdOut<T>(items: readonly T[], ratio: number, seed: number): { train: T[]; eval: T[] } {
  const n = items.length;
  let count = Math.round(n * ratio);
  if (ratio > 0 && count === 0 && n >= 2) count = 1;
  if (count >= n) count = Math.max(0, n - 1);
  const order = seededPermutation(n, seed);
  const held = new Uint8Array(n);
  for (let i = 0; i < count; i++) held[order[i]] = 1;
  return { train: items.filter((_, i) => !held[i]), eval: items.filter((_, i) => held[i] === 1) };
}

const asInput = (e: {
  inputIds: number[];
  tokenTypeIds: number[];
}): Pick<TaskInput, 'ids' | 'trained' | 'tokenTypeIds'> => ({
  ids: Int32Array.from(e.inputIds),
  trained: new Uint8Array(e.inputIds.length),
  tokenTypeIds: Int32Array.from(e.tokenTypeIds),
});

/** One classification row as the model's input: the text (and its pair), cut to `maxLength` tokens. */
export function classificationInput(
  tokenizer: EncoderTokenizer,
  text: string,
  pair: string | null,
  maxLength: number,
): { input: Omit<TaskInput, 'target'>; truncated: boolean } {
  const full = tokenizer.encode(text, pair, { maxLength: null })[0];
  const [cut] = tokenizer.encode(text, pair, { maxLength, truncation: 'longest_first' });
  return { input: asInput(cut), truncated: full.inputIds.length > cut.inputIds.length };
}

/** A content hash of what was read (a resumed run refuses a changed dataset, as causal-lm runs do). */
async function hashRows(rows: unknown[]): Promise<string> {
  const { createHash } = await import('node:crypto');
  return `sha256:${createHash('sha256').update(JSON.stringify(rows)).digest('hex')}`;
}

export async function loadTaskData(config: RunConfig, tokenizer: EncoderTokenizer): Promise<TaskData> {
  const split = config.dataset.eval_split;
  if (config.task === 'classification') {
    const section = classificationSettings(config);
    const train = await readClassificationDataset(config.dataset.path, section);
    let trainRows = train.examples;
    let evalRows: ClassificationExample[] = [];
    const problems = train.problems.map(formatProblem);
    if (split.kind === 'ratio') {
      ({ train: trainRows, eval: evalRows } = holdOut(train.examples, split.ratio, config.seed));
    } else if (split.kind === 'file') {
      const evalSet = await readClassificationDataset(split.path, section, { labels: train });
      evalRows = evalSet.examples;
      problems.push(...evalSet.problems.map(formatProblem));
    }
    if (problems.length && !config.dataset.skip_bad_rows)
      throw new Error(
        `${problems.length} bad rows: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ' …' : ''} (set skip_bad_rows to train without them)`,
      );
    let truncated = 0;
    const inputs = (rows: ClassificationExample[]) =>
      rows.map((row) => {
        const { input, truncated: cut } = classificationInput(tokenizer, row.text, row.textPair, config.max_seq_length);
        if (cut) truncated++;
        return { ...input, target: row.label };
      });
    return {
      task: 'classification',
      labels: train.labels,
      problemType: train.problemType,
      train: inputs(trainRows),
      eval: inputs(evalRows),
      evalExamples: evalRows,
      truncated,
      problems,
      datasetHash: await hashRows([trainRows, evalRows]),
      padId: tokenizer.padId,
    };
  }
  if (config.task !== 'question-answering') throw new Error(`task "${config.task}" has no encoder dataset`);
  const qa = questionAnsweringSettings(config);
  const read = async (path: string) => {
    const d = await readQaDataset(path, qa);
    return { examples: d.examples, problems: d.problems.map(formatProblem) };
  };
  const train = await read(config.dataset.path);
  let trainRows: QaDatasetExample[] = train.examples;
  let evalRows: QaDatasetExample[] = [];
  const problems = [...train.problems];
  if (split.kind === 'ratio') {
    // split by context, so no eval paragraph is also trained on (SQuAD asks several questions per paragraph)
    const contexts = [...new Set(train.examples.map((e) => e.context))];
    const held = new Set(holdOut(contexts, split.ratio, config.seed).eval);
    trainRows = train.examples.filter((e) => !held.has(e.context));
    evalRows = train.examples.filter((e) => held.has(e.context));
  } else if (split.kind === 'file') {
    const evalSet = await read(split.path);
    evalRows = evalSet.examples;
    problems.push(...evalSet.problems);
  }
  if (problems.length && !config.dataset.skip_bad_rows)
    throw new Error(
      `${problems.length} bad rows: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ' …' : ''} (set skip_bad_rows to train without them)`,
    );
  const options = { maxLength: config.max_seq_length, docStride: qa.doc_stride };
  const asExample = (e: QaDatasetExample): QaExample => ({
    id: e.id,
    question: e.question,
    context: e.context,
    answers: e.answers,
  });
  const evalExamples = evalRows.map(asExample);
  const evalFeatures = qaFeatures(tokenizer, evalExamples, options);
  const withSpan = (f: QaFeature): TaskInput => ({ ...asInput(f), start: f.startPosition, end: f.endPosition });
  return {
    task: 'question-answering',
    train: qaFeatures(tokenizer, trainRows.map(asExample), options).map(withSpan),
    eval: evalFeatures.map(withSpan),
    evalExamples,
    evalFeatures,
    trainQuestions: trainRows.length,
    problems,
    datasetHash: await hashRows([trainRows, evalRows]),
    padId: tokenizer.padId,
  };
}

/** What the batches of a task carry besides ids: the target kind the program's loss reads. */
export type TaskTarget = 'class' | 'regression' | 'span' | 'none';

/** Micro-batches of task inputs, in BatchPlan's order, with token types and the head's targets. */
export class TaskBatchPlan extends BatchPlan {
  constructor(
    readonly inputs: TaskInput[],
    options: BatchPlanOptions,
    readonly target: TaskTarget,
  ) {
    super(inputs, options);
  }

  override batchAt(position: DataPosition): { batch: Batch; exampleIndices: number[] } {
    const { batch, exampleIndices } = super.batchAt(position);
    const { B, T } = batch;
    const tokenTypeIds = new Int32Array(B * T);
    const labels = new Int32Array(B * T).fill(IGNORE_INDEX);
    const extra: Partial<Batch> = {};
    if (this.target === 'regression') extra.regressionTargets = new Float64Array(B).fill(Number.NaN);
    if (this.target === 'span') {
      extra.spanStarts = new Int32Array(B).fill(-1);
      extra.spanEnds = new Int32Array(B).fill(-1);
    }
    exampleIndices.forEach((index, b) => {
      const input = this.inputs[index];
      tokenTypeIds.set(input.tokenTypeIds.subarray(0, T), b * T);
      if (this.target === 'class' && input.target !== undefined) labels[b * T] = input.target;
      if (this.target === 'regression' && input.target !== undefined) extra.regressionTargets![b] = input.target;
      if (this.target === 'span' && input.start !== undefined && input.end !== undefined) {
        extra.spanStarts![b] = input.start;
        extra.spanEnds![b] = input.end;
      }
    });
    return { batch: { ...batch, labels, tokenTypeIds, ...extra }, exampleIndices };
  }
}

/** The target kind of a task's data. */
export function taskTarget(data: TaskData): TaskTarget {
  if (data.task === 'question-answering') return 'span';
  return data.problemType === 'regression' ? 'regression' : 'class';
}
