// Reading the output folder a Hugging Face trainer writes (transformers' Trainer, TRL's SFTTrainer, Axolotl):
//   output_dir/adapter_config.json, adapter_model.safetensors   (trainer.save_model with a PEFT model)
//   output_dir/trainer_state.json                                (trainer.save_state; log_history holds the curves)
//   output_dir/checkpoint-N/{adapter_*, trainer_state.json, optimizer.pt, …}
//   output_dir/training_args.json                                (the bundle's TRL script; training_args.bin is a pickle)
// Only reads; the folder is the user's and is never written.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS } from '../peft/adapter.ts';

export const TRAINER_STATE = 'trainer_state.json';
export const TRAINING_ARGS_JSON = 'training_args.json';

export class TrainerOutputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainerOutputError';
  }
}

/** One log_history entry: transformers logs numbers (loss, learning_rate, grad_norm, eval_loss, …) with step and epoch. */
export type LogEntry = Record<string, number> & { step: number };

export interface TrainerState {
  global_step: number;
  max_steps: number | null;
  epoch: number | null;
  num_train_epochs: number | null;
  train_batch_size: number | null;
  num_input_tokens_seen: number | null;
  logging_steps: number | null;
  eval_steps: number | null;
  save_steps: number | null;
  log_history: LogEntry[];
}

export interface TrainerOutput {
  dir: string;
  /** Where the adapter was found: the folder itself, or its newest checkpoint when save_model never ran. */
  adapterDir: string;
  /** checkpoint-N folder names, by N. */
  checkpoints: string[];
  state: TrainerState;
  stateFile: string;
  trainingArgs: Record<string, unknown> | null;
  /** Who wrote it, as far as the files say. */
  trainer: string;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Validates trainer_state.json as transformers writes it; the message names the file and the entry. */
export function parseTrainerState(raw: unknown, file: string): TrainerState {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new TrainerOutputError(`${file}: must be a JSON object (transformers' TrainerState)`);
  const o = raw as Record<string, unknown>;
  if (!Array.isArray(o.log_history))
    throw new TrainerOutputError(`${file}: log_history must be a list of logged entries`);
  const globalStep = num(o.global_step);
  if (globalStep === null || !Number.isInteger(globalStep) || globalStep < 0)
    throw new TrainerOutputError(`${file}: global_step must be a whole number ≥ 0`);
  const log: LogEntry[] = [];
  o.log_history.forEach((entry, i) => {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
      throw new TrainerOutputError(`${file}: log_history[${i}] must be an object`);
    const e = entry as Record<string, unknown>;
    const step = num(e.step);
    if (step === null || !Number.isInteger(step) || step < 0)
      throw new TrainerOutputError(
        `${file}: log_history[${i}].step must be a whole number ≥ 0, got ${JSON.stringify(e.step)}`,
      );
    const numbers: Record<string, number> = {};
    for (const [k, v] of Object.entries(e)) if (num(v) !== null) numbers[k] = v as number;
    log.push({ ...numbers, step });
  });
  return {
    global_step: globalStep,
    max_steps: num(o.max_steps),
    epoch: num(o.epoch),
    num_train_epochs: num(o.num_train_epochs),
    train_batch_size: num(o.train_batch_size),
    num_input_tokens_seen: num(o.num_input_tokens_seen),
    logging_steps: num(o.logging_steps),
    eval_steps: num(o.eval_steps),
    save_steps: num(o.save_steps),
    log_history: log,
  };
}

async function readJson(path: string): Promise<unknown> {
  const text = await readFile(path, 'utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new TrainerOutputError(`${path}: not valid JSON (${(err as Error).message})`);
  }
}

export async function readTrainerOutput(dir: string): Promise<TrainerOutput> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    throw new TrainerOutputError(
      `${dir}: cannot read the folder (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); choose the trainer's output_dir`,
    );
  }
  const checkpoints = entries
    .filter((e) => /^checkpoint-\d+$/.test(e))
    .sort((a, b) => Number(a.slice(11)) - Number(b.slice(11)));
  const newest = checkpoints.length ? join(dir, checkpoints[checkpoints.length - 1]) : null;
  const hasAdapter = async (d: string) =>
    (await isFile(join(d, ADAPTER_CONFIG))) && (await isFile(join(d, ADAPTER_WEIGHTS)));
  let adapterDir: string;
  if (await hasAdapter(dir)) adapterDir = dir;
  else if (newest && (await hasAdapter(newest))) adapterDir = newest;
  else {
    const full = entries.some((e) => /^model(-\d+-of-\d+)?\.safetensors$/.test(e));
    throw new TrainerOutputError(
      full
        ? `${dir}: holds a full model (model.safetensors), not a PEFT adapter; import it as a model instead`
        : `${dir}: no ${ADAPTER_CONFIG} + ${ADAPTER_WEIGHTS} in the folder or its newest checkpoint; choose the trainer's output_dir`,
    );
  }
  let stateFile = join(dir, TRAINER_STATE);
  if (!(await isFile(stateFile))) {
    if (!newest || !(await isFile(join(newest, TRAINER_STATE)))) {
      throw new TrainerOutputError(
        `${dir}: no ${TRAINER_STATE} (written by trainer.save_state() and in every checkpoint-N/); the curves cannot be read without it`,
      );
    }
    stateFile = join(newest, TRAINER_STATE);
  }
  const state = parseTrainerState(await readJson(stateFile), stateFile);
  const argsFile = join(dir, TRAINING_ARGS_JSON);
  let trainingArgs: Record<string, unknown> | null = null;
  if (await isFile(argsFile)) {
    const raw = await readJson(argsFile);
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
      throw new TrainerOutputError(`${argsFile}: must be a JSON object (TrainingArguments.to_json_string())`);
    trainingArgs = raw as Record<string, unknown>;
  }
  const trainer =
    trainingArgs && 'max_length' in trainingArgs ? 'TRL SFTTrainer' : 'a transformers Trainer (TRL, Axolotl, …)';
  return { dir, adapterDir, checkpoints, state, stateFile, trainingArgs, trainer };
}

export interface CurvePoint {
  step: number;
  split: 'train' | 'eval';
  values: Record<string, number>;
}

/**
 * log_history as the studio's metrics: training entries (loss, learning_rate, grad_norm) become loss/lr/grad_norm,
 * evaluation entries eval_loss (+ its perplexity); the closing summary entry (train_loss, train_runtime) is returned apart.
 */
export function curvesFromLogHistory(log: readonly LogEntry[]): { points: CurvePoint[]; final: LogEntry | null } {
  const points: CurvePoint[] = [];
  let final: LogEntry | null = null;
  for (const e of log) {
    if ('train_runtime' in e || 'train_loss' in e) {
      final = e;
      continue;
    }
    if ('eval_loss' in e) {
      const values: Record<string, number> = { eval_loss: e.eval_loss, eval_perplexity: Math.exp(e.eval_loss) };
      if ('epoch' in e) values.epoch = e.epoch;
      points.push({ step: e.step, split: 'eval', values });
    } else if ('loss' in e) {
      const values: Record<string, number> = { loss: e.loss };
      if ('learning_rate' in e) values.lr = e.learning_rate;
      if ('grad_norm' in e) values.grad_norm = e.grad_norm;
      if ('epoch' in e) values.epoch = e.epoch;
      points.push({ step: e.step, split: 'train', values });
    }
  }
  return { points, final };
}
