import { describe, expect, it } from 'vitest';
import { setCurrentLocale } from '../../src/renderer/src/i18n/locale.ts';
import {
  basename,
  formatBytes,
  formatChange,
  formatDuration,
  formatMetric,
  formatPercent,
  perplexityChange,
  secondsBetween,
} from '../../src/renderer/src/format.ts';
import { translate } from '../../src/renderer/src/i18n/t.ts';
import { groupFigures } from '../../src/renderer/src/pages/CompareData.ts';
import type { RunGroupReport } from '../../src/common/api/compare.ts';

describe('display formatting', () => {
  it('formats durations at the scale a person reads them', () => {
    expect(formatDuration(0)).toBe('0 s');
    expect(formatDuration(59.4)).toBe('59 s');
    expect(formatDuration(75)).toBe('1 min 15 s');
    expect(formatDuration(119.6)).toBe('2 min 0 s');
    expect(formatDuration(4000)).toBe('1 h 6 min');
    expect(formatDuration(-1)).toBe('—');
    expect(formatDuration(Number.NaN)).toBe('—');
  });

  it('says durations in the UI language’s units', () => {
    setCurrentLocale('ko');
    try {
      expect(formatDuration(75)).toBe('1 분 15 초');
      expect(formatDuration(4000)).toBe('1 시간 6 분');
    } finally {
      setCurrentLocale('en');
    }
  });

  it('measures elapsed time between timestamps, up to now while still running', () => {
    expect(secondsBetween('2026-01-01T00:00:00Z', '2026-01-01T00:01:30Z')).toBe(90);
    expect(secondsBetween('2026-01-01T00:00:00Z', null, Date.parse('2026-01-01T00:00:10Z'))).toBe(10);
  });

  it('shows metrics with three decimals, fewer for large values, and a dash when absent', () => {
    expect(formatMetric(2.34567)).toBe('2.346');
    expect(formatMetric(1234.56)).toBe('1234.6');
    expect(formatMetric(null)).toBe('—');
    expect(formatMetric(undefined)).toBe('—');
    expect(formatMetric(Number.POSITIVE_INFINITY)).toBe('—');
  });

  it('sizes in binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(24 * 1024 ** 3)).toBe('24.0 GiB');
  });

  it('takes the last path segment with either separator', () => {
    expect(basename('/models/SmolLM2-135M/')).toBe('SmolLM2-135M');
    expect(basename('C:\\data\\train.jsonl')).toBe('train.jsonl');
  });

  it('computes the relative perplexity change, or none when a side is missing', () => {
    expect(perplexityChange({ basePerplexity: 20, adapterPerplexity: 15 })).toBeCloseTo(-0.25);
    expect(perplexityChange({ basePerplexity: 10, adapterPerplexity: 12 })).toBeCloseTo(0.2);
    expect(perplexityChange({ basePerplexity: null, adapterPerplexity: 12 })).toBeNull();
    expect(perplexityChange({ basePerplexity: 0, adapterPerplexity: 12 })).toBeNull();
  });

  it('writes every share one way, in both languages: "56.8%", not "56.83 %", "3.49%" or a bare 0.5683', () => {
    for (const locale of ['en', 'ko'] as const) {
      setCurrentLocale(locale);
      expect(formatPercent(0.5683)).toBe('56.8%');
      expect(formatPercent(0.0349)).toBe('3.5%');
      expect(formatPercent(0.5)).toBe('50%');
      expect(formatPercent(1)).toBe('100%');
      expect(formatPercent(0)).toBe('0%');
      expect(formatPercent(0.0012)).toBe('0.12%'); // a small share (LoRA's trainable one) is not rounded away
      expect(formatPercent(0.00034)).toBe('0.034%');
      expect(formatPercent(null)).toBe('—');
      expect(formatPercent(Number.NaN)).toBe('—');
      expect(formatChange(-0.4187)).toBe('−41.9%');
      expect(formatChange(0.05)).toBe('+5%');
      expect(formatChange(null)).toBe('—');
    }
    setCurrentLocale('en');
    // the catalogue's sentences with a share in them use it too
    expect(translate('en', 'evaluate.shipWarning', { quant: 'Q4_K_M', share: 0.123 })).toBe('Q4_K_M gives back 12.3% of the fine-tune’s gain');
    expect(translate('ko', 'evaluate.shipWarning', { quant: 'Q4_K_M', share: 0.123 })).toContain('12.3%를');
    expect(translate('en', 'tryIt.answer', { text: 'Paris', score: 1.5, probability: 0.5 })).toBe('Answer: “Paris” · score 1.50 · probability 50%');
  });

  it('a comparison group draws accuracy and F1 as shares and perplexity as a plain number', () => {
    const report = (key: string) =>
      ({ group: { metric: { key, name: key, higherIsBetter: key !== 'eval_perplexity' } }, rows: [] }) as unknown as RunGroupReport;
    const metricFormat = (key: string) => groupFigures(report(key)).find((f) => f.key === 'metric')!.format;
    expect(metricFormat('eval_accuracy')(0.5217)).toBe('52.2%');
    expect(metricFormat('eval_f1')(0.5)).toBe('50%');
    expect(metricFormat('eval_perplexity')(12.3456)).toBe('12.3456');
  });
});
