// Messages between the job supervisor (core) and a worker process, over the child_process IPC channel.
// Lives in common because both sides import it and neither may import the other.

import type { Phrase } from './api/phrases.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * Supervisor → worker. `resident`: after this job the worker stays up (its loaded model kept) and says `ready`
 * instead of exiting, waiting for the next `start`; `release` asks an idle resident worker to exit.
 */
export type ToWorker =
  | { type: 'start'; job: { id: string; kind: string; params: unknown; dataDir: string }; resident?: boolean }
  | { type: 'cancel' }
  | { type: 'release' };

/** Worker → supervisor. */
export type FromWorker =
  /** `phrase`: the message as a code + parameters (common/api/phrases.ts), for a UI in another language. */
  | { type: 'progress'; progress: number | null; message: string | null; etaSeconds: number | null; phrase?: Phrase | null }
  | { type: 'log'; level: LogLevel; line: string }
  | { type: 'metric'; step: number; values: Record<string, number> }
  /** Partial output a job streams to the service that started it (e.g. generated text); kind-specific JSON. */
  | { type: 'output'; data: unknown }
  | { type: 'result'; result: unknown }
  /** `phrase`: the error's sentence as a code + parameters when the thrown error carried one (error.phrase). */
  | { type: 'error'; message: string; stack?: string; phrase?: Phrase }
  | { type: 'cancelled' }
  /** A resident worker finished its job (after its result, error or cancelled message) and can take the next. */
  | { type: 'ready' };

/**
 * Exit codes a worker uses, so the supervisor can tell outcomes apart even when a message was lost:
 * 0 after a result or a cancel, 1 when the job threw, 2 for a bad start message / unknown kind,
 * 70 (EX_SOFTWARE) for an uncaught exception or unhandled rejection.
 */
export const WORKER_EXIT = { ok: 0, jobFailed: 1, badStart: 2, crashed: 70 } as const;

export function isFromWorker(value: unknown): value is FromWorker {
  if (typeof value !== 'object' || value === null) return false;
  const type = (value as { type?: unknown }).type;
  return type === 'progress' || type === 'log' || type === 'metric' || type === 'output' || type === 'result' || type === 'error' || type === 'cancelled' || type === 'ready';
}

/** CPU threads a worker's engine uses (training and inference), set by the core from Settings; unset: all. */
export const WORKER_THREADS_ENV = 'LORA_STUDIO_THREADS';

/** The thread count in LORA_STUDIO_THREADS, or null when unset; a malformed value is an error, not a silent default. */
export function parseWorkerThreads(value: string | undefined): number | null {
  if (value === undefined || value === '') return null;
  if (!/^[1-9][0-9]{0,3}$/.test(value)) throw new Error(`${WORKER_THREADS_ENV} must be a whole number of CPU threads from 1, got "${value}"`);
  return Number(value);
}
