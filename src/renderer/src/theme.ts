// Theme preference: follow the system (prefers-color-scheme) or pin light/dark. The choice is stored per
// browser profile and applied as <html data-theme>, which styles/tokens.css reads through color-scheme.
import type { KeyValueStorage } from './api/client.ts';

export type ThemePreference = 'system' | 'light' | 'dark';
export type EffectiveTheme = 'light' | 'dark';

export const THEME_STORAGE_KEY = 'lora-studio.theme';

export function readThemePreference(storage: Pick<KeyValueStorage, 'getItem'> | null): ThemePreference {
  const value = storage?.getItem(THEME_STORAGE_KEY);
  return value === 'light' || value === 'dark' ? value : 'system';
}

export function writeThemePreference(storage: KeyValueStorage | null, preference: ThemePreference): void {
  if (!storage) return;
  if (preference === 'system') storage.removeItem(THEME_STORAGE_KEY);
  else storage.setItem(THEME_STORAGE_KEY, preference);
}

export function effectiveTheme(preference: ThemePreference, systemPrefersDark: boolean): EffectiveTheme {
  if (preference === 'system') return systemPrefersDark ? 'dark' : 'light';
  return preference;
}

/** The quick toggle flips what is on screen now; pinning the opposite of the system's choice. */
export function toggledPreference(current: EffectiveTheme): ThemePreference {
  return current === 'dark' ? 'light' : 'dark';
}
