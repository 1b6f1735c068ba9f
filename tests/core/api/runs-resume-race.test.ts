// Two resumes of one stopped run started together (two terminals, or a terminal and the UI, on one data dir):
// one wins, the other gets a conflict — never two workers training into the same folder.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RunConfig } from '../../../src/common/api/runs.ts';
import { Store } from '../../../src/main/core/store/index.ts';
import { createStudioCore } from '../../../src/main/core/index.ts';

const root = mkdtempSync(join(tmpdir(), 'lora-resume-race-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A failed run with one checkpoint folder, recorded through a core on `dataDir`. */
async function stoppedRun(dataDir: string): Promise<string> {
  const core = createStudioCore({ dataDir, testJobs: false });
  try {
    const project = (await core.invoke('projects.create', { name: `p-${Math.random()}` })) as { id: string };
    const config = RunConfig.parse({ model: join(root, 'no-model'), dataset: { path: join(root, 'no-data.jsonl') } });
    const run = core.store.runs.insert({ projectId: project.id, name: 'stopped', config, seed: 42, appVersion: 'test', status: 'failed' });
    mkdirSync(join(dataDir, 'runs', run.id, 'checkpoints', 'checkpoint-1'), { recursive: true });
    return run.id;
  } finally {
    await core.close();
  }
}

describe('resume races', () => {
  it('the store claims a stopped run for exactly one of two connections', async () => {
    const dataDir = join(root, 'store');
    const id = await stoppedRun(dataDir);
    const a = Store.open(join(dataDir, 'studio.db'));
    const b = Store.open(join(dataDir, 'studio.db'));
    try {
      expect([a.runs.claimForResume(id), b.runs.claimForResume(id)]).toEqual([true, false]);
      expect(a.runs.get(id)).toMatchObject({ status: 'queued', jobId: null });
    } finally {
      a.close();
      b.close();
    }
  });

  it('two `train --resume` processes at once: one starts the job, the other is told it is taken', { timeout: 120_000 }, async () => {
    const dataDir = join(root, 'cli');
    const id = await stoppedRun(dataDir);
    const bin = resolve(import.meta.dirname, '../../../bin/lora-studio.js');
    const run = () =>
      new Promise<{ code: number; stderr: string }>((done) =>
        execFile(process.execPath, [bin, '--data-dir', dataDir, 'train', '--resume', id], { timeout: 100_000 }, (err, _stdout, stderr) =>
          done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr }),
        ),
      );
    const results = await Promise.all([run(), run()]);
    const refused = results.filter((r) => /already being resumed|is still (queued|running)/.test(r.stderr));
    expect(refused, results.map((r) => r.stderr).join('\n----\n')).toHaveLength(1);
    // The winner's job ran (and failed on the missing model): the run has exactly one new job.
    const store = Store.open(join(dataDir, 'studio.db'));
    try {
      expect(store.runs.get(id)!.jobId).not.toBeNull();
      expect(store.jobs.list().length).toBe(1);
    } finally {
      store.close();
    }
  });
});
