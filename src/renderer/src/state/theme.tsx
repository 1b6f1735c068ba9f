// The theme preference as React state, kept in sync with <html data-theme> and localStorage, and the
// system's colour scheme followed live while the preference is 'system'.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { effectiveTheme, readThemePreference, writeThemePreference, type EffectiveTheme, type ThemePreference } from '../theme.ts';

interface ThemeContextValue {
  preference: ThemePreference;
  effective: EffectiveTheme;
  setPreference(preference: ThemePreference): void;
}

const ThemeContext = createContext<ThemeContextValue | null>(null);

function localStore(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

const darkQuery = () => globalThis.matchMedia?.('(prefers-color-scheme: dark)');

/** Sets data-theme before React renders, so the first paint already has the chosen theme. */
export function applyStoredTheme(): void {
  applyPreference(readThemePreference(localStore()));
}

function applyPreference(preference: ThemePreference): void {
  const root = document.documentElement;
  if (preference === 'system') root.removeAttribute('data-theme');
  else root.setAttribute('data-theme', preference);
}

export function ThemeProvider({ children }: { children: ReactNode }) {
  const [preference, setPreferenceState] = useState<ThemePreference>(() => readThemePreference(localStore()));
  const [systemDark, setSystemDark] = useState<boolean>(() => darkQuery()?.matches ?? false);

  useEffect(() => {
    const query = darkQuery();
    if (!query) return;
    const onChange = (event: MediaQueryListEvent) => setSystemDark(event.matches);
    query.addEventListener('change', onChange);
    return () => query.removeEventListener('change', onChange);
  }, []);

  const setPreference = useCallback((next: ThemePreference) => {
    setPreferenceState(next);
    writeThemePreference(localStore(), next);
    applyPreference(next);
  }, []);

  const value = useMemo(
    () => ({ preference, effective: effectiveTheme(preference, systemDark), setPreference }),
    [preference, systemDark, setPreference],
  );
  return <ThemeContext.Provider value={value}>{children}</ThemeContext.Provider>;
}

export function useTheme(): ThemeContextValue {
  const value = useContext(ThemeContext);
  if (!value) throw new Error('useTheme() is used outside <ThemeProvider>');
  return value;
}
