// What a job kind is: a name, a schema for its params, and a function that does the work in the worker
// process, reporting through a context. One file per kind under ./jobs, gathered by ./jobs/index.ts.
import type { z } from 'zod';
import type { LogLevel } from '../../common/worker-protocol.ts';
import type { Said } from '../../common/api/phrases.ts';

export interface JobContext {
  jobId: string;
  dataDir: string;
  /** Aborted when the supervisor asks the job to stop; long loops should check it between steps. */
  signal: AbortSignal;
  /**
   * progress in 0..1 (null = indeterminate), a short message — plain English, or `say(code, params)` so a UI in
   * another language can render it — and an estimate of the seconds left.
   */
  progress(progress: number | null, message?: string | Said | null, etaSeconds?: number | null): void;
  log(line: string, level?: LogLevel): void;
  metric(step: number, values: Record<string, number>): void;
  /** Streams partial output (kind-specific JSON, e.g. generated text) to the service that started the job. */
  output?(data: unknown): void;
}

export interface JobKind<P extends z.ZodType = z.ZodType> {
  name: string;
  doc: string;
  params: P;
  run(params: z.output<P>, ctx: JobContext): Promise<unknown>;
}

/** Helps type inference of `params` in a kind's `run`. */
export function defineJobKind<P extends z.ZodType>(kind: JobKind<P>): JobKind<P> {
  return kind;
}

/** Thrown (or used as the rejection) when a job stops because it was cancelled. */
export class JobCancelled extends Error {
  constructor() {
    super('cancelled');
    this.name = 'JobCancelled';
  }
}

/** Sleeps `ms`, rejecting with JobCancelled as soon as the signal aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new JobCancelled());
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new JobCancelled());
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
