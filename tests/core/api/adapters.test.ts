// Adapters through the real core: imported PEFT folders (checked against their base model), a finished run's
// adapter listed with its run's name and model, the weighted combination of two adapters (a worker job) whose
// update equals the weighted sum of theirs, and the errors that say what to do.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Adapter, AdapterDetail } from '../../../src/common/api/adapters.ts';
import { RunConfig, type Run } from '../../../src/common/api/runs.ts';
import { createStudioCore, type StudioCore } from '../../../src/main/core/index.ts';
import { loraDelta } from '../../../src/main/formats/merge/index.ts';
import { layerScale, readAdapter } from '../../../src/main/formats/peft/index.ts';
import { makeTinyModel } from '../../fixtures/tiny-models.ts';
import { makeChatFixture, type ChatFixture } from '../../engine/generate/fixtures.ts';

let dir: string;
let core: StudioCore;
let projectId: string;
let fx: ChatFixture;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lora-adapters-'));
  core = createStudioCore({ dataDir: join(dir, 'data'), testJobs: false });
  projectId = ((await core.invoke('projects.create', { name: 'adapters' })) as { id: string }).id;
  fx = await makeChatFixture(dir, { adapters: 2 });
});
afterAll(async () => {
  await core.close();
  rmSync(dir, { recursive: true, force: true });
});

const list = async () => (await core.invoke('adapters.list', { projectId })) as Adapter[];

describe('adapters service', () => {
  it('imports PEFT folders, checked against their base model, and describes them', async () => {
    const a = (await core.invoke('adapters.import', {
      projectId,
      path: fx.adapters[0],
      name: 'qvd',
      model: fx.model.dir,
    })) as Adapter;
    expect(a).toMatchObject({
      name: 'qvd',
      source: 'imported',
      r: 4,
      loraAlpha: 8,
      baseModel: fx.model.dir,
      problem: null,
      targetModules: ['down_proj', 'q_proj', 'v_proj'],
    });
    expect(a.sizeBytes).toBeGreaterThan(0);
    const detail = (await core.invoke('adapters.get', { id: a.id })) as AdapterDetail;
    const loaded = await readAdapter(fx.adapters[0]);
    expect(detail.layers).toBe(loaded.layers.size);
    expect(detail.parameters).toBe([...loaded.layers.values()].reduce((n, l) => n + l.A.length + l.B.length, 0));
    expect(detail.config).toMatchObject({ r: 4, lora_alpha: 8, peft_type: 'LORA' });
    expect(detail.files.map((f) => f.name)).toEqual(
      expect.arrayContaining(['adapter_config.json', 'adapter_model.safetensors']),
    );
    expect(detail.files.reduce((n, f) => n + f.sizeBytes, 0)).toBe(a.sizeBytes);

    await expect(core.invoke('adapters.import', { projectId, path: fx.adapters[0] })).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringContaining('already in this project as “qvd”'),
    });
    await expect(core.invoke('adapters.import', { projectId, path: fx.model.dir })).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringContaining('adapter_config.json is missing'),
    });
    await expect(core.invoke('adapters.import', { projectId, path: join(dir, 'nowhere') })).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringContaining('is not a folder'),
    });
    // An adapter for another model: the base model's layers do not match, and the error says so.
    const gpt2 = await makeTinyModel(join(dir, 'gpt2'), 'gpt2', { seed: 3 });
    await expect(
      core.invoke('adapters.import', { projectId, path: fx.adapters[1], model: gpt2.dir }),
    ).rejects.toMatchObject({ code: 'invalid_input', message: expect.stringContaining('adapter for another model') });
    expect((await list()).map((x) => x.name)).toEqual(['qvd']);
  });

  it('combines two adapters with weights into one whose update is exactly the weighted sum', async () => {
    const second = (await core.invoke('adapters.import', {
      projectId,
      path: fx.adapters[1],
      name: 'ou',
      model: fx.model.dir,
    })) as Adapter;
    const first = (await list()).find((x) => x.name === 'qvd')!;
    const started = (await core.invoke('adapters.combine', {
      projectId,
      name: 'Blend 1',
      adapters: [
        { id: first.id, weight: 0.5 },
        { id: second.id, weight: -1.25 },
      ],
    })) as { jobId: string; path: string };
    expect(started.path).toBe(join(dir, 'data', 'adapters', 'blend-1'));
    const job = await core.jobs.waitFor(started.jobId);
    expect(job.status, job.error ?? '').toBe('succeeded');
    const blend = (await list()).find((x) => x.name === 'Blend 1')!;
    expect(blend).toMatchObject({ source: 'combined', r: 8, loraAlpha: 8, baseModel: fx.model.dir, problem: null });
    // It records what it was made of, in its own folder, and says so in the list and in its detail.
    const parts = [
      { adapterId: first.id, name: 'qvd', path: first.path, weight: 0.5 },
      { adapterId: second.id, name: 'ou', path: second.path, weight: -1.25 },
    ];
    expect(blend.combinedFrom).toEqual(parts);
    expect(((await core.invoke('adapters.get', { id: blend.id })) as Adapter).combinedFrom).toEqual(parts);
    expect(JSON.parse(readFileSync(join(blend.path, 'combined_from.json'), 'utf8')).parts).toEqual(parts);
    expect(first.combinedFrom).toBeNull();

    const [a, b, c] = await Promise.all([
      readAdapter(fx.adapters[0]),
      readAdapter(fx.adapters[1]),
      readAdapter(blend.path),
    ]);
    expect(new Set(c.layers.keys())).toEqual(new Set([...a.layers.keys(), ...b.layers.keys()]));
    for (const [module, layer] of c.layers) {
      const expected = [
        ...(a.layers.has(module)
          ? [{ layer: a.layers.get(module)!, scale: 0.5 * layerScale(a.config, a.layers.get(module)!) }]
          : []),
        ...(b.layers.has(module)
          ? [{ layer: b.layers.get(module)!, scale: -1.25 * layerScale(b.config, b.layers.get(module)!) }]
          : []),
      ];
      const want = loraDelta(expected, false);
      const got = loraDelta([{ layer, scale: layerScale(c.config, layer) }], false);
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(want[i] - got[i]));
      expect(worst, module).toBeLessThan(1e-5);
    }

    await expect(
      core.invoke('adapters.combine', { projectId, name: 'blend 1', adapters: [{ id: first.id }, { id: second.id }] }),
    ).rejects.toMatchObject({ code: 'conflict', message: expect.stringContaining('set overwrite') });
    await expect(
      core.invoke('adapters.combine', { projectId, name: 'solo', adapters: [{ id: first.id }] }),
    ).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(
      core.invoke('adapters.combine', { projectId, name: 'a/b', adapters: [{ id: first.id }, { id: second.id }] }),
    ).rejects.toMatchObject({ code: 'invalid_input', message: expect.stringContaining('name') });

    expect((await core.invoke('adapters.delete', { id: blend.id })) as { deleted: boolean }).toEqual({ deleted: true });
    expect((await list()).map((x) => x.name).sort()).toEqual(['ou', 'qvd']);
  });

  it('lists a finished run’s adapter under the run’s name, with its base model, and keeps it while the run exists', async () => {
    const runDir = join(dir, 'run');
    mkdirSync(runDir, { recursive: true });
    const rows = Array.from({ length: 12 }, (_, i) => ({ text: `Line ${i} of the notes.` }));
    writeFileSync(join(runDir, 'notes.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const config = RunConfig.parse({
      model: fx.model.dir,
      dataset: { path: join(runDir, 'notes.jsonl'), template: { kind: 'plain' } },
      lora: { r: 2, lora_alpha: 4, target_modules: ['q_proj', 'v_proj'] },
      max_steps: 2,
      micro_batch_size: 2,
      gradient_accumulation_steps: 1,
      max_seq_length: 16,
    });
    const run = (await core.invoke('runs.start', { projectId, name: 'notes r2', config })) as Run;
    const job = await core.jobs.waitFor(run.jobId!);
    expect(job.status, job.error ?? '').toBe('succeeded');
    const adapter = (await list()).find((x) => x.runId === run.id)!;
    expect(adapter).toMatchObject({
      name: 'notes r2',
      source: 'run',
      r: 2,
      loraAlpha: 4,
      baseModel: fx.model.dir,
      step: 2,
      targetModules: ['q_proj', 'v_proj'],
    });
    expect((await list()).filter((x) => x.runId === run.id)).toHaveLength(1); // recorded once, however often listed
    await expect(core.invoke('adapters.delete', { id: adapter.id })).rejects.toMatchObject({ code: 'conflict' });

    // The folder removed on disk: the adapter says so rather than failing later.
    rmSync(adapter.path, { recursive: true, force: true });
    const gone = (await list()).find((x) => x.id === adapter.id)!;
    expect(gone.problem).toContain('missing');
    await expect(core.invoke('adapters.get', { id: adapter.id })).rejects.toMatchObject({ code: 'failed' });
  });
});
