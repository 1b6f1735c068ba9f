// What the faces need to show and measure an encoder-task run (classification / extractive QA), shared so the
// studio and `lora-studio eval --run` ask the core the same question and get the same numbers: the run's
// evaluation request (its model, its final adapter or best checkpoint, its eval split or another file), the
// figures its task is judged by, and the best evaluation among its logged points (as the trainer keeps it).
import { TASK_METRIC, type Run, type RunTask } from './runs.ts';
import type { TaskEvaluateRequest } from './tasks.ts';

export type EncoderTask = Exclude<RunTask, 'causal-lm'>;

/** The figures each encoder task reports at every eval point, headline first (as the metrics log names them). */
export const TASK_METRIC_KEYS: Record<EncoderTask, readonly [string, string]> = {
  classification: ['eval_accuracy', 'eval_macro_f1'],
  'question-answering': ['eval_exact_match', 'eval_f1'],
};

export function isTaskRun(run: Pick<Run, 'config'>): boolean {
  return run.config.task !== 'causal-lm';
}

/** A point of a run's metrics as the faces hold them: the step and whatever figures were logged there. */
export interface StepFigures {
  step: number;
  [key: string]: number | undefined;
}

/**
 * The best evaluation among the points, by the task's metric (TASK_METRIC), the way the trainer keeps `best/`:
 * the first point that beats every earlier one (a tie keeps the earlier step). Null when no point has the metric.
 */
export function bestTaskPoint(task: EncoderTask, points: readonly StepFigures[]): { step: number; value: number } | null {
  const { key, higherIsBetter } = TASK_METRIC[task];
  let best: { step: number; value: number } | null = null;
  for (const point of [...points].sort((a, b) => a.step - b.step)) {
    const value = point[key];
    if (value === undefined || !Number.isFinite(value)) continue;
    if (best === null || (higherIsBetter ? value > best.value : value < best.value)) best = { step: point.step, value };
  }
  return best;
}

export type TaskRunEvaluation =
  | { ok: true; request: TaskEvaluateRequest }
  | { ok: false; problem: 'not-a-task-run' | 'no-output' | 'no-best' };

/**
 * The evaluation request of an encoder-task run: its model with its final adapter (or its best checkpoint, or
 * `adapterPath`), on its eval split (or every row of `evalFile`, read with the run's columns). A LoRA run's base
 * (the pretrained encoder with a freshly created head) is measured beside it when `compareBase`; a fully fine-tuned
 * run's folder is a whole model, with no base side. Paths must already be absolute.
 */
export function taskEvaluationOfRun(
  run: Run,
  options: {
    checkpoint?: 'final' | 'best';
    adapterPath?: string | null;
    evalFile?: string | null;
    compareBase: boolean;
    worst: number;
  },
): TaskRunEvaluation {
  const c = run.config;
  if (c.task === 'causal-lm') return { ok: false, problem: 'not-a-task-run' };
  let product: string | null | undefined;
  if (options.adapterPath) product = options.adapterPath;
  else if (options.checkpoint === 'best') {
    product = run.summary?.best?.path;
    if (!product) return { ok: false, problem: 'no-best' };
  } else product = run.summary?.adapterPath;
  if (!product) return { ok: false, problem: 'no-output' };
  const full = c.method === 'full';
  return {
    ok: true,
    request: {
      model: full ? product : c.model,
      adapterPath: full ? null : product,
      compareBase: options.compareBase && !full,
      maxLength: c.max_seq_length,
      docStride: c.question_answering?.doc_stride ?? 128,
      maxAnswerLength: c.question_answering?.max_answer_length ?? 30,
      task: c.task,
      dataset: options.evalFile ? { ...c.dataset, eval_split: { kind: 'file', path: options.evalFile } } : c.dataset,
      classification: c.classification,
      question_answering: c.question_answering,
      seed: c.seed,
      batchSize: 16,
      worst: options.worst,
    },
  };
}
