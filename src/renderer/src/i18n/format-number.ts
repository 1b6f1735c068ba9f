// Numbers inside catalogue messages, in the current language's notation (its own file so the catalogues can use it
// without importing t.ts, which imports them).
import { currentLocale, INTL_TAGS } from './locale.ts';

export function formatNumber(value: number, options?: Intl.NumberFormatOptions): string {
  return new Intl.NumberFormat(INTL_TAGS[currentLocale()], options).format(value);
}
