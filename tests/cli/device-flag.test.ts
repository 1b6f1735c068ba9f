// `lora-studio train --device auto|cpu|cuda` sets the run config's executor; the default is auto, and anything
// else is refused by the contract with the field and the allowed values.
import { describe, expect, it } from 'vitest';
import { buildRunConfig } from '../../src/main/cli/commands/train.ts';

const base = { model: '/models/tiny', dataset: '/data/rows.jsonl' };

describe('train --device', () => {
  it('defaults to auto and takes cpu or cuda', async () => {
    expect((await buildRunConfig(base)).executor).toBe('auto');
    expect((await buildRunConfig({ ...base, device: 'cpu' })).executor).toBe('cpu');
    expect((await buildRunConfig({ ...base, device: 'cuda' })).executor).toBe('cuda');
  });

  it('refuses an unknown device, naming the field and the choices', async () => {
    await expect(buildRunConfig({ ...base, device: 'tpu' })).rejects.toThrow(
      /executor: .*"auto" \| "cpu" \| "cuda"|executor: .*auto.*cpu.*cuda/,
    );
  });
});
