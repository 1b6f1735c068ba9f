// Resumable checkpoints, written so the newest complete one is always usable, whatever kills the process.
//
// <outputDir>/checkpoints/checkpoint-<step>/
//   trainables.safetensors   the session's trainable tensors (F32, the session's names) — exact resume state
//   optimizer.safetensors    AdamW moments, keys "m/<name>" and "v/<name>"; metadata {step}
//   trainer_state.json       step, scheduler, data position, RNG, tokens, elapsed, log history (written last)
//   run_config.json          the run config this state belongs to
//   adapter_config.json + adapter_model.safetensors   the PEFT adapter, when the caller gives an adapter writer
//
// Atomicity: everything is written into a hidden temporary folder (each file fsynced), which is then renamed
// to checkpoint-<step> in one step; a folder named checkpoint-<step> is therefore always complete, and the
// latest checkpoint is simply the highest step whose trainer_state.json parses.
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { SafetensorsFile, writeSafetensors, type TensorToWrite } from '../../formats/safetensors/index.ts';
import type { TensorMap } from '../session.ts';
import type { DataPosition } from '../data/batches.ts';

export const TRAINER_STATE_FORMAT = 'lora-studio-trainer-state';
export const TRAINER_STATE_VERSION = 1;

/** One logged point (the store's run_metrics values plus its step). */
/** One logged point; an encoder task's evaluation adds its metrics (eval_accuracy, eval_f1 …) as further numbers. */
export interface LogEntry {
  step: number;
  epoch: number;
  loss?: number;
  lr?: number;
  grad_norm?: number;
  tokens_per_second?: number;
  elapsed_seconds?: number;
  eta_seconds?: number;
  /** Answer tokens trained on so far (the whole run's, across resumes). */
  trained_tokens?: number;
  eval_loss?: number;
  eval_perplexity?: number;
}

export interface TrainerState {
  format: typeof TRAINER_STATE_FORMAT;
  version: number;
  globalStep: number; // optimizer updates done
  totalSteps: number;
  dataPosition: DataPosition; // the next micro-batch to read
  scheduler: { type: string; step: number; warmupSteps: number; totalSteps: number; baseLr: number };
  /** Dropout seeds are hash(seed, step, micro-batch): this pair is the whole RNG state. */
  rng: { algorithm: 'hash32(seed, step, micro)'; seed: number; step: number };
  trainedTokens: number;
  inputTokens: number;
  elapsedSeconds: number;
  logHistory: LogEntry[];
  /** Fingerprint of the config fields that change the numbers; resume refuses a different one. */
  configFingerprint: string;
  /** Content hash of the training examples ("sha256:…"); resume refuses another unless told to accept it. Absent in older checkpoints. */
  datasetHash?: string;
  /** Encoder tasks: the best evaluation so far (its weights are in <outputDir>/best), so a resumed run keeps comparing against it. */
  best?: BestCheckpoint;
}

/** The evaluation with the best task metric, and the folder its adapter (or model) was kept in. */
export interface BestCheckpoint {
  step: number;
  metric: string;
  value: number;
  path: string;
}

export interface CheckpointContents {
  state: TrainerState;
  trainables: TensorMap;
  optimizer: { step: number; m: TensorMap; v: TensorMap };
  runConfig: unknown;
}

export type AdapterWriter = (dir: string, trainables: TensorMap) => Promise<void>;

const CHECKPOINT_PREFIX = 'checkpoint-';

export function checkpointsDir(outputDir: string): string {
  return join(outputDir, 'checkpoints');
}

function toWrite(prefix: string, tensors: TensorMap): TensorToWrite[] {
  return [...tensors].map(([name, tensor]) => ({ name: prefix + name, dtype: 'F32', shape: tensor.shape, data: tensor.data }));
}

async function writeFileSynced(path: string, text: string): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function syncDir(dir: string): Promise<void> {
  // Persist the rename itself; not every platform lets a directory be opened for fsync.
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    /* best effort */
  }
}

/** Write a checkpoint atomically; returns its folder. */
export async function saveCheckpoint(outputDir: string, contents: CheckpointContents, writeAdapter?: AdapterWriter): Promise<string> {
  const root = checkpointsDir(outputDir);
  await mkdir(root, { recursive: true });
  const finalDir = join(root, `${CHECKPOINT_PREFIX}${contents.state.globalStep}`);
  const tmpDir = join(root, `.${CHECKPOINT_PREFIX}${contents.state.globalStep}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(tmpDir);
  try {
    await writeSafetensors(join(tmpDir, 'trainables.safetensors'), toWrite('', contents.trainables), { metadata: { format: 'lora-studio-trainables' } });
    await writeSafetensors(join(tmpDir, 'optimizer.safetensors'), [...toWrite('m/', contents.optimizer.m), ...toWrite('v/', contents.optimizer.v)], {
      metadata: { format: 'lora-studio-adamw', step: String(contents.optimizer.step) },
    });
    if (writeAdapter) await writeAdapter(tmpDir, contents.trainables);
    await writeFileSynced(join(tmpDir, 'run_config.json'), JSON.stringify(contents.runConfig, null, 2) + '\n');
    await writeFileSynced(join(tmpDir, 'trainer_state.json'), JSON.stringify(contents.state, null, 2) + '\n');
    await syncDir(tmpDir);
    // Re-saving a step (a resumed run reaching a step it had saved) replaces the old folder.
    await rm(finalDir, { recursive: true, force: true });
    await rename(tmpDir, finalDir);
    await syncDir(root);
    return finalDir;
  } catch (error) {
    await rm(tmpDir, { recursive: true, force: true });
    throw error;
  }
}

/** Steps of the complete checkpoints under outputDir, ascending. */
export async function listCheckpoints(outputDir: string): Promise<{ step: number; dir: string }[]> {
  const root = checkpointsDir(outputDir);
  let names: string[];
  try {
    names = await readdir(root);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names
    .filter((name) => new RegExp(`^${CHECKPOINT_PREFIX}\\d+$`).test(name))
    .map((name) => ({ step: Number(name.slice(CHECKPOINT_PREFIX.length)), dir: join(root, name) }))
    .sort((a, b) => a.step - b.step);
}

export async function latestCheckpoint(outputDir: string): Promise<string | null> {
  const all = await listCheckpoints(outputDir);
  return all.length ? all[all.length - 1].dir : null;
}

/** Delete all but the newest `keep` checkpoints (after a new one is complete). */
export async function pruneCheckpoints(outputDir: string, keep: number | null): Promise<void> {
  if (keep === null) return;
  const all = await listCheckpoints(outputDir);
  for (const old of all.slice(0, Math.max(0, all.length - keep))) await rm(old.dir, { recursive: true, force: true });
}

async function readTensorMap(file: SafetensorsFile, prefix: string): Promise<TensorMap> {
  const map: TensorMap = new Map();
  for (const name of file.names()) {
    if (!name.startsWith(prefix)) continue;
    map.set(name.slice(prefix.length), { shape: [...file.info(name).shape], data: await file.readFloat32(name) });
  }
  return map;
}

export async function loadCheckpoint(dir: string): Promise<CheckpointContents> {
  const statePath = join(dir, 'trainer_state.json');
  let state: TrainerState;
  try {
    state = JSON.parse(await readFile(statePath, 'utf8')) as TrainerState;
  } catch (error) {
    throw new Error(`${statePath}: not a readable trainer state (${(error as Error).message}); is ${dir} a checkpoint folder?`, { cause: error });
  }
  if (state.format !== TRAINER_STATE_FORMAT || state.version !== TRAINER_STATE_VERSION) {
    throw new Error(`${statePath}: format ${String(state.format)} v${String(state.version)}, expected ${TRAINER_STATE_FORMAT} v${TRAINER_STATE_VERSION}`);
  }
  const trainablesFile = await SafetensorsFile.open(join(dir, 'trainables.safetensors'));
  const optimizerFile = await SafetensorsFile.open(join(dir, 'optimizer.safetensors'));
  try {
    const trainables = await readTensorMap(trainablesFile, '');
    const m = await readTensorMap(optimizerFile, 'm/');
    const v = await readTensorMap(optimizerFile, 'v/');
    const runConfig = JSON.parse(await readFile(join(dir, 'run_config.json'), 'utf8')) as unknown;
    const optimizerStep = Number(optimizerFile.metadata.step ?? state.globalStep);
    return { state, trainables, optimizer: { step: optimizerStep, m, v }, runConfig };
  } finally {
    await trainablesFile.close();
    await optimizerFile.close();
  }
}

/** Write the final adapter (or the raw trainables without a writer) into its own folder (`adapter`, or `best` for the best evaluation), atomically. */
export async function saveFinalAdapter(outputDir: string, trainables: TensorMap, writeAdapter?: AdapterWriter, folder = 'adapter'): Promise<string> {
  const finalDir = join(outputDir, folder);
  const tmpDir = join(outputDir, `.${folder}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(tmpDir, { recursive: true });
  try {
    if (writeAdapter) await writeAdapter(tmpDir, trainables);
    else await writeSafetensors(join(tmpDir, 'trainables.safetensors'), toWrite('', trainables));
    await rm(finalDir, { recursive: true, force: true });
    await rename(tmpDir, finalDir);
    return finalDir;
  } catch (error) {
    await rm(tmpDir, { recursive: true, force: true });
    throw error;
  }
}
