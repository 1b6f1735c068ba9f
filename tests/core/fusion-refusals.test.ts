// Where an AdapterFusion folder (issue 15) cannot go, the core says so before any job starts, as a phrase the UI
// renders in its language: llama.cpp cannot run its per-token attention (chat.create / chat.send with that backend),
// it answers alone and as trained (not stacked, scaled or shipped), and predict / task evaluation (encoder tasks) cannot use a combination of decoder adapters.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStudioCore, type StudioCore } from '../../src/main/core/index.ts';
import { FUSION_CONFIG } from '../../src/main/formats/fusion/index.ts';

const root = mkdtempSync(join(tmpdir(), 'fusion-refusals-'));
const fusion = join(root, 'fusion');
let core: StudioCore;
let projectId: string;

beforeAll(async () => {
  mkdirSync(fusion);
  writeFileSync(join(fusion, FUSION_CONFIG), '{}'); // recognised by its config file; nothing is loaded before the refusal
  core = createStudioCore({ dataDir: join(root, 'data') });
  projectId = (await core.call('projects.create', { name: 'p' })).id;
});
afterAll(async () => {
  await core.close();
  rmSync(root, { recursive: true, force: true });
});

const pane = (adapters: { path: string; weight: number }[], ship?: 'q8_0') => [{ id: 'f', label: 'fused', adapters, ...(ship ? { ship } : {}) }];

describe('an AdapterFusion folder is refused where it cannot answer', () => {
  it('chat with llama.cpp: why, and the learned-weights variant', async () => {
    const r = await core.invokeSafe('chat.create', { projectId, model: '/m', backend: 'llama.cpp', panes: pane([{ path: fusion, weight: 1 }]) });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('invalid_input');
    expect(r.error.message).toMatch(/llama\.cpp cannot answer with the AdapterFusion combination .*every token.*fuse --mode weights/);
    expect(r.error.phrase).toEqual({ code: 'chat.fusionLlamaCpp', params: { path: fusion } });
  });

  it('stacked with another adapter, scaled, or shipped as a GGUF', async () => {
    for (const panes of [pane([{ path: fusion, weight: 1 }, { path: '/other', weight: 1 }]), pane([{ path: fusion, weight: 0.5 }]), pane([{ path: fusion, weight: 1 }], 'q8_0')]) {
      const r = await core.invokeSafe('chat.create', { projectId, model: '/m', backend: 'auto', panes });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.phrase?.code).toBe('chat.fusionAlone');
    }
    // alone, at scale 1, on auto: accepted (the studio engine answers it)
    expect((await core.invokeSafe('chat.create', { projectId, model: '/m', backend: 'auto', panes: pane([{ path: fusion, weight: 1 }]) })).ok).toBe(true);
  });

  it('predict and task evaluation (encoder tasks): a combination of decoder adapters (no task head) names what to do instead', async () => {
    const calls = [
      core.invokeSafe('tasks.predict', { model: '/m', adapterPath: fusion, input: { kind: 'classification', text: 'hi' } }),
      core.invokeSafe('tasks.evaluate', { model: '/m', adapterPath: fusion, task: 'classification', dataset: { path: '/d.jsonl' } }),
    ];
    for (const r of await Promise.all(calls)) {
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.error.code).toBe('invalid_input');
      expect(r.error.phrase).toEqual({ code: 'predict.fusionDecoder', params: { path: fusion } });
      expect(r.error.message).toMatch(/combination of decoder \(language-model\) adapters; predictions and task metrics answer with encoder task models .*lora-studio chat --adapter/);
    }
  });
});
