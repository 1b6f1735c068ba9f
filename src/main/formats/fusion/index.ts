// What `fuse` writes (issue 15), beside the adapters it combines:
// - learned weights (mergeable): an ordinary PEFT adapter folder, plus `fusion.json` recording its parts, their
//   hashes, the learned weights and (with SVD) the compression error — it merges and exports like any adapter;
// - AdapterFusion attention (not mergeable): a fusion folder, `fusion_config.json` (mode, base model, the adapter
//   folders with their hashes, the attention width, the training template) + `fusion_model.safetensors` (the
//   trained query/key/value per adapted linear, PEFT-style keys). Loading one re-hashes every adapter folder and
//   refuses it when one changed or is gone: the fusion was trained on those exact adapters.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, AdapterError, type TaskHead } from '../peft/adapter.ts';
import { SafetensorsFile, writeSafetensors } from '../safetensors/index.ts';

export const FUSION_CONFIG = 'fusion_config.json';
export const FUSION_WEIGHTS = 'fusion_model.safetensors';
export const FUSION_RECORD = 'fusion.json';
const FORMAT = 'lora-studio.fusion/1';

/** One adapter of a combination as recorded: where it was, what it was (sha256 of its config and weights). */
export interface FusionPart {
  name: string;
  path: string;
  sha256: string;
}

export interface FusionFolderConfig {
  format: typeof FORMAT;
  mode: 'attention';
  base_model: string;
  attention_dim: number;
  value_rank: number;
  adapters: FusionPart[];
  training_template: { template: Record<string, unknown>; chat_template: string | null } | null;
  /** Encoder classification fusions: the task model of the trained head (its tensors are in the weights file). */
  task_head?: TaskHead;
  /** Encoder classification fusions: the head's modules, as the adapters' modules_to_save name them. */
  modules_to_save?: string[];
}

/** sha256 over an adapter folder's adapter_config.json and adapter_model.safetensors (names and bytes). */
export async function hashAdapterFolder(dir: string): Promise<string> {
  const h = createHash('sha256');
  for (const f of [ADAPTER_CONFIG, ADAPTER_WEIGHTS]) {
    const p = join(dir, f);
    if (!existsSync(p)) throw new AdapterError(`${p}: missing (not a PEFT adapter folder)`);
    h.update(f).update('\0').update(await readFile(p));
  }
  return h.digest('hex');
}

/** The parts of a combination: absolute paths, names and hashes. */
export async function fusionParts(paths: readonly string[]): Promise<FusionPart[]> {
  // a run's adapter is always called "adapter": name it by its run folder too
  const nameOf = (p: string) => (basename(p) === 'adapter' ? `${basename(dirname(p))}/adapter` : basename(p));
  return Promise.all(paths.map(async (p) => ({ name: nameOf(resolve(p)), path: resolve(p), sha256: await hashAdapterFolder(resolve(p)) })));
}

export function isFusionFolder(dir: string): boolean {
  return existsSync(join(dir, FUSION_CONFIG));
}

export async function writeFusionFolder(dir: string, config: Omit<FusionFolderConfig, 'format'>, tensors: Map<string, { shape: number[]; data: Float32Array }>): Promise<void> {
  await writeSafetensors(join(dir, FUSION_WEIGHTS), [...tensors].map(([name, t]) => ({ name, dtype: 'F32' as const, shape: t.shape, data: t.data })), { metadata: { format: 'pt' } });
  await writeFile(join(dir, FUSION_CONFIG), JSON.stringify({ format: FORMAT, ...config }, null, 2) + '\n');
}

export interface FusionFolder {
  config: FusionFolderConfig;
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
}

/** Reads a fusion folder and checks every adapter it names is still the one it was trained with. */
export async function readFusionFolder(dir: string): Promise<FusionFolder> {
  const cfgPath = join(dir, FUSION_CONFIG);
  let config: FusionFolderConfig;
  try {
    config = JSON.parse(await readFile(cfgPath, 'utf8')) as FusionFolderConfig;
  } catch (e) {
    throw new AdapterError(`${cfgPath}: not a readable fusion config (${(e as Error).message})`);
  }
  if (config.format !== FORMAT) throw new AdapterError(`${cfgPath}: format is ${JSON.stringify(config.format)}, expected "${FORMAT}"`);
  if (config.mode !== 'attention') throw new AdapterError(`${cfgPath}: mode is ${JSON.stringify(config.mode)}, expected "attention"`);
  if (!Array.isArray(config.adapters) || config.adapters.length < 2) throw new AdapterError(`${cfgPath}: "adapters" must list at least two adapter folders`);
  for (const a of config.adapters) {
    const p = isAbsolute(a.path) ? a.path : resolve(dir, a.path);
    if (!existsSync(p)) throw new AdapterError(`${cfgPath}: adapter ${a.name} is gone from ${p}; the fusion was trained on it and cannot be used without it`);
    const now = await hashAdapterFolder(p);
    if (now !== a.sha256)
      throw new AdapterError(`${cfgPath}: adapter ${a.name} at ${p} changed since the fusion was trained (sha256 ${now.slice(0, 12)}…, recorded ${a.sha256.slice(0, 12)}…); train the fusion again on the current adapters`);
  }
  const st = await SafetensorsFile.open(join(dir, FUSION_WEIGHTS));
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  try {
    for (const name of st.names()) tensors.set(name, { shape: st.info(name).shape, data: await st.readFloat32(name) });
  } finally {
    await st.close();
  }
  return { config, tensors };
}
