// The run config contract (what one fine-tune does) and the API methods for runs, their metrics and
// evaluations. Field names follow Hugging Face's TrainingArguments and PEFT's LoraConfig, so a tutorial's
// `lora_alpha` or `gradient_accumulation_steps` means the same thing here. Every field has a safe default and
// a one-line explanation (`.describe`) that the UI shows next to it; `RunConfig.parse({model, dataset})` gives
// a complete, valid config.
import { z } from 'zod';
import { ShipQuant } from './chat.ts';
import { FusionReport, FusionSection } from './fusion.ts';

const positiveInt = () => z.number().int().positive();
const nonNegativeInt = () => z.number().int().min(0);

/** Updates between resumable checkpoints unless a run config says otherwise (the wizard, quick start and CLI alike). */
export const DEFAULT_SAVE_STEPS = 50;
/** A section that parses from `{}` (or the given value) when absent, keeping its explanation (wrapping drops it). */
function section<S extends z.ZodType>(schema: S, absent: z.input<S>) {
  return schema.prefault(absent).describe(schema.description ?? '');
}

export const ColumnMapping = z
  .object({
    text: z.string().min(1).optional().describe('Plain text data: the column with the whole text.'),
    prompt: z.string().min(1).optional().describe('Pair data: the column with the prompt.'),
    completion: z.string().min(1).optional().describe('Pair data: the column with the answer the model should learn to write.'),
    instruction: z.string().min(1).optional().describe('Alpaca data: the instruction column.'),
    input: z.string().min(1).optional().describe('Alpaca data: the optional extra-context column.'),
    output: z.string().min(1).optional().describe('Alpaca data: the answer column.'),
    messages: z.string().min(1).optional().describe('Chat data: the column with the list of messages.'),
    role_key: z.string().min(1).optional().describe('Chat data: the key holding each message’s role (role, or from).'),
    content_key: z.string().min(1).optional().describe('Chat data: the key holding each message’s text (content, or value).'),
  })
  .strict()
  .describe('Which dataset columns play which part; leave empty to detect them from the column names.');
export type ColumnMapping = z.infer<typeof ColumnMapping>;

export const TemplateConfig = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('auto') }).describe("Use the model's chat template for chat and pair data, raw text for plain text."),
    z.strictObject({ kind: z.literal('chat') }).describe("The model's own chat template (from tokenizer_config.json or chat_template.jinja)."),
    z
      .strictObject({ kind: z.literal('chat_template'), template: z.string().min(1).describe('A Jinja chat template, as transformers renders it.') })
      .describe('A custom Jinja chat template instead of the model’s.'),
    z
      .strictObject({
        kind: z.literal('prompt'),
        template: z
          .string()
          .min(1)
          .describe('Text with {placeholders} naming columns; the completion is appended after it, e.g. "### Question: {prompt}\\n### Answer: ".'),
      })
      .describe('A plain prompt template with placeholders, for models without a chat template.'),
    z.strictObject({ kind: z.literal('plain') }).describe('No template: train on the text column as is.'),
  ])
  .describe('How a dataset row becomes the text the model sees.');
export type TemplateConfig = z.infer<typeof TemplateConfig>;

export const EvalSplit = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('none') }).describe('No evaluation split: only the training loss is measured.'),
    z
      .strictObject({
        kind: z.literal('ratio'),
        ratio: z.number().gt(0).lt(1).default(0.1).describe('Share of the rows held out for evaluation (0.1 = 10%).'),
      })
      .describe('Hold out a random share of the dataset (the run seed picks it; the same seed gives the same split).'),
    z.strictObject({ kind: z.literal('file'), path: z.string().min(1).describe('Path of the evaluation dataset file.') }).describe('A separate evaluation file.'),
  ])
  .describe('Rows kept apart to measure eval loss and perplexity on text the model never trained on.');
export type EvalSplit = z.infer<typeof EvalSplit>;

export const DatasetConfig = z
  .object({
    path: z.string().min(1).describe('The dataset file: JSONL, JSON, CSV/TSV or Parquet.'),
    format: z
      .enum(['auto', 'text', 'completion', 'alpaca', 'chat'])
      .default('auto')
      .describe('Shape of the rows: plain text, prompt/completion pairs, alpaca instructions or chats; "auto" detects it.'),
    columns: section(ColumnMapping, {}),
    template: section(TemplateConfig, { kind: 'auto' }),
    eval_split: section(EvalSplit, { kind: 'ratio' }),
    skip_bad_rows: z.boolean().default(false).describe('Skip rows that fail to parse instead of stopping the run (they are listed either way).'),
  })
  .strict()
  .describe('The examples to learn from.');
export type DatasetConfig = z.infer<typeof DatasetConfig>;

export const LoraSection = z
  .object({
    r: positiveInt().max(1024).default(16).describe('Adapter rank: capacity of the adapter. 8–64 is usual; higher costs more memory and time.'),
    lora_alpha: z.number().positive().default(32).describe('Scale of the adapter’s update (scale = alpha / r). Usually 2 × r.'),
    lora_dropout: z.number().min(0).lt(1).default(0.05).describe('Share of adapter inputs randomly dropped while training; fights overfitting.'),
    target_modules: z
      .union([z.array(z.string().min(1)).min(1), z.literal('all-linear')])
      .default(['q_proj', 'k_proj', 'v_proj', 'o_proj'])
      .describe('Which linear layers get an adapter: names like q_proj, or "all-linear". More layers, more capacity and cost.'),
    bias: z.enum(['none', 'all', 'lora_only']).default('none').describe('Which biases are trained too; "none" is standard.'),
    use_rslora: z.boolean().default(false).describe('Rank-stabilised LoRA: scale = alpha / √r, which keeps high ranks stable.'),
  })
  .strict()
  .describe('LoRA adapter settings, as PEFT defines them.');
export type LoraSection = z.infer<typeof LoraSection>;

// ---------------------------------------------------------------------------------------------------------
// Tasks: what the model learns. Causal language modelling (chat, instructions, plain text) is the default; the
// encoder tasks (BERT, DistilBERT, RoBERTa/XLM-R) put a head on the model: a label per text, or an answer span
// in a context. Each task's settings live in their own section, given only with that task.

export const RunTask = z
  .enum(['causal-lm', 'classification', 'question-answering'])
  .describe(
    'What the model learns: causal-lm writes text (chat, instructions); classification labels a text (or a pair); question-answering finds the answer span in a context.',
  );
export type RunTask = z.infer<typeof RunTask>;

export const ClassificationSection = z
  .object({
    text_column: z
      .string()
      .min(1)
      .nullable()
      .default(null)
      .describe('The column with the text to classify; null = "sentence" or "text", whichever the file has.'),
    text_pair_column: z
      .string()
      .min(1)
      .nullable()
      .default(null)
      .describe('Sentence pairs (entailment, paraphrase): the column with the second text; null = single texts.'),
    label_column: z
      .string()
      .min(1)
      .default('label')
      .describe('The column with each row’s label: a name ("positive") or a class number.'),
    labels: z
      .array(z.string().min(1))
      .min(2)
      .nullable()
      .default(null)
      .describe(
        'Label names in class-id order (written as id2label); null = found in the training rows (class numbers in order, names sorted).',
      ),
  })
  .strict()
  .describe('Text classification: which columns hold the text and the label, and the label names.');
export type ClassificationSection = z.infer<typeof ClassificationSection>;

export const QuestionAnsweringSection = z
  .object({
    question_column: z.string().min(1).default('question').describe('The column with the question.'),
    context_column: z.string().min(1).default('context').describe('The column with the text the answer is found in.'),
    answers_column: z
      .string()
      .min(1)
      .default('answers')
      .describe(
        'The column with the answers as SQuAD writes them: {text: [..], answer_start: [..]} (character offsets into the context).',
      ),
    id_column: z
      .string()
      .min(1)
      .default('id')
      .describe('The column with each question’s id (SQuAD’s "id"); rows without one are numbered.'),
    doc_stride: positiveInt()
      .default(128)
      .describe(
        'A context longer than max_seq_length is read in overlapping windows; this many tokens overlap between neighbours.',
      ),
    max_answer_length: positiveInt().default(30).describe('Longest answer, in tokens, that prediction may pick.'),
    n_best_size: positiveInt()
      .max(100)
      .default(20)
      .describe('Start and end candidates considered per window when picking the answer span.'),
    version_2_with_negative: z
      .boolean()
      .default(false)
      .describe('SQuAD v2: some questions have no answer in their context, and the model may answer nothing.'),
    null_score_diff_threshold: z
      .number()
      .default(0)
      .describe('SQuAD v2 only: answer nothing when the no-answer score beats the best span’s by more than this.'),
  })
  .strict()
  .describe(
    'Extractive question answering: the question, context and answers columns, and how long contexts are windowed.',
  );
export type QuestionAnsweringSection = z.infer<typeof QuestionAnsweringSection>;

/** The classification settings of a run (its section, or every default when it gave none). */
export function classificationSettings(config: {
  classification?: z.input<typeof ClassificationSection>;
}): ClassificationSection {
  return ClassificationSection.parse(config.classification ?? {});
}

/** The question-answering settings of a run (its section, or every default when it gave none). */
export function questionAnsweringSettings(config: {
  question_answering?: z.input<typeof QuestionAnsweringSection>;
}): QuestionAnsweringSection {
  return QuestionAnsweringSection.parse(config.question_answering ?? {});
}

/** The figure a task is judged by (also which evaluation keeps the best checkpoint), as logged in metrics. */
export const TASK_METRIC: Record<RunTask, { key: string; name: string; higherIsBetter: boolean }> = {
  'causal-lm': { key: 'eval_loss', name: 'eval loss', higherIsBetter: false },
  classification: { key: 'eval_accuracy', name: 'accuracy', higherIsBetter: true },
  'question-answering': { key: 'eval_f1', name: 'F1', higherIsBetter: true },
};

export const SchedulerType = z.enum(['constant', 'linear', 'cosine']);
export type SchedulerType = z.infer<typeof SchedulerType>;

// Every object of the config refuses fields it does not know (a typo is an error naming it, never dropped).
export const RunConfigObject = z.strictObject({
  model: z.string().min(1).describe('Base model: a local Hugging Face folder (config.json, tokenizer, safetensors).'),
  dataset: DatasetConfig,
  task: RunTask.default('causal-lm').describe(RunTask.description ?? ''),
  classification: ClassificationSection.optional().describe('task "classification" only: ' + ClassificationSection.description),
  question_answering: QuestionAnsweringSection.optional().describe('task "question-answering" only: ' + QuestionAnsweringSection.description),
  method: z
    .enum(['lora', 'qlora', 'full'])
    .default('lora')
    .describe('LoRA trains a small adapter; QLoRA also stores the base in 4 bits (less memory); full trains every weight (most memory).'),
  lora: section(LoraSection, {}),
  fusion: FusionSection.nullable()
    .default(null)
    .describe('Combine frozen adapters with learned weights (AdapterFusion) instead of training a new adapter; null = an ordinary run.'),
  bnb_4bit_use_double_quant: z
    .boolean()
    .default(true)
    .describe('QLoRA only: also store the 4-bit blocks’ scales in 8 bits (double quantization), saving about 0.4 bits per weight.'),
  from_scratch: z
    .boolean()
    .default(false)
    .describe('Full training only: start from random weights shaped by the model folder’s config.json (pretraining) instead of its checkpoint.'),
  executor: z
    .enum(['auto', 'cpu', 'cuda'])
    .default('auto')
    .describe('What trains: auto uses the NVIDIA GPU when the CUDA addon is built and sees one (and can train the method), else the CPU; cpu or cuda force one.'),
  base_dtype: z
    .enum(['auto', 'f32', 'f16', 'bf16'])
    .default('auto')
    .describe(
      'How the CPU holds the frozen base while training: f16/bf16 halve its memory (math stays float32; the rounding changes logits by ~1e-3 relative for f16, ~1e-2 for bf16; a few % slower); f32 is exact; auto keeps the checkpoint’s own type (bf16 or f16 checkpoints lose nothing), else f32 — and f16 under QLoRA, whose 4-bit linears are unaffected: it halves the embedding and norms, as bitsandbytes setups hold them.',
    ),

  learning_rate: z
    .number()
    .positive()
    .max(1)
    .default(1e-4)
    .describe('Step size of each update. 1e-4 is safe, 2e-4 is typical for LoRA; too high makes the loss jump.'),
  num_train_epochs: z.number().positive().default(1).describe('Passes over the training rows (ignored when max_steps is set).'),
  max_steps: positiveInt()
    .nullable()
    .default(null)
    .describe('Stop after this many optimizer updates; overrides the number of epochs.'),
  micro_batch_size: positiveInt().default(1).describe('Sequences processed at once; more uses more memory.'),
  gradient_accumulation_steps: positiveInt()
    .default(4)
    .describe('Micro-batches summed into one update: an effective batch of micro_batch_size × this, at no memory cost.'),
  warmup_steps: nonNegativeInt().default(0).describe('Updates over which the learning rate ramps up from 0; overrides warmup_ratio when > 0.'),
  warmup_ratio: z.number().min(0).max(1).default(0.03).describe('Share of all updates spent warming up the learning rate.'),
  lr_scheduler_type: SchedulerType.default('cosine').describe(
    'How the learning rate changes after warm-up: constant, linear decay to 0, or cosine decay to 0.',
  ),
  weight_decay: z.number().min(0).default(0).describe('Pulls trained weights toward 0 each update (AdamW, decoupled); 0–0.1.'),
  adam_beta1: z.number().min(0).lt(1).default(0.9).describe('AdamW momentum of the gradient average.'),
  adam_beta2: z.number().min(0).lt(1).default(0.999).describe('AdamW momentum of the squared-gradient average.'),
  adam_epsilon: z.number().positive().default(1e-8).describe('AdamW’s small constant that avoids division by zero.'),
  max_grad_norm: z
    .number()
    .positive()
    .nullable()
    .default(1.0)
    .describe('Clip the update’s gradient to this length to avoid blow-ups; null turns clipping off.'),
  max_seq_length: positiveInt().max(131072).default(1024).describe('Longest sequence in tokens; longer examples are cut. Memory grows with it.'),
  packing: z
    .boolean()
    .default(false)
    .describe('Put several short examples in one sequence (never attending to each other) to waste less padding.'),
  train_on: z
    .enum(['completion', 'all'])
    .default('completion')
    .describe('Learn only the answers (completion / assistant turns) or every token including prompts. Plain text is always all.'),
  seed: nonNegativeInt().max(2 ** 31 - 1).default(42).describe('Seed for data order, the eval split, adapter initialisation and dropout: same seed, same run.'),
  logging_steps: positiveInt().default(1).describe('Record loss, learning rate and speed every this many updates.'),
  eval_steps: positiveInt()
    .nullable()
    .default(null)
    .describe('Measure eval loss every this many updates (and at the end); null = only at the end.'),
  // Checkpoints by default (the wizard's 50 too): a crash, a closed laptop or a cancel then resumes, never restarts.
  save_steps: positiveInt()
    .nullable()
    .default(DEFAULT_SAVE_STEPS)
    .describe('Save a resumable checkpoint every this many updates (and always at the end, and on cancel); null = only at the end and on cancel.'),
  save_total_limit: positiveInt().nullable().default(2).describe('Keep only this many recent checkpoints (the final adapter is always kept); null keeps all.'),
});

/** A task's section goes with that task only; encoder tasks train on whole examples (no packing). */
function checkTaskSections(config: z.infer<typeof RunConfigObject>, ctx: z.RefinementCtx): void {
  const sections = [
    ['classification', 'classification'],
    ['question_answering', 'question-answering'],
  ] as const;
  for (const [field, task] of sections) {
    if (config[field] !== undefined && config.task !== task) {
      ctx.addIssue({
        code: 'custom',
        path: [field],
        message: `${field} settings are for task "${task}", but the task is "${config.task}": set task to "${task}" or remove them`,
      });
    }
  }
  if (config.task !== 'causal-lm' && config.packing) {
    ctx.addIssue({
      code: 'custom',
      path: ['packing'],
      message: `packing puts several texts in one sequence, which task "${config.task}" cannot label apart: turn packing off`,
    });
  }
  if (config.task === 'question-answering') {
    const qa = questionAnsweringSettings(config);
    if (qa.doc_stride >= config.max_seq_length) {
      ctx.addIssue({
        code: 'custom',
        path: ['question_answering', 'doc_stride'],
        message: `doc_stride (${qa.doc_stride}) must be smaller than max_seq_length (${config.max_seq_length}): windows overlap by doc_stride tokens, so each must be longer than that`,
      });
    }
  }
}

function checkRunConfig(config: z.infer<typeof RunConfigObject>, ctx: z.RefinementCtx): void {
  if (config.from_scratch && config.method !== 'full') {
    ctx.addIssue({ code: 'custom', path: ['from_scratch'], message: 'from_scratch trains every weight from random values: it needs method "full"' });
  }
  if (config.eval_steps !== null && config.dataset.eval_split.kind === 'none') {
    ctx.addIssue({
      code: 'custom',
      path: ['eval_steps'],
      message: `eval_steps is ${config.eval_steps} but the dataset has no eval split (eval_split "none", e.g. --eval-ratio 0), so no evaluation would ever run: hold out a share or give an eval file, or leave eval_steps unset`,
    });
  }
  checkTaskSections(config, ctx);
  if (config.lora.target_modules !== 'all-linear' && new Set(config.lora.target_modules).size !== config.lora.target_modules.length) {
    ctx.addIssue({ code: 'custom', path: ['lora', 'target_modules'], message: 'target_modules lists a module twice' });
  }
}

export const RunConfig = RunConfigObject.superRefine(checkRunConfig).describe('Everything one fine-tune needs; the rest has safe defaults.');
export type RunConfig = z.infer<typeof RunConfig>;
/** What a user may write: every defaulted field optional. */
export type RunConfigInput = z.input<typeof RunConfig>;

/** The one-line explanation of each top-level field, for forms (nested sections carry their own). */
export function describeRunConfigFields(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, schema] of Object.entries(RunConfigObject.shape)) {
    const description = (schema as z.ZodType).description;
    if (description) out[key] = description;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Runs, metrics, evaluations: records and API methods.

export const RunStatus = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']);
export type RunStatus = z.infer<typeof RunStatus>;

export const RunSummary = z.object({
  steps: z.number().int(),
  totalSteps: z.number().int(),
  epoch: z.number(),
  trainLoss: z.number().nullable(),
  evalLoss: z.number().nullable(),
  evalPerplexity: z.number().nullable(),
  trainedTokens: z.number().int(),
  seconds: z.number(),
  peakRssBytes: z.number().nullable(),
  trainableParameters: z.number().int().nullable(),
  adapterPath: z.string().nullable(),
  checkpointPath: z.string().nullable(),
  evalMetrics: z
    .record(z.string(), z.number())
    .nullable()
    .optional()
    .describe('Encoder tasks: the final evaluation’s metrics as logged (eval_accuracy, eval_macro_f1 / eval_exact_match, eval_f1).'),
  best: z
    .object({ step: z.number().int(), metric: z.string(), value: z.number(), path: z.string() })
    .nullable()
    .optional()
    .describe('Encoder tasks: the evaluation with the best task metric, and the folder its adapter (or model) was kept in.'),
  labels: z
    .array(z.string())
    .nullable()
    .optional()
    .describe('Classification: the label names by class id (id2label) the run trained with, as found in its rows or config.'),
});
export type RunSummary = z.infer<typeof RunSummary>;

export const Run = z.object({
  id: z.string(),
  projectId: z.string(),
  name: z.string(),
  status: RunStatus,
  config: RunConfig,
  jobId: z.string().nullable(),
  seed: z.number().int(),
  appVersion: z.string(),
  datasetHash: z.string().nullable(),
  modelRevision: z.string().nullable(),
  outputDir: z.string().nullable(),
  error: z.string().nullable(),
  summary: RunSummary.nullable(),
  lastTrainLoss: z.number().nullable().describe('The newest logged training loss, also while the run trains.'),
  checkpointStep: z.number().int().nullable().describe('Step of the newest complete checkpoint (what Resume continues from); null when there is none.'),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
});
export type Run = z.infer<typeof Run>;

/** One logged point. `values` keys: loss, lr, grad_norm, tokens_per_second, elapsed_seconds, eta_seconds, epoch, trained_tokens, peak_rss_bytes, trainable_parameters (training points), eval_loss, eval_perplexity. */
export const RunMetric = z.object({
  runId: z.string(),
  step: z.number().int(),
  values: z.record(z.string(), z.number()),
  at: z.string(),
});
export type RunMetric = z.infer<typeof RunMetric>;

export const EvaluationStatus = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']);

export const Evaluation = z.object({
  id: z.string(),
  projectId: z.string(),
  runId: z.string().nullable(),
  jobId: z.string().nullable(),
  status: EvaluationStatus,
  model: z.string(),
  adapterPath: z.string().nullable(),
  datasetPath: z.string(),
  examples: z.number().int(),
  tokens: z.number().int(),
  baseLoss: z.number().nullable().describe('Token-weighted mean NLL of the base model alone.'),
  basePerplexity: z.number().nullable(),
  adapterLoss: z.number().nullable().describe('Token-weighted mean NLL of base + adapter.'),
  adapterPerplexity: z.number().nullable(),
  ship: ShipQuant.nullable().describe('The GGUF quantization also measured (what you will ship), if any.'),
  shipLoss: z.number().nullable().describe('Token-weighted mean NLL of the exported GGUF at that quantization, through llama.cpp.'),
  shipPerplexity: z.number().nullable(),
  error: z.string().nullable(),
  createdAt: z.string(),
  endedAt: z.string().nullable(),
});
export type Evaluation = z.infer<typeof Evaluation>;

/** The share of the fine-tune's gain (base loss − tuned loss) above which quantizing for shipping warrants a warning. */
export const SHIP_COST_WARNING_SHARE = 0.25;

/**
 * How much of the fine-tune's gain the shipped GGUF gives back: (ship loss − tuned loss) / (base loss − tuned loss);
 * null when any loss is missing or fine-tuning gained nothing to lose.
 */
export function shipCost(e: Pick<Evaluation, 'baseLoss' | 'adapterLoss' | 'shipLoss'>): number | null {
  if (e.baseLoss === null || e.adapterLoss === null || e.shipLoss === null) return null;
  const gain = e.baseLoss - e.adapterLoss;
  return gain > 0 ? (e.shipLoss - e.adapterLoss) / gain : null;
}

export const EvaluationExample = z.object({
  index: z.number().int().describe('Row of the eval split.'),
  tokens: z.number().int(),
  baseNll: z.number().nullable().describe('Summed NLL of the trained tokens, base model.'),
  adapterNll: z.number().nullable().describe('Summed NLL of the trained tokens, base + adapter.'),
  text: z.string().describe('The rendered text, for showing the example.'),
});
export type EvaluationExample = z.infer<typeof EvaluationExample>;

const IdRef = z.object({ id: z.string().min(1) });

/** One example with its per-token perplexities: exp(summed NLL / tokens), base and tuned, and the relative change. */
export const EvaluationExampleRow = EvaluationExample.extend({
  basePerplexity: z.number().nullable(),
  adapterPerplexity: z.number().nullable(),
  change: z.number().nullable().describe('adapterPerplexity / basePerplexity − 1: negative means the fine-tune made the example likelier.'),
});
export type EvaluationExampleRow = z.infer<typeof EvaluationExampleRow>;

export const EvaluationExamplesQuery = z.object({
  id: z.string().min(1),
  sort: z.enum(['change', 'index', 'basePerplexity', 'adapterPerplexity']).default('change').describe('Examples without the value go last.'),
  order: z.enum(['asc', 'desc']).default('asc').describe('asc with change: the most improved first.'),
  offset: z.number().int().min(0).default(0),
  limit: z.number().int().min(1).max(500).default(50),
});

export const EvaluationRequest = z.object({
  projectId: z.string().min(1),
  runId: z.string().min(1).optional().describe('Evaluate this run’s adapter, model and eval split.'),
  model: z.string().min(1).optional().describe('Base model folder, when no run is given.'),
  adapterPath: z.string().min(1).optional().describe('PEFT adapter folder; without one only the base is measured.'),
  dataset: DatasetConfig.optional().describe('Which rows to measure; defaults to the run’s eval split.'),
  max_seq_length: positiveInt().optional(),
  batch_size: positiveInt().default(4),
  compareBase: z.boolean().default(true).describe('Also measure the base model alone, for before/after.'),
  ship: ShipQuant.optional().describe('Also measure the exported GGUF at this quantization (adapter merged) through llama.cpp.'),
});
export type EvaluationRequest = z.infer<typeof EvaluationRequest>;

export const runMethods = {
  'runs.list': { input: z.object({ projectId: z.string().optional() }), output: z.array(Run), doc: 'Runs, newest first.' },
  'runs.get': { input: IdRef, output: Run, doc: 'One run with its config and summary.' },
  'runs.fusionReport': {
    input: IdRef,
    output: FusionReport.nullable(),
    doc: 'A finished fusion run’s comparison with each adapter alone and their uniform average, and what it learned; null for other runs.',
  },
  'runs.metrics': {
    input: z.object({ id: z.string().min(1), afterStep: z.number().int().optional().describe('Only points after this step (for polling).') }),
    output: z.array(RunMetric),
    doc: 'Logged points of a run, in step order.',
  },
  'runs.start': {
    input: z.object({ projectId: z.string().min(1), name: z.string().trim().min(1).max(120).optional(), config: RunConfig }),
    output: Run,
    doc: 'Validate a config, record the run and start its training job.',
  },
  'runs.cancel': { input: IdRef, output: Run, doc: 'Stop a running run within one step; its last checkpoint stays usable.' },
  'runs.resume': {
    input: z.object({
      id: z.string().min(1),
      acceptDatasetChange: z
        .boolean()
        .default(false)
        .describe('Continue even though the dataset file’s content changed since the checkpoint (the new hash is recorded).'),
    }),
    output: Run,
    doc: 'Continue a cancelled or failed run from its last checkpoint (refused when the dataset changed, unless accepted).',
  },
  'runs.rename': {
    input: z.object({ id: z.string().min(1), name: z.string().trim().min(1).max(120) }),
    output: Run,
    doc: 'Give a run another name.',
  },
  'runs.delete': {
    input: IdRef,
    output: z.object({ deleted: z.boolean(), removedFolder: z.string().nullable().describe('The run folder removed with it (checkpoints, adapter), if there was one.') }),
    doc: 'Delete a finished run and its folder (checkpoints and adapter); evaluations keep their figures. A running run must be cancelled first.',
  },
  'evaluations.list': {
    input: z.object({ projectId: z.string().optional(), runId: z.string().optional() }),
    output: z.array(Evaluation),
    doc: 'Evaluations, newest first.',
  },
  'evaluations.get': {
    input: IdRef,
    output: z.object({ evaluation: Evaluation, examples: z.array(EvaluationExample) }),
    doc: 'One evaluation with its per-example NLL.',
  },
  'evaluations.examples': {
    input: EvaluationExamplesQuery,
    output: z.object({ total: z.number().int(), examples: z.array(EvaluationExampleRow) }),
    doc: 'One page of an evaluation’s examples with their perplexity before and after, sorted (by change, the most improved first).',
  },
  'evaluations.start': { input: EvaluationRequest, output: Evaluation, doc: 'Measure perplexity of base and base + adapter on an eval split.' },
};

// ---------------------------------------------------------------------------------------------------------
// The jobs behind runs and evaluations: what the core sends the worker, and what comes back. Both sides
// import these (neither may import the other), and the worker validates its params with them.

export const TRAIN_JOB_KIND = 'train';
export const EVAL_JOB_KIND = 'eval';

export const TrainJobParams = z.object({
  runId: z.string().min(1),
  config: RunConfig,
  outputDir: z.string().min(1).describe('Where checkpoints and the final adapter go.'),
  resume: z.boolean().describe('Continue from the newest checkpoint in outputDir.'),
  acceptDatasetChange: z.boolean().default(false).describe('On resume: continue on a dataset whose content hash differs from the checkpoint’s.'),
});
export type TrainJobParams = z.infer<typeof TrainJobParams>;

export const EvalJobParams = z.object({
  evaluationId: z.string().min(1),
  model: z.string().min(1),
  adapterPath: z.string().min(1).nullable(),
  dataset: DatasetConfig,
  trainOn: RunConfigObject.shape.train_on,
  maxSeqLength: positiveInt(),
  batchSize: positiveInt(),
  seed: nonNegativeInt(),
  compareBase: z.boolean(),
  /** The run's method and quantization: a QLoRA adapter is measured over the same NF4 base it trained on. */
  method: z.enum(['lora', 'qlora', 'full']).optional(),
  doubleQuant: z.boolean().optional(),
  /** Also measure the exported GGUF at this quantization (adapter merged), through llama.cpp. */
  ship: ShipQuant.optional(),
});
export type EvalJobParams = z.infer<typeof EvalJobParams>;

export const EvalJobResult = z.object({
  summary: z.object({
    examples: z.number().int(),
    tokens: z.number().int(),
    baseLoss: z.number().nullable(),
    basePerplexity: z.number().nullable(),
    adapterLoss: z.number().nullable(),
    adapterPerplexity: z.number().nullable(),
    shipLoss: z.number().nullable().optional(),
    shipPerplexity: z.number().nullable().optional(),
  }),
  examples: z.array(EvaluationExample),
});
export type EvalJobResult = z.infer<typeof EvalJobResult>;
