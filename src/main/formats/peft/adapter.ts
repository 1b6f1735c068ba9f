// A LoRA adapter folder as PEFT saves it: adapter_config.json + adapter_model.safetensors with keys
// `base_model.model.<module>.lora_A.weight` [r, in] and `….lora_B.weight` [out, r] (the adapter
// name "default" dropped), plus biases / modules_to_save copies under `base_model.model.<name>`.
// We add the training template so inference can't silently use another one:
//   training_template.json  {"format": "lora-studio.training-template/1", "template": …, "chat_template": …}
//   chat_template.jinja     the resolved Jinja chat template, when there is one (transformers' file name).

import { existsSync } from 'node:fs';
import { readFile, writeFile, rename, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SafetensorsFile, writeSafetensors, tempPathFor, type SafetensorsDtype, type TensorToWrite } from '../safetensors/index.ts';
import type { ModelSpec } from '../model/spec.ts';
import { linearModules } from '../model/tensors.ts';
import { parseLoraConfig, serializeLoraConfig, loraScale, LoraConfigError, type LoraConfig } from './config.ts';

export const ADAPTER_CONFIG = 'adapter_config.json';
export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';
export const TRAINING_TEMPLATE = 'training_template.json';
export const CHAT_TEMPLATE_FILE = 'chat_template.jinja';
/** An encoder adapter's task model (class and labels), which PEFT's files do not record: ours, beside them. */
export const TASK_HEAD_FILE = 'task_head.json';
export const PEFT_PREFIX = 'base_model.model.';

export class AdapterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdapterError';
  }
}

export interface LoraLayer {
  /** Module path in the base model, e.g. model.layers.0.self_attn.q_proj. */
  module: string;
  r: number;
  inFeatures: number;
  outFeatures: number;
  A: Float32Array; // (r, in)
  B: Float32Array; // (out, r)
}

/** The template a run trained with (the run's TemplateSpec) and the Jinja source it resolved to. */
export interface TrainingTemplate {
  template: Record<string, unknown>;
  chatTemplate: string | null;
}

export interface LoraAdapter {
  config: LoraConfig;
  /** By module path. */
  layers: Map<string, LoraLayer>;
  /** Other saved tensors (trained biases, modules_to_save copies), by their saved key. */
  extra: Map<string, { shape: number[]; data: Float32Array }>;
  trainingTemplate: TrainingTemplate | null;
  /** Encoders (task_type SEQ_CLS / QUESTION_ANS): the task model the adapter's head belongs to. */
  taskHead?: TaskHead | null;
}

/** The task model of an encoder adapter: its class, and for classification the labels by id. */
export interface TaskHead {
  architecture: string; // e.g. DistilBertForSequenceClassification
  id2label: Record<string, string> | null;
  problemType: 'single_label_classification' | 'regression' | null;
}

function parseTaskHead(text: string, file: string): TaskHead {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new AdapterError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const known = new Set(['format', 'architecture', 'id2label', 'problem_type']);
  const unknown = Object.keys(o ?? {}).filter((k) => !known.has(k));
  if (!o || typeof o !== 'object' || o.format !== 'lora-studio.task-head/1') throw new AdapterError(`${file}: "format" must be "lora-studio.task-head/1"`);
  if (unknown.length) throw new AdapterError(`${file}: unknown field "${unknown[0]}" (expected format, architecture, id2label, problem_type)`);
  if (typeof o.architecture !== 'string') throw new AdapterError(`${file}: "architecture" must be a class name such as BertForSequenceClassification`);
  const id2label = o.id2label ?? null;
  if (id2label !== null && (typeof id2label !== 'object' || Array.isArray(id2label) || Object.values(id2label).some((v) => typeof v !== 'string')))
    throw new AdapterError(`${file}: "id2label" must map label ids to names, or be null`);
  const pt = o.problem_type ?? null;
  if (pt !== null && pt !== 'single_label_classification' && pt !== 'regression') throw new AdapterError(`${file}: "problem_type" must be single_label_classification, regression or null`);
  return { architecture: o.architecture, id2label: id2label as Record<string, string> | null, problemType: pt };
}

export function loraKeys(module: string): { a: string; b: string } {
  return { a: `${PEFT_PREFIX}${module}.lora_A.weight`, b: `${PEFT_PREFIX}${module}.lora_B.weight` };
}

/** The value a rank_pattern / alpha_pattern gives a module (PEFT matches a key as a suffix regex), if any. */
function patternValue(patterns: Record<string, number>, module: string): number | undefined {
  for (const [p, v] of Object.entries(patterns)) if (new RegExp(`(?:^|.*\\.)(?:${p})$`).test(module)) return v;
  return undefined;
}

/** Effective per-module scale (rank/alpha patterns honoured). */
export function layerScale(config: LoraConfig, layer: LoraLayer): number {
  const alpha = patternValue(config.alpha_pattern, layer.module) ?? config.lora_alpha;
  return loraScale(alpha, layer.r, config.use_rslora);
}

const KEY_RE = /^base_model\.model\.(.+)\.lora_([AB])(?:\.default)?\.weight$/;

/**
 * Read an adapter folder. With `spec`, every LoRA module is checked against the base model (it must
 * be one of its linear modules, with matching in/out features).
 */
/** formats/fusion's FUSION_CONFIG: an AdapterFusion attention folder (named here, since fusion reads adapters). */
const NOT_MERGEABLE_FUSION = 'fusion_config.json';

/** What every adapter reader (merge, export, GGUF, combine) says when given an AdapterFusion attention folder. */
export function fusionIsNotAnAdapter(dir: string): string {
  return `${dir} is an AdapterFusion attention folder, not one adapter: it weighs its adapters per token, so it cannot be merged into the base or exported as one model or GGUF (evaluation loads it as it is). For a mergeable result, learn one weight per adapter instead: lora-studio fuse --mode weights (Adapters → Learn a combination → Learned weights).`;
}

export async function readAdapter(dir: string, spec?: ModelSpec): Promise<LoraAdapter> {
  const configPath = join(dir, ADAPTER_CONFIG);
  let rawConfig: unknown;
  try {
    rawConfig = JSON.parse(await readFile(configPath, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && existsSync(join(dir, NOT_MERGEABLE_FUSION))) throw new AdapterError(fusionIsNotAnAdapter(dir));
    throw new AdapterError(code === 'ENOENT' ? `${configPath}: missing (not a PEFT adapter folder)` : `${configPath}: not valid JSON (${(e as Error).message})`);
  }
  const config = parseLoraConfig(rawConfig, configPath);
  const weightsPath = join(dir, ADAPTER_WEIGHTS);
  const files = await readdir(dir);
  if (!files.includes(ADAPTER_WEIGHTS)) {
    const hint = files.includes('adapter_model.bin') ? ' (found adapter_model.bin: only safetensors adapters are supported)' : '';
    throw new AdapterError(`${weightsPath}: missing${hint}`);
  }
  const st = await SafetensorsFile.open(weightsPath);
  const layers = new Map<string, LoraLayer>();
  const extra = new Map<string, { shape: number[]; data: Float32Array }>();
  try {
    const halves = new Map<string, { A?: { shape: number[]; data: Float32Array }; B?: { shape: number[]; data: Float32Array } }>();
    const unsupported: string[] = [];
    for (const key of st.names()) {
      const info = st.info(key);
      const m = KEY_RE.exec(key);
      if (m) {
        const h = halves.get(m[1]) ?? {};
        h[m[2] as 'A' | 'B'] = { shape: info.shape, data: await st.readFloat32(key) };
        halves.set(m[1], h);
      } else if (/lora_embedding_|lora_magnitude_vector|lora_[AB]\.[^.]+\.weight$/.test(key) && !key.endsWith('.default.weight')) {
        unsupported.push(key);
      } else if (key.startsWith(PEFT_PREFIX)) {
        // PEFT before 0.14 saved modules_to_save copies as <module>.modules_to_save.<param> (adapter name removed)
        extra.set(key.replace('.modules_to_save.', '.'), { shape: info.shape, data: await st.readFloat32(key) });
      } else {
        unsupported.push(key);
      }
    }
    if (unsupported.length) {
      throw new AdapterError(`${weightsPath}: unsupported tensors (LoRA on embeddings, DoRA, or not PEFT keys): ${unsupported.slice(0, 8).join(', ')}${unsupported.length > 8 ? ', …' : ''}`);
    }
    const baseModules = spec ? new Map(linearModules(spec).map((l) => [l.module, l])) : null;
    for (const [module, h] of halves) {
      if (!h.A || !h.B) throw new AdapterError(`${weightsPath}: ${module} has lora_${h.A ? 'A' : 'B'} but no lora_${h.A ? 'B' : 'A'}`);
      if (h.A.shape.length !== 2 || h.B.shape.length !== 2 || h.A.shape[0] !== h.B.shape[1]) {
        throw new AdapterError(`${weightsPath}: ${module}: lora_A [${h.A.shape}] and lora_B [${h.B.shape}] must be [r, in] and [out, r]`);
      }
      const [r, inFeatures] = h.A.shape;
      const outFeatures = h.B.shape[0];
      // The scale is alpha / r from the config: a config whose r is not the tensors' rank would merge at the wrong scale.
      const fromPattern = patternValue(config.rank_pattern, module);
      const declared = fromPattern ?? config.r;
      if (r !== declared) {
        throw new AdapterError(
          `${configPath} says r=${declared}${fromPattern !== undefined ? ' (rank_pattern)' : ''} but ${module}'s tensors in ${weightsPath} have rank ${r} (lora_A [${h.A.shape}]): the config and the weights do not belong together; use the adapter_config.json saved with these weights`,
        );
      }
      if (baseModules) {
        const base = baseModules.get(module);
        if (!base) throw new AdapterError(`${weightsPath}: module ${module} is not a linear layer of ${spec!.architecture} (adapter for another model?)`);
        if (base.inFeatures !== inFeatures || base.outFeatures !== outFeatures) {
          throw new AdapterError(
            `${weightsPath}: ${module} is ${base.inFeatures}→${base.outFeatures} in the base model but the adapter has ${inFeatures}→${outFeatures} (adapter for another model?)`,
          );
        }
      }
      layers.set(module, { module, r, inFeatures, outFeatures, A: h.A.data, B: h.B.data });
    }
  } finally {
    await st.close();
  }
  if (layers.size === 0) throw new AdapterError(`${weightsPath}: no lora_A/lora_B tensors`);
  let trainingTemplate: TrainingTemplate | null = null;
  if (files.includes(TRAINING_TEMPLATE)) {
    const t = JSON.parse(await readFile(join(dir, TRAINING_TEMPLATE), 'utf8')) as { template?: unknown; chat_template?: unknown };
    trainingTemplate = {
      template: (t.template ?? {}) as Record<string, unknown>,
      chatTemplate: typeof t.chat_template === 'string' ? t.chat_template : null,
    };
  } else if (files.includes(CHAT_TEMPLATE_FILE)) {
    trainingTemplate = { template: { type: 'chat' }, chatTemplate: await readFile(join(dir, CHAT_TEMPLATE_FILE), 'utf8') };
  }
  const taskHead = files.includes(TASK_HEAD_FILE) ? parseTaskHead(await readFile(join(dir, TASK_HEAD_FILE), 'utf8'), join(dir, TASK_HEAD_FILE)) : null;
  return { config, layers, extra, trainingTemplate, taskHead };
}

export interface WriteAdapterOptions {
  /** Stored dtype (PEFT saves the training dtype; we default to F32). */
  dtype?: Extract<SafetensorsDtype, 'F32' | 'F16' | 'BF16'>;
}

/** Write an adapter folder atomically file by file; returns the files written. */
export async function writeAdapter(dir: string, adapter: LoraAdapter, options: WriteAdapterOptions = {}): Promise<string[]> {
  const dtype = options.dtype ?? 'F32';
  if (adapter.layers.size === 0) throw new AdapterError(`${dir}: refusing to write an adapter with no LoRA layers`);
  const tensors: TensorToWrite[] = [];
  for (const l of adapter.layers.values()) {
    if (l.A.length !== l.r * l.inFeatures || l.B.length !== l.outFeatures * l.r) {
      throw new AdapterError(`${l.module}: A has ${l.A.length} values for [${l.r}, ${l.inFeatures}], B ${l.B.length} for [${l.outFeatures}, ${l.r}]`);
    }
    const k = loraKeys(l.module);
    tensors.push({ name: k.a, dtype, shape: [l.r, l.inFeatures], data: l.A });
    tensors.push({ name: k.b, dtype, shape: [l.outFeatures, l.r], data: l.B });
  }
  for (const [name, t] of adapter.extra) tensors.push({ name, dtype, shape: t.shape, data: t.data });
  await mkdir(dir, { recursive: true });
  await writeSafetensors(join(dir, ADAPTER_WEIGHTS), tensors, { metadata: { format: 'pt' } });
  await atomicWrite(join(dir, ADAPTER_CONFIG), serializeLoraConfig(adapter.config));
  const files = [ADAPTER_CONFIG, ADAPTER_WEIGHTS];
  if (adapter.taskHead) {
    const { architecture, id2label, problemType } = adapter.taskHead;
    await atomicWrite(join(dir, TASK_HEAD_FILE), JSON.stringify({ format: 'lora-studio.task-head/1', architecture, id2label, problem_type: problemType }, null, 2) + '\n');
    files.push(TASK_HEAD_FILE);
  }
  if (adapter.trainingTemplate) {
    const body = { format: 'lora-studio.training-template/1', template: adapter.trainingTemplate.template, chat_template: adapter.trainingTemplate.chatTemplate };
    await atomicWrite(join(dir, TRAINING_TEMPLATE), JSON.stringify(body, null, 2) + '\n');
    files.push(TRAINING_TEMPLATE);
    if (adapter.trainingTemplate.chatTemplate !== null) {
      await atomicWrite(join(dir, CHAT_TEMPLATE_FILE), adapter.trainingTemplate.chatTemplate);
      files.push(CHAT_TEMPLATE_FILE);
    }
  }
  return files;
}

async function atomicWrite(path: string, text: string): Promise<void> {
  const tmp = tempPathFor(path);
  await writeFile(tmp, text);
  await rename(tmp, path);
}

/** The adapter's tensors under their saved PEFT keys (the engine's TensorMap naming). */
export function adapterTensors(adapter: LoraAdapter): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const l of adapter.layers.values()) {
    const k = loraKeys(l.module);
    out.set(k.a, { shape: [l.r, l.inFeatures], data: l.A });
    out.set(k.b, { shape: [l.outFeatures, l.r], data: l.B });
  }
  for (const [k, v] of adapter.extra) out.set(k, v);
  return out;
}

/** Build an adapter from PEFT-keyed tensors (e.g. a training session's trainables). */
export function adapterFromTensors(config: LoraConfig, tensors: Map<string, { shape: number[]; data: Float32Array }>, trainingTemplate: TrainingTemplate | null = null): LoraAdapter {
  const layers = new Map<string, LoraLayer>();
  const extra = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [key, t] of tensors) {
    const m = KEY_RE.exec(key);
    if (!m) {
      if (!key.startsWith(PEFT_PREFIX)) throw new LoraConfigError(`tensor "${key}" is not a PEFT key (expected ${PEFT_PREFIX}…)`);
      extra.set(key, t);
      continue;
    }
    const l = layers.get(m[1]) ?? ({ module: m[1] } as LoraLayer);
    if (m[2] === 'A') {
      l.A = t.data;
      l.r = t.shape[0];
      l.inFeatures = t.shape[1];
    } else {
      l.B = t.data;
      l.outFeatures = t.shape[0];
    }
    layers.set(m[1], l);
  }
  for (const l of layers.values()) if (!l.A || !l.B) throw new LoraConfigError(`${l.module}: needs both lora_A and lora_B`);
  return { config, layers, extra, trainingTemplate };
}

/**
 * A fresh adapter as PEFT initializes it (init_lora_weights=true): A ~ Kaiming-uniform with a=√5,
 * i.e. U(−1/√in, 1/√in); B = 0, so the adapted model starts equal to the base. `random` gives
 * uniform [0, 1) numbers (pass a seeded source for reproducible runs).
 */
export function initLoraAdapter(
  targets: readonly { module: string; r: number; inFeatures: number; outFeatures: number }[],
  config: LoraConfig,
  random: () => number,
): LoraAdapter {
  const layers = new Map<string, LoraLayer>();
  for (const t of targets) {
    const bound = 1 / Math.sqrt(t.inFeatures);
    const A = new Float32Array(t.r * t.inFeatures);
    for (let i = 0; i < A.length; i++) A[i] = (2 * random() - 1) * bound;
    layers.set(t.module, { module: t.module, r: t.r, inFeatures: t.inFeatures, outFeatures: t.outFeatures, A, B: new Float32Array(t.outFeatures * t.r) });
  }
  return { config, layers, extra: new Map(), trainingTemplate: null };
}
