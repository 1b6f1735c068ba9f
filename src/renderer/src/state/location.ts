// The address bar's hash as React state: pages read their parameters from it (e.g. #/runs/<id>).
import { useSyncExternalStore } from 'react';
import { parseLocation, type AppLocation } from '../routes.ts';

function subscribeHash(onChange: () => void): () => void {
  window.addEventListener('hashchange', onChange);
  return () => window.removeEventListener('hashchange', onChange);
}

export function useHash(): string {
  return useSyncExternalStore(subscribeHash, () => window.location.hash);
}

export function useLocation(): AppLocation {
  return parseLocation(useHash());
}
