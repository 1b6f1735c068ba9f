// The Compare page's pure half for comparison groups: bar heights are value / largest × height from a zero baseline
// (so two bars' ratio is their values' ratio), a member without the figure gets no bar, and the start dialog's rank
// and target-set fields parse as the API expects (bad ranks refused, not guessed).
import { describe, expect, it } from 'vitest';
import { barHeights, parseRankList, parseTargetLines } from '../../src/renderer/src/pages/CompareData.ts';

describe('comparison bars', () => {
  it('heights are proportional to the values, the largest filling the chart', () => {
    expect(barHeights([2, 3], 120)).toEqual([80, 120]);
    const [lora, full] = barHeights([33_154, 916_226], 120) as number[];
    expect(lora / full).toBeCloseTo(33_154 / 916_226, 12);
    expect(barHeights([0, 0], 100)).toEqual([0, 0]);
  });
  it('a member without the figure (still training, or none recorded) gets no bar', () => {
    expect(barHeights([null, 5], 100)).toEqual([null, 100]);
    expect(barHeights([Number.NaN, 4, -1], 100)).toEqual([null, 100, null]);
  });
});

describe('start dialog fields', () => {
  it('ranks: comma-separated positive whole numbers, anything else refused', () => {
    expect(parseRankList('2, 4,8')).toEqual([2, 4, 8]);
    expect(parseRankList('2, 4.5')).toBeNull();
    expect(parseRankList('0')).toBeNull();
    expect(parseRankList(' ')).toBeNull();
    expect(parseRankList('2, x')).toBeNull();
  });
  it('target sets: one per line, all-linear kept as PEFT’s keyword', () => {
    expect(parseTargetLines('q_lin, v_lin\n\n q_lin,k_lin , v_lin,out_lin \nall-linear')).toEqual([
      ['q_lin', 'v_lin'],
      ['q_lin', 'k_lin', 'v_lin', 'out_lin'],
      'all-linear',
    ]);
  });
});
