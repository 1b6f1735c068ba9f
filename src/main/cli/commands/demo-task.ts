// `lora-studio demo --task classification | question-answering`: the bundled encoder (resources/encoder-model)
// fine-tuned on the bundled SST-2-style or SQuAD-style data twice from the same pretrained base — LoRA (PEFT's
// SEQ_CLS / QUESTION_ANS: adapter on query/value, head trained in full) and full fine-tuning — through the API like
// any run, then the task's metric of the base (its fresh head), the LoRA adapter and the fully tuned model on the
// eval split (tasks.evaluate), with training time, trainable parameters, peak memory and output size side by side.
// The last line: `demo task=<t> metric=<name> base=<x> lora=<y> full=<z>`.
import { folderBytes } from '../../formats/files.ts';
import { join } from 'node:path';
import { TASK_METRIC, type Run, type RunConfigInput } from '../../../common/api/runs.ts';
import type { TaskEvaluateResult } from '../../../common/api/tasks.ts';
import type { Project } from '../../../common/api/projects.ts';
import { StudioError, type StudioCore } from '../../core/index.ts';
import { BUNDLED_ENCODER_DATA_DIR, BUNDLED_ENCODER_DIR } from '../../core/bundled.ts';
import { printTable } from '../context.ts';
import { formatDuration } from '../progress.ts';
import { taskEvaluationOfRun } from './predict.ts';
import { followJob } from './train.ts';

export type DemoTask = 'classification' | 'question-answering';
export const TASK_DEMO_PROJECT = 'Encoder demo';

export interface TaskDemoOptions {
  task: DemoTask;
  model?: string;
  dataDir?: string; // the bundled datasets' folder (sst2/, squad/)
  seed: number;
  /** Training epochs of both runs (default 2 for classification, 1 for QA). */
  epochs?: number;
}

/** The two runs' settings: the same data, seed and schedule; LoRA with PEFT's SEQ_CLS/QUESTION_ANS head, or every weight. */
export function taskDemoConfig(o: TaskDemoOptions, method: 'lora' | 'full'): RunConfigInput {
  const dir = o.dataDir ?? BUNDLED_ENCODER_DATA_DIR;
  const classification = o.task === 'classification';
  const data = classification
    ? {
        path: join(dir, 'sst2/train.jsonl'),
        eval_split: { kind: 'file' as const, path: join(dir, 'sst2/validation.jsonl') },
      }
    : {
        path: join(dir, 'squad/train-v1.1.json'),
        eval_split: { kind: 'file' as const, path: join(dir, 'squad/dev-v1.1.json') },
      };
  return {
    model: o.model ?? BUNDLED_ENCODER_DIR,
    task: o.task,
    ...(classification
      ? { classification: { labels: ['negative', 'positive'] } }
      : { question_answering: { doc_stride: 32 } }),
    dataset: data,
    method,
    lora: { r: 8, lora_alpha: 32, lora_dropout: 0.1, target_modules: ['query', 'value'] },
    num_train_epochs: o.epochs ?? (classification ? 2 : 1), // QA windows are twice as long: one pass keeps it within minutes
    micro_batch_size: 16,
    gradient_accumulation_steps: 1,
    // LoRA's few parameters take a larger step than the whole model (as the recipes' 2e-4 vs 2e-5, scaled to a toy)
    learning_rate: method === 'lora' ? 3e-3 : 3e-4,
    lr_scheduler_type: 'linear',
    warmup_ratio: 0.05,
    weight_decay: 0.01,
    max_seq_length: classification ? 64 : 128,
    seed: o.seed,
    logging_steps: 25,
    eval_steps: 250,
    save_steps: null,
  };
}

async function project(core: StudioCore): Promise<Project> {
  const all = await core.call('projects.list', {});
  return (
    all.find((p) => p.name === TASK_DEMO_PROJECT) ??
    (await core.call('projects.create', {
      name: TASK_DEMO_PROJECT,
      description: 'The bundled encoder: LoRA vs full fine-tuning (lora-studio demo --task)',
    }))
  );
}

async function trainToEnd(core: StudioCore, projectId: string, name: string, config: RunConfigInput): Promise<Run> {
  const run = await core.call('runs.start', { projectId, name, config: config as never });
  const job = await followJob(core, run.jobId!, name, { cancel: () => core.call('runs.cancel', { id: run.id }) });
  const done = await core.call('runs.get', { id: run.id });
  if (job.status !== 'succeeded' || !done.summary?.adapterPath)
    throw new StudioError('failed', `the demo run "${name}" (${run.id}) ${job.status}: ${done.error ?? 'see its log'}`);
  return done;
}

export interface TaskDemoSide {
  run: Run | null;
  metric: number;
  seconds: number | null;
  trainable: number | null;
  peakRssBytes: number | null;
  outputBytes: number | null;
}

export interface TaskDemoResult {
  task: DemoTask;
  metric: string;
  base: TaskDemoSide;
  lora: TaskDemoSide;
  full: TaskDemoSide;
  evaluation: TaskEvaluateResult;
}

export async function runTaskDemo(
  core: StudioCore,
  o: TaskDemoOptions,
  say: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Promise<TaskDemoResult> {
  const p = await project(core);
  const metric = TASK_METRIC[o.task];
  say(`demo: ${o.task} on the bundled encoder, LoRA and full fine-tuning from the same pretrained base`);
  const lora = await trainToEnd(core, p.id, `demo ${o.task} LoRA`, taskDemoConfig(o, 'lora'));
  const full = await trainToEnd(core, p.id, `demo ${o.task} full`, taskDemoConfig(o, 'full'));
  say('measuring the base, the LoRA adapter and the fully tuned model on the eval split');
  const loraEval = (await core.call(
    'tasks.evaluate',
    taskEvaluationOfRun(lora, { compareBase: true, worst: 5 }) as never,
  )) as TaskEvaluateResult;
  const fullEval = (await core.call(
    'tasks.evaluate',
    taskEvaluationOfRun(full, { compareBase: false, worst: 0 }) as never,
  )) as TaskEvaluateResult;
  const side = async (run: Run, value: number): Promise<TaskDemoSide> => ({
    run,
    metric: value,
    seconds: run.summary!.seconds,
    trainable: run.summary!.trainableParameters,
    peakRssBytes: run.summary!.peakRssBytes,
    outputBytes: await folderBytes(run.summary!.adapterPath!),
  });
  return {
    task: o.task,
    metric: metric.name,
    base: {
      run: null,
      metric: loraEval.base!.metrics[metric.key],
      seconds: null,
      trainable: null,
      peakRssBytes: null,
      outputBytes: null,
    },
    lora: await side(lora, loraEval.tuned.metrics[metric.key]),
    full: await side(full, fullEval.tuned.metrics[metric.key]),
    evaluation: loraEval,
  };
}

const MiB = (b: number | null) => (b === null ? '-' : `${(b / 2 ** 20).toFixed(1)} MiB`);

export function printTaskDemo(r: TaskDemoResult): void {
  const metricName = r.metric;
  printTable(
    ['', metricName.toUpperCase(), 'TRAINING TIME', 'TRAINABLE PARAMS', 'PEAK MEMORY', 'OUTPUT SIZE'],
    (['base', 'lora', 'full'] as const).map((k) => {
      const s = r[k];
      return [
        k === 'base' ? 'base (fresh head)' : k === 'lora' ? 'LoRA' : 'full',
        s.metric.toFixed(4),
        s.seconds === null ? '-' : formatDuration(s.seconds),
        s.trainable === null ? '-' : s.trainable.toLocaleString('en-US'),
        MiB(s.peakRssBytes),
        MiB(s.outputBytes),
      ];
    }),
  );
  if (r.lora.run)
    process.stdout.write(
      `LoRA run ${r.lora.run.id}: adapter ${r.lora.run.summary?.adapterPath}\nfull run ${r.full.run?.id}: model ${r.full.run?.summary?.adapterPath}\n`,
    );
  const metricKey = metricName === 'F1' ? 'f1' : metricName;
  process.stdout.write(
    `demo task=${r.task} metric=${metricKey} base=${r.base.metric.toFixed(4)} lora=${r.lora.metric.toFixed(4)} full=${r.full.metric.toFixed(4)}\n`,
  );
}
