// Learning-rate schedules as transformers defines them (optimization.py): a multiplier of the base LR as a
// function of the optimizer step, with linear warm-up from 0.
//   warm-up (step < W):  step / max(1, W)
//   constant:            1                      (transformers' constant_with_warmup; with W = 0 it is `constant`)
//   linear:              max(0, (N − step) / max(1, N − W))
//   cosine:              max(0, ½·(1 + cos(π · 2·cycles · p))),  p = (step − W) / max(1, N − W),  cycles = ½
// As in transformers' Trainer, update k (0-based) uses the multiplier at step k, so with warm-up the very
// first update has LR 0; the trainer logs the LR it actually applied.
import type { SchedulerType } from '../../../common/api/runs.ts';

export interface ScheduleOptions {
  type: SchedulerType;
  baseLr: number;
  totalSteps: number; // N: optimizer updates in the whole run
  warmupSteps: number; // W
}

export function lrMultiplier(step: number, options: Omit<ScheduleOptions, 'baseLr'>): number {
  const { type, totalSteps: N, warmupSteps: W } = options;
  if (step < W) return step / Math.max(1, W);
  switch (type) {
    case 'constant':
      return 1;
    case 'linear':
      return Math.max(0, (N - step) / Math.max(1, N - W));
    case 'cosine': {
      const numCycles = 0.5;
      const progress = (step - W) / Math.max(1, N - W);
      return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * numCycles * 2 * progress)));
    }
  }
}

export function learningRateAt(step: number, options: ScheduleOptions): number {
  return options.baseLr * lrMultiplier(step, options);
}

/** transformers' TrainingArguments.get_warmup_steps: explicit steps win, else ceil(ratio · N). */
export function warmupStepsFor(totalSteps: number, warmupSteps: number, warmupRatio: number): number {
  return warmupSteps > 0 ? warmupSteps : Math.ceil(totalSteps * warmupRatio);
}
