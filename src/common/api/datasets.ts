// Datasets of a project: a file imported (as a job, with progress) into a record of its format, column
// mapping, bad rows and content hash; previewed as a run would see it (rendered text with special tokens,
// trained vs masked tokens, token-length histogram with the max-length cut-off); split by ratio and seed.
import { z } from 'zod';
import { Job } from './jobs.ts';
import { ColumnMapping, DatasetConfig, RunConfigObject, TemplateConfig } from './runs.ts';
import { Phrase, PHRASES } from './phrases.ts';

export const DatasetShape = z.enum(['text', 'completion', 'alpaca', 'chat']);
export type DatasetShape = z.infer<typeof DatasetShape>;
export const DatasetFileFormat = z.enum(['jsonl', 'json', 'csv', 'tsv', 'parquet']);

/** A bad row, said precisely enough to find and fix it. */
export const DatasetProblem = z.object({
  file: z.string(),
  line: z.number().int().optional().describe('1-based line where the row starts (line-based formats).'),
  row: z.number().int().describe('0-based row among the file’s data rows.'),
  field: z.string().optional(),
  message: z.string(),
  phrase: Phrase.optional().describe('The message as a code, for a UI in another language.'),
  expected: z.string().optional(),
  expectedPhrase: Phrase.optional(),
  text: z.string().describe('The whole problem as one sentence.'),
});
export type DatasetProblem = z.infer<typeof DatasetProblem>;

const RowRef = z.object({ row: z.number().int(), line: z.number().int().optional() });
/** A row and the later rows that repeat it exactly. */
export const DuplicateGroup = z.object({ first: RowRef, duplicates: z.array(RowRef) });
export type DuplicateGroup = z.infer<typeof DuplicateGroup>;

export const DatasetSplitInfo = z.object({
  ratio: z.number(),
  seed: z.number().int(),
  train: z.number().int(),
  eval: z.number().int(),
  overlap: z.number().int().describe('Eval rows whose exact content also appears in train.'),
});
export type DatasetSplitInfo = z.infer<typeof DatasetSplitInfo>;

export const Dataset = z.object({
  id: z.string(),
  projectId: z.string(),
  name: z.string(),
  path: z.string(),
  fileFormat: DatasetFileFormat,
  format: DatasetShape,
  columns: ColumnMapping,
  mappingReason: z.string().describe('Why these columns (detected from the names, or given).'),
  mappingReasonPhrase: Phrase.optional(),
  rowsRead: z.number().int(),
  examples: z.number().int().describe('Usable rows.'),
  badRows: z.number().int().describe('Rows left out (a row with two problems counts once).'),
  problemCount: z.number().int().describe('Problems found in those rows (problems lists the first ones).'),
  problems: z.array(DatasetProblem).describe('The first problems, in file order.'),
  duplicateRows: z.number().int(),
  duplicateGroups: z
    .array(DuplicateGroup)
    .describe('The first groups of rows with exactly the same content (duplicateRows counts them all).'),
  hash: z.string().describe('sha256 of the normalised examples: same content, same hash.'),
  split: DatasetSplitInfo.nullable(),
  createdAt: z.string(),
});
export type Dataset = z.infer<typeof Dataset>;

export const DATASET_IMPORT_JOB_KIND = 'dataset.import';
export const DatasetImportJobParams = z.object({
  path: z.string().min(1),
  format: DatasetConfig.shape.format,
  columns: ColumnMapping,
  onProblem: z.enum(['skip', 'stop']),
});
export type DatasetImportJobParams = z.infer<typeof DatasetImportJobParams>;
export const DatasetImportJobResult = Dataset.pick({
  path: true, fileFormat: true, format: true, columns: true, mappingReason: true, mappingReasonPhrase: true, rowsRead: true, examples: true,
  badRows: true, problemCount: true, problems: true, duplicateRows: true, duplicateGroups: true, hash: true,
});
export type DatasetImportJobResult = z.infer<typeof DatasetImportJobResult>;

export const TokenPiece = z.object({
  text: z.string(),
  ids: z.array(z.number().int()),
  trained: z.boolean().describe('A training target (its loss counts).'),
  special: z.boolean().describe('A special token (BOS, EOS, chat markers).'),
});
export type TokenPiece = z.infer<typeof TokenPiece>;

export const PreviewRow = z.object({
  row: z.number().int(),
  line: z.number().int().optional(),
  columns: z.record(z.string(), z.string()).describe('The row as the format sees it (prompt / completion, messages as JSON, text).'),
  rendered: z
    .object({
      text: z.string(),
      tokens: z.number().int(),
      trainedTokens: z.number().int(),
      truncated: z.boolean(),
      fullLength: z.number().int(),
      warnings: z.array(z.string()).describe('Why the row trains less than it shows, in English (the CLI, logs).'),
      warningPhrases: z
        .array(Phrase)
        .describe('The warnings as codes with parameters, in the same order, for a UI in another language.'),
      pieces: z.array(TokenPiece),
    })
    .strict()
    .nullable(),
  error: z.string().nullable().describe('Why the row could not be rendered (a template error).'),
  errorPhrase: Phrase.nullable().describe('The error as a code with parameters, when it has one (a prompt template’s).'),
}).strict();
export type PreviewRow = z.infer<typeof PreviewRow>;

export const TokenStats = z.object({
  count: z.number().int(),
  min: z.number(),
  max: z.number(),
  mean: z.number(),
  median: z.number(),
  p95: z.number(),
  maxLength: z.number().nullable(),
  truncated: z.number().int(),
  truncatedShare: z.number(),
  untrainable: z.number().int().describe('Examples left with no trained token.'),
  characters: z.number().int().describe('Content characters of the measured examples.'),
  tokensPerCharacter: z.number().describe('Tokens per content character (about 0.3 for English on a usual BPE tokenizer).'),
  heavyTokenization: z
    .boolean()
    .describe('The tokenizer spends far more tokens per character than usual (it lacks merges for this text’s script).'),
  histogram: z.object({ edges: z.array(z.number()), counts: z.array(z.number().int()) }),
});
export type TokenStats = z.infer<typeof TokenStats>;

export const DatasetPreview = z.object({
  dataset: Dataset,
  offset: z.number().int(),
  total: z.number().int().describe('Usable rows to page through.'),
  rows: z.array(PreviewRow),
  template: z
    .object({ kind: z.enum(['chat', 'prompt', 'plain']), source: z.string().nullable() })
    .nullable()
    .describe('The template actually used (the chat template’s Jinja source written out); null without a model.'),
  stats: TokenStats.nullable().describe('Token lengths with the template and max length; null without a model.'),
});
export type DatasetPreview = z.infer<typeof DatasetPreview>;

const IdRef = z.object({ id: z.string().min(1) });

/** A dataset that ships with the studio (the demo's), offered as a card in the wizard. */
export const DatasetSuggestion = z.object({
  name: z.string(),
  description: z.string(),
  namePhrase: Phrase.optional().describe('The name and description as codes, for a UI in another language.'),
  descriptionPhrase: Phrase.optional(),
  path: z.string().describe('The training file (datasets.import takes it).'),
  evalPath: z.string().nullable().describe('Its separate eval file, when it has one.'),
  format: DatasetShape,
  columns: ColumnMapping,
  rows: z.number().int(),
});
export type DatasetSuggestion = z.infer<typeof DatasetSuggestion>;

export const datasetMethods = {
  'datasets.suggestions': {
    input: z.object({}),
    output: z.array(DatasetSuggestion),
    doc: 'Datasets that ship with the studio (the demo dataset with its eval file), to import in one click.',
  },
  'datasets.import': {
    input: z.object({
      projectId: z.string().min(1),
      path: z.string().trim().min(1, PHRASES['input.datasetPath']),
      name: z.string().trim().min(1).max(200).optional(),
      format: DatasetConfig.shape.format,
      columns: ColumnMapping.default({}),
      onProblem: z.enum(['skip', 'stop']).default('skip').describe('Skip bad rows (all are listed) or stop at the first.'),
    }),
    output: Job,
    doc: 'Import a dataset file as a job with progress: detect (or apply) the column mapping, list every bad row; when it succeeds the dataset is recorded in the project.',
  },
  'datasets.list': { input: z.object({ projectId: z.string().min(1) }), output: z.array(Dataset), doc: 'A project’s datasets, newest first.' },
  'datasets.get': { input: IdRef, output: Dataset, doc: 'One dataset.' },
  'datasets.delete': { input: IdRef, output: z.object({ deleted: z.boolean() }), doc: 'Forget a dataset (the file stays).' },
  'datasets.preview': {
    input: z.object({
      id: z.string().min(1),
      offset: z.number().int().min(0).default(0),
      rows: z.number().int().min(1).max(100).default(10),
      model: z.string().min(1).optional().describe('Model folder whose tokenizer and chat template render the rows.'),
      template: TemplateConfig.optional(),
      maxLength: RunConfigObject.shape.max_seq_length.optional(),
      trainOn: RunConfigObject.shape.train_on.optional(),
    }),
    output: DatasetPreview,
    doc: 'A page of rows rendered as training sees them (special tokens, trained vs masked tokens), token-length statistics with the cut-off, and the import problems.',
  },
  'datasets.split': {
    input: z.object({
      id: z.string().min(1),
      ratio: z.number().gt(0).lt(1).describe('Share of rows held out for evaluation.'),
      seed: RunConfigObject.shape.seed,
    }),
    output: Dataset,
    doc: 'Split into train and eval by ratio with a seed (the same split a run with this seed makes) and record the counts.',
  },
};

// ---------------------------------------------------------------------------------------------------------
// The contract's column mapping and template in the terms of the dataset and tokenizer modules (formats), for
// the core and the worker alike. Structural types: common imports nothing of formats.

export interface FormatsColumnMapping {
  format: DatasetShape;
  text?: string;
  prompt?: string;
  completion?: string;
  instruction?: string;
  input?: string;
  output?: string;
  messages?: string;
  roleKey?: string;
  contentKey?: string;
}

const CONVENTIONAL_COLUMNS: Record<Exclude<z.infer<typeof DatasetConfig.shape.format>, 'auto'>, Partial<FormatsColumnMapping>> = {
  text: { text: 'text' },
  completion: { prompt: 'prompt', completion: 'completion' },
  alpaca: { instruction: 'instruction', output: 'output' },
  chat: { messages: 'messages' },
};

/** undefined = detect from the column names. */
export function toFormatsMapping(format: z.infer<typeof DatasetConfig.shape.format>, c: ColumnMapping): FormatsColumnMapping | undefined {
  if (format === 'auto') return undefined;
  // A shape given without its columns reads the conventional names (a chat file's "messages"), as detection would.
  const out: FormatsColumnMapping = { format, ...CONVENTIONAL_COLUMNS[format] };
  if (c.text) out.text = c.text;
  if (c.prompt) out.prompt = c.prompt;
  if (c.completion) out.completion = c.completion;
  if (c.instruction) out.instruction = c.instruction;
  if (c.input) out.input = c.input;
  if (c.output) out.output = c.output;
  if (c.messages) out.messages = c.messages;
  if (c.role_key) out.roleKey = c.role_key;
  if (c.content_key) out.contentKey = c.content_key;
  return out;
}

export function fromFormatsMapping(m: FormatsColumnMapping): ColumnMapping {
  const out: ColumnMapping = {};
  if (m.text) out.text = m.text;
  if (m.prompt) out.prompt = m.prompt;
  if (m.completion) out.completion = m.completion;
  if (m.instruction) out.instruction = m.instruction;
  if (m.input) out.input = m.input;
  if (m.output) out.output = m.output;
  if (m.messages) out.messages = m.messages;
  if (m.roleKey) out.role_key = m.roleKey;
  if (m.contentKey) out.content_key = m.contentKey;
  return out;
}

export type FormatsTemplateSpec = { type: 'chat'; template?: string } | { type: 'prompt'; template: string } | { type: 'plain' };

/** As the trainer decides it (engine/data/run-examples.ts): "auto" is the chat template when the model has one. */
export function toTemplateSpec(template: TemplateConfig, format: DatasetShape, hasChatTemplate: boolean): FormatsTemplateSpec {
  switch (template.kind) {
    case 'chat':
      return { type: 'chat' };
    case 'chat_template':
      return { type: 'chat', template: template.template };
    case 'prompt':
      return { type: 'prompt', template: template.template };
    case 'plain':
      return { type: 'plain' };
    case 'auto':
      if (format === 'text') return { type: 'plain' };
      return hasChatTemplate ? { type: 'chat' } : { type: 'plain' };
  }
}
