// t('key', params): the one way a page gets a string. The catalogue is typed: a key that does not exist, a
// missing parameter or a Korean entry whose parameters differ from the English one fail the type check.
import { currentLocale, setCurrentLocale, type Locale } from './locale.ts';
import { en, type Catalog, type MessageKey } from './en.ts';
import { ko } from './ko.ts';

const CATALOGS: Record<Locale, Catalog> = { en, ko };

export type ParamsOf<K extends MessageKey> = Catalog[K] extends (params: infer P) => string ? [params: P] : [];

export function translate<K extends MessageKey>(locale: Locale, key: K, ...params: ParamsOf<K>): string {
  const entry = CATALOGS[locale][key] as string | ((p: unknown) => string);
  if (typeof entry === 'string') return entry;
  // numbers inside the message follow the language asked for, even when it is not the UI's current one
  const previous = currentLocale();
  setCurrentLocale(locale);
  try {
    return entry(params[0]);
  } finally {
    setCurrentLocale(previous);
  }
}

/** The string for `key` in the current UI language. */
export function t<K extends MessageKey>(key: K, ...params: ParamsOf<K>): string {
  return translate(currentLocale(), key, ...params);
}

export { formatNumber } from './format-number.ts';

export type { MessageKey };
