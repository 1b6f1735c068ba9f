import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { methods } from '../../../src/common/api/contract.ts';
import { createStudioCore, type StudioCore } from '../../../src/main/core/index.ts';
import { DoctorReport } from '../../../src/common/api/system.ts';

let dir: string;
let core: StudioCore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lora-api-'));
  core = createStudioCore({ dataDir: dir, testJobs: false });
});
afterEach(async () => {
  await core.close();
  rmSync(dir, { recursive: true, force: true });
});

async function errorOf(method: string, input: unknown) {
  const outcome = await core.invokeSafe(method, input);
  if (outcome.ok) throw new Error(`${method} unexpectedly succeeded`);
  return outcome.error;
}

describe('validation at the boundary', () => {
  it('names the field that is wrong', async () => {
    const empty = await errorOf('projects.create', { name: '   ' });
    expect(empty.code).toBe('invalid_input');
    expect(empty.message).toBe('invalid input for projects.create: name: a project needs a name');
    expect(empty.details).toEqual({ fields: [{ path: 'name', message: 'a project needs a name' }] });

    const wrongType = await errorOf('projects.create', { name: 42 });
    expect(wrongType.message).toMatch(/^invalid input for projects\.create: name: .*expected string/);

    const tooLong = await errorOf('projects.rename', { id: 'x', name: 'n'.repeat(121) });
    expect(tooLong.message).toMatch(/name: a project name has at most 120 characters/);

    const missing = await errorOf('projects.get', {});
    expect(missing.message).toMatch(/^invalid input for projects\.get: id: /);
  });

  it('refuses unknown fields, so a typo is not silently ignored', async () => {
    const typo = await errorOf('projects.create', { name: 'ok', descripton: 'typo' });
    expect(typo.code).toBe('invalid_input');
    expect(typo.message).toBe('invalid input for projects.create: descripton: unknown field "descripton" (did you mean "description"?)');
    expect(core.store.projects.list()).toEqual([]);
  });

  it('refuses unknown fields at every depth of runs.start, with the path and the name meant, recording nothing', async () => {
    const project = (await core.invoke('projects.create', { name: 'p' })) as { id: string };
    const config = { model: '/m', dataset: { path: '/d.jsonl', template: { kind: 'chat', jinja: 'x' } }, lora: { rank: 8 }, epochz: 2 };
    const err = await errorOf('runs.start', { projectId: project.id, config });
    expect(err.code).toBe('invalid_input');
    expect(err.details).toEqual({
      fields: expect.arrayContaining([
        { path: 'config.lora.rank', message: 'unknown field "rank" (did you mean "r"?)' },
        { path: 'config.epochz', message: 'unknown field "epochz" (did you mean "num_train_epochs"?)' },
        { path: 'config.dataset.template.jinja', message: 'unknown field "jinja" (known here: kind, template)' },
      ]),
    });
    expect(await core.invoke('runs.list', {})).toEqual([]);
  });

  it('refuses a non-object input and an unknown method', async () => {
    expect((await errorOf('projects.list', 'nope')).code).toBe('invalid_input');
    const unknown = await errorOf('projects.explode', {});
    expect(unknown.code).toBe('unknown_method');
    expect(unknown.message).toMatch(/unknown method "projects\.explode"; known methods: .*projects\.list/);
    // Prototype keys are not methods.
    expect((await errorOf('constructor', {})).code).toBe('unknown_method');
  });

  it('treats a missing input as {} and applies defaults', async () => {
    expect(await core.invoke('projects.list', undefined)).toEqual([]);
    const p = (await core.invoke('projects.create', { name: '  trimmed  ' })) as { name: string; description: string };
    expect(p).toMatchObject({ name: 'trimmed', description: '' });
  });
});

describe('projects.*', () => {
  it('create, get, list, rename, delete', async () => {
    const a = (await core.invoke('projects.create', { name: 'Alpha', description: 'first' })) as { id: string };
    const b = (await core.invoke('projects.create', { name: 'Beta' })) as { id: string };
    expect(await core.invoke('projects.get', { id: a.id })).toMatchObject({ name: 'Alpha', description: 'first' });
    expect(((await core.invoke('projects.list', {})) as { id: string }[]).map((p) => p.id)).toEqual([b.id, a.id]);
    expect(await core.invoke('projects.rename', { id: a.id, name: 'Gamma' })).toMatchObject({ id: a.id, name: 'Gamma' });
    expect(await core.invoke('projects.delete', { id: a.id })).toEqual({ deleted: true });
    expect(((await core.invoke('projects.list', {})) as { name: string }[]).map((p) => p.name)).toEqual(['Beta']);
  });

  it('not_found for a missing id, conflict for a duplicate name', async () => {
    for (const method of ['projects.get', 'projects.delete']) {
      const err = await errorOf(method, { id: 'missing' });
      expect(err).toEqual({ code: 'not_found', message: 'no project with id "missing"', details: { id: 'missing' } });
    }
    expect((await errorOf('projects.rename', { id: 'missing', name: 'x' })).code).toBe('not_found');
    await core.invoke('projects.create', { name: 'Same' });
    const dup = await errorOf('projects.create', { name: 'same' });
    expect(dup.code).toBe('conflict');
    expect(dup.message).toMatch(/already exists/);
    const other = (await core.invoke('projects.create', { name: 'Other' })) as { id: string };
    expect((await errorOf('projects.rename', { id: other.id, name: 'SAME' })).code).toBe('conflict');
  });
});

describe('jobs.* and system.*', () => {
  it('jobs.list/get/cancel over stored jobs; not_found for a missing job', async () => {
    const p = (await core.invoke('projects.create', { name: 'P' })) as { id: string };
    const queued = core.store.jobs.create({ kind: 'x', projectId: p.id });
    const other = core.store.jobs.create({ kind: 'y' });
    core.store.jobs.update(other.id, { status: 'succeeded' });
    expect(((await core.invoke('jobs.list', {})) as { id: string }[]).map((j) => j.id)).toEqual([other.id, queued.id]);
    expect(((await core.invoke('jobs.list', { projectId: p.id })) as { id: string }[]).map((j) => j.id)).toEqual([queued.id]);
    expect(await core.invoke('jobs.get', { id: other.id })).toMatchObject({ kind: 'y', status: 'succeeded' });
    // Cancelling a finished job changes nothing.
    expect(await core.invoke('jobs.cancel', { id: other.id })).toMatchObject({ status: 'succeeded' });
    expect((await errorOf('jobs.get', { id: 'nope' })).code).toBe('not_found');
    expect((await errorOf('jobs.cancel', { id: 'nope' })).code).toBe('not_found');
  });

  it('diagnostic jobs are refused unless enabled', async () => {
    const err = await errorOf('jobs.startDiagnostic', { kind: 'diagnostic.sleep' });
    expect(err.code).toBe('failed');
    expect(err.message).toMatch(/LORA_STUDIO_TEST_JOBS=1/);
    expect((await errorOf('jobs.startDiagnostic', { kind: 'diagnostic.nope' })).code).toBe('invalid_input');
  });

  it('system.doctor reports this machine within the contract', async () => {
    const report = DoctorReport.parse(await core.invoke('system.doctor', {}));
    expect(report.node).toBe(process.versions.node);
    expect(report.cpuThreads).toBeGreaterThan(0);
    expect(report.dataDir).toBe(dir);
    expect(report.onnxruntime).toMatchObject({ available: true, version: '1.30.0', error: null });
    expect(report.onnxruntime.backends).toContain('cpu');
    expect(report.cuda.reason.length).toBeGreaterThan(10);
  });

  it('every contract method has a handler that is reachable', async () => {
    for (const method of Object.keys(methods)) {
      const outcome = await core.invokeSafe(method, { definitely_not_a_field: true });
      // Reaching validation (not unknown_method) shows the router knows the method.
      if (!outcome.ok) expect(outcome.error.code, method).not.toBe('unknown_method');
    }
  });
});
