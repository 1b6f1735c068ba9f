// Runs and evaluations: the core's side of training. A run is a row (its full config and provenance) plus
// `train` jobs that do the work in a worker; the job's metrics land in run_metrics as they stream in, and its
// result (the summary) closes the run. Evaluations work the same way through `eval` jobs. The worker never
// touches the store (it cannot import core): everything is recorded here, from the job's reports.
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { FusionReport } from '../../../../common/api/fusion.ts';
import { join } from 'node:path';
import type { Job } from '../../../../common/api/jobs.ts';
import {
  EVAL_JOB_KIND,
  EvalJobResult,
  Evaluation,
  RunConfig,
  TRAIN_JOB_KIND,
  type EvalJobParams,
  type TrainJobParams,
  RunSummary,
  type Evaluation as EvaluationT,
  type EvaluationExample,
  type EvaluationExampleRow,
  type Run,
  type RunMetric,
  type RunStatus,
} from '../../../../common/api/runs.ts';
import { StudioError, notFound } from '../../errors.ts';
import { checkRunInputs } from '../../run-inputs.ts';
import { dataDirLayout } from '../../data-dir.ts';
import type { JobRecord } from '../../store/index.ts';
import type { EvaluationRecord } from '../../store/repositories/evaluations.ts';
import type { RunRecord } from '../../store/repositories/runs.ts';
import { fieldPath, readableOnly, StaleRecordError } from '../unreadable.ts';
import type { CoreContext, HandlerGroup } from './types.ts';

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);

export function runOutputDir(dataDir: string, runId: string): string {
  return join(dataDirLayout(dataDir).runs, runId);
}

function runSummaryOf(job: JobRecord | null): Run['summary'] {
  const parsed = RunSummary.safeParse(job?.result ?? null);
  return parsed.success ? parsed.data : null;
}

/**
 * The newest complete checkpoint's step: the trainer writes `checkpoints/checkpoint-<step>` by renaming a finished
 * temporary folder, so a folder with that name is always complete.
 */
function newestCheckpointStep(outputDir: string): number | null {
  let names: string[];
  try {
    names = readdirSync(join(outputDir, 'checkpoints'));
  } catch {
    return null;
  }
  const steps = names.map((name) => /^checkpoint-(\d+)$/.exec(name)?.[1]).filter((step) => step !== undefined).map(Number);
  return steps.length > 0 ? Math.max(...steps) : null;
}

/** A run row as the contract's Run, reconciled with its job (a core restarted mid-run missed the job's end). */
export function toRun(record: RunRecord, ctx: CoreContext): Run {
  const job = record.jobId ? ctx.store.jobs.get(record.jobId) : null;
  let status: RunStatus = record.status;
  let error = record.error;
  let endedAt = record.endedAt;
  if (job && !TERMINAL.has(status) && TERMINAL.has(job.status)) {
    const synced = ctx.store.runs.setStatus(record.id, { status: job.status, endedAt: job.endedAt ?? new Date().toISOString(), error: job.error })!;
    status = synced.status;
    error = synced.error;
    endedAt = synced.endedAt;
  }
  const config = RunConfig.safeParse(record.config);
  if (!config.success) {
    const issue = config.error.issues[0];
    throw new StaleRecordError('run', record.id, fieldPath(issue?.path ?? []), issue, record.config);
  }
  return {
    id: record.id,
    projectId: record.projectId,
    name: record.name,
    status,
    config: config.data,
    jobId: record.jobId,
    seed: record.seed,
    appVersion: record.appVersion,
    datasetHash: record.datasetHash,
    modelRevision: record.modelRevision,
    outputDir: runOutputDir(ctx.dataDir, record.id),
    error,
    summary: runSummaryOf(job),
    lastTrainLoss: ctx.store.runs.lastTrainLoss(record.id),
    checkpointStep: newestCheckpointStep(runOutputDir(ctx.dataDir, record.id)),
    createdAt: record.createdAt,
    startedAt: record.startedAt,
    endedAt,
  };
}

function getRun(id: string, ctx: CoreContext): RunRecord {
  const record = ctx.store.runs.get(id);
  if (!record) throw notFound('run', id);
  return record;
}

/**
 * Start (or restart, for resume) the train job of a run, wiring its reports into the store; `after` runs once the
 * run's end is recorded (a comparison group starts its next member there).
 */
export function launchTrainJob(
  record: RunRecord,
  config: RunConfig,
  resume: boolean,
  ctx: CoreContext,
  acceptDatasetChange = false,
  after?: (ended: JobRecord) => void,
): Job {
  const params: TrainJobParams = { runId: record.id, config, outputDir: runOutputDir(ctx.dataDir, record.id), resume, acceptDatasetChange };
  const job = ctx.jobs.start(TRAIN_JOB_KIND, params, {
    projectId: record.projectId,
    hooks: {
      onMetric: (_job, step, values) => ctx.store.runs.addMetric(record.id, step, values, 'eval_loss' in values ? 'eval' : 'train'),
      onEnd: (ended) => {
        const datasetHash = (ended.result as { datasetHash?: unknown } | null)?.datasetHash;
        if (typeof datasetHash === 'string') ctx.store.runs.setProvenance(record.id, { datasetHash });
        ctx.store.runs.setStatus(record.id, { status: ended.status, endedAt: ended.endedAt ?? new Date().toISOString(), error: ended.error });
        after?.(ended);
      },
    },
  });
  // A worker that could not even start has already ended the job (and the run) as failed: keep that.
  const status: RunStatus = TERMINAL.has(job.status) ? job.status : 'running';
  if (resume && status === 'running') ctx.store.runs.reopen(record.id);
  ctx.store.runs.setStatus(record.id, { status, startedAt: record.startedAt ?? new Date().toISOString(), jobId: job.id });
  return job;
}

function toEvaluation(record: EvaluationRecord, ctx: CoreContext): EvaluationT {
  const config = record.config as Partial<EvalJobParams> & { jobId?: string };
  const job = config.jobId ? ctx.store.jobs.get(config.jobId) : null;
  let status = record.status;
  if (job && !TERMINAL.has(status) && TERMINAL.has(job.status)) status = job.status;
  const summary = record.summary as Partial<Record<string, unknown>>;
  const num = (key: string) => (typeof summary[key] === 'number' ? (summary[key] as number) : null);
  return Evaluation.parse({
    id: record.id,
    projectId: record.projectId,
    runId: record.runId,
    jobId: config.jobId ?? null,
    status,
    model: config.model ?? '',
    adapterPath: config.adapterPath ?? null,
    datasetPath: config.dataset?.path ?? '',
    examples: num('examples') ?? 0,
    tokens: num('tokens') ?? 0,
    baseLoss: num('baseLoss'),
    basePerplexity: num('basePerplexity'),
    adapterLoss: num('adapterLoss'),
    adapterPerplexity: num('adapterPerplexity'),
    ship: config.ship ?? null,
    shipLoss: num('shipLoss'),
    shipPerplexity: num('shipPerplexity'),
    error: typeof summary.error === 'string' ? summary.error : (job?.error ?? null),
    createdAt: record.createdAt,
    endedAt: record.endedAt ?? job?.endedAt ?? null,
  });
}

function recordEvaluationEnd(evaluationId: string, job: JobRecord, ctx: CoreContext): void {
  if (job.status !== 'succeeded') {
    ctx.store.evaluations.finish(evaluationId, job.status, { error: job.error ?? job.status });
    return;
  }
  const parsed = EvalJobResult.safeParse(job.result);
  if (!parsed.success) {
    ctx.store.evaluations.finish(evaluationId, 'failed', { error: `the eval job returned a malformed result: ${parsed.error.issues[0]?.message}` });
    return;
  }
  const result = parsed.data;
  ctx.store.transaction(() => {
    ctx.store.evaluations.addExamples(
      evaluationId,
      result.examples.map((e) => ({
        idx: e.index,
        input: e.text,
        expected: null,
        output: '',
        scores: { tokens: e.tokens, ...(e.baseNll !== null ? { baseNll: e.baseNll } : {}), ...(e.adapterNll !== null ? { adapterNll: e.adapterNll } : {}) },
      })),
    );
    ctx.store.evaluations.finish(evaluationId, 'succeeded', result.summary);
  });
}

function storedExamples(evaluationId: string, ctx: CoreContext): EvaluationExample[] {
  return ctx.store.evaluations.examples(evaluationId).map((x) => ({
    index: x.idx,
    tokens: x.scores.tokens ?? 0,
    baseNll: x.scores.baseNll ?? null,
    adapterNll: x.scores.adapterNll ?? null,
    text: x.input,
  }));
}

/** Per-token perplexity exp(NLL / tokens) of one example; null without a measurement or tokens. */
function examplePerplexity(nll: number | null, tokens: number): number | null {
  if (nll === null || tokens <= 0) return null;
  const value = Math.exp(nll / tokens);
  return Number.isFinite(value) ? value : null;
}

function withPerplexity(example: EvaluationExample): EvaluationExampleRow {
  const basePerplexity = examplePerplexity(example.baseNll, example.tokens);
  const adapterPerplexity = examplePerplexity(example.adapterNll, example.tokens);
  const change = basePerplexity !== null && adapterPerplexity !== null && basePerplexity > 0 ? adapterPerplexity / basePerplexity - 1 : null;
  return { ...example, basePerplexity, adapterPerplexity, change };
}

export const runHandlers: HandlerGroup<'runs'> & HandlerGroup<'evaluations'> = {
  'runs.list': ({ projectId }, ctx) => {
    const records = projectId !== undefined ? ctx.store.runs.listByProject(projectId) : ctx.store.projects.list().flatMap((p) => ctx.store.runs.listByProject(p.id));
    const sorted = records.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
    return readableOnly('run', sorted, (r) => toRun(r, ctx));
  },
  'runs.get': ({ id }, ctx) => toRun(getRun(id, ctx), ctx),
  'runs.fusionReport': ({ id }, ctx) => {
    const run = getRun(id, ctx);
    const file = join(runOutputDir(ctx.dataDir, run.id), 'fusion-report.json');
    if (!existsSync(file)) return null;
    const parsed = FusionReport.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (!parsed.success) throw new StudioError('failed', `${file} is not a fusion report this version reads: ${parsed.error.issues[0]?.message}`);
    // a run's adapter is recorded as "<run id>/adapter": show the run's name
    const named = (name: string) => ctx.store.runs.get(name.split('/')[0])?.name ?? name;
    const r = parsed.data;
    return { ...r, comparison: { ...r.comparison, single: r.comparison.single.map((s) => ({ ...s, name: named(s.name) })) } };
  },
  'runs.metrics': ({ id, afterStep }, ctx) => {
    getRun(id, ctx);
    const points: RunMetric[] = ctx.store.runs
      .metrics(id)
      .filter((m) => afterStep === undefined || m.step > afterStep)
      .map((m) => ({ runId: m.runId, step: m.step, values: m.values, at: m.at }));
    return points.sort((a, b) => a.step - b.step || ('eval_loss' in a.values ? 1 : 0) - ('eval_loss' in b.values ? 1 : 0));
  },
  'runs.start': ({ projectId, name, config }, ctx) => {
    if (!ctx.store.projects.get(projectId)) throw notFound('project', projectId);
    checkRunInputs(config);
    const existing = ctx.store.runs.listByProject(projectId).length;
    const record = ctx.store.runs.insert({
      projectId,
      name: name ?? `run ${existing + 1}`,
      config,
      seed: config.seed,
      appVersion: ctx.appVersion,
      status: 'queued',
    });
    launchTrainJob(record, config, false, ctx);
    return toRun(getRun(record.id, ctx), ctx);
  },
  'runs.cancel': ({ id }, ctx) => {
    const record = getRun(id, ctx);
    if (record.jobId) ctx.jobs.cancel(record.jobId);
    // a comparison's member still waiting for its turn has no job yet: it simply never starts
    else if (record.status === 'queued') ctx.store.runs.setStatus(id, { status: 'cancelled', endedAt: new Date().toISOString() });
    return toRun(getRun(id, ctx), ctx);
  },
  'runs.resume': ({ id, acceptDatasetChange }, ctx) => {
    const run = toRun(getRun(id, ctx), ctx);
    if (run.status === 'running' || run.status === 'queued') throw new StudioError('conflict', `run "${run.name}" is still ${run.status}; cancel it before resuming`);
    if (run.status === 'succeeded') throw new StudioError('conflict', `run "${run.name}" already finished; start a new run to train further`);
    // Without a checkpoint a "resume" would silently start over from step 0.
    if (run.checkpointStep === null) throw new StudioError('conflict', `run "${run.name}" has no checkpoint to resume from (it stopped before its first one); start it again as a new run`);
    if (!ctx.store.runs.claimForResume(id)) throw new StudioError('conflict', `run "${run.name}" is already being resumed (by another window or command); follow that one`);
    launchTrainJob(getRun(id, ctx), run.config, true, ctx, acceptDatasetChange);
    return toRun(getRun(id, ctx), ctx);
  },
  'runs.rename': ({ id, name }, ctx) => {
    getRun(id, ctx);
    return toRun(ctx.store.runs.rename(id, name)!, ctx);
  },
  'runs.delete': ({ id }, ctx) => {
    const record = getRun(id, ctx);
    const job = record.jobId ? ctx.store.jobs.get(record.jobId) : null;
    if (job && !TERMINAL.has(job.status)) throw new StudioError('conflict', `run "${record.name}" is still ${job.status}; cancel it before deleting it`);
    // The adapter inside the run folder goes with it; an adapter record pointing there would list a missing folder.
    const adapter = ctx.store.adapters.findByRun(id);
    if (adapter) ctx.store.adapters.delete(adapter.id);
    const folder = runOutputDir(ctx.dataDir, id);
    const hadFolder = existsSync(folder);
    rmSync(folder, { recursive: true, force: true });
    return { deleted: ctx.store.runs.delete(id), removedFolder: hadFolder ? folder : null };
  },

  'evaluations.list': ({ projectId, runId }, ctx) => {
    const projects = projectId !== undefined ? [projectId] : ctx.store.projects.list().map((p) => p.id);
    return projects
      .flatMap((p) => ctx.store.evaluations.listByProject(p))
      .filter((e) => runId === undefined || e.runId === runId)
      .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0))
      .map((e) => toEvaluation(e, ctx));
  },
  'evaluations.get': ({ id }, ctx) => {
    const record = ctx.store.evaluations.get(id);
    if (!record) throw notFound('evaluation', id);
    return { evaluation: toEvaluation(record, ctx), examples: storedExamples(id, ctx) };
  },
  'evaluations.examples': ({ id, sort, order, offset, limit }, ctx) => {
    if (!ctx.store.evaluations.get(id)) throw notFound('evaluation', id);
    const rows = storedExamples(id, ctx).map(withPerplexity);
    const direction = order === 'asc' ? 1 : -1;
    rows.sort((a, b) => {
      const x = a[sort];
      const y = b[sort];
      // examples without the value go last in either order; ties keep the split's order
      if (x === null || y === null) return x === null ? (y === null ? a.index - b.index : 1) : -1;
      return x !== y ? (x - y) * direction : a.index - b.index;
    });
    return { total: rows.length, examples: rows.slice(offset, offset + limit) };
  },
  'evaluations.start': (request, ctx) => {
    if (!ctx.store.projects.get(request.projectId)) throw notFound('project', request.projectId);
    let params: Omit<EvalJobParams, 'evaluationId'>;
    if (request.runId) {
      const run = toRun(getRun(request.runId, ctx), ctx);
      const dataset = request.dataset ?? run.config.dataset;
      // A dataset given here is measured as it says (every row without a split); the run's own must hold rows out.
      if (!request.dataset && dataset.eval_split.kind === 'none') throw new StudioError('invalid_input', `run "${run.name}" has no eval split; pick a dataset to measure (every row of it) or give the run an eval file`, { field: 'dataset' });
      params = {
        model: request.model ?? run.config.model,
        adapterPath: request.adapterPath ?? join(run.outputDir!, 'adapter'),
        dataset,
        trainOn: run.config.train_on,
        maxSeqLength: request.max_seq_length ?? run.config.max_seq_length,
        batchSize: request.batch_size,
        seed: run.config.seed,
        compareBase: request.compareBase,
        method: run.config.method,
        doubleQuant: run.config.bnb_4bit_use_double_quant,
        ...(request.ship ? { ship: request.ship } : {}),
      };
    } else {
      if (!request.model || !request.dataset) throw new StudioError('invalid_input', 'an evaluation needs either a runId, or a model and a dataset');
      const defaults = RunConfig.parse({ model: request.model, dataset: request.dataset });
      params = {
        model: request.model,
        adapterPath: request.adapterPath ?? null,
        dataset: defaults.dataset,
        trainOn: defaults.train_on,
        maxSeqLength: request.max_seq_length ?? defaults.max_seq_length,
        batchSize: request.batch_size,
        seed: defaults.seed,
        compareBase: request.compareBase || request.adapterPath === undefined,
        ...(request.ship ? { ship: request.ship } : {}),
      };
    }
    // A model folder or dataset that is not there is bad input, not a failed evaluation to clean up afterwards.
    checkRunInputs({ model: params.model, dataset: params.dataset }, '');
    const record = ctx.store.evaluations.insert({ projectId: request.projectId, runId: request.runId ?? null, config: { ...params } });
    const job = ctx.jobs.start(EVAL_JOB_KIND, { ...params, evaluationId: record.id } satisfies EvalJobParams, {
      projectId: request.projectId,
      hooks: { onEnd: (ended) => recordEvaluationEnd(record.id, ended, ctx) },
    });
    // The job id goes into the stored config so the evaluation can be reconciled with its job later.
    ctx.store.evaluations.update(record.id, { config: { ...params, jobId: job.id }, ...(TERMINAL.has(job.status) ? {} : { status: 'running' }) });
    return toEvaluation(ctx.store.evaluations.get(record.id)!, ctx);
  },
};
