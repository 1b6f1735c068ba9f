#!/usr/bin/env node
// Prepares a GPU machine run (see native/README.md): the GPU machines have nvcc, the CUDA libraries and PyTorch but
// no Node, no node_modules and no network. This writes, under .devnode/ (ignored by git, carried with the run):
//   bench-gpu.mjs   bench/gpu.ts and the engine bundled into one ES module (esbuild), nothing to install
//   gpu-parity.mjs  bench/gpu-parity.ts likewise (our results vs PyTorch + PEFT on the same weights)
//   gpu-check.mjs   bench/gpu-check.ts likewise (every kernel vs the float64 references, no vitest needed)
//   include/node    Node-API headers, include/napi  node-addon-api headers: enough to link the addon there with
//                   `node scripts/build-native.mjs --direct` (no node-gyp, no Node source tree needed)
// Then run /work/shared/device/pack-node.sh for .devnode/node.xz (the Node binary itself).

import { build } from 'esbuild';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, '.devnode');
mkdirSync(path.join(out, 'include'), { recursive: true });

for (const [entry, file] of [['gpu.ts', 'bench-gpu.mjs'], ['gpu-parity.ts', 'gpu-parity.mjs'], ['gpu-check.ts', 'gpu-check.mjs']])
await build({
  entryPoints: [path.join(root, 'bench', entry)],
  outfile: path.join(out, file),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // the addon is loaded at run time from native/build/Release; a createRequire shim keeps require() working in ESM
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: 'warning',
});

const nodeInclude = [process.env.LORA_NODE_INCLUDE, path.resolve(process.execPath, '..', '..', 'include', 'node'), '/usr/include/node'].find((d) => d && existsSync(path.join(d, 'node_api.h')));
if (!nodeInclude) throw new Error('node_api.h not found: set LORA_NODE_INCLUDE');
mkdirSync(path.join(out, 'include', 'node'), { recursive: true });
for (const h of ['node_api.h', 'node_api_types.h', 'js_native_api.h', 'js_native_api_types.h']) cpSync(path.join(nodeInclude, h), path.join(out, 'include', 'node', h));
const napi = createRequire(import.meta.url)('node-addon-api').include_dir.replace(/^"|"$/g, '');
cpSync(napi, path.join(out, 'include', 'napi'), { recursive: true, filter: (s) => !path.relative(napi, s).includes('node_modules') });
console.log(`bundle-gpu: wrote ${path.relative(root, out)}/{bench-gpu,gpu-parity,gpu-check}.mjs and include/{node,napi}`);
