// Datasets: `datasets.import` checks the path and starts a dataset.import job (reading a big file is worker
// work: progress, cancel); its result becomes the project's dataset record. Preview and split run here, on the
// formats module, with the mapping recorded at import so they see the rows the import saw.
import { existsSync, statSync } from 'node:fs';
import { basename, isAbsolute } from 'node:path';
import {
  DATASET_IMPORT_JOB_KIND, Dataset, DatasetImportJobResult, DatasetSplitInfo, toFormatsMapping, toTemplateSpec,
  type Dataset as DatasetT, type FormatsColumnMapping, type DatasetImportJobParams, type DatasetPreview, type PreviewRow,
} from '../../../../common/api/datasets.ts';
import type { TemplateConfig } from '../../../../common/api/runs.ts';
import { say } from '../../../../common/api/phrases.ts';
import { DatasetFormatError, DatasetReadError, importDataset, previewDataset, splitByRatio, type Example } from '../../../formats/dataset/index.ts';
import { StudioError, notFound } from '../../errors.ts';
import { fieldPath, readableOnly, StaleRecordError } from '../unreadable.ts';
import { bundledDatasets } from '../../bundled.ts';
import type { DatasetRecord } from '../../store/index.ts';
import type { CoreContext, HandlerGroup } from './types.ts';

/** A typed path must name something on this machine: say which path and what was expected. */
export function requireExisting(path: string, what: 'file' | 'folder', field: string): void {
  if (!isAbsolute(path)) throw new StudioError('invalid_input', say('error.notAbsolute', { field, path, what }), { field });
  if (!existsSync(path)) throw new StudioError('invalid_input', say('error.nothingAt', { field, path, what }), { field });
  const isDir = statSync(path).isDirectory();
  if (what === 'file' && isDir) throw new StudioError('invalid_input', say('error.isFolder', { field, path }), { field });
  if (what === 'folder' && !isDir) throw new StudioError('invalid_input', say('error.isFile', { field, path }), { field });
}

export function toDataset(r: DatasetRecord): DatasetT {
  const meta = DatasetImportJobResult.partial().safeParse(r.meta);
  if (!meta.success) {
    const issue = meta.error.issues[0];
    throw new StaleRecordError('dataset', r.id, fieldPath(issue?.path ?? []), issue, r.meta);
  }
  const split = DatasetSplitInfo.safeParse(r.split);
  return Dataset.parse({
    id: r.id,
    projectId: r.projectId,
    name: r.name,
    path: r.filePath,
    fileFormat: meta.data.fileFormat ?? 'jsonl',
    format: meta.data.format ?? 'text',
    columns: meta.data.columns ?? {},
    mappingReason: meta.data.mappingReason ?? '',
    mappingReasonPhrase: meta.data.mappingReasonPhrase,
    rowsRead: meta.data.rowsRead ?? r.rowCount,
    examples: r.rowCount,
    badRows: meta.data.badRows ?? 0,
    // recorded before rows and problems were counted apart: the one count there was
    problemCount: meta.data.problemCount ?? meta.data.badRows ?? 0,
    problems: meta.data.problems ?? [],
    duplicateRows: meta.data.duplicateRows ?? 0,
    duplicateGroups: meta.data.duplicateGroups ?? [],
    hash: r.hash,
    split: split.success ? split.data : null,
    createdAt: r.createdAt,
  });
}

function getDataset(id: string, ctx: CoreContext): DatasetRecord {
  const r = ctx.store.datasets.get(id);
  if (!r) throw notFound('dataset', id);
  return r;
}

/** A formats-module error is the user's input being wrong: pass its sentence on as invalid_input. */
async function asInputError<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StudioError) throw err;
    // a file that cannot be read as a dataset keeps its sentence as a phrase, for a UI in another language
    if ((err instanceof DatasetReadError || err instanceof DatasetFormatError) && err.phrase)
      throw new StudioError('invalid_input', { message: err.message, phrase: err.phrase });
    throw new StudioError('invalid_input', (err as Error).message);
  }
}

/** The example's parts as text columns, for the rows table. */
function exampleColumns(e: Example): Record<string, string> {
  switch (e.kind) {
    case 'text':
      return { text: e.text };
    case 'completion':
      return { prompt: e.prompt, completion: e.completion };
    case 'chat':
      return Object.fromEntries(e.messages.map((m, i) => [`${i}:${m.role}`, m.content]));
  }
}

export interface PreviewRequest {
  offset: number;
  rows: number;
  model?: string;
  template?: TemplateConfig;
  maxLength?: number;
  trainOn?: 'completion' | 'all';
  sample?: number;
}

/** The previewer's data for a dataset file with a mapping (undefined: detect), as a run would render it (also used by models.plan). */
export async function previewFile(path: string, mapping: FormatsColumnMapping | undefined, request: PreviewRequest): Promise<Omit<DatasetPreview, 'dataset'>> {
  if (request.model !== undefined) requireExisting(request.model, 'folder', 'model');
  return asInputError(async () => {
    // "auto" is previewDataset's own default (the chat template when the model has one, plain for text).
    const template = request.model !== undefined && request.template !== undefined && request.template.kind !== 'auto'
      ? toTemplateSpec(request.template, 'chat', true)
      : undefined;
    const preview = await previewDataset(path, {
      mapping,
      modelDir: request.model,
      template,
      maxLength: request.maxLength,
      trainOn: request.trainOn,
      offset: request.offset,
      rows: request.rows,
      sample: request.sample ?? 2000,
    });
    // With nothing near the cut-off, bins over [0, max length] squeeze every example into the first bars:
    // measure again without the cut-off for bins over [0, longest] (the truncation numbers stay the first pass's).
    let histogram = preview.stats?.histogram;
    if (preview.stats && preview.stats.truncated === 0 && preview.stats.maxLength !== null && preview.stats.max * 2 < preview.stats.maxLength) {
      const spread = await previewDataset(path, { mapping, modelDir: request.model, template: preview.template ?? undefined, trainOn: request.trainOn, rows: 0, sample: request.sample ?? 2000 });
      histogram = spread.stats?.histogram ?? histogram;
    }
    const rows: PreviewRow[] = preview.rows.map((r) => ({
      row: r.row,
      ...(r.line !== undefined ? { line: r.line } : {}),
      columns: exampleColumns(r.example),
      rendered: r.rendered
        ? { ...r.rendered, pieces: r.rendered.pieces.map((p) => ({ text: p.text, ids: p.ids, trained: p.trained, special: p.special })) }
        : null,
      error: r.error ?? null,
      errorPhrase: r.errorPhrase ?? null,
    }));
    const t = preview.template;
    return {
      offset: request.offset,
      total: preview.examples,
      rows,
      template: t === null ? null : t.type === 'plain' ? { kind: 'plain', source: null } : { kind: t.type, source: t.template ?? null },
      stats: preview.stats ? { ...(({ failures: _failures, ...stats }) => stats)(preview.stats), histogram: histogram! } : null,
    };
  });
}

export const datasetHandlers: HandlerGroup<'datasets'> = {
  'datasets.import': ({ projectId, path, name, format, columns, onProblem }, ctx) => {
    if (!ctx.store.projects.get(projectId)) throw notFound('project', projectId);
    requireExisting(path, 'file', 'path');
    const params: DatasetImportJobParams = { path, format, columns, onProblem };
    return ctx.jobs.start(DATASET_IMPORT_JOB_KIND, params, {
      projectId,
      hooks: {
        onEnd: (job) => {
          if (job.status !== 'succeeded') return;
          const result = DatasetImportJobResult.safeParse(job.result);
          if (!result.success) throw new Error(`dataset.import returned a malformed result: ${result.error.issues[0]?.message}`);
          const { path: filePath, examples, hash, ...meta } = result.data;
          ctx.store.datasets.insert({
            projectId,
            name: name ?? basename(filePath),
            filePath,
            format: `${meta.fileFormat}/${meta.format}`,
            hash,
            rowCount: examples,
            meta: { ...meta },
          });
        },
      },
    });
  },
  'datasets.suggestions': () => bundledDatasets(),
  'datasets.list': ({ projectId }, ctx) => {
    if (!ctx.store.projects.get(projectId)) throw notFound('project', projectId);
    return readableOnly('dataset', ctx.store.datasets.listByProject(projectId), toDataset);
  },
  'datasets.get': ({ id }, ctx) => toDataset(getDataset(id, ctx)),
  'datasets.delete': ({ id }, ctx) => ({ deleted: ctx.store.datasets.delete(id) }),
  'datasets.preview': async ({ id, ...request }, ctx) => {
    const dataset = toDataset(getDataset(id, ctx));
    return { dataset, ...(await previewFile(dataset.path, toFormatsMapping(dataset.format, dataset.columns), request)) };
  },
  'datasets.split': async ({ id, ratio, seed }, ctx) => {
    const dataset = toDataset(getDataset(id, ctx));
    const imported = await asInputError(() => importDataset(dataset.path, { mapping: toFormatsMapping(dataset.format, dataset.columns) }));
    if (imported.contentHash !== dataset.hash) {
      throw new StudioError('conflict', `${dataset.path} changed since it was imported (its content hash differs); import it again`);
    }
    const split = splitByRatio(imported.examples, { evalRatio: ratio, seed });
    const info: DatasetSplitInfo = { ratio, seed, train: split.train.length, eval: split.eval.length, overlap: split.overlap };
    return toDataset(ctx.store.datasets.setSplit(id, info)!);
  },
};
