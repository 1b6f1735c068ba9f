// Numbers inside catalogue messages, in the current language's notation (its own file so the catalogues can use it
// without importing t.ts, which imports them).
import { currentLocale, INTL_TAGS } from './locale.ts';

export function formatNumber(value: number, options?: Intl.NumberFormatOptions): string {
  return new Intl.NumberFormat(INTL_TAGS[currentLocale()], options).format(value);
}

/**
 * A share (0.5683) as a percentage, the one way the UI writes one (an accuracy, an F1, an exact match, a trainable
 * share, a probability): the language's own percent notation, at most one decimal ("56.8%", "3.5%", "50%"; Korean the
 * same), two significant digits under 1% so a small share is not rounded away ("0.12%", "0.034%"). "—" when there is
 * no value. Perplexity and losses are plain numbers, never percentages.
 */
export function formatPercent(share: number | null | undefined): string {
  if (share === null || share === undefined || !Number.isFinite(share)) return '—';
  const small = share !== 0 && Math.abs(share) < 0.01;
  return formatNumber(share, small ? { style: 'percent', maximumSignificantDigits: 2 } : { style: 'percent', maximumFractionDigits: 1 });
}
