// Exports: each is a row (what, where, from which adapter) plus an `export` job that writes it. The row's
// status, error and end come from its job, so an export interrupted by a core restart reads as failed rather
// than running forever; its size is recorded from the job's result.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import {
  EXPORT_FORMATS_FOR,
  EXPORT_JOB_KIND,
  ExportFormat,
  ExportJobResult,
  ExportType,
  exportType,
  type Export,
  type ExportEstimate,
  type ExportFormats,
  type ExportJobParams,
  type ExportTask,
} from '../../../../common/api/exports.ts';
import { say } from '../../../../common/api/phrases.ts';
import { openModelFolder } from '../../../formats/model/folder.ts';
import { ADAPTER_WEIGHTS } from '../../../formats/peft/index.ts';
import { SafetensorsFile } from '../../../formats/safetensors/index.ts';
import { ggmlBytes } from '../../../formats/gguf/writer.ts';
import { ggufTableTypes, type GgufOutType } from '../../../formats/gguf/model.ts';
import { dataDirLayout } from '../../data-dir.ts';
import { checkOutputTarget } from '../../output-targets.ts';
import type { OutputKind } from '../../../formats/output-guard.ts';
import { StudioError, notFound } from '../../errors.ts';
import type { AdapterRecord, ExportRecord, RunRecord } from '../../store/index.ts';
import { RunConfig, RunSummary } from '../../../../common/api/runs.ts';
import { adapterBaseModel, getAdapterRecord, readConfigFile, slug } from './adapter-records.ts';
import { adapterCardFacts } from '../../card-facts.ts';
import { runOutputDir } from './runs.ts';
import type { CoreContext, HandlerGroup } from './types.ts';

type ExportRequest = {
  adapterId?: string;
  runId?: string;
  format: ExportFormat;
  type?: ExportType;
  weight: number;
  model?: string;
};

function toExport(record: ExportRecord, ctx: CoreContext): Export {
  const meta = record.meta;
  const jobId = typeof meta.jobId === 'string' ? meta.jobId : null;
  const job = jobId ? ctx.store.jobs.get(jobId) : null;
  const format = ExportFormat.safeParse(record.kind);
  const fmt = format.success ? format.data : 'hf';
  const type = ExportType.safeParse(meta.type ?? meta.dtype);
  return {
    id: record.id,
    projectId: record.projectId,
    adapterId: record.adapterId,
    runId: typeof meta.runId === 'string' ? meta.runId : null,
    format: fmt,
    type: type.success ? type.data : exportType(fmt),
    path: record.path,
    inExportsFolder: resolve(record.path).startsWith(dataDirLayout(ctx.dataDir).exports + sep),
    // Recorded without a job (the demo writes its exports in-process): finished when recorded.
    status: job ? job.status : 'succeeded',
    jobId,
    sizeBytes: record.sizeBytes,
    estimatedBytes: typeof meta.estimatedBytes === 'number' ? meta.estimatedBytes : null,
    error: job?.error ?? null,
    createdAt: record.createdAt,
    endedAt: job ? job.endedAt : record.createdAt,
  };
}

const needsBase = (format: ExportFormat) => format !== 'peft';

/** What each export format writes, for the output guard (an overwrite replaces only the same kind). */
const OUTPUT_KIND_OF: Record<ExportFormat, OutputKind> = {
  hf: 'hf-model',
  gguf: 'gguf',
  'lora-gguf': 'lora-gguf',
  peft: 'peft-adapter',
  onnx: 'onnx-model',
};

/** PEFT's task_type of an encoder task adapter → the task; anything else (CAUSAL_LM, none) is a language model's. */
const TASK_OF_PEFT_TYPE: Record<string, ExportTask> = {
  SEQ_CLS: 'classification',
  QUESTION_ANS: 'question-answering',
};

/** What an adapter folder was trained for, read from its adapter_config.json (unreadable: a language model's). */
function adapterTask(path: string): ExportTask {
  try {
    const taskType = readConfigFile(path).config.task_type;
    return (taskType && TASK_OF_PEFT_TYPE[taskType]) || 'causal-lm';
  } catch {
    return 'causal-lm'; // a broken folder is refused by resolveRequest with its own reason
  }
}

/** A full fine-tune's model is exported whole: there is no adapter to copy (peft) or merge. */
const FULL_RUN_FORMATS: readonly ExportFormat[] = ['onnx', 'hf'];

/** A finished full fine-tune of an encoder task: its task and the model folder it wrote (or an error saying why not). */
function fullTaskRun(runId: string, ctx: CoreContext): { run: RunRecord; task: ExportTask; modelDir: string } {
  const run = ctx.store.runs.get(runId);
  if (!run) throw notFound('run', runId);
  const config = RunConfig.safeParse(run.config);
  const task = config.success ? config.data.task : 'causal-lm';
  if (!config.success || config.data.method !== 'full' || task === 'causal-lm')
    throw new StudioError(
      'invalid_input',
      `run “${run.name}” is not a full fine-tune of a classification or question-answering model; export its adapter (adapterId) instead`,
      { field: 'runId' },
    );
  const job = run.jobId ? ctx.store.jobs.get(run.jobId) : null;
  const summary = RunSummary.safeParse(job?.result);
  const modelDir = summary.success ? summary.data.adapterPath : null;
  if (job?.status !== 'succeeded' || !modelDir || !existsSync(join(modelDir, 'config.json')))
    throw new StudioError(
      'failed',
      `run “${run.name}” has no finished model to export${modelDir ? ` (${modelDir} has no config.json: it was moved or deleted)` : ''}; wait for it to finish`,
      { field: 'runId' },
    );
  return { run, task, modelDir };
}

export function exportFormats(source: { adapterId?: string; runId?: string }, ctx: CoreContext): ExportFormats {
  if (source.runId !== undefined) return { task: fullTaskRun(source.runId, ctx).task, formats: [...FULL_RUN_FORMATS] };
  const task = adapterTask(getAdapterRecord(source.adapterId!, ctx).path);
  return { task, formats: [...EXPORT_FORMATS_FOR[task]] };
}

/** A format that does not fit the adapter's kind is refused naming the formats that do. */
function checkFormatFits(name: string, task: ExportTask, format: ExportFormat, fits = EXPORT_FORMATS_FOR[task]): void {
  if (fits.includes(format)) return;
  const choices = fits.join(', ');
  throw new StudioError(
    'invalid_input',
    task === 'causal-lm'
      ? say('exports.onnxNeedsEncoder', { adapter: name, choices })
      : say('exports.ggufNeedsDecoder', { adapter: name, task, format, choices }),
    { field: 'format' },
  );
}

/** What an export request resolves to: the project, a name for default paths, the adapter (null for a full
 *  fine-tune), the model folder it is merged into (or the full fine-tune's own), the inputs to keep clear of. */
interface ResolvedExport {
  projectId: string;
  name: string;
  adapter: AdapterRecord | null;
  runId: string | null;
  baseModel: string | null;
  type: ExportType;
  inputs: ({ path: string; role: string } | null)[];
}

function resolveRequest(request: ExportRequest, ctx: CoreContext): ResolvedExport {
  const type = exportType(request.format, request.type);
  if (request.runId !== undefined) {
    const { run, task, modelDir } = fullTaskRun(request.runId, ctx);
    checkFormatFits(run.name, task, request.format, FULL_RUN_FORMATS);
    return {
      projectId: run.projectId,
      name: run.name,
      adapter: null,
      runId: run.id,
      baseModel: modelDir,
      type,
      inputs: [{ path: runOutputDir(ctx.dataDir, run.id), role: 'run folder' }], // the model is inside it
    };
  }
  const adapter = getAdapterRecord(request.adapterId!, ctx);
  if (!existsSync(join(adapter.path, ADAPTER_WEIGHTS))) {
    throw new StudioError(
      'failed',
      `the adapter folder ${adapter.path} is missing or incomplete; it was moved or deleted`,
    );
  }
  checkFormatFits(adapter.name, adapterTask(adapter.path), request.format);
  const baseModel = request.model ? resolve(request.model) : adapterBaseModel(adapter, ctx);
  if (needsBase(request.format)) {
    if (!baseModel) {
      throw new StudioError(
        'invalid_input',
        `adapter “${adapter.name}” has no known base model folder here; pass model: the folder of the model it was trained on`,
        { field: 'model' },
      );
    }
    if (!existsSync(join(baseModel, 'config.json'))) {
      throw new StudioError(
        'invalid_input',
        `model: ${baseModel} is not a model folder (no config.json); it may have been moved — pass the folder where it is now`,
        { field: 'model' },
      );
    }
  }
  return {
    projectId: adapter.projectId,
    name: adapter.name,
    adapter,
    runId: null,
    baseModel,
    type,
    inputs: [
      baseModel ? { path: baseModel, role: 'base model' } : null,
      { path: adapter.path, role: 'adapter' },
      adapter.runId ? { path: runOutputDir(ctx.dataDir, adapter.runId), role: 'run folder of the adapter' } : null,
    ],
  };
}

/** The default destination: <data>/exports/<adapter>-<format>-<type>[.gguf]. */
function defaultPath(ctx: CoreContext, adapterName: string, format: ExportFormat, type: ExportType): string {
  const stem = format === 'peft' ? `${slug(adapterName)}-peft` : `${slug(adapterName)}-${format}-${type}`;
  return join(dataDirLayout(ctx.dataDir).exports, format === 'gguf' || format === 'lora-gguf' ? `${stem}.gguf` : stem);
}

const FLOAT_BYTES: Record<string, number> = { f32: 4, f16: 2, bf16: 2 };

function fileBytes(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** About how many bytes an export writes: the tensors in their written types, plus the tokenizer it carries. */
async function estimate(
  format: ExportFormat,
  type: ExportType,
  adapterPath: string | null,
  baseModel: string | null,
): Promise<{ bytes: number; tensors: number; parameters: number }> {
  if ((format === 'peft' || format === 'lora-gguf') && adapterPath) {
    const weights = await SafetensorsFile.open(join(adapterPath, ADAPTER_WEIGHTS));
    try {
      let parameters = 0;
      const names = weights.names();
      for (const name of names) parameters += weights.info(name).shape.reduce((a, b) => a * b, 1);
      if (format === 'peft') {
        const bytes = readdirSync(adapterPath).reduce((sum, f) => sum + fileBytes(join(adapterPath, f)), 0);
        return { bytes, tensors: names.length, parameters };
      }
      return { bytes: parameters * FLOAT_BYTES[type] + 4096, tensors: names.length, parameters };
    } finally {
      await weights.close();
    }
  }
  const model = await openModelFolder(baseModel!);
  try {
    let bytes = 0;
    let parameters = 0;
    const ggufTypes = format === 'gguf' ? ggufTableTypes(model.table, type as GgufOutType) : null;
    for (const [index, entry] of model.table.entries()) {
      const n = entry.shape.reduce((a, b) => a * b, 1);
      parameters += n;
      if (format === 'hf' || format === 'onnx') {
        bytes += n * FLOAT_BYTES[type];
        continue;
      }
      // As the GGUF writer picks (1-D tensors F32, the K mixes per tensor, fallbacks for rows that are not whole blocks).
      const ggml = ggufTypes![index];
      bytes += ggmlBytes(ggml, n);
    }
    // The tokenizer travels with both: as files in a folder, as vocabulary metadata in a GGUF (about as large).
    for (const f of model.tokenizerFiles) bytes += fileBytes(join(model.dir, f));
    return { bytes, tensors: model.table.length, parameters };
  } finally {
    await model.close();
  }
}

export async function estimateExport(request: ExportRequest, ctx: CoreContext): Promise<ExportEstimate> {
  const { adapter, name, baseModel, type } = resolveRequest(request, ctx);
  const path = defaultPath(ctx, name, request.format, type);
  let figures;
  try {
    figures = await estimate(request.format, type, adapter?.path ?? null, baseModel);
  } catch (err) {
    throw new StudioError('failed', `could not size the export: ${(err as Error).message}`);
  }
  return { ...figures, path, exists: existsSync(path) };
}

export async function startExport(
  request: ExportRequest & { outPath?: string; overwrite: boolean },
  ctx: CoreContext,
): Promise<Export> {
  const { adapter, runId, projectId, name, baseModel, type, inputs } = resolveRequest(request, ctx);
  const outPath = resolve(request.outPath ?? defaultPath(ctx, name, request.format, type));
  await checkOutputTarget(
    {
      out: outPath,
      kind: OUTPUT_KIND_OF[request.format],
      inputs,
      overwrite: request.overwrite,
    },
    ctx.dataDir,
    'outPath',
  );
  const busy = ctx.store.exports
    .listByProject(projectId)
    .map((e) => toExport(e, ctx))
    .find((e) => resolve(e.path) === outPath && (e.status === 'queued' || e.status === 'running'));
  if (busy)
    throw new StudioError(
      'conflict',
      `an export to ${outPath} is already ${busy.status}; wait for it or cancel it first`,
      { id: busy.id },
    );

  let estimatedBytes: number | null = null;
  try {
    estimatedBytes = (await estimate(request.format, type, adapter?.path ?? null, baseModel)).bytes;
  } catch {
    // the job reports the real problem with its own error
  }
  const record = ctx.store.exports.insert({
    projectId,
    adapterId: adapter?.id ?? null,
    kind: request.format,
    path: outPath,
    meta: { type, weight: request.weight, baseModel, estimatedBytes, jobId: null, ...(runId ? { runId } : {}) },
  });
  const params: ExportJobParams = {
    format: request.format,
    type,
    baseModel,
    adapter: adapter ? { path: adapter.path, weight: request.weight } : null,
    outPath,
    overwrite: request.overwrite,
  };
  // A card the studio cannot gather (an unreadable base folder, say) leaves the export without one, never failed.
  if (adapter) params.card = await adapterCardFacts(adapter, baseModel, ctx).catch(() => undefined);
  const job = ctx.jobs.start(EXPORT_JOB_KIND, params, {
    projectId,
    hooks: {
      onEnd: (ended) => {
        const result = ExportJobResult.safeParse(ended.result);
        if (ended.status === 'succeeded' && result.success)
          ctx.store.exports.update(record.id, { sizeBytes: result.data.sizeBytes });
      },
    },
  });
  const current = ctx.store.exports.get(record.id)!;
  ctx.store.exports.update(record.id, { meta: { ...current.meta, jobId: job.id } });
  return toExport(ctx.store.exports.get(record.id)!, ctx);
}

export const exportHandlers: HandlerGroup<'exports'> = {
  'exports.formats': (input, ctx) => exportFormats(input, ctx),
  'exports.estimate': (input, ctx) => estimateExport(input, ctx),
  'exports.start': (input, ctx) => startExport(input, ctx),
  'exports.list': ({ projectId }, ctx) => {
    if (!ctx.store.projects.get(projectId)) throw notFound('project', projectId);
    return ctx.store.exports.listByProject(projectId).map((e) => toExport(e, ctx));
  },
  'exports.get': ({ id }, ctx) => {
    const record = ctx.store.exports.get(id);
    if (!record) throw notFound('export', id);
    return toExport(record, ctx);
  },
};
