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
    // A sandboxed preload cannot be an ES module: emit CommonJS as out/preload/index.cjs.
    build: {
      rollupOptions: {
        input: { index: resolve(import.meta.dirname, 'src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  // electron-vite bundles this config into a temporary file at the project root, so import.meta.dirname
  // inside vite.shared.ts points here, not at src/renderer: pin the renderer's root and alias, and leave its
  // outDir to electron-vite (out/renderer, or <--outDir>/renderer).
  renderer: {
    ...rendererConfig,
    root: resolve(import.meta.dirname, 'src/renderer'),
    resolve: { alias: { '@common': resolve(import.meta.dirname, 'src/common') } },
    build: { sourcemap: rendererConfig.build?.sourcemap }, // electron-vite's default outDir: <outDir>/renderer
  },
});
