// The renderer's build settings, shared by electron-vite (desktop) and the plain Vite build that `serve` uses.
import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import type { UserConfig } from 'vite';

const root = resolve(import.meta.dirname);

export const rendererConfig: UserConfig = {
  root,
  base: './',
  plugins: [react()],
  resolve: { alias: { '@common': resolve(root, '../common') } },
  build: { outDir: resolve(root, '../../out/renderer'), emptyOutDir: true, sourcemap: true },
};
