// Per-step metrics as chart points: the stored history (runs.metrics) and live job.metric events merge
// into one list, one point per step, in step order.

/** One chart point: the step and whichever metrics were logged at it. */
export type MetricPoint = { step: number } & Partial<Record<string, number>>;

export interface StepValues {
  step: number;
  values: Record<string, number>;
}

/** Merges new step values into points; values for a step already present are added to that point. */
export function mergeMetricPoints(points: readonly MetricPoint[], incoming: readonly StepValues[]): MetricPoint[] {
  const byStep = new Map<number, MetricPoint>(points.map((point) => [point.step, { ...point }]));
  for (const { step, values } of incoming) {
    const finite = Object.fromEntries(Object.entries(values).filter(([, value]) => Number.isFinite(value)));
    byStep.set(step, { ...(byStep.get(step) ?? { step }), ...finite, step });
  }
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}

/** Whether any point carries this metric (so a chart without data is not drawn). */
export function hasMetric(points: readonly MetricPoint[], key: string): boolean {
  return points.some((point) => typeof point[key] === 'number');
}

/** The last value of a metric, for headline numbers. */
export function lastValue(points: readonly MetricPoint[], key: string): number | null {
  for (let i = points.length - 1; i >= 0; i -= 1) {
    const value = points[i][key];
    if (typeof value === 'number') return value;
  }
  return null;
}
