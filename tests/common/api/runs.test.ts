import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { RunConfig, describeRunConfigFields, runMethods } from '../../../src/common/api/runs.ts';
import { methods } from '../../../src/common/api/contract.ts';

describe('RunConfig', () => {
  it('fills safe defaults from just a model and a dataset path', () => {
    const config = RunConfig.parse({ model: '/models/tiny', dataset: { path: '/data/train.jsonl' } });
    expect(config.method).toBe('lora');
    expect(config.lora).toEqual({ r: 16, lora_alpha: 32, lora_dropout: 0.05, target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'], bias: 'none', use_rslora: false });
    expect(config.learning_rate).toBe(1e-4);
    expect(config.max_grad_norm).toBe(1.0);
    expect(config.train_on).toBe('completion');
    expect(config.lr_scheduler_type).toBe('cosine');
    expect(config.dataset.template).toEqual({ kind: 'auto' });
    expect(config.dataset.eval_split).toEqual({ kind: 'ratio', ratio: 0.1 });
    expect(config.max_steps).toBeNull();
  });

  it('names the field and the expectation when a value is wrong', () => {
    const result = RunConfig.safeParse({ model: 'm', dataset: { path: 'd' }, lora: { r: 0 }, lr_scheduler_type: 'polynomial' });
    expect(result.success).toBe(false);
    const paths = result.error!.issues.map((issue) => issue.path.join('.'));
    expect(paths).toContain('lora.r');
    expect(paths).toContain('lr_scheduler_type');
  });

  it('rejects a module listed twice', () => {
    const result = RunConfig.safeParse({ model: 'm', dataset: { path: 'd' }, lora: { target_modules: ['q_proj', 'q_proj'] } });
    expect(result.success).toBe(false);
    expect(result.error!.issues[0].path).toEqual(['lora', 'target_modules']);
  });

  it('round-trips through JSON unchanged', () => {
    const config = RunConfig.parse({ model: 'm', dataset: { path: 'd', template: { kind: 'prompt', template: 'Q: {prompt}\nA: ' } }, max_steps: 20 });
    expect(RunConfig.parse(JSON.parse(JSON.stringify(config)))).toEqual(config);
  });

  it('explains every top-level field in one line', () => {
    const help = describeRunConfigFields();
    for (const key of ['model', 'learning_rate', 'lora', 'packing', 'train_on', 'seed', 'save_steps', 'dataset']) {
      expect(help[key], key).toBeTruthy();
      expect(help[key]).not.toContain('\n');
    }
  });

  it('is part of the API contract', () => {
    for (const name of Object.keys(runMethods)) expect(Object.keys(methods)).toContain(name);
  });

  it('exports a JSON Schema with the explanations, for the config editor', () => {
    const schema = z.toJSONSchema(RunConfig, { io: 'input' }) as { required: string[]; properties: Record<string, { description?: string; default?: unknown }> };
    expect(schema.required.sort()).toEqual(['dataset', 'model']);
    expect(schema.properties.learning_rate).toMatchObject({ default: 1e-4, description: expect.stringContaining('Step size') });
    expect(schema.properties.lora.description).toContain('PEFT');
  });
});

