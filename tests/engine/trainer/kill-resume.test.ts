// A training process killed with SIGKILL in the middle of a step: resuming from its newest checkpoint
// reproduces the loss curve of an uninterrupted run.
import { afterAll, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BatchPlan } from '../../../src/main/engine/data/batches.ts';
import { train } from '../../../src/main/engine/trainer/trainer.ts';
import { latestCheckpoint, loadCheckpoint } from '../../../src/main/engine/trainer/checkpoint.ts';
import { BigramLoraDouble } from './bigram-lora-double.ts';
import { killTestHyperparameters, makeExamples, PAD, VOCAB } from './fixtures.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const newSession = () => new BigramLoraDouble({ vocab: VOCAB, rank: 4, alpha: 8, dropout: 0.1, seed: 9 });
const newPlan = () => new BatchPlan(makeExamples(40, 1), { seed: 42, microBatchSize: 2, maxLength: 16, padId: PAD });

it('resumes after kill -9 with the uninterrupted losses', async () => {
  const out = await mkdtemp(join(tmpdir(), 'trainer-kill-'));
  dirs.push(out);
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./train-child.ts', import.meta.url)), out], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const killedAfter = await new Promise<number>((resolve, reject) => {
    let buffer = '';
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      const steps = [...buffer.matchAll(/checkpoint (\d+)\n/g)].map((m) => Number(m[1]));
      if (steps.length && steps[steps.length - 1] >= 10) {
        setTimeout(() => child.kill('SIGKILL'), 100); // lands inside step 11 or 12 (80 ms per step)
        resolve(steps[steps.length - 1]);
      }
    });
    child.on('close', (code) => reject(new Error(`child exited (${code}) before checkpoint 10: ${buffer} ${stderr}`)));
  });
  await new Promise((resolve) => child.once('close', resolve));
  expect(child.signalCode).toBe('SIGKILL');

  // Killed mid-run: the newest checkpoint is the one announced, or (on a very loaded machine) a later one, never the end.
  const last = await latestCheckpoint(out);
  const lastStep = (await loadCheckpoint(last!)).state.globalStep;
  expect(lastStep).toBeGreaterThanOrEqual(killedAfter);
  expect(lastStep).toBeLessThan(20);
  expect(last).toMatch(new RegExp(`checkpoint-${lastStep}$`));

  const resumed = await train({ session: newSession(), hyperparameters: killTestHyperparameters(), train: newPlan(), outputDir: out, resumeFrom: last! });
  const straight = await train({ session: newSession(), hyperparameters: killTestHyperparameters(), train: newPlan(), outputDir: join(out, 'straight') });
  expect(resumed.globalStep).toBe(20);
  const a = resumed.logHistory.map((l) => l.loss!);
  const b = straight.logHistory.map((l) => l.loss!);
  expect(a).toHaveLength(20);
  for (let i = 0; i < 20; i++) expect(a[i]).toBeCloseTo(b[i], 6);
});
