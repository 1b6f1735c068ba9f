// PEFT's LoraConfig as adapter_config.json stores it (field names kept in snake_case so the file
// is PEFT's own). Reading keeps unknown fields, so a config written by a newer PEFT survives a
// load → save; features we cannot honour (DoRA, LoRA on parameters, layer replication…) are
// refused with the field named.
import type { LoraSection } from '../../../common/api/runs.ts';

export type LoraBias = 'none' | 'all' | 'lora_only';

export interface LoraConfig {
  peft_type: 'LORA';
  task_type: string | null; // "CAUSAL_LM"
  r: number;
  lora_alpha: number;
  lora_dropout: number;
  /** Module names/suffixes, a regex string (full match), or "all-linear". */
  target_modules: string[] | string | null;
  exclude_modules: string[] | string | null;
  bias: LoraBias;
  fan_in_fan_out: boolean;
  use_rslora: boolean;
  modules_to_save: string[] | null;
  init_lora_weights: boolean | string;
  layers_to_transform: number[] | number | null;
  layers_pattern: string[] | string | null;
  rank_pattern: Record<string, number>;
  alpha_pattern: Record<string, number>;
  base_model_name_or_path: string | null;
  revision: string | null;
  inference_mode: boolean;
  use_dora: boolean;
  /** Fields we don't model, kept verbatim for round trips. */
  extra: Record<string, unknown>;
}

export class LoraConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LoraConfigError';
  }
}

/** PEFT's task types the studio trains: decoders' language modelling, encoders' sequence classification and QA. */
export const PEFT_TASK_TYPES = ['CAUSAL_LM', 'SEQ_CLS', 'QUESTION_ANS'] as const;

/**
 * The modules PEFT adds to modules_to_save for a task type (PeftModelForSequenceClassification: "classifier",
 * "score"; PeftModelForQuestionAnswering: "qa_outputs"), after the user's own, as PEFT writes them back into
 * adapter_config.json.
 */
export function peftModulesToSave(taskType: string | null, own: readonly string[] = []): string[] | null {
  const heads = taskType === 'SEQ_CLS' ? ['classifier', 'score'] : taskType === 'QUESTION_ANS' ? ['qa_outputs'] : [];
  const all = [...own, ...heads.filter((h) => !own.includes(h))];
  return all.length ? all : null;
}

/** PEFT's defaults (LoraConfig dataclass), with task_type CAUSAL_LM for our models. */
export function defaultLoraConfig(overrides: Partial<LoraConfig> = {}): LoraConfig {
  return {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    r: 8,
    lora_alpha: 8,
    lora_dropout: 0,
    target_modules: null,
    exclude_modules: null,
    bias: 'none',
    fan_in_fan_out: false,
    use_rslora: false,
    modules_to_save: null,
    init_lora_weights: true,
    layers_to_transform: null,
    layers_pattern: null,
    rank_pattern: {},
    alpha_pattern: {},
    base_model_name_or_path: null,
    revision: null,
    inference_mode: false,
    use_dora: false,
    extra: {},
    ...overrides,
  };
}

/** Fields PEFT writes that we keep at their neutral value; any other value is a feature we lack. */
const NEUTRAL: Record<string, (v: unknown) => boolean> = {
  layer_replication: (v) => v === null || v === undefined,
  lora_bias: (v) => v === false || v === undefined,
  target_parameters: (v) => v === null || v === undefined || (Array.isArray(v) && v.length === 0),
  trainable_token_indices: (v) => v === null || v === undefined,
  use_qalora: (v) => v === false || v === undefined,
};

const KNOWN = new Set([
  'peft_type', 'task_type', 'r', 'lora_alpha', 'lora_dropout', 'target_modules', 'exclude_modules', 'bias', 'fan_in_fan_out',
  'use_rslora', 'modules_to_save', 'init_lora_weights', 'layers_to_transform', 'layers_pattern', 'rank_pattern', 'alpha_pattern',
  'base_model_name_or_path', 'revision', 'inference_mode', 'use_dora',
]);

function stringListOrString(v: unknown, field: string, file: string): string[] | string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  throw new LoraConfigError(`${file}: "${field}" must be a list of module names, a regex string or null, got ${JSON.stringify(v)}`);
}

function numberRecord(v: unknown, field: string, file: string): Record<string, number> {
  if (v === null || v === undefined) return {};
  if (typeof v !== 'object' || Array.isArray(v) || !Object.values(v as object).every((x) => typeof x === 'number' && x > 0)) {
    throw new LoraConfigError(`${file}: "${field}" must map module patterns to positive numbers, got ${JSON.stringify(v)}`);
  }
  return v as Record<string, number>;
}

/**
 * The PEFT config a run's `lora` section describes: what its adapter_config.json records, and what the core's
 * plan counts. `conv1dWeights` (GPT-2 stores Linear weights as [in, out]) becomes `fan_in_fan_out`, so merges
 * transpose the delta as PEFT does.
 */
export function loraConfigForRun(
  lora: LoraSection,
  model: { conv1dWeights: boolean },
  baseModelPath: string | null = null,
): LoraConfig {
  return defaultLoraConfig({
    r: lora.r,
    lora_alpha: lora.lora_alpha,
    lora_dropout: lora.lora_dropout,
    target_modules: Array.isArray(lora.target_modules) ? [...lora.target_modules] : lora.target_modules,
    bias: lora.bias,
    use_rslora: lora.use_rslora,
    fan_in_fan_out: model.conv1dWeights,
    base_model_name_or_path: baseModelPath,
  });
}

/** Validate a parsed adapter_config.json. `file` names it in errors. */
export function parseLoraConfig(raw: unknown, file = 'adapter_config.json'): LoraConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new LoraConfigError(`${file}: must be a JSON object`);
  const o = raw as Record<string, unknown>;
  const peftType = o.peft_type ?? 'LORA';
  if (peftType !== 'LORA') throw new LoraConfigError(`${file}: peft_type "${String(peftType)}" is not supported (only LORA)`);
  if (o.task_type !== undefined && o.task_type !== null && !(PEFT_TASK_TYPES as readonly unknown[]).includes(o.task_type)) {
    throw new LoraConfigError(`${file}: task_type "${String(o.task_type)}" is not supported (supported: ${PEFT_TASK_TYPES.join(', ')})`);
  }
  const num = (field: string, fallback: number, check: (n: number) => boolean, expected: string) => {
    const v = o[field];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !check(v)) throw new LoraConfigError(`${file}: "${field}" must be ${expected}, got ${JSON.stringify(v)}`);
    return v;
  };
  const bool = (field: string, fallback: boolean) => {
    const v = o[field];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') throw new LoraConfigError(`${file}: "${field}" must be true or false, got ${JSON.stringify(v)}`);
    return v;
  };
  const str = (field: string) => {
    const v = o[field];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'string') throw new LoraConfigError(`${file}: "${field}" must be a string or null, got ${JSON.stringify(v)}`);
    return v;
  };
  const bias = o.bias ?? 'none';
  if (bias !== 'none' && bias !== 'all' && bias !== 'lora_only') {
    throw new LoraConfigError(`${file}: "bias" must be "none", "all" or "lora_only", got ${JSON.stringify(bias)}`);
  }
  if (o.use_dora === true) throw new LoraConfigError(`${file}: use_dora=true (DoRA) is not supported`);
  for (const [field, ok] of Object.entries(NEUTRAL)) {
    if (!ok(o[field])) throw new LoraConfigError(`${file}: "${field}" = ${JSON.stringify(o[field])} is not supported`);
  }
  const modulesToSave = o.modules_to_save;
  if (modulesToSave !== undefined && modulesToSave !== null && !(Array.isArray(modulesToSave) && modulesToSave.every((x) => typeof x === 'string'))) {
    throw new LoraConfigError(`${file}: "modules_to_save" must be a list of module names or null`);
  }
  const ltt = o.layers_to_transform;
  if (ltt !== undefined && ltt !== null && !Number.isSafeInteger(ltt) && !(Array.isArray(ltt) && ltt.every((x) => Number.isSafeInteger(x)))) {
    throw new LoraConfigError(`${file}: "layers_to_transform" must be a layer index, a list of indices or null`);
  }
  const init = o.init_lora_weights ?? true;
  if (typeof init !== 'boolean' && typeof init !== 'string') throw new LoraConfigError(`${file}: "init_lora_weights" must be true, false or a method name`);
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (!KNOWN.has(k)) extra[k] = v;
  return {
    peft_type: 'LORA',
    task_type: (o.task_type as string | null | undefined) ?? null,
    r: num('r', 8, (n) => Number.isSafeInteger(n) && n > 0, 'a positive integer'),
    lora_alpha: num('lora_alpha', 8, (n) => n > 0, 'a positive number'),
    lora_dropout: num('lora_dropout', 0, (n) => n >= 0 && n < 1, 'in [0, 1)'),
    target_modules: stringListOrString(o.target_modules, 'target_modules', file),
    exclude_modules: stringListOrString(o.exclude_modules, 'exclude_modules', file),
    bias,
    fan_in_fan_out: bool('fan_in_fan_out', false),
    use_rslora: bool('use_rslora', false),
    modules_to_save: (modulesToSave as string[] | null | undefined) ?? null,
    init_lora_weights: init,
    layers_to_transform: (ltt as number[] | number | null | undefined) ?? null,
    layers_pattern: stringListOrString(o.layers_pattern, 'layers_pattern', file),
    rank_pattern: numberRecord(o.rank_pattern, 'rank_pattern', file),
    alpha_pattern: numberRecord(o.alpha_pattern, 'alpha_pattern', file),
    base_model_name_or_path: str('base_model_name_or_path'),
    revision: str('revision'),
    inference_mode: bool('inference_mode', false),
    use_dora: false,
    extra,
  };
}

/** The fields PEFT (0.17) writes, at their defaults, for a file PEFT reads without surprises. */
const PEFT_WRITTEN_DEFAULTS: Record<string, unknown> = {
  auto_mapping: null,
  corda_config: null,
  eva_config: null,
  layer_replication: null,
  loftq_config: {},
  lora_bias: false,
  megatron_config: null,
  megatron_core: 'megatron.core',
  qalora_group_size: 16,
  target_parameters: null,
  trainable_token_indices: null,
  use_qalora: false,
};

/**
 * adapter_config.json text: keys sorted and indented by 2 like PEFT's `json.dumps(…, indent=2,
 * sort_keys=True)`. Deterministic, so save → load → save gives identical bytes.
 */
export function serializeLoraConfig(config: LoraConfig): string {
  const { extra, ...known } = config;
  const merged: Record<string, unknown> = { ...PEFT_WRITTEN_DEFAULTS, ...extra, ...known };
  const sorted: Record<string, unknown> = {};
  for (const k of Object.keys(merged).sort()) sorted[k] = merged[k];
  return JSON.stringify(sorted, null, 2);
}

/** scale = alpha / r, or alpha / √r with rsLoRA (PEFT's `scaling`). */
export function loraScale(alpha: number, r: number, useRslora: boolean): number {
  return useRslora ? alpha / Math.sqrt(r) : alpha / r;
}
