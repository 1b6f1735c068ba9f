// The UI language: English or Korean, chosen in Settings and kept per browser profile (like the theme); with no
// choice stored, the browser's own language list decides. The current locale is module state, read by t() and
// the Intl formatters: the provider (state/locale.tsx) sets it and re-renders the app when it changes.
import type { KeyValueStorage } from '../api/client.ts';

export const LOCALES = ['en', 'ko'] as const;
export type Locale = (typeof LOCALES)[number];

export const LOCALE_STORAGE_KEY = 'lora-studio.locale';

/** BCP 47 tags handed to Intl for numbers and dates. */
export const INTL_TAGS: Record<Locale, string> = { en: 'en-GB', ko: 'ko-KR' };

function isLocale(value: string | null | undefined): value is Locale {
  return (LOCALES as readonly string[]).includes(value ?? '');
}

/** The first of the browser's languages the studio speaks ("ko-KR" → ko); English otherwise. */
export function localeFromLanguages(languages: readonly string[]): Locale {
  for (const tag of languages) {
    const primary = tag.toLowerCase().split('-')[0];
    if (isLocale(primary)) return primary;
  }
  return 'en';
}

export function readLocale(storage: Pick<KeyValueStorage, 'getItem'> | null, languages: readonly string[]): Locale {
  const stored = storage?.getItem(LOCALE_STORAGE_KEY);
  return isLocale(stored) ? stored : localeFromLanguages(languages);
}

export function writeLocale(storage: KeyValueStorage | null, locale: Locale): void {
  storage?.setItem(LOCALE_STORAGE_KEY, locale);
}

let current: Locale = 'en';

export function currentLocale(): Locale {
  return current;
}

export function setCurrentLocale(locale: Locale): void {
  current = locale;
}
