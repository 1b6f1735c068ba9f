// fusionEval.*: "fusion vs singles" for a combination run (issue 15): start the `fusion.evaluate` job (each adapter
// alone, the uniform average and the learned combination, on the run's eval split or on eval files), and read the
// latest result back from <run>/fusion-eval.json.
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { FUSION_EVAL_FILE, FUSION_EVAL_JOB_KIND, FusionEvalResult, type FusionEvalJobParams } from '../../../../common/api/fusion-eval.ts';
import { RunConfig } from '../../../../common/api/runs.ts';
import { StudioError, notFound } from '../../errors.ts';
import { runOutputDir } from './runs.ts';
import type { HandlerGroup } from './types.ts';

export const fusionEvalHandlers: HandlerGroup<'fusionEval'> = {
  'fusionEval.start': ({ runId, datasets }, ctx) => {
    const run = ctx.store.runs.get(runId);
    if (!run) throw notFound('run', runId);
    const config = RunConfig.safeParse(run.config);
    if (!config.success || !config.data.fusion)
      throw new StudioError('invalid_input', `run "${run.name}" is not a combination of adapters: only a fusion run (fuse, Learn a combination…) is compared with each adapter alone`, { field: 'runId' });
    if (run.status !== 'succeeded')
      throw new StudioError('conflict', `run "${run.name}" is ${run.status}: the comparison needs the finished combination`);
    datasets.forEach((d, i) => {
      if (!isAbsolute(d)) throw new StudioError('invalid_input', `datasets[${i}]: give the eval file's absolute path (got "${d}")`, { field: `datasets.${i}` });
      if (!existsSync(d)) throw new StudioError('invalid_input', `datasets[${i}]: there is no file at ${d}`, { field: `datasets.${i}` });
    });
    const params: FusionEvalJobParams = { runId, config: config.data, runDir: runOutputDir(ctx.dataDir, runId), datasets: datasets.map((d) => resolve(d)) };
    const job = ctx.jobs.start(FUSION_EVAL_JOB_KIND, params, { projectId: run.projectId });
    return { jobId: job.id };
  },
  'fusionEval.get': ({ runId }, ctx) => {
    if (!ctx.store.runs.get(runId)) throw notFound('run', runId);
    const file = join(runOutputDir(ctx.dataDir, runId), FUSION_EVAL_FILE);
    if (!existsSync(file)) return null;
    const parsed = FusionEvalResult.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (!parsed.success) throw new StudioError('failed', `${file} is not a fusion comparison this version reads: ${parsed.error.issues[0]?.message}`);
    // a run's adapter is recorded as "<run id>/adapter": show the run's name
    const named = (name: string) => ctx.store.runs.get(name.split('/')[0])?.name ?? name;
    return { ...parsed.data, tables: parsed.data.tables.map((t) => ({ ...t, single: t.single.map((s) => ({ ...s, name: named(s.name) })) })) };
  },
};
