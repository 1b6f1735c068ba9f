// Serves the built renderer (out/renderer) with an SPA fallback: any path without a file extension
// gets index.html, so deep links like /projects work after a reload.
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

export const BUILD_RENDERER_COMMAND = 'npm run build:renderer';

export function rendererBuilt(dir: string): boolean {
  return existsSync(join(dir, 'index.html'));
}

/** Resolves a URL path to a file inside `root`, or null (missing, a directory, or escaping root). */
export function resolveStatic(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const full = resolve(root, '.' + normalize('/' + decoded));
  if (full !== root && !full.startsWith(root + sep)) return null;
  try {
    return statSync(full).isFile() ? full : null;
  } catch {
    return null;
  }
}

export function sendStatic(
  res: ServerResponse,
  root: string,
  urlPath: string,
  headers: Record<string, string>,
  method: string,
): void {
  const absRoot = resolve(root);
  let file = resolveStatic(absRoot, urlPath);
  if (!file && extname(urlPath) === '') file = resolveStatic(absRoot, '/index.html');
  if (!file) {
    res.writeHead(404, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('not found\n');
    return;
  }
  const isHtml = extname(file) === '.html';
  res.writeHead(200, {
    ...headers,
    'Content-Type': MIME[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': String(statSync(file).size),
    // Vite fingerprints assets (assets/index-abc123.js), so they may be cached; index.html may not.
    'Cache-Control': !isHtml && urlPath.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
  if (method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(file).pipe(res);
}

/** The page shown when the renderer has not been built yet. */
export function missingRendererPage(dir: string): string {
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html><meta charset="utf-8"><title>LoRA Studio</title>
<h1>LoRA Studio's interface is not built</h1>
<p>No <code>index.html</code> in <code>${esc(dir)}</code>. Build it with <code>${BUILD_RENDERER_COMMAND}</code>, then reload this page.</p>\n`;
}
