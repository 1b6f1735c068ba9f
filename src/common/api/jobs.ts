import { z } from 'zod';

export const JobStatus = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']);
export type JobStatus = z.infer<typeof JobStatus>;

export const Job = z.object({
  id: z.string(),
  kind: z.string(),
  projectId: z.string().nullable(),
  status: JobStatus,
  progress: z.number().min(0).max(1).nullable(),
  message: z.string().nullable(),
  error: z.string().nullable(),
  exitCode: z.number().int().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
});
export type Job = z.infer<typeof Job>;

export const jobMethods = {
  'jobs.list': { input: z.object({ projectId: z.string().optional() }), output: z.array(Job), doc: 'Jobs, newest first.' },
  'jobs.get': { input: z.object({ id: z.string().min(1) }), output: Job, doc: 'One job.' },
  'jobs.cancel': { input: z.object({ id: z.string().min(1) }), output: Job, doc: 'Ask a running job to stop; it ends as cancelled.' },
};

export const jobEvents = {
  'job.status': Job,
  'job.progress': z.object({ jobId: z.string(), progress: z.number().min(0).max(1).nullable(), message: z.string().nullable(), etaSeconds: z.number().nullable().optional() }),
  'job.log': z.object({ jobId: z.string(), level: z.enum(['debug', 'info', 'warn', 'error']), line: z.string(), at: z.string() }),
  'job.metric': z.object({ jobId: z.string(), step: z.number().int(), values: z.record(z.string(), z.number()) }),
};
