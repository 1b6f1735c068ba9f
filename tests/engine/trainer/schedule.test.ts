import { describe, expect, it } from 'vitest';
import { learningRateAt, lrMultiplier, warmupStepsFor } from '../../../src/main/engine/trainer/schedule.ts';

// Expected values worked out by hand from transformers' optimization.py lambdas
// (get_constant_schedule_with_warmup, get_linear_schedule_with_warmup, get_cosine_schedule_with_warmup, num_cycles 0.5).
describe('learning-rate schedules', () => {
  const base = { totalSteps: 10, warmupSteps: 2 };
  it('warms up linearly from 0 for every type', () => {
    for (const type of ['constant', 'linear', 'cosine'] as const) {
      expect(lrMultiplier(0, { ...base, type })).toBe(0);
      expect(lrMultiplier(1, { ...base, type })).toBe(0.5);
      expect(lrMultiplier(2, { ...base, type })).toBe(1);
    }
  });
  it('constant stays at the base rate', () => {
    expect(lrMultiplier(9, { ...base, type: 'constant' })).toBe(1);
    expect(lrMultiplier(0, { totalSteps: 10, warmupSteps: 0, type: 'constant' })).toBe(1);
  });
  it('linear decays to 0 at the last step', () => {
    expect(lrMultiplier(6, { ...base, type: 'linear' })).toBeCloseTo(0.5, 15);
    expect(lrMultiplier(9, { ...base, type: 'linear' })).toBeCloseTo(1 / 8, 15);
    expect(lrMultiplier(10, { ...base, type: 'linear' })).toBe(0);
    expect(lrMultiplier(12, { ...base, type: 'linear' })).toBe(0);
  });
  it('cosine follows half a cosine wave to 0', () => {
    expect(lrMultiplier(6, { ...base, type: 'cosine' })).toBeCloseTo(0.5, 15);
    expect(lrMultiplier(4, { ...base, type: 'cosine' })).toBeCloseTo(0.5 * (1 + Math.cos(Math.PI * 0.25)), 15);
    expect(lrMultiplier(10, { ...base, type: 'cosine' })).toBeCloseTo(0, 15);
  });
  it('scales the base learning rate', () => {
    expect(learningRateAt(1, { ...base, type: 'cosine', baseLr: 2e-4 })).toBeCloseTo(1e-4, 18);
  });
  it('takes warm-up steps over the ratio, else ceil(ratio · total)', () => {
    expect(warmupStepsFor(100, 0, 0.03)).toBe(3);
    expect(warmupStepsFor(10, 0, 0.03)).toBe(1);
    expect(warmupStepsFor(10, 5, 0.5)).toBe(5);
    expect(warmupStepsFor(10, 0, 0)).toBe(0);
  });
});
