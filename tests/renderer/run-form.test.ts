import { describe, expect, it } from 'vitest';
import { methods } from '../../src/common/api/contract.ts';
import { buildRunStart, RUN_FORM_DEFAULTS } from '../../src/renderer/src/runForm.ts';

const filled = { ...RUN_FORM_DEFAULTS, model: '/models/tiny', dataset: '/data/train.jsonl' };

describe('quick-start run form', () => {
  it('turns the defaults plus a model and dataset into a valid runs.start input', () => {
    const { input, fieldErrors, otherErrors } = buildRunStart('p1', filled);
    expect(fieldErrors).toEqual({});
    expect(otherErrors).toEqual([]);
    expect(input).not.toBeNull();
    const parsed = methods['runs.start'].input.parse(input);
    expect(parsed.config).toMatchObject({
      model: '/models/tiny',
      dataset: { path: '/data/train.jsonl', eval_split: { kind: 'ratio', ratio: 0.1 } },
      lora: { r: 16, lora_alpha: 32 },
      learning_rate: 1e-4,
      num_train_epochs: 1,
      max_steps: null,
      max_seq_length: 1024,
    });
    expect(parsed).not.toHaveProperty('name');
  });

  it('asks for the model folder and dataset file by name', () => {
    const { input, fieldErrors } = buildRunStart('p1', RUN_FORM_DEFAULTS);
    expect(input).toBeNull();
    expect(fieldErrors.model).toMatch(/model folder/);
    expect(fieldErrors.dataset).toMatch(/dataset file/);
  });

  it('reports text that is not a number, and the contract’s limits, next to the field', () => {
    const { input, fieldErrors } = buildRunStart('p1', { ...filled, r: 'sixteen', learningRate: '5', maxSeqLength: '', evalShare: '1.5' });
    expect(input).toBeNull();
    expect(fieldErrors.r).toBe('“sixteen” is not a number.');
    expect(fieldErrors.maxSeqLength).toBe('Enter a number.');
    expect(fieldErrors.learningRate).toMatch(/1/); // learning_rate has max(1) in the contract
    expect(fieldErrors.evalShare).toBeDefined();
  });

  it('uses max steps and a name when given, and no evaluation split for a share of 0', () => {
    const { input } = buildRunStart('p1', { ...filled, name: ' sums r4 ', maxSteps: '6', evalShare: '0', r: '4', alpha: '8' });
    const parsed = methods['runs.start'].input.parse(input);
    expect(parsed.name).toBe('sums r4');
    expect(parsed.config).toMatchObject({ max_steps: 6, lora: { r: 4, lora_alpha: 8 }, dataset: { eval_split: { kind: 'none' } } });
  });

  it('rejects a fractional rank through the contract', () => {
    expect(buildRunStart('p1', { ...filled, r: '2.5' }).fieldErrors.r).toBeDefined();
  });
});
