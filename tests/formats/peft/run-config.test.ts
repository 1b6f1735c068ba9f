// A run's `lora` section → PEFT's LoraConfig: the one mapping the trainer (adapter_config.json) and the core's plan
// (trainable counts) share.
import { describe, expect, it } from 'vitest';
import { LoraSection } from '../../../src/common/api/runs.ts';
import {
  defaultLoraConfig,
  loraConfigForRun,
  parseLoraConfig,
  serializeLoraConfig,
} from '../../../src/main/formats/peft/index.ts';

describe('loraConfigForRun', () => {
  it("carries every field of the run's lora section and records the base model", () => {
    const lora = LoraSection.parse({
      r: 4,
      lora_alpha: 12,
      lora_dropout: 0.1,
      target_modules: ['q_proj', 'v_proj'],
      bias: 'lora_only',
      use_rslora: true,
    });
    const config = loraConfigForRun(lora, { conv1dWeights: false }, '/models/tiny');
    expect(config).toEqual({
      ...defaultLoraConfig(),
      r: 4,
      lora_alpha: 12,
      lora_dropout: 0.1,
      target_modules: ['q_proj', 'v_proj'],
      bias: 'lora_only',
      use_rslora: true,
      fan_in_fan_out: false,
      base_model_name_or_path: '/models/tiny',
    });
    expect(config.target_modules).not.toBe(lora.target_modules); // a copy: editing one never changes the other
  });

  it("takes the section's defaults, marks Conv1D (GPT-2) weights, and survives adapter_config.json", () => {
    const config = loraConfigForRun(LoraSection.parse({ target_modules: 'all-linear' }), { conv1dWeights: true });
    expect(config).toMatchObject({
      r: 16,
      lora_alpha: 32,
      lora_dropout: 0.05,
      target_modules: 'all-linear',
      fan_in_fan_out: true,
      base_model_name_or_path: null,
    });
    // (what PEFT writes beside our fields comes back under `extra`)
    expect(parseLoraConfig(JSON.parse(serializeLoraConfig(config)))).toEqual({ ...config, extra: expect.any(Object) });
  });
});
