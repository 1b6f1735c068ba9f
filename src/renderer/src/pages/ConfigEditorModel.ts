// The config editor's pure half: the RunConfig's fields as a form description (labels, kinds, the contract's
// own one-line explanations), reading and writing a field by path, parsing a typed value, and the contract's
// validation issues placed at the field they concern. The JSON pane and the form edit the same object.
import type { z } from 'zod';
import { FusionSection } from '../../../common/api/fusion.ts';
import {
  ClassificationSection,
  DatasetConfig,
  EvalSplit,
  LoraSection,
  QuestionAnsweringSection,
  RunConfig,
  RunConfigObject,
  TemplateConfig,
} from '../../../common/api/runs.ts';
import { sentence } from '../validation.ts';
import { t, type MessageKey } from '../i18n/t.ts';
import { en } from '../i18n/en.ts';

export type FieldKind =
  | 'string'
  | 'nullable-string'
  | 'list'
  | 'int'
  | 'number'
  | 'nullable-int'
  | 'nullable-number'
  | 'bool'
  | 'enum'
  | 'targets'
  | 'template'
  | 'eval-split';

export interface FieldSpec {
  path: string[];
  /** The catalogue key of its label (read at render, so it follows a language change). */
  label: MessageKey;
  kind: FieldKind;
  options?: readonly string[];
  description: string;
}

function describeAt(path: string[]): string {
  let schema: z.ZodType | undefined;
  if (path[0] === 'dataset' && path.length === 2) schema = (DatasetConfig.shape as Record<string, z.ZodType>)[path[1]];
  else if (path[0] === 'lora' && path.length === 2) schema = (LoraSection.shape as Record<string, z.ZodType>)[path[1]];
  else if (path[0] === 'classification' && path.length === 2)
    schema = (ClassificationSection.shape as Record<string, z.ZodType>)[path[1]];
  else if (path[0] === 'question_answering' && path.length === 2)
    schema = (QuestionAnsweringSection.shape as Record<string, z.ZodType>)[path[1]];
  else if (path[0] === 'fusion' && path.length === 2)
    schema = (FusionSection.shape as Record<string, z.ZodType>)[path[1]];
  else schema = (RunConfigObject.shape as Record<string, z.ZodType>)[path[0]];
  if (path.join('.') === 'dataset.template') return TemplateConfig.description ?? '';
  if (path.join('.') === 'dataset.eval_split') return EvalSplit.description ?? '';
  return schema?.description ?? '';
}

/** A field's explanation in the UI's language: the catalogue's `field.<path>` where it has one, else the contract's words. */
export function fieldHint(field: FieldSpec): string {
  const key = `field.${field.path.join('.')}`;
  return Object.hasOwn(en, key) ? t(key as 'field.model') : field.description;
}

const f = (path: string, label: MessageKey, kind: FieldKind, options?: readonly string[]): FieldSpec => ({
  path: path.split('.'),
  label,
  kind,
  options,
  description: describeAt(path.split('.')),
});

export const SECTIONS: { title: MessageKey; fields: FieldSpec[] }[] = [
  {
    title: 'editor.section.data',
    fields: [
      f('model', 'editor.field.model', 'string'),
      f('dataset.path', 'editor.field.dataset.path', 'string'),
      f('dataset.format', 'editor.field.dataset.format', 'enum', ['auto', 'text', 'completion', 'alpaca', 'chat']),
      f('dataset.template', 'editor.field.dataset.template', 'template'),
      f('dataset.eval_split', 'editor.field.dataset.eval_split', 'eval-split'),
      f('dataset.skip_bad_rows', 'editor.field.dataset.skip_bad_rows', 'bool'),
      f('max_seq_length', 'editor.field.max_seq_length', 'int'),
      f('packing', 'editor.field.packing', 'bool'),
      f('train_on', 'editor.field.train_on', 'enum', ['completion', 'all']),
    ],
  },
  {
    // Encoder tasks: a section's fields are written only when edited (a causal-lm config carries neither section).
    title: 'editor.section.task',
    fields: [
      f('task', 'editor.field.task', 'enum', ['causal-lm', 'classification', 'question-answering']),
      f('classification.text_column', 'editor.field.classification.text_column', 'nullable-string'),
      f('classification.text_pair_column', 'editor.field.classification.text_pair_column', 'nullable-string'),
      f('classification.label_column', 'editor.field.classification.label_column', 'string'),
      f('classification.labels', 'editor.field.classification.labels', 'list'),
      f('question_answering.question_column', 'editor.field.question_answering.question_column', 'string'),
      f('question_answering.context_column', 'editor.field.question_answering.context_column', 'string'),
      f('question_answering.answers_column', 'editor.field.question_answering.answers_column', 'string'),
      f('question_answering.doc_stride', 'editor.field.question_answering.doc_stride', 'int'),
      f('question_answering.max_answer_length', 'editor.field.question_answering.max_answer_length', 'int'),
      f(
        'question_answering.version_2_with_negative',
        'editor.field.question_answering.version_2_with_negative',
        'bool',
      ),
    ],
  },
  {
    // Learned combinations of frozen adapters (Adapters → Learn a combination writes this section; absent otherwise).
    title: 'editor.section.fusion',
    fields: [
      f('fusion.adapters', 'editor.field.fusion.adapters', 'list'),
      f('fusion.mode', 'editor.field.fusion.mode', 'enum', ['weights', 'attention']),
      f('fusion.per_layer', 'editor.field.fusion.per_layer', 'bool'),
      f('fusion.weighting', 'editor.field.fusion.weighting', 'enum', ['softmax', 'unconstrained']),
      f('fusion.rank', 'editor.field.fusion.rank', 'nullable-int'),
      f('fusion.attention_dim', 'editor.field.fusion.attention_dim', 'int'),
      f('fusion.value_rank', 'editor.field.fusion.value_rank', 'int'),
    ],
  },
  {
    title: 'editor.section.method',
    fields: [
      f('method', 'editor.field.method', 'enum', ['lora', 'qlora', 'full']),
      f('lora.r', 'editor.field.lora.r', 'int'),
      f('lora.lora_alpha', 'editor.field.lora.lora_alpha', 'number'),
      f('lora.lora_dropout', 'editor.field.lora.lora_dropout', 'number'),
      f('lora.target_modules', 'editor.field.lora.target_modules', 'targets'),
      f('lora.bias', 'editor.field.lora.bias', 'enum', ['none', 'all', 'lora_only']),
      f('lora.use_rslora', 'editor.field.lora.use_rslora', 'bool'),
      f('bnb_4bit_use_double_quant', 'editor.field.bnb_4bit_use_double_quant', 'bool'),
      f('from_scratch', 'editor.field.from_scratch', 'bool'),
      f('executor', 'editor.field.executor', 'enum', ['auto', 'cpu', 'cuda']),
      f('base_dtype', 'editor.field.base_dtype', 'enum', ['auto', 'f32', 'f16', 'bf16']),
    ],
  },
  {
    title: 'editor.section.optimisation',
    fields: [
      f('learning_rate', 'editor.field.learning_rate', 'number'),
      f('num_train_epochs', 'editor.field.num_train_epochs', 'number'),
      f('max_steps', 'editor.field.max_steps', 'nullable-int'),
      f('micro_batch_size', 'editor.field.micro_batch_size', 'int'),
      f('gradient_accumulation_steps', 'editor.field.gradient_accumulation_steps', 'int'),
      f('lr_scheduler_type', 'editor.field.lr_scheduler_type', 'enum', ['constant', 'linear', 'cosine']),
      f('warmup_steps', 'editor.field.warmup_steps', 'int'),
      f('warmup_ratio', 'editor.field.warmup_ratio', 'number'),
      f('weight_decay', 'editor.field.weight_decay', 'number'),
      f('max_grad_norm', 'editor.field.max_grad_norm', 'nullable-number'),
      f('adam_beta1', 'editor.field.adam_beta1', 'number'),
      f('adam_beta2', 'editor.field.adam_beta2', 'number'),
      f('adam_epsilon', 'editor.field.adam_epsilon', 'number'),
      f('seed', 'editor.field.seed', 'int'),
    ],
  },
  {
    title: 'editor.section.logging',
    fields: [
      f('logging_steps', 'editor.field.logging_steps', 'int'),
      f('eval_steps', 'editor.field.eval_steps', 'nullable-int'),
      f('save_steps', 'editor.field.save_steps', 'nullable-int'),
      f('save_total_limit', 'editor.field.save_total_limit', 'nullable-int'),
    ],
  },
];

export const FIELD_PATHS = SECTIONS.flatMap((s) => s.fields.map((field) => field.path.join('.')));

export type ConfigValue = Record<string, unknown>;

export function getAt(value: unknown, path: string[]): unknown {
  let cur: unknown = value;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** A copy of `value` with `path` set (intermediate objects created as needed). */
export function setAt(value: ConfigValue, path: string[], next: unknown): ConfigValue {
  const [key, ...rest] = path;
  const inner = value[key];
  return {
    ...value,
    [key]:
      rest.length === 0
        ? next
        : setAt(inner !== null && typeof inner === 'object' ? (inner as ConfigValue) : {}, rest, next),
  };
}

/** What a typed text becomes: a number when it reads as one, null for a blank nullable field, else the text (the schema then says what is wrong). */
export function parseTyped(kind: FieldKind, text: string): unknown {
  const trimmed = text.trim();
  if (
    (kind === 'nullable-int' || kind === 'nullable-number' || kind === 'nullable-string' || kind === 'list') &&
    trimmed === ''
  )
    return null;
  if (kind === 'list')
    return trimmed
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
  if (kind === 'int' || kind === 'number' || kind === 'nullable-int' || kind === 'nullable-number') {
    const n = Number(trimmed);
    return trimmed !== '' && Number.isFinite(n) ? n : text;
  }
  if (kind === 'targets') {
    if (trimmed === 'all-linear') return 'all-linear';
    return trimmed.split(/[\s,]+/).filter(Boolean);
  }
  return text;
}

/** The value shown in a text input for a field. */
export function displayValue(kind: FieldKind, value: unknown): string {
  if (value === null || value === undefined) return '';
  if ((kind === 'targets' || kind === 'list') && Array.isArray(value)) return value.join(', ');
  return String(value);
}

/** The contract's issues, each at the form field it concerns (the nearest listed parent path), else under "other". */
export function issuesByField(value: unknown): {
  byField: Record<string, string>;
  other: string[];
  config: RunConfig | null;
} {
  const result = RunConfig.safeParse(value);
  if (result.success) return { byField: {}, other: [], config: result.data };
  const byField: Record<string, string> = {};
  const other: string[] = [];
  for (const issue of result.error.issues) {
    const parts = issue.path.map(String);
    let field: string | null = null;
    for (let n = parts.length; n > 0; n--) {
      const candidate = parts.slice(0, n).join('.');
      if (FIELD_PATHS.includes(candidate)) {
        field = candidate;
        break;
      }
    }
    const message = sentence(issue.message);
    if (field === null) other.push(`${parts.join('.') || 'config'}: ${message}`);
    else if (!(field in byField)) byField[field] = message;
  }
  return { byField, other, config: null };
}

/** A complete config with every default written out, for a start with nothing chosen yet. */
export function defaultConfig(): ConfigValue {
  const filled = RunConfig.parse({ model: '-', dataset: { path: '-' } }) as unknown as ConfigValue;
  return setAt(setAt(filled, ['model'], ''), ['dataset', 'path'], '');
}

/** A config as given, with defaults filled in when it validates (so every field shows its value). */
export function withDefaults(value: ConfigValue): ConfigValue {
  const parsed = RunConfig.safeParse(value);
  return parsed.success ? (parsed.data as unknown as ConfigValue) : value;
}

export const PRESETS_KEY = 'lora-studio.config-presets';

/** Saved presets: name → config without model and dataset paths (a preset is about how to train, not on what). */
export function loadPresets(storage: { getItem(key: string): string | null }): Record<string, ConfigValue> {
  try {
    const raw = storage.getItem(PRESETS_KEY);
    const parsed = raw ? (JSON.parse(raw) as unknown) : {};
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, ConfigValue>)
      : {};
  } catch {
    return {};
  }
}

export function presetOf(config: ConfigValue): ConfigValue {
  const { model: _model, dataset, ...rest } = config;
  const { path: _path, ...datasetRest } = (dataset ?? {}) as ConfigValue;
  return { ...rest, dataset: datasetRest };
}

/** A preset applied to the current config keeps the current model and dataset file. */
export function applyPreset(current: ConfigValue, preset: ConfigValue): ConfigValue {
  const dataset = { ...((preset.dataset ?? {}) as ConfigValue), path: getAt(current, ['dataset', 'path']) ?? '' };
  return { ...preset, model: current.model ?? '', dataset };
}
