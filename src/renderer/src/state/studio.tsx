// Makes the one StudioConnection available to every component, with its connection state.
import { createContext, useContext, useSyncExternalStore, type ReactNode } from 'react';
import type { ConnectionState, StudioConnection } from '../api/client.ts';

const StudioContext = createContext<StudioConnection | null>(null);

export function StudioProvider({ client, children }: { client: StudioConnection; children: ReactNode }) {
  return <StudioContext.Provider value={client}>{children}</StudioContext.Provider>;
}

export function useStudio(): StudioConnection {
  const client = useContext(StudioContext);
  if (!client) throw new Error('useStudio() is used outside <StudioProvider>');
  return client;
}

export function useConnectionState(): ConnectionState {
  const client = useStudio();
  return useSyncExternalStore(client.onConnectionChange, client.connectionState);
}
