// Opening a Hugging Face model folder: config.json → ModelSpec through the registry, the
// generation config, the tokenizer files present, and the safetensors weights checked against the
// family's tensor table (names and shapes) before anything is trained on them.

import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { WeightStore } from '../safetensors/index.ts';
import { specFromConfig } from './registry.ts';
import type { ModelSpec } from './spec.ts';
import { tensorTable, isIgnorableTensor, toCanonical, type HfTensorEntry } from './tensors.ts';
import { familyOf } from '../../model/families/index.ts';

export const TOKENIZER_FILES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'chat_template.jinja',
  'chat_template.json',
  'tokenizer.model',
  'vocab.json',
  'merges.txt',
  'added_tokens.json',
  'vocab.txt', // WordPiece (BERT, DistilBERT, ELECTRA): the slow tokenizer's vocabulary, which exports carry along
  'sentencepiece.bpe.model', // XLM-RoBERTa's slow tokenizer
] as const;

export class ModelFolderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelFolderError';
  }
}

export interface ModelFolder {
  dir: string;
  spec: ModelSpec;
  /** config.json as parsed (kept to re-export it with changes). */
  config: Record<string, unknown>;
  generationConfig: Record<string, unknown> | null;
  /** Tokenizer-related files present in the folder. */
  tokenizerFiles: string[];
  weights: WeightStore;
  table: HfTensorEntry[];
  /** Checkpoint tensor name for each table entry's hfName (GPT-2 checkpoints may lack "transformer."). */
  checkpointName: Map<string, string>;
  /** Table tensors the checkpoint lacks and the folder created, seeded (an encoder's new task head). */
  created: string[];
  /** What the caller should show: e.g. which head was created and that it must be trained. */
  warnings: string[];
  /** Read one HF tensor (by table hfName) as float32. */
  readHf(hfName: string): Promise<Float32Array>;
  /** Read a canonical parameter (transposed / split as needed) as float32 in [out, in] layout. */
  readParam(name: string): Promise<Float32Array>;
  close(): Promise<void>;
}

async function readJson(path: string, what: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ModelFolderError(code === 'ENOENT' ? `${path}: missing (${what})` : `${path}: cannot read (${(e as Error).message})`);
  }
  try {
    const v = JSON.parse(text);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new ModelFolderError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

function listSome(names: string[], max = 12): string {
  const head = names.slice(0, max).join(', ');
  return names.length > max ? `${head}, … and ${names.length - max} more` : head;
}

/**
 * Match checkpoint tensors to the table. Returns table hfName → checkpoint name, or throws one error
 * listing every missing, unexpected and mis-shaped tensor.
 */
export function bindWeights(
  spec: ModelSpec,
  table: HfTensorEntry[],
  names: string[],
  shapeOf: (name: string) => number[],
  where: string,
  /** Receives the table tensors the family lets a checkpoint lack (createdIfMissing) that it lacks or holds in
   *  another shape (a classifier fine-tuned on another label set: transformers' ignore_mismatched_sizes). */
  created: string[] = [],
  /** Receives, of those, the ones present in another shape, with it ("classifier.weight [3,8]"). */
  reshaped: string[] = [],
): Map<string, string> {
  const present = new Set(names);
  const binding = new Map<string, string>();
  const missing: string[] = [];
  const wrongShape: string[] = [];
  const family = familyOf(spec);
  for (const e of table) {
    let name = e.hfName;
    // Original GPT-2 checkpoints were saved from GPT2Model: no "transformer." prefix.
    if (!present.has(name) && spec.family === 'gpt2' && name.startsWith('transformer.') && present.has(name.slice(12))) name = name.slice(12);
    if (!present.has(name)) name = family.checkpointNames?.(e.hfName).find((n) => present.has(n)) ?? name;
    if (!present.has(name)) {
      if (family.createdIfMissing?.(e)) created.push(e.hfName);
      else missing.push(e.hfName);
      continue;
    }
    const shape = shapeOf(name);
    if (shape.length !== e.shape.length || shape.some((d, i) => d !== e.shape[i])) {
      if (family.createdIfMissing?.(e)) {
        created.push(e.hfName);
        reshaped.push(`${e.hfName} [${shape}]`);
        continue;
      }
      wrongShape.push(`${name} is [${shape}], expected [${e.shape}]`);
    }
    binding.set(e.hfName, name);
  }
  const used = new Set(binding.values());
  const unexpected = names.filter((n) => !used.has(n) && !isIgnorableTensor(n, spec) && !isIgnorableTensor(`transformer.${n}`, spec));
  if (missing.length || unexpected.length || wrongShape.length) {
    const parts: string[] = [];
    if (missing.length) parts.push(`missing ${missing.length} tensor(s): ${listSome(missing)}`);
    if (unexpected.length) parts.push(`unexpected ${unexpected.length} tensor(s): ${listSome(unexpected)}`);
    if (wrongShape.length) parts.push(`wrong shape: ${listSome(wrongShape, 6)}`);
    throw new ModelFolderError(`${where}: weights do not match ${spec.architecture} as described by config.json — ${parts.join('; ')}`);
  }
  return binding;
}

export interface OpenModelOptions {
  /** Skip opening weights (config/tokenizer inspection only). */
  weights?: boolean;
}

/** Read config.json (and nothing else) into a spec. */
export async function readModelSpec(dir: string): Promise<{ spec: ModelSpec; config: Record<string, unknown> }> {
  const configPath = join(dir, 'config.json');
  const config = await readJson(configPath, 'every Hugging Face model folder has a config.json');
  return { spec: specFromConfig(config, configPath), config };
}

/**
 * The weights as read, or an error naming the file, tensor and first bad value: a NaN or ±Inf in a checkpoint
 * would otherwise train (or merge, or export) to a "successful" model that only produces NaN.
 */
export function finiteWeights(values: Float32Array, tensor: string, file: string): Float32Array {
  for (let i = 0; i < values.length; i++) {
    if (Number.isFinite(values[i])) continue;
    let count = 0;
    for (let j = i; j < values.length; j++) if (!Number.isFinite(values[j])) count++;
    throw new ModelFolderError(
      `${file}: tensor "${tensor}" holds ${count} non-finite value${count > 1 ? 's' : ''} (the first, ${values[i]}, at index ${i}); the checkpoint is damaged: download or export it again`,
    );
  }
  return values;
}

export interface OpenModelFolderOptions {
  /** Open the weights as this spec instead of config.json's (an encoder as its task model: encoderForTask). */
  spec?: (fromConfig: ModelSpec) => ModelSpec;
  /** Seed of the tensors created for a checkpoint that lacks them (default 0). */
  seed?: number;
}

export async function openModelFolder(dir: string, options: OpenModelFolderOptions = {}): Promise<ModelFolder> {
  const read = await readModelSpec(dir);
  const { config } = read;
  const spec = options.spec ? options.spec(read.spec) : read.spec;
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (e) {
    throw new ModelFolderError(`${dir}: cannot list folder (${(e as Error).message})`);
  }
  const generationConfig = entries.includes('generation_config.json') ? await readJson(join(dir, 'generation_config.json'), 'generation config') : null;
  if (generationConfig) {
    // generation_config's eos list (e.g. Gemma's [1, 106]) is what generation actually stops on.
    const eos = generationConfig.eos_token_id;
    if (Number.isSafeInteger(eos)) spec.eosTokenIds = [...new Set([...spec.eosTokenIds, eos as number])];
    else if (Array.isArray(eos)) spec.eosTokenIds = [...new Set([...spec.eosTokenIds, ...eos.filter((x) => Number.isSafeInteger(x))])];
    if (spec.bosTokenId === null && Number.isSafeInteger(generationConfig.bos_token_id)) spec.bosTokenId = generationConfig.bos_token_id as number;
    if (spec.padTokenId === null && Number.isSafeInteger(generationConfig.pad_token_id)) spec.padTokenId = generationConfig.pad_token_id as number;
  }
  const tokenizerFiles = TOKENIZER_FILES.filter((f) => entries.includes(f));
  const weights = await WeightStore.open(dir);
  const table = tensorTable(spec);
  let checkpointName: Map<string, string>;
  const created: string[] = [];
  const reshaped: string[] = [];
  try {
    // Named by its weights file when there is one, so the message points at the file to replace.
    const where = weights.fileNames.length === 1 ? join(dir, weights.fileNames[0]) : dir;
    checkpointName = bindWeights(spec, table, weights.names(), (n) => weights.info(n).shape, where, created, reshaped);
  } catch (e) {
    await weights.close();
    throw e;
  }
  const createdValues = createTensors(spec, table, created, options.seed ?? 0);
  const modules = (names: string[]) => [...new Set(names.map((n) => n.replace(/\.(weight|bias)$/, '')))].join(', ');
  const seeded = `created with seed ${options.seed ?? 0}; it must be trained before its outputs mean anything`;
  const replacedNames = new Set(reshaped.map((r) => r.slice(0, r.lastIndexOf(' ['))));
  const absent = created.filter((n) => !replacedNames.has(n));
  const warnings = [
    ...(absent.length ? [`${dir} has no ${modules(absent)} (a checkpoint without this ${spec.architecture} head): ${seeded}`] : []),
    ...(reshaped.length ? [`${dir} holds another head (${reshaped.join(', ')}), not this ${spec.architecture}'s: replaced by a new one, ${seeded}`] : []),
  ];
  const byHf = new Map(table.map((e) => [e.hfName, e]));
  const byParam = new Map<string, { entry: HfTensorEntry; index: number }>();
  for (const e of table) e.params.forEach((q, index) => byParam.set(q.name, { entry: e, index }));
  return {
    dir,
    spec,
    config,
    generationConfig,
    tokenizerFiles,
    weights,
    table,
    checkpointName,
    created,
    warnings,
    async readHf(hfName: string) {
      const made = createdValues.get(hfName);
      if (made) return made.slice();
      const name = checkpointName.get(hfName);
      if (!name || !byHf.has(hfName)) throw new ModelFolderError(`${dir}: ${spec.architecture} has no tensor "${hfName}"`);
      return finiteWeights(await weights.readFloat32(name), name, weights.fileOf(name));
    },
    async readParam(name: string) {
      const found = byParam.get(name);
      if (!found) throw new ModelFolderError(`${dir}: ${spec.architecture} has no parameter "${name}"`);
      const made = createdValues.get(found.entry.hfName);
      if (made) return toCanonical(found.entry, made.slice())[found.index];
      const stored = checkpointName.get(found.entry.hfName)!;
      const data = finiteWeights(await weights.readFloat32(stored), stored, weights.fileOf(stored));
      return toCanonical(found.entry, data)[found.index];
    },
    close: () => weights.close(),
  };
}

/**
 * Values for the table tensors a checkpoint lacks, as transformers' _init_weights makes a new head: linear weights
 * ~ N(0, initializer_range) (seeded by `seed` and the tensor's name, so the same run creates the same head),
 * biases 0, LayerNorm weights 1.
 */
function createTensors(spec: ModelSpec, table: HfTensorEntry[], names: string[], seed: number): Map<string, Float32Array> {
  const std = 'initializerRange' in spec ? spec.initializerRange : 0.02;
  const out = new Map<string, Float32Array>();
  for (const name of names) {
    const e = table.find((t) => t.hfName === name)!;
    const w = new Float32Array(e.shape.reduce((a, b) => a * b, 1));
    if (e.shape.length === 2) {
      let h = seed >>> 0;
      for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x9e3779b1) >>> 0;
      const uniform = () => {
        h = (h + 0x6d2b79f5) >>> 0;
        let t = h;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return (((t ^ (t >>> 14)) >>> 0) + 1) / 4294967297;
      };
      for (let i = 0; i < w.length; i++) w[i] = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform()) * std;
    } else if (/(LayerNorm|layer_norm)\.weight$/.test(name)) w.fill(1);
    out.set(name, w);
  }
  return out;
}
