// Encoder tasks after training: predict (a text → labels with probabilities; a question and its context → the
// answer span with its score) and evaluate (the task's metrics on an eval set: accuracy / macro-F1 with the
// confusion matrix, or SQuAD exact match / F1; the worst examples), each for the tuned model and, to compare, the
// base it started from. Both run in a `task` job (the engine is the worker's); these methods wait for it.
import { z } from 'zod';
import { DatasetConfig, RunConfigObject, RunTask } from './runs.ts';

export const TASK_JOB_KIND = 'task';

const positiveInt = () => z.number().int().positive();

export const PredictInput = z
  .discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('classification'),
      text: z.string().min(1).describe('The text to classify.'),
      text_pair: z.string().min(1).nullable().default(null).describe('The second text of a pair, for pair tasks.'),
    }),
    z.strictObject({
      kind: z.literal('question-answering'),
      question: z.string().min(1).describe('The question.'),
      context: z.string().min(1).describe('The text the answer is found in.'),
    }),
  ])
  .describe('What to predict on.');
export type PredictInput = z.infer<typeof PredictInput>;

const ModelRef = {
  model: z.string().min(1).describe('The base model folder, or a fully fine-tuned task model folder.'),
  adapterPath: z
    .string()
    .min(1)
    .nullable()
    .default(null)
    .describe('A task adapter (PEFT SEQ_CLS / QUESTION_ANS) over the model, or an AdapterFusion folder of such adapters (lora-studio fuse --mode attention); null = the model alone.'),
  compareBase: z
    .boolean()
    .default(false)
    .describe('Also answer with the base model alone (its head as the checkpoint has it, or freshly created).'),
  maxLength: positiveInt()
    .max(131072)
    .default(384)
    .describe('Longest input in tokens (a longer QA context is read in windows).'),
  docStride: positiveInt().default(128).describe('QA: tokens shared by neighbouring windows.'),
  maxAnswerLength: positiveInt().default(30).describe('QA: the longest answer in tokens.'),
};

export const PredictRequest = z.strictObject({ ...ModelRef, input: PredictInput });
export type PredictRequest = z.infer<typeof PredictRequest>;

export const ClassificationAnswer = z.object({
  kind: z.literal('classification'),
  label: z.string(),
  probabilities: z
    .array(z.object({ label: z.string(), probability: z.number() }))
    .describe('Every label, most likely first.'),
});
export const SpanAnswer = z.object({
  kind: z.literal('question-answering'),
  text: z.string().describe('The answer; empty when the model answers nothing.'),
  start: z.number().int().nullable().describe('Character offset of the answer in the context.'),
  end: z.number().int().nullable(),
  score: z.number().describe('Start + end logits of the chosen span (what utils_qa.py ranks by).'),
  probability: z.number().describe('Softmax of the span scores over the n best candidates.'),
});
export const TaskAnswer = z.discriminatedUnion('kind', [ClassificationAnswer, SpanAnswer]);
export type TaskAnswer = z.infer<typeof TaskAnswer>;

export const PredictResult = z.object({
  model: z.string().describe('The task model that answered (e.g. BertForSequenceClassification).'),
  tuned: TaskAnswer,
  base: TaskAnswer.nullable(),
  warnings: z.array(z.string()),
});
export type PredictResult = z.infer<typeof PredictResult>;

export const TaskEvaluateRequest = z.strictObject({
  ...ModelRef,
  task: RunTask.exclude(['causal-lm']).describe('The task the model was tuned for.'),
  dataset: DatasetConfig.describe('The rows to measure: the eval split of this file (ratio) or the eval file.'),
  classification: RunConfigObject.shape.classification,
  question_answering: RunConfigObject.shape.question_answering,
  seed: z.number().int().min(0).default(42).describe('The split seed (the run’s, to measure its own eval split).'),
  batchSize: positiveInt().default(16),
  worst: z.number().int().min(0).max(500).default(20).describe('How many of the worst examples to return.'),
});
export type TaskEvaluateRequest = z.infer<typeof TaskEvaluateRequest>;

export const TaskScores = z.object({
  metrics: z
    .record(z.string(), z.number())
    .describe('eval_accuracy, eval_macro_f1 / eval_exact_match, eval_f1 (fractions 0–1), eval_loss.'),
  confusionMatrix: z.array(z.array(z.number().int())).nullable().describe('Classification: [gold][predicted] counts.'),
});
export const WorstExample = z.object({
  index: z.number().int(),
  text: z.string().describe('The text (classification) or the question (QA).'),
  context: z.string().nullable(),
  gold: z.string(),
  predicted: z.string(),
  score: z.number().describe('Classification: the gold label’s probability; QA: F1 (0 = wrong).'),
});
export const TaskEvaluateResult = z.object({
  task: TaskEvaluateRequest.shape.task,
  model: z.string(),
  labels: z.array(z.string()).describe('Classification: label names by id; empty for QA.'),
  examples: z.number().int(),
  tuned: TaskScores,
  base: TaskScores.nullable(),
  worst: z.array(WorstExample).describe('The tuned model’s worst examples, worst first.'),
  warnings: z.array(z.string()),
});
export type TaskEvaluateResult = z.infer<typeof TaskEvaluateResult>;

/** What the core sends the `task` job. */
export const TaskJobParams = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('predict'), request: PredictRequest }),
  z.object({ mode: z.literal('evaluate'), request: TaskEvaluateRequest }),
]);
export type TaskJobParams = z.infer<typeof TaskJobParams>;

export const taskMethods = {
  'tasks.predict': {
    input: PredictRequest,
    output: PredictResult,
    doc: 'Classify a text, or answer a question from a context, with a tuned encoder (and its base, to compare).',
  },
  'tasks.evaluate': {
    input: TaskEvaluateRequest,
    output: TaskEvaluateResult,
    doc: 'An encoder task’s metrics on an eval set for the tuned model (and its base): accuracy/F1 with the confusion matrix, or SQuAD EM/F1; the worst examples.',
  },
};
