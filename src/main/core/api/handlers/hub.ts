// hub.*: publishing to the Hugging Face Hub. `hub.push` resolves what to publish — an adapter, an export, or a
// folder / GGUF file given by path (the CLI) —, gathers the facts of its model card here (the store knows the
// run behind it), and starts a `hub.push` job; the worker reads the token and endpoint from its environment.
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  HUB_PUSH_JOB_KIND,
  type HubPushJobParams,
  type ModelCardFacts,
  type PublishKind,
} from '../../../../common/api/hub.ts';
import { ExportFormat } from '../../../../common/api/exports.ts';
import { adapterCardFacts, emptyCardFacts, foldersWithRecords } from '../../card-facts.ts';
import { adapterBaseFolder } from '../../../formats/card/index.ts';
import { StudioError, notFound } from '../../errors.ts';
import { effectiveOffline } from '../../settings.ts';
import { adapterBaseModel, getAdapterRecord } from './adapters.ts';
import type { CoreContext, HandlerGroup } from './types.ts';

const KIND_OF_EXPORT: Record<ExportFormat, PublishKind> = {
  hf: 'model',
  gguf: 'gguf',
  peft: 'adapter',
  'lora-gguf': 'gguf',
  onnx: 'model', // a folder with config.json and the tokenizer, as the Hub's ONNX repos hold it
};

/** What a path is: a .gguf file, an adapter folder (adapter_config.json) or a model folder (config.json). */
function guessKind(path: string): PublishKind | null {
  if (!existsSync(path)) return null;
  if (statSync(path).isFile()) return path.toLowerCase().endsWith('.gguf') ? 'gguf' : null;
  if (existsSync(join(path, 'adapter_config.json'))) return 'adapter';
  if (existsSync(join(path, 'config.json'))) return 'model';
  return null;
}

function checkKind(path: string, kind: PublishKind): void {
  const found = guessKind(path);
  if (found === kind) return;
  const expected = {
    adapter: 'an adapter folder (with adapter_config.json)',
    model: 'a model folder (with config.json)',
    gguf: 'a .gguf file',
  }[kind];
  throw new StudioError(
    'invalid_input',
    existsSync(path)
      ? `path: ${path} is not ${expected}${found ? ` (it looks like ${{ adapter: 'an adapter folder', model: 'a model folder', gguf: 'a GGUF file' }[found]})` : ''}`
      : `path: ${path} does not exist`,
    { field: 'path' },
  );
}

/** The facts for a folder or file given by path: through its adapter or export record when the studio has one. */
async function pathFacts(
  path: string,
  kind: PublishKind,
  ctx: CoreContext,
): Promise<{ facts: ModelCardFacts; projectId: string | null }> {
  for (const project of ctx.store.projects.list()) {
    const adapter = ctx.store.adapters.listByProject(project.id).find((a) => resolve(a.path) === path);
    if (adapter)
      return { facts: await adapterCardFacts(adapter, adapterBaseModel(adapter, ctx), ctx), projectId: project.id };
    const exported = ctx.store.exports.listByProject(project.id).find((e) => resolve(e.path) === path);
    const source = exported?.adapterId ? ctx.store.adapters.get(exported.adapterId) : null;
    if (exported && source) {
      const base =
        typeof exported.meta.baseModel === 'string' ? exported.meta.baseModel : adapterBaseModel(source, ctx);
      return { facts: await adapterCardFacts(source, base, ctx), projectId: project.id };
    }
  }
  // Unknown to the studio: only what the files say. An adapter names its base; a model folder is its own
  // architecture and template (its Hub id and license would be those of what it was made from, unknown here).
  if (kind === 'adapter')
    return { facts: await foldersWithRecords(adapterBaseFolder(path), path, ctx), projectId: null };
  const facts = await emptyCardFacts(ctx);
  if (kind === 'model') {
    const own = await foldersWithRecords(path, null, ctx);
    Object.assign(facts, { architecture: own.architecture, stopTokens: own.stopTokens });
  }
  return { facts, projectId: null };
}

export const hubHandlers: HandlerGroup<'hub'> = {
  'hub.push': async (input, ctx) => {
    let kind: PublishKind;
    let source: string;
    let facts: ModelCardFacts;
    let projectId: string | null;
    if (input.adapterId) {
      const adapter = getAdapterRecord(input.adapterId, ctx);
      if (!existsSync(join(adapter.path, 'adapter_config.json'))) {
        throw new StudioError(
          'failed',
          `the adapter folder ${adapter.path} is missing or incomplete; it was moved or deleted`,
        );
      }
      kind = 'adapter';
      source = adapter.path;
      projectId = adapter.projectId;
      facts = await adapterCardFacts(adapter, adapterBaseModel(adapter, ctx), ctx);
    } else if (input.exportId) {
      const record = ctx.store.exports.get(input.exportId);
      if (!record) throw notFound('export', input.exportId);
      const jobId = typeof record.meta.jobId === 'string' ? record.meta.jobId : null;
      const job = jobId ? ctx.store.jobs.get(jobId) : null;
      if (job && job.status !== 'succeeded')
        throw new StudioError(
          'conflict',
          `export ${record.id} is ${job.status}: only a finished export can be published`,
        );
      const format = ExportFormat.safeParse(record.kind);
      if (!format.success)
        throw new StudioError('failed', `export ${record.id} has an unknown format "${record.kind}"`);
      kind = KIND_OF_EXPORT[format.data];
      source = record.path;
      if (!existsSync(source))
        throw new StudioError('failed', `${source} is gone: it was moved or deleted; export again`);
      projectId = record.projectId;
      const adapter = record.adapterId ? ctx.store.adapters.get(record.adapterId) : null;
      const base =
        typeof record.meta.baseModel === 'string'
          ? record.meta.baseModel
          : adapter
            ? adapterBaseModel(adapter, ctx)
            : null;
      facts = adapter ? await adapterCardFacts(adapter, base, ctx) : await emptyCardFacts(ctx);
    } else {
      source = resolve(input.path!);
      const guessed = input.kind ?? guessKind(source);
      if (!guessed) {
        throw new StudioError(
          'invalid_input',
          existsSync(source)
            ? `path: ${source} is neither a .gguf file nor a folder with adapter_config.json or config.json`
            : `path: ${source} does not exist`,
          { field: 'path' },
        );
      }
      kind = guessed;
      checkKind(source, kind);
      ({ facts, projectId } = await pathFacts(source, kind, ctx));
    }
    const params: HubPushJobParams = {
      kind,
      source,
      repo: input.repo,
      private: input.private,
      revision: input.revision,
      message: input.message ?? null,
      replace: input.replace,
      offline: effectiveOffline(ctx.store),
      card: facts,
    };
    return ctx.jobs.start(HUB_PUSH_JOB_KIND, params, { projectId });
  },
};
