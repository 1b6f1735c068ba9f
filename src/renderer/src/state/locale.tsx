// The UI language as React state: read once from localStorage (or the browser's languages), written back when
// Settings changes it, mirrored to <html lang> and to the module state t() reads. Changing it re-mounts the
// app below the provider, so every string and formatted number is rendered again in the new language.
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { z } from 'zod';
import { en as zodEn, ko as zodKo } from 'zod/locales';
import { readLocale, setCurrentLocale, writeLocale, type Locale } from '../i18n/locale.ts';

interface LocaleContextValue {
  locale: Locale;
  setLocale(locale: Locale): void;
}

const LocaleContext = createContext<LocaleContextValue | null>(null);

function localStore(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

function apply(locale: Locale): void {
  setCurrentLocale(locale);
  document.documentElement.lang = locale;
  // zod's own messages in form checks (the contract's phrases are translated by sayIssueMessage)
  z.config(locale === 'ko' ? zodKo() : zodEn());
}

/** Sets the language before React renders, so the first paint is already in it. */
export function applyStoredLocale(): void {
  apply(readLocale(localStore(), globalThis.navigator?.languages ?? []));
}

export function LocaleProvider({ children }: { children: ReactNode }) {
  const [locale, setLocaleState] = useState<Locale>(() =>
    readLocale(localStore(), globalThis.navigator?.languages ?? []),
  );
  const setLocale = useCallback((next: Locale) => {
    writeLocale(localStore(), next);
    apply(next);
    setLocaleState(next);
  }, []);
  const value = useMemo(() => ({ locale, setLocale }), [locale, setLocale]);
  return (
    <LocaleContext.Provider value={value}>
      <LocaleScope key={locale}>{children}</LocaleScope>
    </LocaleContext.Provider>
  );
}

function LocaleScope({ children }: { children: ReactNode }) {
  return <>{children}</>;
}

export function useLocale(): LocaleContextValue {
  const value = useContext(LocaleContext);
  if (!value) throw new Error('useLocale() is used outside <LocaleProvider>');
  return value;
}
