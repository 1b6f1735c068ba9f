// Comparison groups: "LoRA vs full fine-tuning" and r / target_modules sweeps as one action each. Every member run
// is recorded at once (status queued, no job yet) so the Runs page and the CLI see the whole plan; they train one
// after the other: the end of one member's job starts the next (in the process that started the group); a cancelled
// member stops the chain, and compare.resume starts the next waiting member of such a stalled group (also when its
// process stopped mid-group). The report reads
// each member's figures from its run record (training time, trainable parameters, peak RSS of the worker, the final
// and best metric) and its output folder's size on disk.
import { existsSync } from 'node:fs';
import type { RunGroup, RunGroupReport, RunGroupRow, RunGroupStarted } from '../../../../common/api/compare.ts';
import type { RunConfig } from '../../../../common/api/runs.ts';
import { folderBytes } from '../../../formats/files.ts';
import { StudioError, notFound } from '../../errors.ts';
import { checkRunInputs } from '../../run-inputs.ts';
import { groupMetric, methodPlans, resolvePlans, sweepPlans, type MemberPlan } from '../../run-groups.ts';
import { RunGroupRepository, type RunGroupKind, type RunGroupRecord } from '../../store/repositories/run-groups.ts';
import { launchTrainJob, toRun } from './runs.ts';
import type { CoreContext, HandlerGroup } from './types.ts';

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);
const groupsOf = (ctx: CoreContext) => new RunGroupRepository(ctx.store.db);

interface GroupMeta {
  task: RunConfig['task'];
  model: string;
  dataset: string;
  members: Record<string, Omit<RunGroup['members'][number], 'runId' | 'position' | 'label'>>;
}

function toGroup(record: RunGroupRecord): RunGroup {
  const meta = record.meta as unknown as GroupMeta;
  return {
    id: record.id,
    projectId: record.projectId,
    kind: record.kind,
    name: record.name,
    task: meta.task,
    model: meta.model,
    dataset: meta.dataset,
    metric: groupMetric(meta.task),
    members: record.members.map((m) => ({ ...m, ...meta.members[m.runId] })),
    createdAt: record.createdAt,
  };
}

/** A member is busy when its job has not ended (queued in the supervisor or training). */
function busy(runId: string, ctx: CoreContext): boolean {
  const run = ctx.store.runs.get(runId);
  if (!run?.jobId) return false;
  const job = ctx.store.jobs.get(run.jobId);
  return job !== null && !TERMINAL.has(job.status);
}

/** Starts the group's next waiting member unless one is training; claims it first so two processes never both do. */
function advance(groupId: string, ctx: CoreContext): void {
  const group = groupsOf(ctx).get(groupId);
  if (!group || group.members.some((m) => busy(m.runId, ctx))) return;
  for (const m of group.members) {
    const record = ctx.store.runs.get(m.runId);
    if (!record || record.status !== 'queued' || record.jobId !== null) continue;
    const claimed = ctx.store.db.prepare(`UPDATE runs SET status = 'running' WHERE id = ? AND status = 'queued' AND job_id IS NULL`).run(m.runId).changes === 1;
    if (!claimed) return;
    // a cancelled member (the user's cancel, or this process closing) stops the chain: the group stalls until resumed
    launchTrainJob(record, record.config as RunConfig, false, ctx, false, (ended) => {
      if (ended.status !== 'cancelled') advance(groupId, ctx);
    });
    return;
  }
}

async function start(kind: RunGroupKind, input: { projectId: string; name?: string; config: RunConfig }, plans: MemberPlan[], ctx: CoreContext): Promise<RunGroupStarted> {
  if (!ctx.store.projects.get(input.projectId)) throw notFound('project', input.projectId);
  checkRunInputs(input.config);
  const { plans: resolved, warnings } = await resolvePlans(plans);
  const existing = groupsOf(ctx).listByProject(input.projectId).filter((g) => g.kind === kind).length;
  const name = input.name ?? `${kind === 'methods' ? 'LoRA vs full' : 'sweep'} ${existing + 1}`;
  const records = ctx.store.transaction(() =>
    resolved.map((plan) =>
      ctx.store.runs.insert({
        projectId: input.projectId,
        // the run's name is data every face shows as is: "full" rather than English words a Korean studio cannot translate
        name: `${name} · ${plan.member.method === 'full' ? 'full' : plan.member.label}`,
        config: plan.config,
        seed: plan.config.seed,
        appVersion: ctx.appVersion,
        status: 'queued',
      }),
    ),
  );
  const meta: GroupMeta = {
    task: input.config.task,
    model: input.config.model,
    dataset: input.config.dataset.path,
    members: Object.fromEntries(records.map((r, i) => [r.id, { method: resolved[i].member.method, r: resolved[i].member.r, targets: resolved[i].member.targets }])),
  };
  const group = groupsOf(ctx).insert({
    projectId: input.projectId,
    kind,
    name,
    meta: meta as unknown as Record<string, unknown>,
    members: records.map((r, i) => ({ runId: r.id, label: resolved[i].member.label })),
  });
  advance(group.id, ctx);
  return {
    group: toGroup(group),
    runs: records.map((r) => toRun(ctx.store.runs.get(r.id)!, ctx)),
    warnings: warnings.map((w) => ({ message: w.message, phrase: w.phrase })),
  };
}

async function report(record: RunGroupRecord, ctx: CoreContext): Promise<RunGroupReport> {
  const group = toGroup(record);
  const rows: RunGroupRow[] = [];
  for (const member of group.members) {
    const stored = ctx.store.runs.get(member.runId);
    if (!stored) continue;
    const run = toRun(stored, ctx);
    const s = run.summary;
    const output = s?.adapterPath && existsSync(s.adapterPath) ? await folderBytes(s.adapterPath) : null;
    const metric =
      group.metric.key === 'eval_perplexity' ? (s?.evalPerplexity ?? null) : (s?.evalMetrics?.[group.metric.key] ?? null);
    rows.push({
      ...member,
      name: run.name,
      status: run.status,
      seconds: s?.seconds ?? null,
      trainableParameters: s?.trainableParameters ?? null,
      peakRssBytes: s?.peakRssBytes ?? null,
      outputBytes: output,
      metric,
      bestMetric: s?.best && s.best.metric === group.metric.key ? s.best.value : null,
    });
  }
  const done = rows.every((r) => TERMINAL.has(r.status));
  return { group, rows, done, stalled: !done && !group.members.some((m) => busy(m.runId, ctx)) };
}

function getGroup(id: string, ctx: CoreContext): RunGroupRecord {
  const group = groupsOf(ctx).get(id);
  if (!group) throw notFound('comparison group', id);
  return group;
}

export const compareHandlers: HandlerGroup<'compare'> = {
  'compare.methods': (input, ctx) => start('methods', input, methodPlans(input.config, input.full_learning_rate), ctx),
  'compare.sweep': (input, ctx) => start('sweep', input, sweepPlans(input.config, input.r, input.target_modules), ctx),
  'compare.list': async ({ projectId }, ctx) => {
    if (!ctx.store.projects.get(projectId)) throw notFound('project', projectId);
    const out: RunGroupReport[] = [];
    for (const g of groupsOf(ctx).listByProject(projectId)) out.push(await report(g, ctx));
    return out;
  },
  'compare.get': ({ id }, ctx) => report(getGroup(id, ctx), ctx),
  'compare.resume': ({ id }, ctx) => {
    getGroup(id, ctx);
    advance(id, ctx);
    return report(getGroup(id, ctx), ctx);
  },
  'compare.cancel': async ({ id }, ctx) => {
    const group = getGroup(id, ctx);
    const now = new Date().toISOString();
    // the waiting members first, so the training one's end starts nothing
    for (const m of group.members) {
      const run = ctx.store.runs.get(m.runId);
      if (run && run.status === 'queued' && run.jobId === null) ctx.store.runs.setStatus(run.id, { status: 'cancelled', endedAt: now });
    }
    for (const m of group.members) {
      const run = ctx.store.runs.get(m.runId);
      if (run?.jobId && busy(run.id, ctx)) ctx.jobs.cancel(run.jobId);
    }
    if (group.members.length === 0) throw new StudioError('conflict', `comparison group "${group.name}" has no runs left`);
    return report(getGroup(id, ctx), ctx);
  },
};
