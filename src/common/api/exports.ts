// Exports: a fine-tuned model taken out of the studio in the format another tool reads — a merged Hugging Face
// folder (transformers, llama.cpp's converter), a GGUF file (llama.cpp, Ollama, LM Studio), a copy of the PEFT
// adapter (Python PEFT), or the adapter alone as a llama.cpp LoRA GGUF (`--lora`); an encoder task adapter
// (classification / question answering) as the merged …ForSequenceClassification / …ForQuestionAnswering folder, an
// ONNX folder (onnx/model.onnx + config + tokenizer: transformers.js and Optimum load it) or its PEFT copy. Each
// export is an `export` job with progress and cancel, recorded in the store; nothing is overwritten without
// `overwrite: true`.
import { z } from 'zod';
import { JobStatus } from './jobs.ts';
import { ModelCardFacts } from './hub.ts';

export const ExportFormat = z.enum(['hf', 'gguf', 'peft', 'lora-gguf', 'onnx']);
export type ExportFormat = z.infer<typeof ExportFormat>;

/** The value types each format can write, the default first. */
export const EXPORT_TYPES = {
  hf: ['bf16', 'f16', 'f32'],
  gguf: ['f16', 'bf16', 'f32', 'q8_0', 'q6_k', 'q5_k_m', 'q4_k_m', 'q4_0'],
  peft: ['as-trained'],
  'lora-gguf': ['f32', 'f16', 'bf16'],
  onnx: ['f32'], // the graph computes in float32, as transformers.js' default (non-quantized) model.onnx
} as const satisfies Record<ExportFormat, readonly string[]>;

export const ExportType = z.enum(['bf16', 'f16', 'f32', 'q8_0', 'q6_k', 'q5_k_m', 'q4_k_m', 'q4_0', 'as-trained']);
export type ExportType = z.infer<typeof ExportType>;

/** One line per format and type for a person choosing (the UI shows it next to the choice). */
export const EXPORT_FORMAT_HELP: Record<ExportFormat, string> = {
  hf: 'A merged Hugging Face folder (safetensors, config, tokenizer): transformers, vLLM and llama.cpp’s converter read it.',
  gguf: 'One merged GGUF file for llama.cpp, Ollama or LM Studio.',
  peft: 'A copy of the adapter folder for Python PEFT (load it on top of the same base model).',
  'lora-gguf': 'The adapter alone as a llama.cpp LoRA GGUF, used with --lora on the base model’s GGUF.',
  onnx: 'The merged task model as ONNX (onnx/model.onnx, config.json with the labels, tokenizer): it runs in a browser with transformers.js, or with onnxruntime.',
};

/** What an adapter is for, as the exports see it: a decoder's language model, or an encoder's task head. */
export const ExportTask = z.enum(['causal-lm', 'classification', 'question-answering']);
export type ExportTask = z.infer<typeof ExportTask>;

/**
 * The formats each kind of adapter can be exported to, the suggested one first. GGUF (llama.cpp) holds decoder
 * language models only; the ONNX export is the encoder task model's forward (the browser's classifier / reader).
 */
export const EXPORT_FORMATS_FOR: Record<ExportTask, readonly ExportFormat[]> = {
  'causal-lm': ['gguf', 'hf', 'peft', 'lora-gguf'],
  classification: ['onnx', 'hf', 'peft'],
  'question-answering': ['onnx', 'hf', 'peft'],
};
export const EXPORT_TYPE_HELP: Record<ExportType, string> = {
  bf16: '16-bit brain float: half the size of f32, the usual choice for transformers.',
  f16: '16-bit float: half the size of f32, read everywhere.',
  f32: '32-bit float: exact, twice the size of 16-bit.',
  q8_0: '8-bit blocks: about a quarter of f32, nearly lossless.',
  q6_k: '6-bit K-quant (llama.cpp Q6_K): about a fifth of f32, nearly lossless.',
  q5_k_m: '5-bit K-quant mix (llama.cpp Q5_K_M): small, very little quality loss.',
  q4_k_m: '4-bit K-quant mix (llama.cpp Q4_K_M, the usual Ollama / LM Studio download): small, little quality loss.',
  q4_0: '4-bit blocks: about an eighth of f32, smallest, some quality loss.',
  'as-trained': 'The adapter’s files unchanged.',
};

/** What is exported: an adapter, or a finished full fine-tune of an encoder task (its whole model). */
const ExportSourceShape = {
  adapterId: z.string().min(1).optional().describe('The adapter to export (adapters.list).'),
  runId: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Instead of adapterId: a finished full fine-tune of a classification / question-answering run; its model folder is exported (onnx, hf).',
    ),
};

function oneSource(value: { adapterId?: string; runId?: string }, ctx: z.RefinementCtx): void {
  if ((value.adapterId === undefined) === (value.runId === undefined))
    ctx.addIssue({
      code: 'custom',
      path: ['adapterId'],
      message: 'give adapterId (an adapter) or runId (a full fine-tune of an encoder task), one of them',
    });
}

const ExportRequestShape = z.object({
  ...ExportSourceShape,
  format: ExportFormat,
  type: ExportType.optional().describe('Value type; default: the first of the format’s EXPORT_TYPES.'),
  weight: z
    .number()
    .min(-10)
    .max(10)
    .default(1)
    .describe('Scale of the adapter when merged (hf, gguf): 1 = as trained.'),
  model: z.string().min(1).optional().describe('The base model folder (default: the one the adapter was trained on).'),
});

function typeFitsFormat(
  value: { format: ExportFormat; type?: ExportType; adapterId?: string; runId?: string },
  ctx: z.RefinementCtx,
): void {
  oneSource(value, ctx);
  const allowed: readonly string[] = EXPORT_TYPES[value.format];
  if (value.type !== undefined && !allowed.includes(value.type)) {
    ctx.addIssue({
      code: 'custom',
      path: ['type'],
      message: `format ${value.format} writes ${allowed.join(', ')}; got ${value.type}`,
    });
  }
}

/** The type an export writes: the one asked for, or the format's default. */
export function exportType(format: ExportFormat, type?: ExportType): ExportType {
  return type ?? EXPORT_TYPES[format][0];
}

export const ExportStatus = JobStatus;

/** serve's download route for a finished export (GET, token as ?token=): the file, or a folder as a .tar stream. */
export const EXPORT_DOWNLOAD_PATH = '/api/exports/{id}/download';
export const exportDownloadPath = (id: string) => EXPORT_DOWNLOAD_PATH.replace('{id}', encodeURIComponent(id));

export const Export = z.object({
  id: z.string(),
  projectId: z.string(),
  adapterId: z.string().nullable(),
  runId: z.string().nullable().describe('The full fine-tune exported (runId requests); null for an adapter’s export.'),
  format: ExportFormat,
  type: ExportType,
  path: z.string().describe('The folder (hf, peft, onnx) or file (gguf, lora-gguf) written.'),
  inExportsFolder: z
    .boolean()
    .describe('Written inside the data dir’s exports folder: serve can hand it to a browser (exportDownloadPath).'),
  status: ExportStatus,
  jobId: z.string().nullable(),
  sizeBytes: z.number().int().nullable().describe('Bytes written, once finished.'),
  estimatedBytes: z.number().int().nullable(),
  error: z.string().nullable(),
  createdAt: z.string(),
  endedAt: z.string().nullable(),
});
export type Export = z.infer<typeof Export>;

export const ExportEstimate = z.object({
  bytes: z.number().int().describe('About how large the result will be.'),
  tensors: z.number().int(),
  parameters: z.number().int(),
  path: z.string().describe('Where it would be written by default.'),
  exists: z.boolean().describe('Something is already at that path (starting needs overwrite: true or another path).'),
});
export type ExportEstimate = z.infer<typeof ExportEstimate>;

export const ExportFormats = z.object({
  task: ExportTask.describe('What the adapter was trained for (from its adapter_config.json task_type).'),
  formats: z.array(ExportFormat).describe('The formats it can be exported to, the suggested one first.'),
});
export type ExportFormats = z.infer<typeof ExportFormats>;

export const exportMethods = {
  'exports.formats': {
    input: z.object(ExportSourceShape).superRefine(oneSource),
    output: ExportFormats,
    doc: 'Which export formats fit an adapter: a decoder’s (GGUF, merged, PEFT, LoRA GGUF) or an encoder task’s (ONNX, merged, PEFT).',
  },
  'exports.estimate': {
    input: ExportRequestShape.superRefine(typeFitsFormat),
    output: ExportEstimate,
    doc: 'Size (and default path) of an export before starting it.',
  },
  'exports.start': {
    input: ExportRequestShape.extend({
      outPath: z
        .string()
        .min(1)
        .optional()
        .describe('Folder (hf, peft, onnx) or file (gguf, lora-gguf); default: in the data dir’s exports folder.'),
      overwrite: z.boolean().default(false).describe('Replace what is already at outPath.'),
    }).superRefine(typeFitsFormat),
    output: Export,
    doc: 'Start an export job; progress arrives as job.progress, cancel with jobs.cancel.',
  },
  'exports.list': {
    input: z.object({ projectId: z.string().min(1) }),
    output: z.array(Export),
    doc: "A project's exports, newest first.",
  },
  'exports.get': { input: z.object({ id: z.string().min(1) }), output: Export, doc: 'One export.' },
};

// ---------------------------------------------------------------------------------------------------------
// The `export` job: what the core sends the worker and what comes back.

export const EXPORT_JOB_KIND = 'export';

export const ExportJobParams = z.object({
  format: ExportFormat,
  type: ExportType,
  baseModel: z.string().nullable(),
  /** The adapter merged into baseModel; null when baseModel is itself the tuned model (a full fine-tune). */
  adapter: z.object({ path: z.string().min(1), weight: z.number() }).nullable(),
  outPath: z.string().min(1),
  overwrite: z.boolean(),
  /** What the studio knows for the model card written with the export (README.md, or a Modelfile beside a GGUF). */
  card: ModelCardFacts.optional(),
});
export type ExportJobParams = z.infer<typeof ExportJobParams>;

export const ExportJobResult = z.object({ path: z.string(), sizeBytes: z.number().int(), files: z.array(z.string()) });
export type ExportJobResult = z.infer<typeof ExportJobResult>;
