// `lora-studio fuse`'s options become a run config with a fusion section; bad input is refused naming the flag.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildFuseConfig, type FuseFlags } from '../../src/main/cli/commands/fuse.ts';

const root = mkdtempSync(join(tmpdir(), 'fuse-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
for (const a of ['a', 'b']) {
  mkdirSync(join(root, a));
  writeFileSync(join(root, a, 'adapter_config.json'), '{}');
}
writeFileSync(join(root, 'mix.jsonl'), '{"text":"x"}\n');
const flags = (over: Partial<FuseFlags> = {}): FuseFlags => ({
  base: 'model',
  adapter: ['a', 'b'],
  dataset: 'mix.jsonl',
  mode: 'weights',
  maxSteps: '10',
  ...over,
});

describe('fuse options', () => {
  it('build a run config with the fusion section, absolute adapter paths and the mode’s learning rate', async () => {
    const c = await buildFuseConfig(flags({ perLayer: true, rank: '4' }), root);
    expect(c.fusion).toMatchObject({
      adapters: [join(root, 'a'), join(root, 'b')],
      mode: 'weights',
      per_layer: true,
      weighting: 'softmax',
      rank: 4,
    });
    expect(c.learning_rate).toBe(5e-2);
    expect(c.max_steps).toBe(10);
    expect(c.dataset.eval_split).toEqual({ kind: 'ratio', ratio: 0.1 });
    const att = await buildFuseConfig(flags({ mode: 'attention', attentionDim: '8', evalFile: 'mix.jsonl' }), root);
    expect(att.fusion).toMatchObject({ mode: 'attention', attention_dim: 8 });
    expect(att.dataset.eval_split).toEqual({ kind: 'file', path: join(root, 'mix.jsonl') });
  });

  it('default to the mode’s number of updates: 60 for weights, 160 for attention (what demo --fusion measured)', async () => {
    expect((await buildFuseConfig(flags({ maxSteps: undefined }), root)).max_steps).toBe(60);
    expect((await buildFuseConfig(flags({ mode: 'attention', maxSteps: undefined }), root)).max_steps).toBe(160);
    expect((await buildFuseConfig(flags({ mode: 'attention', maxSteps: '7' }), root)).max_steps).toBe(7);
  });

  it('refuse bad input naming what to fix', async () => {
    await expect(buildFuseConfig(flags({ mode: 'mix' }), root)).rejects.toThrow(
      /--mode must be weights or attention, got "mix"/,
    );
    await expect(buildFuseConfig(flags({ adapter: ['a'] }), root)).rejects.toThrow(/at least two --adapter folders/);
    await expect(buildFuseConfig(flags({ adapter: ['a', 'nowhere'] }), root)).rejects.toThrow(
      /nowhere: no adapter_config.json there/,
    );
    await expect(buildFuseConfig(flags({ mode: 'attention', rank: '4' }), root)).rejects.toThrow(
      /belong to --mode weights/,
    );
    await expect(buildFuseConfig(flags({ rank: 'four' }), root)).rejects.toThrow(/--rank/);
  });
});
