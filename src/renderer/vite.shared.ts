// The renderer's build settings, shared by electron-vite (desktop) and the plain Vite build that `serve` uses.
import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import type { Plugin, UserConfig } from 'vite';

const root = resolve(import.meta.dirname);

/**
 * The built page carries its own CSP as a <meta>, on top of the headers serve and the desktop shell send,
 * so it stays locked down wherever it is opened. Build only: the dev server needs an inline preamble.
 */
const BUILT_PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
].join('; ');

function cspMeta(): Plugin {
  return {
    name: 'lora-studio:csp-meta',
    apply: 'build',
    transformIndexHtml: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: BUILT_PAGE_CSP }, injectTo: 'head-prepend' }],
  };
}

export const rendererConfig: UserConfig = {
  root,
  base: './',
  plugins: [react(), cspMeta()],
  resolve: { alias: { '@common': resolve(root, '../common') } },
  build: { outDir: resolve(root, '../../out/renderer'), emptyOutDir: true, sourcemap: true },
};
