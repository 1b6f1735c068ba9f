// The card facts that files alone give: the base model folder (Hub id from a cache path, license, architecture,
// chat-template stop strings), the adapter folder (adapter_config.json), and Chat's sampling defaults. Used as
// they are by the CLI's in-process exports, and completed by the core with what its store recorded (the run).
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { SamplingSettings } from '../../../common/api/chat.ts';
import type { ModelCardFacts } from '../../../common/api/hub.ts';
import { baseModelLicense, chatStopTokens, hubIdFromCachePath } from './base-model.ts';

type Json = Record<string, unknown>;

function readJson(path: string): Json | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Json;
  } catch {
    return null;
  }
}

const numOrNull = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** LoRA facts an adapter folder states in adapter_config.json (PEFT's names). */
export function adapterFolderFacts(
  adapterDir: string,
): Pick<ModelCardFacts, 'lora' | 'method' | 'baseModelHubId' | 'baseModelName'> {
  const c = readJson(join(adapterDir, 'adapter_config.json'));
  if (!c || typeof c.r !== 'number') return { lora: null, method: null, baseModelHubId: null, baseModelName: null };
  // PEFT records the base as given to from_pretrained: a Hub id ("org/name") says which model it was.
  const named = typeof c.base_model_name_or_path === 'string' ? c.base_model_name_or_path : '';
  const hubId = /^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/.test(named) && !existsSync(named) ? named : null;
  const tm = c.target_modules;
  const targets =
    typeof tm === 'string'
      ? [tm]
      : Array.isArray(tm)
        ? [...new Set(tm.map((t) => String(t).split('.').pop()!))].sort()
        : [];
  return {
    baseModelHubId: hubId,
    baseModelName: hubId,
    method: c.peft_type === 'LORA' || c.peft_type === undefined ? 'lora' : null,
    lora: {
      r: c.r,
      alpha: typeof c.lora_alpha === 'number' ? c.lora_alpha : c.r,
      dropout: numOrNull(c.lora_dropout),
      targetModules: targets,
      rslora: c.use_rslora === true,
    },
  };
}

/** The base model folder an adapter's config names, when it is a model folder on this machine. */
export function adapterBaseFolder(adapterDir: string): string | null {
  const named = readJson(join(adapterDir, 'adapter_config.json'))?.base_model_name_or_path;
  return typeof named === 'string' && named && existsSync(join(named, 'config.json')) ? named : null;
}

/** Base-model facts its folder holds. */
export async function baseFolderFacts(dir: string): Promise<Partial<ModelCardFacts>> {
  const folder = resolve(dir);
  const hubId = hubIdFromCachePath(folder);
  const config = readJson(join(folder, 'config.json'));
  const arch =
    Array.isArray(config?.architectures) && typeof config.architectures[0] === 'string'
      ? config.architectures[0]
      : null;
  return {
    baseModelHubId: hubId,
    baseModelName: hubId ?? basename(folder),
    license: await baseModelLicense(folder),
    architecture: arch,
    stopTokens: await chatStopTokens(folder),
  };
}

/** Everything the folders say; run, dataset and evaluation facts stay unknown (null). */
export async function folderCardFacts(o: {
  baseDir: string | null;
  adapterDir: string | null;
  studioVersion: string;
}): Promise<ModelCardFacts> {
  const s = SamplingSettings.parse({});
  const facts: ModelCardFacts = {
    baseModelHubId: null,
    baseModelName: null,
    license: null,
    architecture: null,
    method: null,
    lora: null,
    training: null,
    dataset: null,
    evaluation: null,
    lossCurve: [],
    evalCurve: [],
    stopTokens: [],
    sampling: { temperature: s.temperature, topK: s.topK, topP: s.topP, repetitionPenalty: s.repetitionPenalty },
    studioVersion: o.studioVersion,
  };
  if (o.adapterDir) Object.assign(facts, adapterFolderFacts(o.adapterDir));
  if (o.baseDir && readJson(join(o.baseDir, 'config.json'))) {
    const base = await baseFolderFacts(o.baseDir);
    // The folder's cache path names the Hub id when it has one; else what the adapter config named stays.
    if (!base.baseModelHubId && facts.baseModelHubId)
      Object.assign(base, { baseModelHubId: facts.baseModelHubId, baseModelName: facts.baseModelName });
    Object.assign(facts, base);
  }
  return facts;
}
