// Diagnostic job kinds, registered only when LORA_STUDIO_TEST_JOBS=1: they exercise the supervisor's
// paths (progress, cancel, failure, crash) without any real work, for tests and for `doctor`-style checks.
import { z } from 'zod';
import { defineJobKind, sleep } from '../job-kind.ts';

export const sleepJob = defineJobKind({
  name: 'diagnostic.sleep',
  doc: 'Sleeps in steps, reporting progress, a log line and a metric per step; honours cancel.',
  params: z.object({ steps: z.number().int().min(1).max(10_000).default(5), stepMs: z.number().int().min(0).max(60_000).default(100), ignoreCancel: z.boolean().default(false) }),
  async run(params, ctx) {
    const started = Date.now();
    for (let step = 1; step <= params.steps; step++) {
      // ignoreCancel simulates a job stuck in native code, to test the supervisor's SIGTERM/SIGKILL escalation.
      await sleep(params.stepMs, params.ignoreCancel ? new AbortController().signal : ctx.signal);
      const elapsed = (Date.now() - started) / 1000;
      ctx.progress(step / params.steps, `step ${step} of ${params.steps}`, (elapsed / step) * (params.steps - step));
      ctx.log(`finished step ${step}`);
      ctx.metric(step, { loss: 1 / step });
    }
    return { steps: params.steps };
  },
});

export const crashJob = defineJobKind({
  name: 'diagnostic.crash',
  doc: 'Crashes the worker after a delay: an uncaught exception, process.exit(code), a SIGKILL, or a thrown error.',
  params: z.object({
    mode: z.enum(['exception', 'exit', 'signal', 'throw']),
    afterMs: z.number().int().min(0).max(60_000).default(50),
    exitCode: z.number().int().min(1).max(125).default(3),
    message: z.string().default('diagnostic crash'),
  }),
  async run(params, ctx) {
    ctx.progress(0.5, 'about to crash');
    await sleep(params.afterMs, ctx.signal);
    switch (params.mode) {
      case 'exception':
        // Thrown from a timer callback, outside any promise the worker awaits: a genuine uncaught exception.
        setTimeout(() => {
          throw new Error(params.message);
        }, 0);
        return new Promise(() => {});
      case 'exit':
        process.stderr.write(`${params.message}\n`);
        return process.exit(params.exitCode); // never returns; `return` tells the linter there is no fall-through
      case 'signal':
        process.kill(process.pid, 'SIGKILL');
        return new Promise(() => {});
      case 'throw':
        throw new Error(params.message);
    }
  },
});

/** Jobs this process has run: state that survives between jobs only in a resident worker. */
let turnsInThisProcess = 0;

export const turnJob = defineJobKind({
  name: 'diagnostic.turn',
  doc: 'Counts the jobs its worker process has run and returns the count with the pid (what a resident worker keeps); sleeps first, honouring cancel, or crashes.',
  params: z.object({ sleepMs: z.number().int().min(0).max(60_000).default(0), crash: z.boolean().default(false) }),
  async run(params, ctx) {
    turnsInThisProcess++;
    await sleep(params.sleepMs, ctx.signal);
    if (params.crash) process.kill(process.pid, 'SIGKILL');
    return { pid: process.pid, turn: turnsInThisProcess };
  },
});
