// The worker process: started by the supervisor (child_process.fork), receives a `start` message, runs that job
// kind, reports over IPC, and exits. One job per process, so a crash or a leak in one job never touches the core or
// other jobs — except a resident worker (generation), which after its job says `ready` and waits for the next one of
// the same kind, so what the job kind keeps in memory (a loaded model) serves the next turn; `release` ends it.
import { Phrase } from '../../common/api/phrases.ts';
import type { FromWorker, ToWorker } from '../../common/worker-protocol.ts';
import { WORKER_EXIT } from '../../common/worker-protocol.ts';
import { JobCancelled, type JobContext } from './job-kind.ts';
import { jobKinds } from './jobs/index.ts';

if (!process.send) {
  console.error('the LoRA Studio worker must be started by the job supervisor (it needs an IPC channel)');
  process.exit(WORKER_EXIT.badStart);
}

function send(message: FromWorker): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected) return resolve();
    process.send!(message, undefined, {}, () => resolve());
  });
}

async function finish(message: FromWorker, code: number): Promise<never> {
  await send(message);
  process.exit(code);
}

function describe(err: unknown): { message: string; stack?: string; phrase?: Phrase } {
  if (!(err instanceof Error)) return { message: String(err) };
  // An error that says its sentence as a phrase (StudioError, DatasetReadError) keeps it, for a UI in another language.
  const phrase = Phrase.safeParse((err as { phrase?: unknown }).phrase);
  return { message: err.message, stack: err.stack, ...(phrase.success ? { phrase: phrase.data } : {}) };
}

process.on('uncaughtException', (err) => {
  void finish({ type: 'error', ...describe(err) }, WORKER_EXIT.crashed);
});
process.on('unhandledRejection', (reason) => {
  void finish({ type: 'error', ...describe(reason) }, WORKER_EXIT.crashed);
});
// If the supervisor goes away, nobody can receive results: stop rather than run orphaned.
process.on('disconnect', () => process.exit(WORKER_EXIT.jobFailed));

let abort = new AbortController();
let busy = false;

process.on('message', (raw: ToWorker) => {
  if (raw.type === 'cancel') {
    abort.abort();
    return;
  }
  if (raw.type === 'release') {
    if (!busy) process.exit(WORKER_EXIT.ok);
    return;
  }
  if (raw.type !== 'start' || busy) return;
  busy = true;
  abort = new AbortController();
  void runJob(raw.job, raw.resident === true);
});

async function runJob(job: Extract<ToWorker, { type: 'start' }>['job'], resident: boolean): Promise<void> {
  // A one-shot worker exits with the outcome's code; a resident one reports it and stays for the next job.
  const end = async (message: FromWorker, code: number): Promise<void> => {
    if (!resident || code === WORKER_EXIT.badStart) return void (await finish(message, code));
    await send(message);
    busy = false;
    await send({ type: 'ready' });
  };
  const kind = jobKinds().get(job.kind);
  if (!kind) {
    const known = [...jobKinds().keys()];
    await end({ type: 'error', message: `unknown job kind "${job.kind}" (known: ${known.length ? known.join(', ') : 'none'})` }, WORKER_EXIT.badStart);
    return;
  }
  const parsed = kind.params.safeParse(job.params);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`).join('; ');
    await end({ type: 'error', message: `invalid params for ${job.kind}: ${issues}` }, WORKER_EXIT.badStart);
    return;
  }
  const signal = abort.signal;
  const ctx: JobContext = {
    jobId: job.id,
    dataDir: job.dataDir,
    signal,
    progress: (progress, message = null, etaSeconds = null) =>
      void send(
        typeof message === 'object' && message !== null
          ? { type: 'progress', progress, message: message.message, phrase: message.phrase, etaSeconds }
          : { type: 'progress', progress, message, etaSeconds },
      ),
    log: (line, level = 'info') => void send({ type: 'log', level, line }),
    metric: (step, values) => void send({ type: 'metric', step, values }),
    output: (data) => void send({ type: 'output', data }),
  };
  try {
    const result = await kind.run(parsed.data, ctx);
    await end({ type: 'result', result: result ?? null }, WORKER_EXIT.ok);
  } catch (err) {
    if (err instanceof JobCancelled || (signal.aborted && err === signal.reason)) {
      await end({ type: 'cancelled' }, WORKER_EXIT.ok);
      return;
    }
    await end({ type: 'error', ...describe(err) }, WORKER_EXIT.jobFailed);
  }
}
