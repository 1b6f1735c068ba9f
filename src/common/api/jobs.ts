import { z } from 'zod';
import { Phrase } from './phrases.ts';

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
  /** The error's sentence as a phrase, for a UI in another language (absent when the error said none). */
  errorPhrase: Phrase.optional(),
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
  'jobs.logTail': {
    input: z.object({ id: z.string().min(1), lines: z.number().int().min(1).max(2000).default(200) }),
    output: z.array(z.object({ at: z.string(), level: z.enum(['debug', 'info', 'warn', 'error']), line: z.string() })),
    doc: 'The last lines of a job’s log (logs/<job id>.log), oldest first; empty before it logged anything.',
  },
  'jobs.startDiagnostic': {
    input: z.discriminatedUnion('kind', [
      z.object({
        kind: z.literal('diagnostic.sleep'),
        projectId: z.string().min(1).optional(),
        steps: z.number().int().min(1).max(10_000).default(5),
        stepMs: z.number().int().min(0).max(60_000).default(100),
      }),
      z.object({
        kind: z.literal('diagnostic.crash'),
        projectId: z.string().min(1).optional(),
        mode: z.enum(['exception', 'exit', 'signal', 'throw']),
        afterMs: z.number().int().min(0).max(60_000).default(50),
      }),
    ]),
    output: Job,
    doc: 'Start a diagnostic job (sleeps with progress, or crashes). Only when the core runs with LORA_STUDIO_TEST_JOBS=1.',
  },
};

export const jobEvents = {
  'job.status': Job,
  'job.progress': z.object({
    jobId: z.string(),
    progress: z.number().min(0).max(1).nullable(),
    message: z.string().nullable(),
    etaSeconds: z.number().nullable().optional(),
    /** The message as a code + parameters, when the job said one (common/api/phrases.ts); a UI renders it in its language. */
    phrase: Phrase.nullable().optional(),
  }),
  'job.log': z.object({ jobId: z.string(), level: z.enum(['debug', 'info', 'warn', 'error']), line: z.string(), at: z.string() }),
  'job.metric': z.object({ jobId: z.string(), step: z.number().int(), values: z.record(z.string(), z.number()) }),
};
