// The job supervisor: persists job rows, runs each job in its own worker process, streams the worker's
// reports as `job.*` events, cancels (a polite message, then SIGTERM, then SIGKILL), and turns any worker
// death into a failed job with its last error and exit code — the core's process keeps serving.
// A job started with `resident` (generation) runs in a worker that stays up after it with what it loaded, for the
// next job of the same kind and key (the same model): released when idle past `residentIdleMs`, when memory runs
// short, or when more than `maxIdleResidents` wait.
import { fork, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { freemem, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Job, JobStatus } from '../../../common/api/jobs.ts';
import type { Phrase } from '../../../common/api/phrases.ts';
import { isFromWorker, type FromWorker, type ToWorker } from '../../../common/worker-protocol.ts';
import type { EventBus } from '../events.ts';
import { StudioError, notFound } from '../errors.ts';
import type { Store, JobRecord } from '../store/index.ts';
import { toJob } from '../store/repositories/jobs.ts';
import { defaultWorkerLauncher, type WorkerLauncher } from './launcher.ts';

/** Per-job callbacks for the core service that started it (e.g. a run persisting its metrics). */
export interface JobHooks {
  onMetric?(job: JobRecord, step: number, values: Record<string, number>): void;
  /** Partial output the job streams (JobContext.output), e.g. generated text. */
  onOutput?(job: JobRecord, data: unknown): void;
  /** Called once when the job reaches a terminal status. */
  onEnd?(job: JobRecord): void;
}

export interface SupervisorOptions {
  store: Store;
  events: EventBus;
  dataDir: string;
  launcher?: WorkerLauncher;
  /** Jobs running at once; more wait as `queued`. */
  maxConcurrent?: number;
  /** After a cancel message, how long the job gets to stop by itself before SIGTERM. */
  cancelGraceMs?: number;
  /** After SIGTERM, how long before SIGKILL. */
  termGraceMs?: number;
  /** Extra environment for workers (tests pass LORA_STUDIO_TEST_JOBS here). */
  workerEnv?: Record<string, string>;
  /** Environment computed when each worker starts (the studio's Settings: threads, offline, Hub token). */
  envAtLaunch?: () => Record<string, string>;
  /** How long an idle resident worker keeps its model loaded, read each time one goes idle (default 10 minutes). */
  residentIdleMs?: () => number;
  /** Idle resident workers kept at most; the longest idle goes first (default 2). */
  maxIdleResidents?: number;
  /** True when memory is short: idle resident workers are released (default: under 1 GiB or 10% of RAM available). */
  memoryLow?: () => boolean;
}

/** What `start` may ask beyond the job: its hooks, and a resident worker keyed by what it would load. */
export interface StartOptions {
  projectId?: string | null;
  hooks?: JobHooks;
  /** Run in a worker that outlives the job, reused by the next job of the same kind and key (e.g. model + quant). */
  resident?: { key: string };
}

/** A worker process; a resident one outlives its jobs. */
interface WorkerProcess {
  child: ChildProcess;
  /** Kind, the starter's key and the worker environment, for a resident worker; null: one job, then exit. */
  residentKey: string | null;
  job: { id: string; running: Running } | null;
  /** The job whose log gets the worker's late output lines while it is idle. */
  lastJobId: string;
  idleSince: number;
  idleTimer: NodeJS.Timeout | null;
  exited: Promise<void>;
}

interface Running {
  worker: WorkerProcess;
  hooks: JobHooks;
  cancelRequested: boolean;
  cancelled: boolean;
  result: { value: unknown } | null;
  lastError: string | null;
  /** lastError's sentence as a phrase, when the worker's error carried one. */
  lastErrorPhrase: Phrase | null;
  stderrTail: string[];
  lastProgressWrite: number;
  timers: NodeJS.Timeout[];
}

/** A resident worker seen from outside (tests, doctor): its process id, key and whether it runs a job now. */
export interface ResidentWorker {
  pid: number;
  key: string;
  busy: boolean;
}

const TERMINAL: ReadonlySet<JobStatus> = new Set(['succeeded', 'failed', 'cancelled']);
/** A line of a JavaScript stack trace ("    at fn (file:line:col)"). */
const STACK_FRAME = /^\s+at \S/;
const PROGRESS_WRITE_INTERVAL_MS = 1000; // events go out at once; the row is refreshed at most this often
const STDERR_TAIL_LINES = 20;
const RESIDENT_IDLE_MS = 10 * 60_000;
const MEMORY_CHECK_MS = 15_000;

/** Memory is short when less than 1 GiB or a tenth of RAM is available (Node's freemem is MemAvailable on Linux). */
export function defaultMemoryLow(): boolean {
  return freemem() < Math.max(2 ** 30, totalmem() * 0.1);
}

export class JobSupervisor {
  private readonly store: Store;
  private readonly events: EventBus;
  private readonly dataDir: string;
  private readonly launcher: WorkerLauncher;
  private readonly maxConcurrent: number;
  private readonly cancelGraceMs: number;
  private readonly termGraceMs: number;
  private readonly workerEnv: Record<string, string>;
  private readonly envAtLaunch: () => Record<string, string>;
  private readonly residentIdleMs: () => number;
  private readonly maxIdleResidents: number;
  private readonly memoryLow: () => boolean;
  private readonly running = new Map<string, Running>();
  private readonly workers = new Set<WorkerProcess>();
  private readonly queue: { id: string; hooks: JobHooks; resident: string | null }[] = [];
  private memoryTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(options: SupervisorOptions) {
    this.store = options.store;
    this.events = options.events;
    this.dataDir = options.dataDir;
    this.launcher = options.launcher ?? defaultWorkerLauncher();
    this.maxConcurrent = options.maxConcurrent ?? 2;
    this.cancelGraceMs = options.cancelGraceMs ?? 5000;
    this.termGraceMs = options.termGraceMs ?? 3000;
    this.workerEnv = options.workerEnv ?? {};
    this.envAtLaunch = options.envAtLaunch ?? (() => ({}));
    this.residentIdleMs = options.residentIdleMs ?? (() => RESIDENT_IDLE_MS);
    this.maxIdleResidents = options.maxIdleResidents ?? 2;
    this.memoryLow = options.memoryLow ?? defaultMemoryLow;
    this.failOrphans();
  }

  /** Records a job and starts it (or queues it when `maxConcurrent` jobs are running). */
  start(kind: string, params: unknown, options: StartOptions = {}): Job {
    if (this.closed) throw new StudioError('failed', 'the job supervisor is shut down');
    const record = this.store.jobs.create({ kind, projectId: options.projectId ?? null, params, supervisorPid: process.pid });
    this.publishStatus(record);
    this.queue.push({ id: record.id, hooks: options.hooks ?? {}, resident: options.resident?.key ?? null });
    this.pump();
    return toJob(this.store.jobs.get(record.id)!);
  }

  get(id: string): Job {
    const record = this.store.jobs.get(id);
    if (!record) throw notFound('job', id);
    return toJob(record);
  }

  list(filter: { projectId?: string } = {}): Job[] {
    return this.store.jobs.list(filter).map(toJob);
  }

  /** Asks a job to stop. Queued jobs are cancelled at once; finished jobs are returned unchanged. */
  cancel(id: string): Job {
    const record = this.store.jobs.get(id);
    if (!record) throw notFound('job', id);
    const queuedAt = this.queue.findIndex((q) => q.id === id);
    if (queuedAt >= 0) {
      const [entry] = this.queue.splice(queuedAt, 1);
      return toJob(this.finish(id, entry!.hooks, { status: 'cancelled', message: 'cancelled before it started' }) ?? record);
    }
    const running = this.running.get(id);
    if (!running || running.cancelRequested) return toJob(record);
    running.cancelRequested = true;
    const { child } = running.worker;
    this.sendTo(child, { type: 'cancel' });
    running.timers.push(
      setTimeout(() => {
        child.kill('SIGTERM');
        running.timers.push(setTimeout(() => child.kill('SIGKILL'), this.termGraceMs));
      }, this.cancelGraceMs),
    );
    const updated = this.store.jobs.update(id, { message: 'cancelling…' })!;
    this.publishStatus(updated);
    return toJob(updated);
  }

  /** Cancels every queued or running job of a project (before the project is deleted). */
  cancelProjectJobs(projectId: string): void {
    for (const job of this.store.jobs.list({ projectId, statuses: ['queued', 'running'] })) this.cancel(job.id);
  }

  /** Resolves when the job has reached a terminal status. */
  async waitFor(id: string): Promise<Job> {
    const current = this.get(id);
    if (TERMINAL.has(current.status)) return current;
    return new Promise((resolve) => {
      const off = this.events.on('job.status', (job) => {
        if (job.id === id && TERMINAL.has(job.status)) {
          off();
          resolve(job);
        }
      });
    });
  }

  /** Cancels queued jobs, stops running ones (with the usual grace), releases resident workers and waits for every process to exit. */
  async close(): Promise<void> {
    this.closed = true;
    for (const { id } of [...this.queue]) this.cancel(id);
    for (const id of [...this.running.keys()]) this.cancel(id);
    for (const w of this.workers) if (!w.job) this.release(w);
    await Promise.all([...this.workers].map((w) => w.exited));
    if (this.memoryTimer) clearInterval(this.memoryTimer);
  }

  /** The resident workers alive now. */
  residents(): ResidentWorker[] {
    return [...this.workers].flatMap((w) => (w.residentKey === null ? [] : [{ pid: w.child.pid ?? -1, key: w.residentKey, busy: w.job !== null }]));
  }

  /** Releases every idle resident worker (what they loaded is freed); busy ones finish their job first. */
  releaseIdle(): void {
    for (const w of this.workers) if (w.residentKey !== null && !w.job) this.release(w);
  }

  // ── internals ─────────────────────────────────────────────────────────────────────────────────

  private pump(): void {
    while (!this.closed && this.running.size < this.maxConcurrent && this.queue.length > 0) {
      const next = this.queue.shift()!;
      this.launch(next.id, next.hooks, next.resident);
    }
  }

  private launch(id: string, hooks: JobHooks, resident: string | null): void {
    const record = this.store.jobs.get(id);
    if (!record) return; // deleted with its project while queued
    const launchEnv = this.envAtLaunch();
    // Settings that reach the worker through its environment are part of what it holds: a change needs a new one.
    const envHash = createHash('sha256').update(JSON.stringify(launchEnv)).digest('hex').slice(0, 16); // no token in the key
    const key = resident === null ? null : JSON.stringify([record.kind, resident, envHash]);
    let worker = key === null ? null : this.idleResident(key);
    if (worker) {
      if (worker.idleTimer) clearTimeout(worker.idleTimer);
      worker.idleTimer = null;
    } else {
      if (this.memoryLow()) this.releaseIdle(); // a new process is about to load: make room first
      try {
        worker = this.forkWorker({ ...process.env, ...this.launcher.env, ...this.workerEnv, ...launchEnv }, key, id);
      } catch (err) {
        this.finish(id, hooks, { status: 'failed', error: `could not start a worker: ${(err as Error).message}` });
        return;
      }
    }
    const running: Running = {
      worker, hooks, cancelRequested: false, cancelled: false, result: null, lastError: null, lastErrorPhrase: null, stderrTail: [], lastProgressWrite: 0, timers: [],
    };
    worker.job = { id, running };
    worker.lastJobId = id;
    this.running.set(id, running);
    const started = this.store.jobs.update(id, { status: 'running', startedAt: new Date().toISOString(), supervisorPid: process.pid })!;
    this.publishStatus(started);
    this.sendTo(worker.child, { type: 'start', job: { id, kind: record.kind, params: record.params, dataDir: this.dataDir }, resident: key !== null });
  }

  private forkWorker(env: NodeJS.ProcessEnv, residentKey: string | null, firstJobId: string): WorkerProcess {
    const child = fork(this.launcher.modulePath, [], {
      execArgv: this.launcher.execArgv,
      env,
      silent: true, // pipe the worker's stdout/stderr: they become log lines, and stderr explains crashes
      serialization: 'json',
    });
    let markExited!: () => void;
    const worker: WorkerProcess = {
      child, residentKey, job: null, lastJobId: firstJobId, idleSince: 0, idleTimer: null, exited: new Promise((r) => (markExited = r)),
    };
    this.workers.add(worker);
    child.on('message', (message) => {
      if (!isFromWorker(message)) return;
      if (message.type === 'ready') this.onReady(worker);
      else if (worker.job) this.onWorkerMessage(worker.job.id, worker.job.running, message);
    });
    this.pipeLines(child.stdout, (line) => this.log(worker.job?.id ?? worker.lastJobId, 'info', line));
    this.pipeLines(child.stderr, (line) => {
      const running = worker.job?.running;
      if (running) {
        running.stderrTail.push(line);
        if (running.stderrTail.length > STDERR_TAIL_LINES) running.stderrTail.shift();
      }
      // A crash's stack frames go to the log file only, never to the terminal or the screen.
      this.log(worker.job?.id ?? worker.lastJobId, 'warn', line, line, !STACK_FRAME.test(line));
    });
    child.on('error', (err) => {
      if (worker.job) worker.job.running.lastError ??= `worker process error: ${err.message}`;
    });
    // 'close', not 'exit': it fires once the process has ended AND its stdio and IPC channel are drained, so the
    // worker's last messages (its result or error) and stderr lines are in before the job is finalized.
    child.on('close', (code, signal) => {
      if (worker.idleTimer) clearTimeout(worker.idleTimer);
      this.workers.delete(worker);
      const job = worker.job;
      worker.job = null;
      if (job) {
        for (const t of job.running.timers) clearTimeout(t);
        this.running.delete(job.id);
        this.onWorkerExit(job.id, job.running, code, signal);
      }
      markExited();
      this.pump();
    });
    return worker;
  }

  private idleResident(key: string): WorkerProcess | null {
    for (const w of this.workers) if (w.residentKey === key && !w.job && w.child.connected) return w;
    return null;
  }

  /** A resident worker finished its job and stays up: the job ends here, not at the process's exit. */
  private onReady(worker: WorkerProcess): void {
    const job = worker.job;
    if (!job) return;
    const { id, running } = job;
    for (const t of running.timers) clearTimeout(t);
    worker.job = null;
    this.running.delete(id);
    if (running.result) this.finish(id, running.hooks, { status: 'succeeded', progress: 1, result: running.result.value, exitCode: 0 });
    else if (running.cancelRequested || running.cancelled) this.finish(id, running.hooks, { status: 'cancelled', message: 'cancelled', exitCode: 0 });
    else this.finish(id, running.hooks, { status: 'failed', error: running.lastError ?? 'the job ended without a result', errorPhrase: running.lastErrorPhrase, exitCode: 1 });
    this.keepIdle(worker);
    this.pump();
  }

  /** Keeps an idle resident worker until its idle time runs out, memory runs short or too many wait. */
  private keepIdle(worker: WorkerProcess): void {
    if (this.closed || this.memoryLow()) return this.release(worker);
    worker.idleSince = Date.now();
    worker.idleTimer = setTimeout(() => this.release(worker), this.residentIdleMs());
    worker.idleTimer.unref();
    const idle = [...this.workers].filter((w) => w.residentKey !== null && !w.job).sort((a, b) => a.idleSince - b.idleSince);
    for (const w of idle.slice(0, Math.max(0, idle.length - this.maxIdleResidents))) this.release(w);
    if (!this.memoryTimer) {
      this.memoryTimer = setInterval(() => {
        if (this.memoryLow()) this.releaseIdle();
        if (!this.residents().some((r) => !r.busy) && this.memoryTimer) {
          clearInterval(this.memoryTimer);
          this.memoryTimer = null;
        }
      }, MEMORY_CHECK_MS);
      this.memoryTimer.unref();
    }
  }

  /** Asks an idle worker to exit (then SIGKILL after the grace, should it hang). */
  private release(worker: WorkerProcess): void {
    if (worker.job) return;
    if (worker.idleTimer) clearTimeout(worker.idleTimer);
    worker.idleTimer = null;
    worker.residentKey = worker.residentKey === null ? null : `${worker.residentKey} (released)`; // never reused
    this.sendTo(worker.child, { type: 'release' });
    setTimeout(() => worker.child.kill('SIGKILL'), this.termGraceMs).unref();
  }

  private onWorkerMessage(id: string, running: Running, message: FromWorker): void {
    switch (message.type) {
      case 'progress': {
        const progress = message.progress === null ? null : Math.min(1, Math.max(0, message.progress));
        this.events.publish('job.progress', { jobId: id, progress, message: message.message, etaSeconds: message.etaSeconds, ...(message.phrase ? { phrase: message.phrase } : {}) });
        const at = Date.now();
        if (at - running.lastProgressWrite >= PROGRESS_WRITE_INTERVAL_MS || progress === 1) {
          running.lastProgressWrite = at;
          this.store.jobs.update(id, { progress, message: message.message });
        }
        break;
      }
      case 'log':
        this.log(id, message.level, message.line);
        break;
      case 'metric':
        this.events.publish('job.metric', { jobId: id, step: message.step, values: message.values });
        this.callHook(() => {
          const job = this.store.jobs.get(id);
          if (job) running.hooks.onMetric?.(job, message.step, message.values);
        });
        break;
      case 'output':
        this.callHook(() => {
          const job = this.store.jobs.get(id);
          if (job) running.hooks.onOutput?.(job, message.data);
        });
        break;
      case 'result':
        running.result = { value: message.result };
        break;
      case 'error':
        running.lastError = message.message;
        running.lastErrorPhrase = message.phrase ?? null;
        // The terminal and the UI get the message and where the details are; the stack goes to the log file only.
        this.log(id, 'error', `${message.message} (details in ${this.logFile(id)})`, message.stack ?? message.message);
        break;
      case 'cancelled':
        running.cancelled = true;
        break;
      case 'ready':
        break;
    }
  }

  private onWorkerExit(id: string, running: Running, code: number | null, signal: NodeJS.Signals | null): void {
    if (running.result && code === 0) {
      this.finish(id, running.hooks, { status: 'succeeded', progress: 1, result: running.result.value, exitCode: 0 });
      return;
    }
    if (running.cancelRequested) {
      this.finish(id, running.hooks, { status: 'cancelled', message: 'cancelled', exitCode: code });
      return;
    }
    const how = signal ? `the worker was killed by ${signal}` : `the worker exited with code ${code}`;
    // A crash's stack frames stay in the log file (the stderr tail is logged there as it arrives).
    const stderr = running.stderrTail.filter((l) => l.trim() !== '' && !STACK_FRAME.test(l)).slice(-3).join(' | ');
    const error = running.lastError ?? (stderr ? `${stderr} (${how})` : code === 0 ? 'the worker exited without a result' : how);
    const errorPhrase = running.lastError !== null ? running.lastErrorPhrase : null;
    this.finish(id, running.hooks, { status: 'failed', error, errorPhrase, exitCode: code, message: signal ? how : null });
  }

  private finish(
    id: string,
    hooks: JobHooks,
    outcome: { status: JobStatus; error?: string; errorPhrase?: Phrase | null; exitCode?: number | null; message?: string | null; progress?: number; result?: unknown },
  ): JobRecord | null {
    const updated = this.store.jobs.update(id, {
      status: outcome.status,
      error: outcome.error ?? null,
      errorPhrase: outcome.errorPhrase ?? null,
      exitCode: outcome.exitCode ?? null,
      message: outcome.message ?? null,
      progress: outcome.progress,
      result: outcome.result,
      endedAt: new Date().toISOString(),
    });
    if (!updated) return null; // its project was deleted while it ran: nothing left to record
    this.publishStatus(updated);
    this.callHook(() => hooks.onEnd?.(updated));
    return updated;
  }

  /** Where a job's log (with the stack of a failure) is kept. */
  logFile(id: string): string {
    return join(this.dataDir, 'logs', `${id}.log`);
  }

  /** One log line to subscribers and the job's log file; `fileText` (e.g. a stack trace) replaces it in the file only. */
  private log(id: string, level: 'debug' | 'info' | 'warn' | 'error', line: string, fileText = line, publish = true): void {
    const at = new Date().toISOString();
    if (publish) this.events.publish('job.log', { jobId: id, level, line, at });
    try {
      mkdirSync(join(this.dataDir, 'logs'), { recursive: true });
      appendFileSync(this.logFile(id), `${at} ${level} ${fileText}\n`);
    } catch {
      // a log file we cannot write must not fail the job; the event already went out
    }
  }

  private publishStatus(record: JobRecord): void {
    this.events.publish('job.status', toJob(record));
  }

  private sendTo(child: ChildProcess, message: ToWorker): void {
    if (child.connected) child.send(message, (err) => err && undefined /* the exit handler reports a dead worker */);
  }

  private pipeLines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
    if (!stream) return;
    let buffer = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        onLine(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
      }
    });
    stream.on('end', () => buffer && onLine(buffer));
  }

  private callHook(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      console.error('job hook failed:', err);
    }
  }

  /** Jobs left queued/running by a process that no longer exists can never finish: mark them failed. */
  private failOrphans(): void {
    for (const job of this.store.jobs.list({ statuses: ['queued', 'running'] })) {
      if (job.supervisorPid !== null && job.supervisorPid !== process.pid && isAlive(job.supervisorPid)) continue;
      if (job.supervisorPid === process.pid) continue; // another supervisor in this same process owns it
      const updated = this.store.jobs.update(job.id, {
        status: 'failed',
        error: 'the studio stopped before this job finished',
        endedAt: new Date().toISOString(),
      })!;
      this.publishStatus(updated);
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
