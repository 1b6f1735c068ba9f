// What a run reads, checked before the run is recorded: a model folder that does not exist, or a dataset path
// that is a folder, is a bad input to correct (named with its field), not a failed run to clean up afterwards.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { RunConfig } from '../../common/api/runs.ts';
import { StudioError } from './errors.ts';

function kindOf(path: string): 'file' | 'folder' | 'other' | null {
  try {
    const info = statSync(path);
    return info.isDirectory() ? 'folder' : info.isFile() ? 'file' : 'other';
  } catch {
    return null;
  }
}

function refuse(field: string, message: string): never {
  throw new StudioError('invalid_input', `${field}: ${message}`, { field });
}

/** Throws invalid_input naming the config field when the model folder or a dataset file is missing or of the wrong kind. */
export function checkRunInputs(config: Pick<RunConfig, 'model' | 'dataset'>, prefix = 'config.'): void {
  const model = kindOf(config.model);
  if (model === null) refuse(`${prefix}model`, `${config.model} does not exist; give the folder of a Hugging Face model (config.json, tokenizer, safetensors)`);
  if (model !== 'folder') refuse(`${prefix}model`, `${config.model} is not a folder; give the folder that holds config.json and the safetensors files`);
  if (kindOf(join(config.model, 'config.json')) !== 'file') {
    refuse(`${prefix}model`, `${config.model} has no config.json, so it is not a Hugging Face model folder`);
  }
  const files: [string, string][] = [[`${prefix}dataset.path`, config.dataset.path]];
  if (config.dataset.eval_split.kind === 'file') files.push([`${prefix}dataset.eval_split.path`, config.dataset.eval_split.path]);
  for (const [field, path] of files) {
    const kind = kindOf(path);
    if (kind === null) refuse(field, `${path} does not exist`);
    if (kind !== 'file') refuse(field, `${path} is ${kind === 'folder' ? 'a folder' : 'not a regular file'}; give a dataset file (JSONL, JSON, CSV/TSV or Parquet)`);
  }
}
