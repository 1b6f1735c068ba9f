// The fine-tune wizard's pure half: the draft (what the user has chosen so far, saved in localStorage per
// project as they go), the presets, the run config the draft becomes, and the contract's validation issues
// mapped back to the step and field that caused them.
import { BUNDLED_MODEL_RECIPE } from '../../../../common/api/models.ts';
import { RunConfig, type RunConfigInput, type TemplateConfig } from '../../../../common/api/runs.ts';
import { ENCODER_DEFAULT_TARGETS, isEncoderFamily } from '../../../../common/api/task-data.ts';
import { sentence } from '../../validation.ts';
import { t } from '../../i18n/t.ts';

export const STEPS = [
  { id: 'model', label: 'Base model' },
  { id: 'dataset', label: 'Dataset' },
  { id: 'template', label: 'Template' },
  { id: 'method', label: 'Method' },
  { id: 'review', label: 'Review' },
] as const;
export type StepId = (typeof STEPS)[number]['id'];

/** What the model is taught: chat / instructions (a decoder writes text), or an encoder task (a head on an encoder). */
export type WizardTask = 'causal-lm' | 'classification' | 'question-answering';
export const TASKS: readonly WizardTask[] = ['causal-lm', 'classification', 'question-answering'];
export const isEncoderTask = (task: WizardTask): task is 'classification' | 'question-answering' => task !== 'causal-lm';

/** The steps of a task: encoder tasks read their columns directly (no chat template to choose). */
export function stepsFor(task: WizardTask): (typeof STEPS)[number][] {
  return isEncoderTask(task) ? STEPS.filter((s) => s.id !== 'template') : [...STEPS];
}

export type DatasetFormatChoice = 'auto' | 'text' | 'completion' | 'alpaca' | 'chat';

/** Text fields stay strings while typed; the config conversion turns them into numbers (or reports them). */
export interface WizardDraft {
  step: StepId;
  task: WizardTask;
  modelSource: 'local' | 'hub';
  modelPath: string;
  hubRepo: string;
  hubRevision: string;
  modelId: string | null;
  datasetPath: string;
  datasetId: string | null;
  format: DatasetFormatChoice;
  /** Column overrides by the contract's names (prompt, completion, …); empty = the detected ones. */
  columns: Record<string, string>;
  /** Held-out rows: a share of the dataset, or a separate eval file. */
  evalKind: 'ratio' | 'file';
  evalRatio: string;
  evalFile: string;
  seed: string;
  templateKind: 'auto' | 'prompt' | 'plain';
  promptTemplate: string;
  method: 'lora' | 'qlora' | 'full';
  preset: PresetId | 'custom';
  r: string;
  alpha: string;
  dropout: string;
  targetModules: string;
  learningRate: string;
  epochs: string;
  maxSteps: string;
  microBatch: string;
  gradAccum: string;
  maxSeqLength: string;
  warmupSteps: string;
  packing: boolean;
  runName: string;
  // ── encoder tasks (classification, question-answering): the run reads the file itself, nothing is imported ──
  /** The training file of a task run. */
  taskDataPath: string;
  /** Classification columns; empty = the run's defaults (sentence or text; label). */
  textColumn: string;
  textPairColumn: string;
  labelColumn: string;
  /** Label names in class order, comma-separated; empty = found in the training rows. */
  labelNames: string;
  /** QA columns; empty = SQuAD's names (question, context, answers). */
  questionColumn: string;
  contextColumn: string;
  answersColumn: string;
  docStride: string;
  squadV2: boolean;
  /** Train without the rows the dataset step lists as problems (otherwise the run stops on them). */
  skipBadRows: boolean;
  /** Evaluate every this many updates (blank = only at the end). */
  evalSteps: string;
  /** `<task>:<model id>` whose recipe the settings were last set from (so a reload keeps later edits). */
  defaultsFor: string;
}

export const PRESETS = {
  balanced: {
    values: { r: '16', alpha: '32', dropout: '0.05', targetModules: 'q_proj, k_proj, v_proj, o_proj', learningRate: '0.0001' },
  },
  light: {
    values: { r: '8', alpha: '16', dropout: '0.05', targetModules: 'q_proj, v_proj', learningRate: '0.0002' },
  },
  thorough: {
    values: { r: '64', alpha: '128', dropout: '0.05', targetModules: 'all-linear', learningRate: '0.0001' },
  },
} as const;
export type PresetId = keyof typeof PRESETS;
type PresetValues = Partial<Pick<WizardDraft, 'r' | 'alpha' | 'dropout' | 'targetModules' | 'learningRate' | 'maxSteps' | 'microBatch' | 'gradAccum' | 'maxSeqLength' | 'warmupSteps' | 'packing'>>;
/** A preset's values; its name and summary are in the catalogue (wizard.preset.*, wizard.presetSummary.*). */
export interface Preset {
  values: PresetValues;
}

/**
 * The presets for a model. On the bundled default model, Balanced is the demo's recipe (BUNDLED_MODEL_RECIPE): the
 * generic values are made for 100M+ models and barely move a 3.5M one in the same time.
 */
export function presetsFor(bundled: boolean): Record<PresetId, Preset> {
  if (!bundled) return PRESETS;
  const r = BUNDLED_MODEL_RECIPE;
  return {
    ...PRESETS,
    balanced: {
      values: {
        r: String(r.lora.r),
        alpha: String(r.lora.lora_alpha),
        dropout: String(r.lora.lora_dropout),
        targetModules: r.lora.target_modules,
        learningRate: String(r.learning_rate),
        maxSteps: String(r.max_steps),
        microBatch: String(r.micro_batch_size),
        gradAccum: String(r.gradient_accumulation_steps),
        maxSeqLength: String(r.max_seq_length),
        warmupSteps: String(r.warmup_steps),
        packing: r.packing,
      },
    },
  };
}

export const DEFAULT_DRAFT: WizardDraft = {
  step: 'model',
  task: 'causal-lm',
  modelSource: 'local',
  modelPath: '',
  hubRepo: '',
  hubRevision: 'main',
  modelId: null,
  datasetPath: '',
  datasetId: null,
  format: 'auto',
  columns: {},
  evalKind: 'ratio',
  evalRatio: '0.1',
  evalFile: '',
  seed: '42',
  templateKind: 'auto',
  promptTemplate: '### Question: {prompt}\n### Answer: ',
  method: 'lora',
  preset: 'balanced',
  ...PRESETS.balanced.values,
  epochs: '1',
  maxSteps: '',
  microBatch: '1',
  gradAccum: '4',
  maxSeqLength: '1024',
  warmupSteps: '0',
  packing: false,
  runName: '',
  taskDataPath: '',
  textColumn: '',
  textPairColumn: '',
  labelColumn: '',
  labelNames: '',
  questionColumn: '',
  contextColumn: '',
  answersColumn: '',
  docStride: '128',
  squadV2: false,
  skipBadRows: false,
  evalSteps: '',
  defaultsFor: '',
};

export const DRAFT_KEY_PREFIX = 'lora-studio.wizard-draft.';

/** Reads a saved draft; anything unreadable or from an older shape falls back to the defaults field by field. */
export function loadDraft(storage: { getItem(key: string): string | null }, projectId: string): WizardDraft {
  try {
    const raw = storage.getItem(DRAFT_KEY_PREFIX + projectId);
    if (!raw) return { ...DEFAULT_DRAFT };
    const saved = JSON.parse(raw) as Record<string, unknown>;
    const out: Record<string, unknown> = { ...DEFAULT_DRAFT };
    for (const key of Object.keys(DEFAULT_DRAFT) as (keyof WizardDraft)[]) {
      const value = saved[key];
      const fallback = DEFAULT_DRAFT[key];
      if (value === undefined) continue;
      if (fallback === null ? value === null || typeof value === 'string' : typeof value === typeof fallback) out[key] = value;
    }
    if (!STEPS.some((s) => s.id === out.step)) out.step = 'model';
    if (!TASKS.includes(out.task as WizardTask)) out.task = 'causal-lm';
    return out as unknown as WizardDraft;
  } catch {
    return { ...DEFAULT_DRAFT };
  }
}

export function saveDraft(storage: { setItem(key: string, value: string): void }, projectId: string, draft: WizardDraft): void {
  storage.setItem(DRAFT_KEY_PREFIX + projectId, JSON.stringify(draft));
}

/** A number typed in a field; a blank or malformed one is kept as the text so the schema reports it at the field. */
function num(text: string): number | string {
  const trimmed = text.trim();
  if (trimmed === '') return trimmed;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : trimmed;
}

export function parseTargetModules(text: string): string[] | 'all-linear' {
  const trimmed = text.trim();
  if (trimmed === 'all-linear') return 'all-linear';
  return trimmed.split(/[\s,]+/).filter(Boolean);
}

export function templateOf(draft: Pick<WizardDraft, 'templateKind' | 'promptTemplate'>): TemplateConfig {
  if (draft.templateKind === 'prompt') return { kind: 'prompt', template: draft.promptTemplate };
  return { kind: draft.templateKind };
}

/** The run config the draft describes (unvalidated: `checkDraft` validates it with the contract's schema). */
export function draftToConfig(draft: WizardDraft, paths: { model: string; dataset: string }): RunConfigInput {
  if (isEncoderTask(draft.task)) return taskDraftToConfig(draft, paths.model);
  const ratio = num(draft.evalRatio);
  const columns = Object.fromEntries(Object.entries(draft.columns).filter(([, v]) => v.trim() !== '').map(([k, v]) => [k, v.trim()]));
  const config: Record<string, unknown> = {
    model: paths.model,
    dataset: {
      path: paths.dataset,
      format: draft.format,
      columns,
      template: templateOf(draft),
      eval_split: draft.evalKind === 'file' ? { kind: 'file', path: draft.evalFile.trim() } : ratio === 0 ? { kind: 'none' } : { kind: 'ratio', ratio },
      skip_bad_rows: true, // the import already listed them; the wizard trains on the usable rows
    },
    method: draft.method,
    lora: { r: num(draft.r), lora_alpha: num(draft.alpha), lora_dropout: num(draft.dropout), target_modules: parseTargetModules(draft.targetModules) },
    learning_rate: num(draft.learningRate),
    num_train_epochs: num(draft.epochs),
    max_steps: draft.maxSteps.trim() === '' ? null : num(draft.maxSteps),
    micro_batch_size: num(draft.microBatch),
    gradient_accumulation_steps: num(draft.gradAccum),
    max_seq_length: num(draft.maxSeqLength),
    warmup_steps: num(draft.warmupSteps),
    packing: draft.packing,
    seed: num(draft.seed),
  };
  return config as RunConfigInput;
}

const optionalText = (text: string) => (text.trim() === '' ? undefined : text.trim());

/**
 * An encoder task's run config: exactly what `lora-studio train --task … ` builds from the same choices (the task
 * section carries only what was given, as the CLI's flags do; tests/renderer/wizard-task-draft.test.ts compares them).
 */
function taskDraftToConfig(draft: WizardDraft, model: string): RunConfigInput {
  const ratio = num(draft.evalRatio);
  const dataset: Record<string, unknown> = {
    path: draft.taskDataPath.trim(),
    eval_split: draft.evalKind === 'file' ? { kind: 'file', path: draft.evalFile.trim() } : ratio === 0 ? { kind: 'none' } : { kind: 'ratio', ratio },
  };
  if (draft.skipBadRows) dataset.skip_bad_rows = true;
  const config: Record<string, unknown> = {
    model,
    dataset,
    task: draft.task,
    method: draft.method,
    lora: { r: num(draft.r), lora_alpha: num(draft.alpha), lora_dropout: num(draft.dropout), target_modules: parseTargetModules(draft.targetModules) },
    learning_rate: num(draft.learningRate),
    num_train_epochs: num(draft.epochs),
    micro_batch_size: num(draft.microBatch),
    gradient_accumulation_steps: num(draft.gradAccum),
    max_seq_length: num(draft.maxSeqLength),
    warmup_steps: num(draft.warmupSteps),
    seed: num(draft.seed),
  };
  if (draft.maxSteps.trim() !== '') config.max_steps = num(draft.maxSteps);
  if (draft.evalSteps.trim() !== '') config.eval_steps = num(draft.evalSteps);
  const section = (values: Record<string, unknown>) => {
    const given = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
    return Object.keys(given).length ? given : undefined;
  };
  if (draft.task === 'classification') {
    const labels = draft.labelNames.split(',').map((l) => l.trim()).filter(Boolean);
    const classification = section({
      text_column: optionalText(draft.textColumn),
      text_pair_column: optionalText(draft.textPairColumn),
      label_column: optionalText(draft.labelColumn),
      labels: labels.length ? labels : undefined,
    });
    if (classification) config.classification = classification;
  } else {
    const qa = section({
      question_column: optionalText(draft.questionColumn),
      context_column: optionalText(draft.contextColumn),
      answers_column: optionalText(draft.answersColumn),
      doc_stride: num(draft.docStride),
      version_2_with_negative: draft.squadV2 ? true : undefined,
    });
    if (qa) config.question_answering = qa;
  }
  return config as RunConfigInput;
}

/** The settings an encoder task starts from: the demo's recipe on the bundled encoder, PEFT's usual ones elsewhere. */
export function taskDefaults(task: 'classification' | 'question-answering', model: { family: string; bundled: boolean }): Partial<WizardDraft> {
  const qa = task === 'question-answering';
  const targets = isEncoderFamily(model.family) ? ENCODER_DEFAULT_TARGETS[model.family].join(', ') : 'query, value';
  if (model.bundled) {
    // lora-studio demo --task (cli/commands/demo-task.ts): ≈0.95 accuracy / F1 > 0.6 on the bundled data
    return { r: '8', alpha: '32', dropout: '0.1', targetModules: targets, learningRate: '0.003', epochs: qa ? '1' : '2', maxSteps: '', microBatch: '16', gradAccum: '1', maxSeqLength: qa ? '128' : '64', docStride: '32', warmupSteps: '0', packing: false };
  }
  return { r: '8', alpha: '16', dropout: '0.1', targetModules: targets, learningRate: '0.0005', epochs: qa ? '2' : '3', maxSteps: '', microBatch: '8', gradAccum: '1', maxSeqLength: qa ? '384' : '128', docStride: '128', warmupSteps: '0', packing: false };
}

/** The learning rate for full fine-tuning of an encoder (every weight moves: a tenth of LoRA's on the bundled one). */
export const taskFullLearningRate = (bundled: boolean) => (bundled ? '0.0003' : '0.00002');

/** Draft field ← config path, to put each schema issue next to the field that caused it. */
const FIELD_OF_PATH: Record<string, { step: StepId; field: keyof WizardDraft }> = {
  model: { step: 'model', field: 'modelPath' },
  'dataset.path': { step: 'dataset', field: 'datasetPath' },
  'dataset.eval_split.ratio': { step: 'dataset', field: 'evalRatio' },
  'dataset.eval_split.path': { step: 'dataset', field: 'evalFile' },
  warmup_steps: { step: 'method', field: 'warmupSteps' },
  seed: { step: 'dataset', field: 'seed' },
  'dataset.template.template': { step: 'template', field: 'promptTemplate' },
  'lora.r': { step: 'method', field: 'r' },
  'lora.lora_alpha': { step: 'method', field: 'alpha' },
  'lora.lora_dropout': { step: 'method', field: 'dropout' },
  'lora.target_modules': { step: 'method', field: 'targetModules' },
  learning_rate: { step: 'method', field: 'learningRate' },
  num_train_epochs: { step: 'method', field: 'epochs' },
  max_steps: { step: 'method', field: 'maxSteps' },
  micro_batch_size: { step: 'method', field: 'microBatch' },
  gradient_accumulation_steps: { step: 'method', field: 'gradAccum' },
  max_seq_length: { step: 'method', field: 'maxSeqLength' },
  eval_steps: { step: 'method', field: 'evalSteps' },
  'question_answering.doc_stride': { step: 'method', field: 'docStride' },
  'classification.labels': { step: 'dataset', field: 'labelNames' },
};
/** Task runs name their file and eval file in the same places. */
const TASK_FIELD_OF_PATH: Record<string, { step: StepId; field: keyof WizardDraft }> = {
  'dataset.path': { step: 'dataset', field: 'taskDataPath' },
};

export interface DraftCheck {
  config: RunConfig | null;
  fieldErrors: Partial<Record<keyof WizardDraft, string>>;
  /** The first step with a problem (the wizard's Start sends the user there). */
  firstBadStep: StepId | null;
  otherErrors: string[];
}

export function checkDraft(draft: WizardDraft, paths: { model: string; dataset: string }): DraftCheck {
  const result = RunConfig.safeParse(draftToConfig(draft, paths));
  if (result.success) return { config: result.data, fieldErrors: {}, firstBadStep: null, otherErrors: [] };
  const fieldErrors: DraftCheck['fieldErrors'] = {};
  const otherErrors: string[] = [];
  let firstBadStep: StepId | null = null;
  const order = stepsFor(draft.task).map((s) => s.id as StepId);
  for (const issue of result.error.issues) {
    // A list's entry (target_modules.0) belongs to the list's field.
    const path = issue.path.filter((p) => typeof p === 'string').join('.');
    const target = (isEncoderTask(draft.task) ? TASK_FIELD_OF_PATH[path] : undefined) ?? FIELD_OF_PATH[path];
    const message = sentence(issue.message);
    if (!target) {
      otherErrors.push(`${path || 'config'}: ${message}`);
      continue;
    }
    if (!(target.field in fieldErrors)) fieldErrors[target.field] = message;
    if (firstBadStep === null || order.indexOf(target.step) < order.indexOf(firstBadStep)) firstBadStep = target.step;
  }
  return { config: null, fieldErrors, firstBadStep, otherErrors };
}

/** The contract's one-line explanation of each hyperparameter field, in the UI's language (read when shown). */
export const HINTS = {
  get r() { return t('field.lora.r'); },
  get alpha() { return t('field.lora.lora_alpha'); },
  get dropout() { return t('field.lora.lora_dropout'); },
  get targetModules() { return t('field.lora.target_modules'); },
  get learningRate() { return t('field.learning_rate'); },
  get epochs() { return t('field.num_train_epochs'); },
  get maxSteps() { return t('field.optional', { text: t('field.max_steps') }); },
  get microBatch() { return t('field.micro_batch_size'); },
  get gradAccum() { return t('field.gradient_accumulation_steps'); },
  get maxSeqLength() { return t('field.max_seq_length'); },
  get warmupSteps() { return t('field.warmup_steps'); },
  get packing() { return t('field.packing'); },
  get seed() { return t('field.seed'); },
  get method() { return t('field.method'); },
  get docStride() { return t('field.question_answering.doc_stride'); },
  get evalSteps() { return t('field.optional', { text: t('field.eval_steps') }); },
};

/** Which preset the values match, if any (so picking "Light" then editing r shows "custom"). */
export function matchingPreset(draft: WizardDraft, presets: Record<PresetId, Preset> = PRESETS): PresetId | 'custom' {
  for (const [id, preset] of Object.entries(presets) as [PresetId, Preset][]) {
    if (Object.entries(preset.values).every(([k, v]) => String(draft[k as keyof WizardDraft]).trim() === String(v))) return id;
  }
  return 'custom';
}
