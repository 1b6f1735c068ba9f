// The studio's pages and the hash router's pure half: `#/runs` ⇄ 'runs'. Hash routing works the same from
// a file:// Electron page and from `serve`, and needs no server-side route table.
import type { IconName } from './components/icon-names.ts';

export interface RouteInfo {
  id: RouteId;
  label: string;
  icon: IconName;
  group: 'Workspace' | 'Fine-tune' | 'Use' | 'Studio';
}

export const ROUTES = [
  { id: 'projects', label: 'Projects', icon: 'folder', group: 'Workspace' },
  { id: 'new', label: 'New fine-tune', icon: 'spark', group: 'Fine-tune' },
  { id: 'datasets', label: 'Datasets', icon: 'table', group: 'Fine-tune' },
  { id: 'runs', label: 'Runs', icon: 'pulse', group: 'Fine-tune' },
  { id: 'evaluate', label: 'Evaluate', icon: 'gauge', group: 'Fine-tune' },
  { id: 'compare', label: 'Compare runs', icon: 'pulse', group: 'Fine-tune' },
  { id: 'chat', label: 'Chat', icon: 'chat', group: 'Use' },
  { id: 'try', label: 'Try it', icon: 'spark', group: 'Use' },
  { id: 'adapters', label: 'Adapters', icon: 'layers', group: 'Use' },
  { id: 'exports', label: 'Exports', icon: 'export', group: 'Use' },
  { id: 'settings', label: 'Settings', icon: 'settings', group: 'Studio' },
] as const satisfies readonly { id: string; label: string; icon: IconName; group: RouteInfo['group'] }[];

export type RouteId = (typeof ROUTES)[number]['id'];

export const DEFAULT_ROUTE: RouteId = 'projects';

const ROUTE_IDS = new Set<string>(ROUTES.map((route) => route.id));

export interface AppLocation {
  route: RouteId;
  /** Path segments after the page, decoded: `#/runs/abc` → ['abc']. */
  params: string[];
}

/** `#/runs/abc` → { route: 'runs', params: ['abc'] }; anything unknown or empty → the default page. */
export function parseLocation(hash: string): AppLocation {
  const [first = '', ...rest] = hash.replace(/^#\/?/, '').split('?')[0].split('/');
  if (!ROUTE_IDS.has(first)) return { route: DEFAULT_ROUTE, params: [] };
  const params: string[] = [];
  for (const segment of rest) {
    if (segment === '') continue;
    try {
      params.push(decodeURIComponent(segment));
    } catch {
      params.push(segment); // a malformed escape is kept as typed rather than failing the page
    }
  }
  return { route: first as RouteId, params };
}

export function parseRoute(hash: string): RouteId {
  return parseLocation(hash).route;
}

export function routeHref(id: RouteId, ...params: string[]): string {
  return `#/${[id, ...params.map(encodeURIComponent)].join('/')}`;
}

export function routeInfo(id: RouteId): RouteInfo {
  return ROUTES.find((route) => route.id === id) as RouteInfo;
}
