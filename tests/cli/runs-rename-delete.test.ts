// `lora-studio runs rename` and `runs delete`, as a user runs them: the same as the run page's Rename and Delete
// (the run's folder goes with it), and a delete off a terminal refused without --yes.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunConfig } from '../../src/common/api/runs.ts';
import { createStudioCore } from '../../src/main/core/index.ts';
import { runOutputDir } from '../../src/main/core/api/handlers/runs.ts';

const bin = resolve(import.meta.dirname, '../../bin/lora-studio.js');
const root = mkdtempSync(join(tmpdir(), 'lora-cli-runs-'));
const dataDir = join(root, 'data');
let runId: string;

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = execFile(
      process.execPath,
      [bin, '--data-dir', dataDir, ...args],
      { timeout: 60_000 },
      (error, stdout, stderr) => done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(); // not a terminal
  });
}

beforeAll(async () => {
  const core = createStudioCore({ dataDir });
  const project = await core.call('projects.create', { name: 'p' });
  // A run that stopped (as after a cancel), with a folder of checkpoints.
  const record = core.store.runs.insert({
    projectId: project.id,
    name: 'first try',
    config: RunConfig.parse({ model: '/m', dataset: { path: '/d.jsonl' } }),
    seed: 42,
    appVersion: 'test',
    status: 'cancelled',
  });
  runId = record.id;
  mkdirSync(join(runOutputDir(dataDir, runId), 'checkpoints', 'checkpoint-5'), { recursive: true });
  writeFileSync(join(runOutputDir(dataDir, runId), 'checkpoints', 'checkpoint-5', 'trainer_state.json'), '{}');
  await core.close();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('lora-studio runs rename / delete', () => {
  it('renames, refuses to delete off a terminal without --yes, then deletes the run and its folder', async () => {
    const renamed = await cli('runs', 'rename', runId, 'baseline');
    expect(renamed).toMatchObject({ code: 0, stdout: 'Renamed "first try" to "baseline"\n' });

    const refused = await cli('runs', 'delete', runId);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/refusing to delete run "baseline" .* without confirmation: add --yes/);
    expect(existsSync(runOutputDir(dataDir, runId))).toBe(true);

    const deleted = await cli('runs', 'delete', runId, '--yes');
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toBe(`Deleted run "baseline" and ${runOutputDir(dataDir, runId)}\n`);
    expect(existsSync(runOutputDir(dataDir, runId))).toBe(false);
    const listed = await cli('runs', 'list', '--json');
    expect(JSON.parse(listed.stdout)).toEqual([]);
  });
});
