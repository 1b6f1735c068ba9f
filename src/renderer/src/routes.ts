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
  { id: 'chat', label: 'Chat', icon: 'chat', group: 'Use' },
  { id: 'adapters', label: 'Adapters', icon: 'layers', group: 'Use' },
  { id: 'exports', label: 'Exports', icon: 'export', group: 'Use' },
  { id: 'settings', label: 'Settings', icon: 'settings', group: 'Studio' },
] as const satisfies readonly { id: string; label: string; icon: IconName; group: RouteInfo['group'] }[];

export type RouteId = (typeof ROUTES)[number]['id'];

export const DEFAULT_ROUTE: RouteId = 'projects';

const ROUTE_IDS = new Set<string>(ROUTES.map((route) => route.id));

/** `#/runs` → 'runs'; anything unknown or empty → the default page. Extra path segments are ignored for now. */
export function parseRoute(hash: string): RouteId {
  const first = hash.replace(/^#\/?/, '').split(/[/?]/)[0] ?? '';
  return ROUTE_IDS.has(first) ? (first as RouteId) : DEFAULT_ROUTE;
}

export function routeHref(id: RouteId): string {
  return `#/${id}`;
}

export function routeInfo(id: RouteId): RouteInfo {
  return ROUTES.find((route) => route.id === id) as RouteInfo;
}
