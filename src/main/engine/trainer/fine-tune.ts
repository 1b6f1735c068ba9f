// One fine-tune from a run config to an adapter: tokenizer, dataset, model session, the training loop,
// and the summary. The worker's `train` job calls this; it reports through plain callbacks so it can be
// driven (and tested) without a worker process.
import { defaultThreads } from '../executors/onnx/ort.ts';
import type { RunConfig, RunSummary } from '../../../common/api/runs.ts';
import { say, type Said } from '../../../common/api/phrases.ts';
import { HfTokenizer } from '../../formats/tokenizer/index.ts';
import { BatchPlan } from '../data/batches.ts';
import { loadRunExamples } from '../data/run-examples.ts';
import type { TrainingSession } from '../session.ts';
import { latestCheckpoint, type AdapterWriter, type LogEntry } from './checkpoint.ts';
import { openModelSession } from './model-session.ts';
import { openFusionSession } from '../fusion/session.ts';
import { reportFusion } from '../fusion/report.ts';
import { planSteps, train, type TrainResult } from './trainer.ts';

export interface FineTuneReporter {
  log(line: string, level?: 'debug' | 'info' | 'warn'): void;
  /** `message`: plain English, or `say(code, params)` so a UI in another language can render it. */
  progress(fraction: number | null, message: string | Said, etaSeconds?: number | null): void;
  metric(step: number, values: Record<string, number>): void;
}

export interface FineTuneOptions {
  config: RunConfig;
  outputDir: string;
  resume: boolean;
  /** On resume, continue although the dataset's content hash differs from the checkpoint's. */
  acceptDatasetChange?: boolean;
  signal: AbortSignal;
  reporter: FineTuneReporter;
  /** Tests inject a session (e.g. a double); by default the model folder is opened on the CPU executor. */
  openSession?: (trainingTemplate: { template: Record<string, unknown>; chatTemplate: string | null }) => Promise<{
    session: TrainingSession;
    writeAdapter?: AdapterWriter;
    trainableParameters: number | null;
    warnings: string[];
  }>;
}

export interface FineTuneResult {
  status: TrainResult['status'];
  summary: RunSummary;
  datasetHash: string;
}

/** A LogEntry as store metrics: numbers only, absent fields left out. */
export function metricValues(entry: LogEntry): Record<string, number> {
  const values: Record<string, number> = {};
  for (const [key, value] of Object.entries(entry)) if (key !== 'step' && typeof value === 'number' && Number.isFinite(value)) values[key] = value;
  return values;
}

export async function fineTune(options: FineTuneOptions): Promise<FineTuneResult> {
  // Encoder tasks (classification, extractive QA) have their own data, head and evaluation (fine-tune-task.ts).
  if (options.config.task !== 'causal-lm') return (await import('./fine-tune-task.ts')).fineTuneTask(options);
  const { config, reporter } = options;
  reporter.progress(null, say('progress.loadingData'));
  const tokenizer = HfTokenizer.load(config.model);
  const data = await loadRunExamples({ config, tokenizer });
  reporter.log(
    `dataset: ${data.train.length} training and ${data.eval.length} eval examples (${data.mappingReason}); ${data.truncated} truncated to ${config.max_seq_length} tokens` +
      (data.untrained ? `; ${data.untrained} left out with no token to learn` : ''),
  );
  for (const problem of data.problems.slice(0, 20)) reporter.log(`skipped bad row: ${problem}`, 'warn');
  if (data.overlap > 0) reporter.log(`${data.overlap} eval examples also appear in the training rows: eval loss will look better than it is`, 'warn');
  for (const warning of data.warnings.slice(0, 10)) reporter.log(warning, 'warn');

  const trainingTemplate = { template: data.template as unknown as Record<string, unknown>, chatTemplate: data.template.type === 'chat' ? (data.template.template ?? Object.values(tokenizer.chatTemplates)[0] ?? null) : null };
  reporter.progress(null, say('progress.loadingModel'));
  const fusion = !options.openSession && config.fusion ? await openFusionSession(config, trainingTemplate, defaultThreads()) : null;
  if (fusion) reporter.log(`combining ${fusion.inputs.adapters.length} frozen adapters (${config.fusion!.mode} mode) over ${fusion.fused.modules.length} linear layers; executor: ${fusion.executor.name} (${fusion.executor.reason})`);
  const opened = options.openSession
    ? await options.openSession(trainingTemplate)
    : fusion
      ? fusion
      : await openModelSession({ config, trainingTemplate, threads: defaultThreads() }).then((m) => {
        reporter.log(`executor: ${m.executor.name} (${m.executor.reason})`);
        // what the method costs in frozen weights (QLoRA's NF4 base vs LoRA's float32 one; none in full training)
        if (config.method !== 'full') reporter.log(`frozen base weights: ${(m.baseWeightBytes / 2 ** 20).toFixed(1)} MiB (${config.method === 'qlora' ? 'NF4 linears' : 'float32'})`);
        return { ...m, trainableParameters: m.trainableParameters as number | null };
      });
  for (const warning of opened.warnings) reporter.log(warning, 'warn');
  if (opened.trainableParameters !== null) reporter.log(`trainable parameters: ${opened.trainableParameters.toLocaleString('en-US')}`);

  const trainPlan = new BatchPlan(data.train, {
    seed: config.seed,
    microBatchSize: config.micro_batch_size,
    maxLength: config.max_seq_length,
    padId: data.padId,
    packing: config.packing,
  });
  const evalPlan = data.eval.length
    ? new BatchPlan(data.eval, { seed: config.seed, microBatchSize: config.micro_batch_size, maxLength: config.max_seq_length, padId: data.padId, shuffle: false })
    : undefined;
  const planned = planSteps(config, trainPlan.microBatchesInEpoch(0)).totalSteps;
  let resumeFrom: string | undefined;
  if (options.resume) {
    resumeFrom = (await latestCheckpoint(options.outputDir)) ?? undefined;
    reporter.log(resumeFrom ? `resuming from ${resumeFrom}` : 'no checkpoint to resume from yet: starting from the beginning');
  }

  let result: TrainResult;
  try {
    result = await train({
      session: opened.session,
      hyperparameters: config,
      train: trainPlan,
      eval: evalPlan,
      outputDir: options.outputDir,
      runConfig: config,
      writeAdapter: opened.writeAdapter,
      resumeFrom,
      datasetHash: data.datasetHash,
      acceptDatasetChange: options.acceptDatasetChange,
      signal: options.signal,
      onLog: (entry) => {
        // Each training point also carries what the run page shows while training: the size of what is trained
        // and the worker's peak memory so far.
        const live = entry.loss === undefined ? {} : { peak_rss_bytes: process.resourceUsage().maxRSS * 1024, ...(opened.trainableParameters !== null ? { trainable_parameters: opened.trainableParameters } : {}) };
        reporter.metric(entry.step, { ...metricValues(entry), ...live });
        if (entry.loss !== undefined) {
          reporter.progress(Math.min(1, entry.step / planned), say('progress.step', { step: entry.step, total: planned, loss: entry.loss }), entry.eta_seconds ?? null);
        } else if (entry.eval_loss !== undefined) {
          reporter.log(`step ${entry.step}: eval loss ${entry.eval_loss.toFixed(4)}, perplexity ${entry.eval_perplexity?.toFixed(3)}`);
        }
      },
      onCheckpoint: (dir) => reporter.log(`checkpoint saved: ${dir}`, 'debug'),
      onWarning: (message) => reporter.log(message, 'warn'),
    });
    // a combination is compared with each adapter alone and their uniform average on the same eval rows
    if (fusion && evalPlan && result.status === 'completed') await reportFusion({ fusion, config, evalPlan, outputDir: options.outputDir, reporter, signal: options.signal });
  } finally {
    await opened.session.dispose();
  }
  const lastEval = result.evaluation;
  const summary: RunSummary = {
    steps: result.globalStep,
    totalSteps: result.totalSteps,
    epoch: result.epoch,
    trainLoss: result.trainLoss,
    evalLoss: lastEval && Number.isFinite(lastEval.loss) ? lastEval.loss : null,
    evalPerplexity: lastEval && Number.isFinite(lastEval.perplexity) ? lastEval.perplexity : null,
    trainedTokens: result.trainedTokens,
    seconds: result.elapsedSeconds,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    trainableParameters: opened.trainableParameters,
    adapterPath: result.adapterDir,
    checkpointPath: result.lastCheckpoint,
  };
  return { status: result.status, summary, datasetHash: data.datasetHash };
}
