// Adapters of a project. A finished run's adapter is recorded the first time the project's adapters are listed
// (runs only report their adapter folder in their summary); imported and combined adapters are recorded when
// they arrive. Figures that live in the folder (size, layers, template) are read from it on each call, so a
// folder changed or removed on disk shows as it is, with a `problem` saying what to do.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve, sep } from 'node:path';
import {
  ADAPTER_COMBINE_JOB_KIND,
  AdapterCombineJobResult,
  type Adapter,
  type AdapterCombineJobParams,
  type AdapterDetail,
  type AdapterSource,
} from '../../../../common/api/adapters.ts';
import { RunConfig, RunSummary } from '../../../../common/api/runs.ts';
import { summarizeModelFolder } from '../../../formats/model/summary.ts';
import { readModelSpec } from '../../../formats/model/folder.ts';
import {
  ADAPTER_CONFIG,
  ADAPTER_WEIGHTS,
  TRAINING_TEMPLATE,
  readAdapter,
  type LoraConfig,
} from '../../../formats/peft/index.ts';
import { SafetensorsFile } from '../../../formats/safetensors/index.ts';
import { StudioError, notFound } from '../../errors.ts';
import { checkOutputTarget } from '../../output-targets.ts';
import type { AdapterRecord } from '../../store/index.ts';
import { startExport } from './exports.ts';
import { adapterBaseModel, getAdapterRecord, readConfigFile, slug } from './adapter-records.ts';
import type { CoreContext, HandlerGroup } from './types.ts';

// (re-exported for the handlers that took them from here before they moved below exports.ts)
export { adapterBaseModel, getAdapterRecord, slug };
import { readCombinedFrom, writeCombinedFrom } from './adapter-parts.ts';

/** Where combined adapters are written: <data>/adapters/<name>. */
export function combinedAdaptersDir(dataDir: string): string {
  return join(resolve(dataDir), 'adapters');
}

function folderBytes(path: string): number {
  const info = statSync(path);
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const entry of readdirSync(path)) total += folderBytes(join(path, entry));
  return total;
}

/** target_modules as short names for people ("q_proj"), whatever form the config uses. */
function targetNames(config: LoraConfig): string[] {
  const tm = config.target_modules;
  if (tm === null) return [];
  if (typeof tm === 'string') return [tm];
  return [...new Set(tm.map((t) => t.split('.').pop()!))].sort();
}

function sourceOf(record: AdapterRecord, ctx: CoreContext): AdapterSource {
  if (record.runId) return 'run';
  return resolve(record.path).startsWith(combinedAdaptersDir(ctx.dataDir) + sep) ? 'combined' : 'imported';
}

function toAdapter(record: AdapterRecord, ctx: CoreContext): Adapter {
  let sizeBytes: number | null = null;
  let problem: string | null = null;
  if (!existsSync(join(record.path, ADAPTER_WEIGHTS)) || !existsSync(join(record.path, ADAPTER_CONFIG))) {
    problem = `the adapter folder ${record.path} is missing or incomplete; it was moved or deleted — import it again from where it is now`;
  } else {
    sizeBytes = folderBytes(record.path);
  }
  const source = sourceOf(record, ctx);
  return {
    id: record.id,
    projectId: record.projectId,
    name: record.name,
    source,
    runId: record.runId,
    path: record.path,
    baseModel: adapterBaseModel(record, ctx),
    r: record.rank,
    loraAlpha: record.alpha,
    targetModules: record.targetModules,
    step: record.step,
    sizeBytes,
    problem,
    combinedFrom: source === 'combined' ? readCombinedFrom(record.path) : null,
    createdAt: record.createdAt,
  };
}

/** Records the adapter of every finished run of the project that has one and is not recorded yet. */
function recordRunAdapters(projectId: string, ctx: CoreContext): void {
  for (const run of ctx.store.runs.listByProject(projectId)) {
    if (!run.jobId || ctx.store.adapters.findByRun(run.id)) continue;
    const job = ctx.store.jobs.get(run.jobId);
    if (job?.status !== 'succeeded') continue;
    const summary = RunSummary.safeParse(job.result);
    const path = summary.success ? summary.data.adapterPath : null;
    if (!path || !existsSync(join(path, ADAPTER_CONFIG))) continue; // full fine-tuning leaves a model folder, not an adapter
    let config: LoraConfig;
    try {
      config = readConfigFile(path).config;
    } catch {
      continue; // an unreadable adapter folder must not hide the project's other adapters; its run page shows the run
    }
    const model = RunConfig.safeParse(run.config);
    ctx.store.adapters.insert({
      projectId,
      runId: run.id,
      name: run.name,
      path,
      rank: config.r,
      alpha: config.lora_alpha,
      targetModules: targetNames(config),
      step: summary.success ? summary.data.steps : null,
      baseModelId: model.success ? (ctx.store.baseModels.findByPath(model.data.model)?.id ?? null) : null,
      createdAt: job.endedAt ?? undefined, // when it was trained, not when this list first saw it
    });
  }
}

/** The base model's record for a folder, created (after checking the folder opens) when it has none. */
async function baseModelRecordFor(path: string, ctx: CoreContext): Promise<string> {
  const existing = ctx.store.baseModels.findByPath(path);
  if (existing) return existing.id;
  let summary;
  try {
    summary = await summarizeModelFolder(path);
  } catch (err) {
    throw new StudioError('invalid_input', `model: ${(err as Error).message}`, { field: 'model' });
  }
  return ctx.store.baseModels.insert({
    source: path,
    sourceKind: 'local',
    localPath: summary.path,
    revision: null,
    architecture: summary.architecture,
    parameterCount: summary.parameterCount,
    sizeBytes: summary.sizeBytes,
    config: { ...summary, name: basename(path) },
  }).id;
}

export const adapterHandlers: HandlerGroup<'adapters'> = {
  'adapters.list': ({ projectId }, ctx) => {
    if (!ctx.store.projects.get(projectId)) throw notFound('project', projectId);
    recordRunAdapters(projectId, ctx);
    return ctx.store.adapters.listByProject(projectId).map((r) => toAdapter(r, ctx));
  },

  'adapters.get': async ({ id }, ctx) => {
    const record = getAdapterRecord(id, ctx);
    const adapter = toAdapter(record, ctx);
    if (adapter.problem) throw new StudioError('failed', adapter.problem);
    const { raw, config } = readConfigFile(record.path);
    const weights = await SafetensorsFile.open(join(record.path, ADAPTER_WEIGHTS));
    let layers = 0;
    let parameters = 0;
    try {
      for (const name of weights.names()) {
        if (/\.lora_A(\.default)?\.weight$/.test(name)) layers += 1;
        parameters += weights.info(name).shape.reduce((a, b) => a * b, 1);
      }
    } finally {
      await weights.close();
    }
    let template: AdapterDetail['template'] = null;
    const templateFile = join(record.path, TRAINING_TEMPLATE);
    if (existsSync(templateFile)) {
      const t = JSON.parse(readFileSync(templateFile, 'utf8')) as {
        template?: Record<string, unknown>;
        chat_template?: unknown;
      };
      template = {
        template: t.template ?? {},
        chatTemplate: typeof t.chat_template === 'string' ? t.chat_template : null,
      };
    }
    const files = readdirSync(record.path)
      .filter((name) => !name.startsWith('.'))
      .map((name) => ({ name, sizeBytes: statSync(join(record.path, name)).size }))
      .sort((a, b) => a.name.localeCompare(b.name));
    return { ...adapter, config: raw, layers, parameters, useRslora: config.use_rslora, template, files };
  },

  'adapters.import': async ({ projectId, path, name, model }, ctx) => {
    if (!ctx.store.projects.get(projectId)) throw notFound('project', projectId);
    const folder = resolve(path);
    if (!existsSync(folder) || !statSync(folder).isDirectory()) {
      throw new StudioError(
        'invalid_input',
        `path: ${folder} is not a folder; choose the folder that holds adapter_config.json and adapter_model.safetensors`,
        { field: 'path' },
      );
    }
    const same = ctx.store.adapters.listByProject(projectId).find((a) => resolve(a.path) === folder);
    if (same)
      throw new StudioError('conflict', `${folder} is already in this project as “${same.name}”`, { id: same.id });
    const { config } = readConfigFile(folder);
    const base = model
      ? resolve(model)
      : config.base_model_name_or_path && existsSync(join(config.base_model_name_or_path, 'config.json'))
        ? config.base_model_name_or_path
        : null;
    // Read it whole (every tensor checked, and against the base model's layers when known), so a broken
    // adapter is refused here rather than in the middle of a chat or an export.
    try {
      const spec = base ? (await readModelSpec(base)).spec : undefined;
      await readAdapter(folder, spec);
    } catch (err) {
      if (err instanceof StudioError) throw err;
      throw new StudioError('invalid_input', (err as Error).message, {
        field: model && (err as Error).message.includes('config.json') ? 'model' : 'path',
      });
    }
    const baseModelId = base ? await baseModelRecordFor(base, ctx) : null;
    const record = ctx.store.adapters.insert({
      projectId,
      name: name ?? basename(folder),
      path: folder,
      rank: config.r,
      alpha: config.lora_alpha,
      targetModules: targetNames(config),
      baseModelId,
    });
    return toAdapter(record, ctx);
  },

  'adapters.merge': ({ id, weight, model, dtype, outPath, overwrite }, ctx) =>
    startExport({ adapterId: id, format: 'hf', type: dtype, weight, model, outPath, overwrite }, ctx),

  'adapters.combine': async ({ projectId, adapters, name, overwrite }, ctx) => {
    if (!ctx.store.projects.get(projectId)) throw notFound('project', projectId);
    const records = adapters.map((a) => getAdapterRecord(a.id, ctx));
    for (const r of records) {
      if (r.projectId !== projectId)
        throw new StudioError('invalid_input', `adapter “${r.name}” belongs to another project`, { field: 'adapters' });
      const problem = toAdapter(r, ctx).problem;
      if (problem) throw new StudioError('failed', `adapter “${r.name}”: ${problem}`);
    }
    const bases = records.map((r) => ({ name: r.name, base: adapterBaseModel(r, ctx) }));
    const known = bases.filter((b) => b.base !== null);
    const distinct = new Set(known.map((b) => resolve(b.base!)));
    if (distinct.size > 1) {
      throw new StudioError(
        'invalid_input',
        `the adapters were trained on different base models (${known.map((b) => `“${b.name}”: ${b.base}`).join('; ')}); combine adapters of one base model`,
        { field: 'adapters' },
      );
    }
    const baseModel = known[0]?.base ?? null;
    const outDir = join(combinedAdaptersDir(ctx.dataDir), slug(name));
    await checkOutputTarget(
      {
        out: outDir,
        kind: 'peft-adapter',
        inputs: [
          ...records.map((r) => ({ path: r.path, role: `adapter “${r.name}”` })),
          baseModel ? { path: baseModel, role: 'base model' } : null,
        ],
        overwrite,
      },
      ctx.dataDir,
      'name',
    );
    const params: AdapterCombineJobParams = {
      adapters: records.map((r, i) => ({ path: r.path, weight: adapters[i].weight })),
      outDir,
      baseModel,
      overwrite,
    };
    const job = ctx.jobs.start(ADAPTER_COMBINE_JOB_KIND, params, {
      projectId,
      hooks: {
        onEnd: (ended) => {
          const result = AdapterCombineJobResult.safeParse(ended.result);
          if (ended.status !== 'succeeded' || !result.success) return;
          const previous = ctx.store.adapters
            .listByProject(projectId)
            .find((a) => resolve(a.path) === resolve(result.data.path));
          if (previous) ctx.store.adapters.delete(previous.id); // overwritten: one record per folder
          ctx.store.adapters.insert({
            projectId,
            name,
            path: result.data.path,
            rank: result.data.r,
            alpha: result.data.loraAlpha,
            targetModules: result.data.targetModules,
            baseModelId: baseModel ? (ctx.store.baseModels.findByPath(baseModel)?.id ?? null) : null,
          });
          writeCombinedFrom(
            result.data.path,
            records.map((r, i) => ({ adapterId: r.id, name: r.name, path: r.path, weight: adapters[i].weight })),
          );
        },
      },
    });
    return { jobId: job.id, path: outDir, name };
  },

  'adapters.delete': ({ id }, ctx) => {
    const record = getAdapterRecord(id, ctx);
    if (record.runId)
      throw new StudioError('conflict', `“${record.name}” is the adapter of a run; it stays as long as its run does`);
    return { deleted: ctx.store.adapters.delete(id) };
  },
};
