// Runs elsewhere: `bundles.create` starts a `run.bundle` job that writes a job bundle for Axolotl / TRL + accelerate
// (worker/jobs/run-bundle.ts); `bundles.importRun` brings a trainer's output folder back as a run (./run-import.ts);
// `bundles.importedRun` says where an imported run came from and what its import found.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ImportedRunInfo, RUN_BUNDLE_JOB_KIND, type RunBundleJobParams } from '../../../../common/api/bundles.ts';
import type { RunConfig } from '../../../../common/api/runs.ts';
import { StudioError, notFound } from '../../errors.ts';
import { slug } from './adapters.ts';
import { hubOrigin, importRun, IMPORT_INFO_FILE } from './run-import.ts';
import { runHandlers, runOutputDir } from './runs.ts';
import type { CoreContext, HandlerGroup } from './types.ts';

/** What a bundle must never be written into, over or above (the data folder only holds it, like exports). */
function configInputs(config: RunConfig, ctx: CoreContext): RunBundleJobParams['inputs'] {
  return [
    { path: config.model, role: 'base model' },
    { path: config.dataset.path, role: 'dataset' },
    ...(config.dataset.eval_split.kind === 'file'
      ? [{ path: config.dataset.eval_split.path, role: 'eval dataset' }]
      : []),
    { path: ctx.dataDir, role: 'data folder', container: true },
  ];
}

export const bundleHandlers: HandlerGroup<'bundles'> = {
  'bundles.create': ({ runId, projectId, config, outDir, overwrite }, ctx) => {
    let params: RunBundleJobParams;
    let project: string | null = projectId ?? null;
    const named = runId ? (ctx.store.runs.get(runId)?.name ?? runId) : 'config';
    const out = resolve(
      outDir ?? join(ctx.dataDir, 'bundles', `${slug(named)}-${(runId ?? Date.now().toString(36)).slice(0, 8)}`),
    );
    if (runId) {
      const run = runHandlers['runs.get']({ id: runId }, ctx) as Awaited<ReturnType<(typeof runHandlers)['runs.get']>>;
      project = run.projectId;
      const origin = hubOrigin(run.config.model, ctx);
      params = {
        config: run.config,
        outDir: out,
        overwrite,
        run: { id: run.id, name: run.name },
        appVersion: run.appVersion,
        model: { hubId: origin.hubId, revision: run.modelRevision ?? origin.revision },
        inputs: [{ path: run.outputDir!, role: 'run folder' }, ...configInputs(run.config, ctx)],
      };
    } else {
      if (project !== null && !ctx.store.projects.get(project)) throw notFound('project', project);
      const c = config!;
      params = {
        config: c,
        outDir: out,
        overwrite,
        run: null,
        appVersion: ctx.appVersion,
        model: hubOrigin(c.model, ctx),
        inputs: configInputs(c, ctx),
      };
    }
    const job = ctx.jobs.start(RUN_BUNDLE_JOB_KIND, params, { projectId: project });
    return { jobId: job.id, outDir: out };
  },

  'bundles.importRun': async (input, ctx) => {
    const { runId, info } = await importRun(input, ctx);
    return {
      run: runHandlers['runs.get']({ id: runId }, ctx) as Awaited<ReturnType<(typeof runHandlers)['runs.get']>>,
      info,
    };
  },

  'bundles.importedRun': async ({ runId }, ctx) => {
    if (!ctx.store.runs.get(runId)) throw notFound('run', runId);
    const file = join(runOutputDir(ctx.dataDir, runId), IMPORT_INFO_FILE);
    if (!existsSync(file)) return null;
    const parsed = ImportedRunInfo.safeParse(JSON.parse(await readFile(file, 'utf8')));
    if (!parsed.success)
      throw new StudioError('failed', `${file} is damaged (${parsed.error.issues[0]?.message}); import the run again`);
    return parsed.data;
  },
};
