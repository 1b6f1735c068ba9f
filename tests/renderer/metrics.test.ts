import { describe, expect, it } from 'vitest';
import { hasMetric, lastValue, mergeMetricPoints } from '../../src/renderer/src/metrics.ts';

describe('metric points for charts', () => {
  it('merges history and live events into one point per step, in step order', () => {
    const history = mergeMetricPoints([], [
      { step: 2, values: { loss: 2.5, lr: 1e-4 } },
      { step: 1, values: { loss: 3, lr: 5e-5 } },
    ]);
    expect(history).toEqual([
      { step: 1, loss: 3, lr: 5e-5 },
      { step: 2, loss: 2.5, lr: 1e-4 },
    ]);
    // A live event for a step already there adds its values (eval loss logged at the same step).
    const merged = mergeMetricPoints(history, [{ step: 2, values: { eval_loss: 2.7 } }, { step: 3, values: { loss: 2.2 } }]);
    expect(merged).toEqual([
      { step: 1, loss: 3, lr: 5e-5 },
      { step: 2, loss: 2.5, lr: 1e-4, eval_loss: 2.7 },
      { step: 3, loss: 2.2 },
    ]);
    expect(history[1]).not.toHaveProperty('eval_loss'); // inputs are not mutated
  });

  it('merging the same history again changes nothing (the page reloads it when a run ends)', () => {
    const once = mergeMetricPoints([], [{ step: 1, values: { loss: 3 } }]);
    expect(mergeMetricPoints(once, [{ step: 1, values: { loss: 3 } }])).toEqual(once);
  });

  it('drops values that cannot be drawn', () => {
    expect(mergeMetricPoints([], [{ step: 1, values: { loss: Number.NaN, lr: 1 } }])).toEqual([{ step: 1, lr: 1 }]);
  });

  it('finds whether a metric exists and its latest value', () => {
    const points = mergeMetricPoints([], [
      { step: 1, values: { loss: 3, eval_loss: 3.1 } },
      { step: 2, values: { loss: 2 } },
    ]);
    expect(hasMetric(points, 'eval_loss')).toBe(true);
    expect(hasMetric(points, 'grad_norm')).toBe(false);
    expect(lastValue(points, 'loss')).toBe(2);
    expect(lastValue(points, 'eval_loss')).toBe(3.1);
    expect(lastValue(points, 'grad_norm')).toBeNull();
  });
});
