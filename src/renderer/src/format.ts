// Display formatting shared by pages; dates in the UI language's own notation (i18n/locale.ts).
import { currentLocale, INTL_TAGS } from './i18n/locale.ts';
import { formatPercent } from './i18n/format-number.ts';
import { t } from './i18n/t.ts';

// Shares (accuracy, F1, exact match, a trainable share, a probability): the catalogue's one percent formatter.
export { formatPercent };

/** An ISO timestamp from the core as a local date and time; the raw text if it does not parse. */
export function formatDateTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? iso
    : new Intl.DateTimeFormat(INTL_TAGS[currentLocale()], { dateStyle: 'medium', timeStyle: 'short' }).format(date);
}

// Sizes: the core's own formatter (binary units, "15.8 KiB"), so a page, a core sentence and the CLI say a size alike.
export { formatBytes } from '../../common/api/phrases.ts';

/** 75 → "1 min 15 s"; 4000 → "1 h 6 min"; under a minute in seconds. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  const total = Math.round(seconds);
  const [s, min, h] = [t('unit.s'), t('unit.min'), t('unit.h')];
  if (total < 60) return `${total} ${s}`;
  const minutes = Math.floor(total / 60);
  if (minutes < 60) return `${minutes} ${min} ${total % 60} ${s}`;
  const hours = Math.floor(minutes / 60);
  return `${hours} ${h} ${minutes % 60} ${min}`;
}

/** Seconds between two ISO timestamps (the second defaults to now). */
export function secondsBetween(startIso: string, endIso: string | null, now: number = Date.now()): number {
  const start = Date.parse(startIso);
  const end = endIso ? Date.parse(endIso) : now;
  return (end - start) / 1000;
}

/** A loss or perplexity with three significant decimals; "—" when there is none yet. */
export function formatMetric(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return value >= 100 ? value.toFixed(1) : value.toFixed(3);
}

/** The last segment of a file path (either separator): the name a person recognises. */
export function basename(path: string): string {
  const parts = path.split(/[\\/]/).filter(Boolean);
  return parts[parts.length - 1] ?? path;
}

/** A relative change with its sign, as a percentage: −0.419 → "−41.9%", 0.05 → "+5%"; "—" when there is none. */
export function formatChange(change: number | null): string {
  if (change === null || !Number.isFinite(change)) return '—';
  return `${change < 0 ? '−' : '+'}${formatPercent(Math.abs(change))}`;
}

/** Relative change of perplexity from base to tuned (−0.234 = 23.4% lower); null when either is missing. */
export function perplexityChange(evaluation: {
  basePerplexity: number | null;
  adapterPerplexity: number | null;
}): number | null {
  const { basePerplexity: before, adapterPerplexity: after } = evaluation;
  if (before === null || after === null || !(before > 0)) return null;
  return (after - before) / before;
}
