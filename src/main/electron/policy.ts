// The desktop shell's security decisions, kept free of Electron imports so they are unit-tested here
// (there is no Electron binary on CI machines): which URLs a window may show, the CSP, and how an
// app:// URL maps to a file of the built renderer.
import { resolve, sep, normalize } from 'node:path';

/** The renderer is served from this privileged custom scheme, so CSP arrives as a real response header. */
export const APP_SCHEME = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://studio`;

/** CSP for the desktop window. Dev (electron-vite's server) needs its HMR socket and React refresh preamble. */
export function desktopCsp(devServerUrl: string | null): string {
  if (devServerUrl) {
    const ws = devServerUrl.replace(/^http/, 'ws');
    return [
      "default-src 'self'",
      "script-src 'self' 'unsafe-inline'", // dev only: Vite's React refresh preamble is an inline script
      "style-src 'self' 'unsafe-inline'",
      "img-src 'self' data: blob:",
      "font-src 'self' data:",
      `connect-src 'self' ${ws}`,
      "object-src 'none'",
      "base-uri 'none'",
    ].join('; ');
  }
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'", // the core is reached over IPC, never the network
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** A window may only ever show the studio itself: our app:// origin, or the dev server in development. */
export function isAppUrl(url: string, devServerUrl: string | null): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (`${parsed.protocol}//${parsed.host}` === APP_ORIGIN) return true;
  if (devServerUrl) {
    const dev = new URL(devServerUrl);
    return parsed.origin === dev.origin;
  }
  return false;
}

/** Links the user clicks that leave the app open in the system browser — web pages only, never file: or custom schemes. */
export function isExternalWebUrl(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === 'https:' || protocol === 'http:';
  } catch {
    return false;
  }
}

/**
 * The file of the built renderer an app:// URL asks for, or null if it would leave `rendererDir`.
 * Paths without an extension get index.html (client-side routes).
 */
export function appUrlToFile(url: string, rendererDir: string): string | null {
  let pathname: string;
  try {
    const parsed = new URL(url);
    if (`${parsed.protocol}//${parsed.host}` !== APP_ORIGIN) return null;
    pathname = decodeURIComponent(parsed.pathname);
  } catch {
    return null;
  }
  if (pathname.includes('\0')) return null;
  const root = resolve(rendererDir);
  const last = pathname.split('/').pop() ?? '';
  const relative = last.includes('.') ? pathname : '/index.html';
  const file = resolve(root, '.' + normalize('/' + relative));
  return file.startsWith(root + sep) ? file : null;
}
