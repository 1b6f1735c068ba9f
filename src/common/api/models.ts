// Base models: Hugging Face folders opened from disk or pulled from the Hub, recorded once and shared by every
// project. `models.plan` answers what a run config costs on a base model before it starts: trainable
// parameters, a memory and time estimate on this machine, and warnings.
import { z } from 'zod';
import { Job } from './jobs.ts';
import { Phrase, PHRASES } from './phrases.ts';
import { RunConfig } from './runs.ts';

export const BaseModel = z.object({
  id: z.string(),
  name: z.string().describe('Hub repo id, or the folder name.'),
  source: z.string().describe('Hub repo id or the folder it was opened from.'),
  sourceKind: z.enum(['hub', 'local']),
  path: z.string().describe('The model folder on this machine (for a Hub model, its snapshot in the Hugging Face cache).'),
  revision: z.string().nullable().describe('Hub commit; null for a local folder.'),
  architecture: z.string(),
  family: z.string(),
  parameterCount: z.number().int(),
  dtype: z.string().describe('Stored weight dtype(s), e.g. "BF16".'),
  sizeBytes: z.number().int().describe('Bytes of the safetensors weights.'),
  layers: z.number().int(),
  hiddenSize: z.number().int(),
  vocabSize: z.number().int(),
  maxPositions: z.number().int(),
  chatTemplate: z.string().nullable().describe('The model’s default chat template (Jinja source), null when it has none.'),
  tokenizerFiles: z.array(z.string()),
  createdAt: z.string(),
});
export type BaseModel = z.infer<typeof BaseModel>;

/** What the worker's model.pull job sends back (and the core records). */
export const ModelFolderSummary = BaseModel.omit({ id: true, name: true, source: true, sourceKind: true, revision: true, createdAt: true });
export type ModelFolderSummary = z.infer<typeof ModelFolderSummary>;

export const MODEL_PULL_JOB_KIND = 'model.pull';
export const ModelPullJobParams = z.object({
  repo: z.string().min(1),
  revision: z.string().min(1),
  offline: z.boolean(),
});
export type ModelPullJobParams = z.infer<typeof ModelPullJobParams>;
export const ModelPullJobResult = z.object({ repo: z.string(), revision: z.string(), commit: z.string(), summary: ModelFolderSummary });
export type ModelPullJobResult = z.infer<typeof ModelPullJobResult>;

const HubRepoId = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/, PHRASES['input.hubModelId']);

export const PlanWarning = z.object({
  field: z.string().nullable().describe('The run config field it is about (dotted path), when one.'),
  message: z.string(),
  phrase: Phrase.optional().describe('The message as a code + parameters, for a UI in another language.'),
  blocking: z.boolean().default(false).describe('The run would fail: starting it is refused until this is fixed.'),
});

export const RunPlan = z.object({
  model: z.object({ architecture: z.string(), parameterCount: z.number().int(), layers: z.number().int(), hiddenSize: z.number().int() }),
  trainableParameters: z.number().int(),
  totalParameters: z.number().int().describe('Base parameters plus adapter parameters, as PEFT’s print_trainable_parameters counts them.'),
  trainableShare: z.number().describe('trainable / total, 0–1.'),
  targetedModules: z.number().int().describe('Linear modules that get an adapter (0 for full fine-tuning).'),
  targetedLayers: z.number().int().describe('Transformer blocks those modules sit in (0 for full fine-tuning).'),
  dataset: z
    .object({
      examples: z.number().int(),
      trainExamples: z.number().int(),
      meanTokens: z.number(),
      truncated: z.number().int(),
      truncatedShare: z.number(),
    })
    .nullable()
    .describe('Token counts of the dataset with this template and max length; null when it could not be read (see warnings).'),
  memory: z.object({
    bytes: z.number(),
    parts: z.array(z.object({ label: z.string(), labelPhrase: Phrase.optional(), bytes: z.number() })),
    formula: z.string(),
    formulaPhrase: Phrase.optional(),
  }),
  time: z.object({
    steps: z.number().int(),
    tokens: z.number(),
    seconds: z.number().nullable(),
    formula: z.string(),
    formulaPhrase: Phrase.optional(),
  }),
  warnings: z.array(PlanWarning),
});
export type RunPlan = z.infer<typeof RunPlan>;

const IdRef = z.object({ id: z.string().min(1) });

/** A model the wizard can offer as a card: the bundled default model, models opened before, and the HF cache. */
export const ModelSuggestion = z.object({
  origin: z.enum(['bundled', 'opened', 'hf-cache']),
  name: z.string(),
  namePhrase: Phrase.optional().describe('The name as a code, for a UI in another language (the bundled model).'),
  path: z.string().describe('The model folder (models.open takes it).'),
  modelId: z.string().nullable().describe('Its base model record, when it was opened already.'),
  architecture: z.string(),
  parameterCount: z.number().int(),
  sizeBytes: z.number().int(),
  layers: z.number().int(),
  maxPositions: z.number().int(),
});
export type ModelSuggestion = z.infer<typeof ModelSuggestion>;

/**
 * How the bundled default model learns the demo dataset in a few minutes on a laptop CPU (what `lora-studio demo`
 * runs): the wizard's Balanced preset on that model, so a first run from the UI reaches the demo's quality.
 */
export const BUNDLED_MODEL_RECIPE = {
  lora: { r: 8, lora_alpha: 16, lora_dropout: 0, target_modules: 'all-linear' },
  learning_rate: 3e-3,
  max_steps: 120,
  micro_batch_size: 8,
  gradient_accumulation_steps: 1,
  warmup_steps: 10,
  lr_scheduler_type: 'cosine',
  max_seq_length: 128,
  packing: true,
  train_on: 'completion',
} as const;

export const modelMethods = {
  'models.suggestions': {
    input: z.object({}),
    output: z.object({ models: z.array(ModelSuggestion), bundledPath: z.string().nullable().describe('The bundled default model’s folder, when this install has it.') }),
    doc: 'Models to offer as cards: the bundled default model, models opened before, and models in the Hugging Face cache, with size and architecture.',
  },
  'models.open': {
    input: z.object({ path: z.string().trim().min(1, PHRASES['input.modelPath']) }),
    output: BaseModel,
    doc: 'Validate a local Hugging Face model folder (config, weights against the architecture, tokenizer) and record it as a base model.',
  },
  'models.pull': {
    input: z.object({
      repo: HubRepoId,
      revision: z.string().trim().min(1).default('main').describe('Branch, tag or commit.'),
      offline: z.boolean().optional().describe('Use the Hugging Face cache only (default: HF_HUB_OFFLINE).'),
    }),
    output: Job,
    doc: 'Download a model from the Hugging Face Hub (config, tokenizer, safetensors) as a job with byte progress; when it succeeds the model is recorded. The token comes from HF_TOKEN (or the saved Hugging Face login).',
  },
  'models.list': { input: z.object({}), output: z.array(BaseModel), doc: 'Base models, newest first.' },
  'models.get': { input: IdRef, output: BaseModel, doc: 'One base model.' },
  'models.delete': {
    input: IdRef,
    output: z.object({ deleted: z.boolean() }),
    doc: 'Forget a base model. Its files stay where they are (a local folder is yours; the Hub cache is shared with other tools).',
  },
  'models.plan': {
    input: z.object({ config: RunConfig }),
    output: RunPlan,
    doc: 'What a run config will cost before it starts: trainable parameters and share, an estimate of memory and time on this machine, and warnings.',
  },
};
