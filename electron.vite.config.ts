// Desktop build: the thin Electron shell (main), the preload bridge and the React renderer.
// Native addons (better-sqlite3, onnxruntime-node, ours) stay external: electron-vite leaves dependencies unbundled.
import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import { rendererConfig } from './src/renderer/vite.shared.ts';

export default defineConfig({
  main: {
    build: {
      rollupOptions: {
        input: {
          index: resolve(import.meta.dirname, 'src/main/electron/main.ts'),
          worker: resolve(import.meta.dirname, 'src/main/worker/entry.ts'),
        },
      },
    },
  },
  preload: {
    build: { rollupOptions: { input: { index: resolve(import.meta.dirname, 'src/preload/index.ts') } } },
  },
  renderer: rendererConfig,
});
