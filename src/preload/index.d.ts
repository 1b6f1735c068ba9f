// The renderer's view of what the preload exposes (the renderer's client prefers it when present).
import type { StudioClient } from '../common/api/contract.ts';

declare global {
  interface Window {
    /** Present only inside the desktop app. Failed calls reject with {code, message, details}. */
    studio?: Pick<StudioClient, 'invoke' | 'subscribe'>;
  }
}

export {};
