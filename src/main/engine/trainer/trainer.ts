// The training loop around an executor-neutral TrainingSession: data order, gradient accumulation,
// learning-rate schedule, clipping and AdamW settings, logging, periodic evaluation, checkpoints, cancel and
// exact resume. The session does the math of one micro-step and one update; everything that decides *what*
// the session sees, and when, lives here, so a resumed run sees exactly what the uninterrupted one would.
//
// Accumulation is token-weighted: the session averages the summed gradient over all trained tokens of the
// update (not over micro-batches), so a micro-batch with more answer tokens weighs more, exactly as if the
// whole update were one big batch. The reported loss is likewise Σ NLL / Σ tokens over the update.
import { createHash } from 'node:crypto';
import type { RunConfig } from '../../../common/api/runs.ts';
import type { TrainingSession } from '../session.ts';
import type { BatchPlan, DataPosition } from '../data/batches.ts';
import { hashSeed } from '../data/random.ts';
import { learningRateAt, warmupStepsFor, type ScheduleOptions } from './schedule.ts';
import {
  TRAINER_STATE_FORMAT,
  TRAINER_STATE_VERSION,
  loadCheckpoint,
  pruneCheckpoints,
  saveCheckpoint,
  saveFinalAdapter,
  type AdapterWriter,
  type BestCheckpoint,
  type LogEntry,
  type TrainerState,
} from './checkpoint.ts';
import { evaluateSplit, type EvaluationResult } from './evaluate.ts';

/** The run-config fields the loop uses. */
export type TrainerHyperparameters = Pick<
  RunConfig,
  | 'learning_rate'
  | 'num_train_epochs'
  | 'max_steps'
  | 'gradient_accumulation_steps'
  | 'warmup_steps'
  | 'warmup_ratio'
  | 'lr_scheduler_type'
  | 'weight_decay'
  | 'adam_beta1'
  | 'adam_beta2'
  | 'adam_epsilon'
  | 'max_grad_norm'
  | 'seed'
  | 'logging_steps'
  | 'eval_steps'
  | 'save_steps'
  | 'save_total_limit'
>;

/**
 * Encoder tasks: what an evaluation measures besides the loss (accuracy, F1 …, from the head's predictions), and
 * which of those figures keeps the best checkpoint: after each evaluation that beats the best so far, the weights
 * are written to <outputDir>/best (transformers' metric_for_best_model; the final adapter stays in adapter/).
 */
export interface TaskEvaluation {
  evaluate(session: TrainingSession, signal?: AbortSignal): Promise<{ loss: number; metrics: Record<`eval_${string}`, number> }>;
  best: { key: `eval_${string}`; higherIsBetter: boolean };
}

export interface TrainOptions {
  session: TrainingSession;
  hyperparameters: TrainerHyperparameters;
  train: BatchPlan;
  eval?: BatchPlan;
  /** Checkpoints go to <outputDir>/checkpoints, the final adapter to <outputDir>/adapter. */
  outputDir: string;
  /** Stored with every checkpoint (the full run config). */
  runConfig?: unknown;
  /** Writes the PEFT adapter (adapter_config.json + adapter_model.safetensors) into a folder. */
  writeAdapter?: AdapterWriter;
  /** Continue from this checkpoint folder. */
  resumeFrom?: string;
  /** Content hash of the training data, stored in every checkpoint and compared on resume. */
  datasetHash?: string;
  /** Resume even when the data's hash differs from the checkpoint's (the new hash is recorded from then on). */
  acceptDatasetChange?: boolean;
  signal?: AbortSignal;
  /** Encoder tasks: evaluate with the task's metrics (instead of perplexity) and keep the best checkpoint. */
  taskEvaluation?: TaskEvaluation;
  onLog?: (entry: LogEntry) => void;
  onCheckpoint?: (dir: string, step: number) => void;
  onWarning?: (message: string) => void;
  /** Seconds since some origin; injectable for tests. */
  clock?: () => number;
}

export interface TrainResult {
  status: 'completed' | 'cancelled';
  globalStep: number;
  totalSteps: number;
  epoch: number;
  trainLoss: number | null; // token-weighted loss of the last update
  evaluation: EvaluationResult | null; // the final eval, if an eval split exists
  trainedTokens: number;
  elapsedSeconds: number;
  lastCheckpoint: string | null;
  adapterDir: string | null;
  logHistory: LogEntry[];
  /** Encoder tasks: the last evaluation's metrics, and the best evaluation's (with the folder it was kept in). */
  evalMetrics: Record<string, number> | null;
  best: BestCheckpoint | null;
}

/** Updates per epoch and in the whole run, as transformers counts them (a partial last group still updates). */
export function planSteps(hp: Pick<TrainerHyperparameters, 'num_train_epochs' | 'max_steps' | 'gradient_accumulation_steps'>, microBatchesPerEpoch: number) {
  const updatesPerEpoch = Math.max(1, Math.ceil(microBatchesPerEpoch / hp.gradient_accumulation_steps));
  const totalSteps = hp.max_steps ?? Math.max(1, Math.ceil(hp.num_train_epochs * updatesPerEpoch));
  return { updatesPerEpoch, totalSteps };
}

/** The fields whose change would make a resumed curve differ from the uninterrupted one. */
export function configFingerprint(hp: TrainerHyperparameters, plan: BatchPlan): string {
  const relevant = {
    lr: hp.learning_rate,
    epochs: hp.num_train_epochs,
    max_steps: hp.max_steps,
    accumulation: hp.gradient_accumulation_steps,
    warmup: [hp.warmup_steps, hp.warmup_ratio],
    scheduler: hp.lr_scheduler_type,
    adamw: [hp.weight_decay, hp.adam_beta1, hp.adam_beta2, hp.adam_epsilon, hp.max_grad_norm],
    seed: hp.seed,
    data: [plan.examples.length, plan.options.microBatchSize, plan.options.maxLength, plan.options.packing === true, plan.options.seed],
  };
  return createHash('sha256').update(JSON.stringify(relevant)).digest('hex').slice(0, 16);
}

/** The run stops at the first NaN/Inf loss or gradient norm; the newest checkpoint on disk is from before it. */
export class NonFiniteTrainingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NonFiniteTrainingError';
  }
}

function nonFinite(what: string, value: number, step: number, lastCheckpoint: string | null): NonFiniteTrainingError {
  const kept = lastCheckpoint
    ? `the last good checkpoint, ${lastCheckpoint}, is kept: resume from it with a lower learning_rate (or max_grad_norm set)`
    : 'no checkpoint was saved before it';
  return new NonFiniteTrainingError(
    `update ${step}: the ${what} is ${value} (not a finite number), so training stopped; ${kept}. Check the model's weights and the data for extreme values`,
  );
}

function defaultClock(): number {
  return performance.now() / 1000;
}

export async function train(options: TrainOptions): Promise<TrainResult> {
  const { session, hyperparameters: hp, train: plan } = options;
  const clock = options.clock ?? defaultClock;
  if (plan.options.packing && !session.supportsPacking) {
    throw new Error('packing is on but this executor cannot keep packed examples apart (no segment support); turn packing off');
  }
  const { totalSteps } = planSteps(hp, plan.microBatchesInEpoch(0));
  const schedule: ScheduleOptions = {
    type: hp.lr_scheduler_type,
    baseLr: hp.learning_rate,
    totalSteps,
    warmupSteps: warmupStepsFor(totalSteps, hp.warmup_steps, hp.warmup_ratio),
  };
  const fingerprint = configFingerprint(hp, plan);

  let globalStep = 0;
  let position: DataPosition = { epoch: 0, microBatch: 0 };
  let trainedTokens = 0;
  let inputTokens = 0;
  let elapsedBefore = 0; // seconds spent by earlier processes of this run
  let logHistory: LogEntry[] = [];
  let best: BestCheckpoint | null = null;
  if (options.resumeFrom) {
    const checkpoint = await loadCheckpoint(options.resumeFrom);
    const state = checkpoint.state;
    if (state.datasetHash && options.datasetHash && state.datasetHash !== options.datasetHash) {
      const change = `the dataset's content changed since ${options.resumeFrom} was saved (hash ${state.datasetHash}, now ${options.datasetHash})`;
      if (!options.acceptDatasetChange) {
        throw new Error(`${change}: resuming would continue on different text. Restore the file, or resume with --accept-dataset-change (acceptDatasetChange) to continue on the new content`);
      }
      options.onWarning?.(`${change}; continuing on the new content as asked (the new hash is recorded)`);
    }
    if (state.configFingerprint !== fingerprint) {
      throw new Error(
        `${options.resumeFrom}: this checkpoint was made with different training settings or data (fingerprint ${state.configFingerprint}, now ${fingerprint}); resume needs the same config and dataset`,
      );
    }
    session.setTrainables(checkpoint.trainables);
    session.setOptimizerState(checkpoint.optimizer);
    globalStep = state.globalStep;
    position = state.dataPosition;
    trainedTokens = state.trainedTokens;
    inputTokens = state.inputTokens;
    elapsedBefore = state.elapsedSeconds;
    logHistory = state.logHistory;
    best = state.best ?? null;
  }

  const startedAt = clock();
  const startStep = globalStep;
  const elapsed = () => elapsedBefore + (clock() - startedAt);
  const epochOf = (p: DataPosition) => p.epoch + p.microBatch / plan.microBatchesInEpoch(p.epoch);
  let lastCheckpoint: string | null = options.resumeFrom ?? null;
  let lastCheckpointStep = globalStep;
  let lastLoss: number | null = null;
  let lastEvaluation: EvaluationResult | null = null;
  // Logging window (token-weighted loss and throughput since the last log line).
  let windowNll = 0;
  let windowTokens = 0;
  let windowInputTokens = 0;
  let windowStart = clock();

  const checkpoint = async (): Promise<void> => {
    const state: TrainerState = {
      format: TRAINER_STATE_FORMAT,
      version: TRAINER_STATE_VERSION,
      globalStep,
      totalSteps,
      dataPosition: position,
      scheduler: { type: schedule.type, step: globalStep, warmupSteps: schedule.warmupSteps, totalSteps, baseLr: schedule.baseLr },
      rng: { algorithm: 'hash32(seed, step, micro)', seed: hp.seed, step: globalStep },
      trainedTokens,
      inputTokens,
      elapsedSeconds: elapsed(),
      logHistory,
      configFingerprint: fingerprint,
      ...(options.datasetHash ? { datasetHash: options.datasetHash } : {}),
      ...(best ? { best } : {}),
    };
    const dir = await saveCheckpoint(
      options.outputDir,
      { state, trainables: session.getTrainables(), optimizer: session.getOptimizerState(), runConfig: options.runConfig ?? hp },
      options.writeAdapter,
    );
    await pruneCheckpoints(options.outputDir, hp.save_total_limit);
    lastCheckpoint = dir;
    lastCheckpointStep = globalStep;
    options.onCheckpoint?.(dir, globalStep);
  };

  let lastMetrics: Record<string, number> | null = null;
  const runTaskEval = async (task: TaskEvaluation): Promise<void> => {
    const { loss, metrics } = await task.evaluate(session, options.signal);
    lastEvaluation = { loss, perplexity: Number.NaN, tokens: 0, examples: [] };
    lastMetrics = metrics;
    const entry: LogEntry = { step: globalStep, epoch: epochOf(position), eval_loss: loss, ...metrics };
    const value = metrics[task.best.key];
    if (value !== undefined && Number.isFinite(value) && (best === null || (task.best.higherIsBetter ? value > best.value : value < best.value))) {
      const path = await saveFinalAdapter(options.outputDir, session.getTrainables(), options.writeAdapter, 'best');
      best = { step: globalStep, metric: task.best.key, value, path };
    }
    logHistory.push(entry);
    options.onLog?.(entry);
  };
  const runEval = async (): Promise<void> => {
    if (options.taskEvaluation) return runTaskEval(options.taskEvaluation);
    if (!options.eval) return;
    lastEvaluation = await evaluateSplit(session, options.eval, { signal: options.signal });
    const entry: LogEntry = { step: globalStep, epoch: epochOf(position), eval_loss: lastEvaluation.loss, eval_perplexity: lastEvaluation.perplexity };
    logHistory.push(entry);
    options.onLog?.(entry);
  };
  const aborted = () => options.signal?.aborted === true;
  /** An evaluation a cancel interrupts ends quietly: the cancel is handled where the loop checks the signal. */
  const evalUnlessCancelled = async (): Promise<void> => {
    try {
      await runEval();
    } catch (err) {
      if (!aborted()) throw err;
    }
  };

  let cancelled = false;
  while (globalStep < totalSteps) {
    if (options.signal?.aborted) {
      cancelled = true;
      break;
    }
    // One update: up to `gradient_accumulation_steps` micro-batches, never crossing an epoch boundary.
    const lr = learningRateAt(globalStep, schedule);
    // Where this update began: a cancel in the middle of it drops it, and the checkpoint taken on cancel must point
    // back here so a resume redoes the whole update.
    const updateStart = { position, inputTokens };
    const updateEpoch = position.epoch;
    let nll = 0;
    let tokens = 0;
    let microIndex = 0;
    while (microIndex < hp.gradient_accumulation_steps && position.epoch === updateEpoch) {
      if (options.signal?.aborted) break;
      const { batch } = plan.batchAt(position);
      const result = await session.microStep(batch, { dropoutSeed: hashSeed(hp.seed, globalStep, microIndex) });
      if (!Number.isFinite(result.lossSum)) throw nonFinite('loss', result.lossSum, globalStep + 1, lastCheckpoint);
      nll += result.lossSum;
      tokens += result.tokens;
      let real = 0;
      for (let i = 0; i < batch.attentionMask.length; i++) real += batch.attentionMask[i];
      windowInputTokens += real;
      inputTokens += real;
      position = plan.advance(position);
      microIndex++;
    }
    if (options.signal?.aborted) {
      // A half-accumulated update is dropped; the session's pending gradients die with it (the job ends),
      // and a resume restarts this update: the checkpoint taken on cancel points back to where it began.
      position = updateStart.position;
      inputTokens = updateStart.inputTokens;
      cancelled = true;
      break;
    }
    let gradNorm = Number.NaN;
    if (tokens > 0) {
      ({ gradNorm } = await session.applyUpdate({
        lr,
        beta1: hp.adam_beta1,
        beta2: hp.adam_beta2,
        eps: hp.adam_epsilon,
        weightDecay: hp.weight_decay,
        maxGradNorm: hp.max_grad_norm,
      }));
      // Checked after the update, before anything is saved: the weights it produced are never checkpointed.
      if (!Number.isFinite(gradNorm)) throw nonFinite('gradient norm', gradNorm, globalStep + 1, lastCheckpoint);
    } else {
      options.onWarning?.(`update ${globalStep + 1} had no trained tokens (every answer truncated away?); it was skipped`);
    }
    globalStep++;
    trainedTokens += tokens;
    windowNll += nll;
    windowTokens += tokens;
    lastLoss = tokens > 0 ? nll / tokens : lastLoss;

    if (globalStep % hp.logging_steps === 0 || globalStep === totalSteps) {
      const now = clock();
      const doneThisProcess = globalStep - startStep;
      const secondsPerStep = (now - startedAt) / doneThisProcess;
      const entry: LogEntry = {
        step: globalStep,
        epoch: epochOf(position),
        loss: windowTokens > 0 ? windowNll / windowTokens : Number.NaN,
        lr,
        grad_norm: gradNorm,
        tokens_per_second: windowInputTokens / Math.max(1e-9, now - windowStart),
        elapsed_seconds: elapsed(),
        eta_seconds: secondsPerStep * (totalSteps - globalStep),
        trained_tokens: trainedTokens,
      };
      windowNll = 0;
      windowTokens = 0;
      windowInputTokens = 0;
      windowStart = now;
      logHistory.push(entry);
      options.onLog?.(entry);
    }
    const evalDue = hp.eval_steps !== null && globalStep % hp.eval_steps === 0 && globalStep < totalSteps;
    const saveDue = hp.save_steps !== null && globalStep % hp.save_steps === 0 && globalStep < totalSteps;
    if (evalDue) await evalUnlessCancelled();
    // A cancel after the last update still finishes: the adapter is trained, only its evaluation is skipped.
    if (aborted() && globalStep < totalSteps) {
      cancelled = true;
      break;
    }
    if (saveDue) await checkpoint();
    if (evalDue || saveDue) windowStart = clock(); // tokens/s measures training, not evaluation or saving
  }

  let adapterDir: string | null = null;
  if (cancelled) {
    // Cancel keeps the updates done so far: a checkpoint at the last finished one, which Resume continues from.
    if (globalStep > lastCheckpointStep) await checkpoint();
  } else {
    // The trained adapter is saved before the final evaluation, so cancelling that evaluation loses nothing.
    await checkpoint();
    adapterDir = await saveFinalAdapter(options.outputDir, session.getTrainables(), options.writeAdapter);
    await evalUnlessCancelled();
  }
  return {
    status: cancelled ? 'cancelled' : 'completed',
    globalStep,
    totalSteps,
    epoch: epochOf(position),
    trainLoss: lastLoss,
    evaluation: lastEvaluation,
    trainedTokens,
    elapsedSeconds: elapsed(),
    lastCheckpoint,
    adapterDir,
    logHistory,
    evalMetrics: lastMetrics,
    best,
  };
}
