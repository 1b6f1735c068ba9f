#!/usr/bin/env node
// Builds the React UI (src/renderer) into out/renderer, so `npm install` then `npm run serve` gives a working page
// with no extra command. Run by the install hook (after the native step) and by `serve` when the UI is missing.
// Vite builds it in a few seconds.
//
//   node scripts/build-renderer.mjs                  build (npm run build:renderer does the same); fails on error
//   node scripts/build-renderer.mjs --if-possible    install hook: skips with a note when Vite is not installed
//                                                    (an install without dev dependencies) and never fails npm
//   --out-dir <dir>                                  build somewhere else than out/renderer
// LORA_STUDIO_RENDERER_DIR moves the default out/renderer (serve reads it too; the install test uses it).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const ifPossible = argv.includes('--if-possible');
const outIndex = argv.indexOf('--out-dir');
const outDir = path.resolve(
  outIndex >= 0
    ? (argv[outIndex + 1] ?? '')
    : (process.env.LORA_STUDIO_RENDERER_DIR ?? path.join(root, 'out', 'renderer')),
);
const log = (m) => console.log(`build-renderer: ${m}`);

const vite = path.join(root, 'node_modules', 'vite', 'bin', 'vite.js');
if (!existsSync(vite) || !existsSync(path.join(root, 'src', 'renderer', 'index.html'))) {
  const why = existsSync(vite)
    ? 'the renderer sources are not in this install'
    : 'Vite is not installed (dev dependencies left out)';
  if (ifPossible) {
    log(`skipped: ${why}; \`serve\` will say how to build the UI`);
    process.exit(0);
  }
  console.error(`build-renderer: cannot build the UI: ${why}`);
  process.exit(1);
}

const started = Date.now();
const result = spawnSync(
  process.execPath,
  [vite, 'build', '--config', 'vite.renderer.config.ts', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'],
  {
    cwd: root,
    stdio: 'inherit',
  },
);
if (result.status !== 0) {
  console.error(
    `build-renderer: the UI build failed (exit ${result.status ?? result.signal}); \`serve\` will show a page saying so`,
  );
  process.exit(ifPossible ? 0 : 1);
}
log(`built the UI into ${path.relative(root, outDir) || outDir} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
