import { describe, expect, it } from 'vitest';
import { DEFAULT_ROUTE, parseRoute, routeHref, ROUTES } from '../../src/renderer/src/routes.ts';
import {
  effectiveTheme,
  readThemePreference,
  THEME_STORAGE_KEY,
  toggledPreference,
  writeThemePreference,
} from '../../src/renderer/src/theme.ts';

describe('hash routes', () => {
  it('round-trips every page through its href', () => {
    for (const route of ROUTES) expect(parseRoute(routeHref(route.id))).toBe(route.id);
  });

  it('lists the studio’s pages in navigation order', () => {
    expect(ROUTES.map((r) => r.label)).toEqual([
      'Projects',
      'New fine-tune',
      'Datasets',
      'Runs',
      'Evaluate',
      'Compare runs',
      'Chat',
      'Try it',
      'Adapters',
      'Exports',
      'Settings',
    ]);
  });

  it('falls back to Projects for empty or unknown addresses and ignores deeper segments', () => {
    expect(parseRoute('')).toBe(DEFAULT_ROUTE);
    expect(parseRoute('#/')).toBe('projects');
    expect(parseRoute('#/nope')).toBe('projects');
    expect(parseRoute('#/runs/42')).toBe('runs');
    expect(parseRoute('#chat')).toBe('chat');
  });
});

describe('theme preference', () => {
  const store = () => {
    const map = new Map<string, string>();
    return {
      map,
      getItem: (k: string) => map.get(k) ?? null,
      setItem: (k: string, v: string) => void map.set(k, v),
      removeItem: (k: string) => void map.delete(k),
    };
  };

  it('follows the system unless pinned, and forgets the pin when set back to system', () => {
    const storage = store();
    expect(readThemePreference(storage)).toBe('system');
    writeThemePreference(storage, 'dark');
    expect(readThemePreference(storage)).toBe('dark');
    writeThemePreference(storage, 'system');
    expect(storage.map.has(THEME_STORAGE_KEY)).toBe(false);
    storage.setItem(THEME_STORAGE_KEY, 'purple');
    expect(readThemePreference(storage)).toBe('system');
  });

  it('resolves what is on screen and toggles to the opposite', () => {
    expect(effectiveTheme('system', true)).toBe('dark');
    expect(effectiveTheme('system', false)).toBe('light');
    expect(effectiveTheme('light', true)).toBe('light');
    expect(toggledPreference('dark')).toBe('light');
    expect(toggledPreference('light')).toBe('dark');
  });
});

describe('hash route parameters', () => {
  it('round-trips parameters, encoding what the address bar cannot hold', async () => {
    const { parseLocation, routeHref } = await import('../../src/renderer/src/routes.ts');
    expect(routeHref('runs', 'abc-123')).toBe('#/runs/abc-123');
    expect(parseLocation(routeHref('runs', 'a/b c'))).toEqual({ route: 'runs', params: ['a/b c'] });
    expect(parseLocation('#/runs/')).toEqual({ route: 'runs', params: [] });
    expect(parseLocation('#/nope/x')).toEqual({ route: 'projects', params: [] });
    expect(parseLocation('#/runs/%E0%A4%A')).toEqual({ route: 'runs', params: ['%E0%A4%A'] });
  });
});
