// A stored record that no longer validates (written by an older version, e.g. the demo's old direct store writes)
// is skipped by its list, named with its reason by system.unreadable, and removed by the method it names.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createStudioCore, type StudioCore } from '../../../src/main/core/index.ts';
import { runOutputDir } from '../../../src/main/core/api/handlers/runs.ts';
import { makeTinyModel } from '../../fixtures/tiny-models.ts';
import { korean } from '../../common/api/phrase-check.ts';

let dir: string;
let core: StudioCore;
let projectId: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lora-unreadable-'));
  core = createStudioCore({ dataDir: join(dir, 'data') });
  projectId = (await core.call('projects.create', { name: 'P' })).id;
});
afterAll(async () => {
  await core.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('unreadable stored records', () => {
  it('lists skip them with a warning naming each; system.unreadable names them; their delete method removes them', async () => {
    const good = join(dir, 'tiny');
    await makeTinyModel(good, 'llama', { seed: 1 });
    const opened = await core.call('models.open', { path: good });
    // What the demo used to write: a summary without the fields the contract requires.
    const badModel = core.store.baseModels.insert({
      source: 'bundled:default-model',
      sourceKind: 'local',
      localPath: '/old/model',
      architecture: 'LlamaForCausalLM',
      config: { model_type: 'llama' },
    });
    const badDataset = core.store.datasets.insert({
      projectId,
      name: 'old import',
      filePath: '/old/data.jsonl',
      format: 'chat',
      hash: 'x',
      rowCount: 3,
      meta: { examples: 'three' },
    });
    const badRun = core.store.runs.insert({
      projectId,
      name: 'old run',
      config: { model: 42 },
      seed: 1,
      appVersion: '0.0.1',
      status: 'failed',
    });
    mkdirSync(runOutputDir(join(dir, 'data'), badRun.id), { recursive: true });
    writeFileSync(join(runOutputDir(join(dir, 'data'), badRun.id), 'trainer_state.json'), '{}');

    const warnings: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (warnings.push(String(chunk)), true));
    try {
      expect((await core.call('models.list', {})).map((m) => m.id)).toEqual([opened.id]);
      expect(await core.call('datasets.list', { projectId })).toEqual([]);
      expect(await core.call('runs.list', { projectId })).toEqual([]);
      await core.call('runs.list', { projectId }); // warned once per record, not on every call
    } finally {
      spy.mockRestore();
    }
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toMatch(
      new RegExp(`skipped stored model ${badModel.id}.*no longer validates.*models\\.delete`),
    );
    expect(warnings[1]).toContain(`dataset ${badDataset.id}`);
    expect(warnings[2]).toContain(`run ${badRun.id}`);

    const unreadable = await core.call('system.unreadable', {});
    expect(unreadable.map((u) => [u.kind, u.id, u.name, u.removeWith])).toEqual([
      ['model', badModel.id, '/old/model', 'models.delete'],
      ['dataset', badDataset.id, 'old import', 'datasets.delete'],
      ['run', badRun.id, 'old run', 'runs.delete'],
    ]);
    expect(unreadable.every((u) => u.reason.length > 0)).toBe(true);
    // each says which field, what it should hold and what it holds, as a phrase (no raw validator message like
    // "Invalid input: expected string, received undefined"), and the file the record stands for
    expect(unreadable.map((u) => [u.field, u.file, u.reasonPhrase?.code])).toEqual([
      [expect.any(String), '/old/model', 'unreadable.stale'],
      ['examples', '/old/data.jsonl', 'unreadable.stale'],
      ['model', runOutputDir(join(dir, 'data'), badRun.id), 'unreadable.stale'],
    ]);
    expect(unreadable[1].reason).toBe(
      `dataset ${badDataset.id}: its stored import report no longer validates: field "examples" should be a number, but it is a text`,
    );
    expect(unreadable[2].reason).toBe(
      `run ${badRun.id}: its stored config no longer validates: field "model" should be a text, but it is a number`,
    );
    for (const u of unreadable) expect(u.reason).not.toMatch(/Invalid input|received/);
    expect(korean(unreadable[1].reasonPhrase!, unreadable[1].reason)).toBe(
      `데이터셋 ${badDataset.id}: 저장된 가져오기 보고서를 더는 읽을 수 없습니다: 필드 "examples"는 숫자여야 합니다 (지금: 텍스트)`,
    );

    for (const u of unreadable)
      expect((await core.invoke(u.removeWith, { id: u.id })) as { deleted: boolean }).toMatchObject({ deleted: true });
    expect(await core.call('system.unreadable', {})).toEqual([]);
    expect(existsSync(runOutputDir(join(dir, 'data'), badRun.id))).toBe(false); // a run goes with its folder
    expect((await core.call('models.list', {})).map((m) => m.id)).toEqual([opened.id]);
  });
});
