// Looking up an adapter's record and what it applies to, shared by the adapter and export handlers (apart from
// adapters.ts so exports.ts can use them without importing the module that starts exports: no import circle).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunConfig } from '../../../../common/api/runs.ts';
import { ADAPTER_CONFIG, parseLoraConfig, type LoraConfig } from '../../../formats/peft/index.ts';
import { StudioError, notFound } from '../../errors.ts';
import type { AdapterRecord } from '../../store/index.ts';
import type { CoreContext } from './types.ts';

/** A file-system-friendly form of a name, for default output paths. */
export function slug(name: string): string {
  return (
    name
      .trim()
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'adapter'
  );
}

/** An adapter folder's adapter_config.json, raw and parsed; a missing or broken one is an input error naming it. */
export function readConfigFile(path: string): { raw: Record<string, unknown>; config: LoraConfig } {
  const file = join(path, ADAPTER_CONFIG);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new StudioError(
      'invalid_input',
      code === 'ENOENT'
        ? `${file} is missing: choose a PEFT adapter folder (adapter_config.json + adapter_model.safetensors)`
        : `${file} is not valid JSON (${(err as Error).message})`,
      { field: 'path' },
    );
  }
  try {
    return { raw: raw as Record<string, unknown>, config: parseLoraConfig(raw, file) };
  } catch (err) {
    throw new StudioError('invalid_input', (err as Error).message, { field: 'path' });
  }
}

/** The base model folder an adapter applies to: its run's model, its recorded base model, or its config's path when that is a folder here. */
export function adapterBaseModel(record: AdapterRecord, ctx: CoreContext): string | null {
  if (record.runId) {
    const run = ctx.store.runs.get(record.runId);
    const config = run ? RunConfig.safeParse(run.config) : null;
    if (config?.success) return config.data.model;
  }
  if (record.baseModelId) {
    const model = ctx.store.baseModels.get(record.baseModelId);
    if (model) return model.localPath;
  }
  try {
    const fromConfig = readConfigFile(record.path).config.base_model_name_or_path;
    if (fromConfig && existsSync(join(fromConfig, 'config.json'))) return fromConfig;
  } catch {
    // a missing or broken folder has no base to offer; `problem` says why
  }
  return null;
}

export function getAdapterRecord(id: string, ctx: CoreContext): AdapterRecord {
  const record = ctx.store.adapters.get(id);
  if (!record) throw notFound('adapter', id);
  return record;
}
