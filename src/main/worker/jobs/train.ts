// The `train` job: one fine-tune in this worker process (see engine/trainer/fine-tune.ts). Metrics and
// progress go to the supervisor, which records them under the run; the result is the run's summary.
import { TRAIN_JOB_KIND, TrainJobParams } from '../../../common/api/runs.ts';
import { defineJobKind, JobCancelled, type JobContext } from '../job-kind.ts';
import type { Said } from '../../../common/api/phrases.ts';

export function reporterFor(ctx: JobContext) {
  return {
    log: (line: string, level: 'debug' | 'info' | 'warn' = 'info') => ctx.log(line, level),
    progress: (fraction: number | null, message: string | Said, etaSeconds?: number | null) => ctx.progress(fraction, message, etaSeconds ?? null),
    metric: (step: number, values: Record<string, number>) => ctx.metric(step, values),
  };
}

export const trainJob = defineJobKind({
  name: TRAIN_JOB_KIND,
  doc: 'Fine-tune a model with LoRA on a dataset (a run): checkpoints, metrics, the final adapter.',
  params: TrainJobParams,
  async run(params, ctx) {
    // Loaded on demand: the engine pulls in onnxruntime, which other job kinds' workers need not load.
    const { fineTune } = await import('../../engine/trainer/fine-tune.ts');
    const result = await fineTune({ config: params.config, outputDir: params.outputDir, resume: params.resume, acceptDatasetChange: params.acceptDatasetChange, signal: ctx.signal, reporter: reporterFor(ctx) });
    // A cancelled run keeps its last checkpoint; the job itself ends as cancelled.
    if (result.status === 'cancelled') throw new JobCancelled();
    return { ...result.summary, datasetHash: result.datasetHash }; // the core files the hash under the run
  },
});
