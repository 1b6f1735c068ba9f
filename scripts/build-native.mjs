#!/usr/bin/env node
// Builds the native addon (native/): the CUDA kernels with nvcc into native/build/cuda/liblora_cuda.a, then the
// Node-API binding (native/binding.gyp through node-gyp, or a direct g++ link where node-gyp or Node's headers are
// missing, e.g. on a GPU machine that only carries a Node binary).
//
//   node scripts/build-native.mjs              CUDA build (npm run build:native); fails clearly without nvcc
//   node scripts/build-native.mjs --if-wanted  install hook: builds only with LORA_STUDIO_BUILD_CUDA=1 or when
//                                              nvidia-smi sees a GPU and nvcc exists (=0: never); never fails
//   node scripts/build-native.mjs --check      compile every CUDA source to an object, no link (test:native)
//   node scripts/build-native.mjs --cpu-only   the binding without CUDA (probe() then says why)
//   --direct   link with g++ instead of node-gyp      --jobs N   parallel nvcc processes
// Environment: CUDA_HOME, LORA_CUDA_ARCHS (default "90a": sm_90a code + compute_90 PTX), LORA_NODE_INCLUDE.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = path.join(root, 'native');
const outDir = path.join(nativeDir, 'build', 'cuda');
const args = new Set(process.argv.slice(2));
const jobsArg = process.argv.indexOf('--jobs');
const jobs = jobsArg > 0 ? Number(process.argv[jobsArg + 1]) : Math.max(1, cpus().length);
const log = (m) => console.log(`build-native: ${m}`);

/** Every CUDA translation unit: one file per op in native/cuda, and the plan interpreter. */
export function cudaSources() {
  const kernels = readdirSync(path.join(nativeDir, 'cuda')).filter((f) => f.endsWith('.cu')).sort().map((f) => path.join(nativeDir, 'cuda', f));
  return [...kernels, path.join(nativeDir, 'src', 'executor.cu')];
}

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function findCudaHome() {
  const candidates = [process.env.CUDA_HOME, process.env.CUDA_PATH, '/usr/local/cuda'];
  if (existsSync('/usr/local')) for (const d of readdirSync('/usr/local').sort().reverse()) if (d.startsWith('cuda-')) candidates.push(`/usr/local/${d}`);
  const nvcc = which('nvcc');
  if (nvcc) candidates.push(path.dirname(path.dirname(nvcc)));
  return candidates.find((c) => c && existsSync(path.join(c, 'include', 'cuda_runtime.h'))) ?? null;
}

function findNvcc(cudaHome) {
  const own = cudaHome && path.join(cudaHome, 'bin', 'nvcc');
  return own && existsSync(own) ? own : which('nvcc');
}

/** cuBLASLt's header and library: the toolkit's, the system's, or the one PyTorch's wheels bring (GPU machine). */
function findCublasLt(cudaHome) {
  const dirs = [];
  if (cudaHome) dirs.push({ inc: path.join(cudaHome, 'include'), lib: path.join(cudaHome, 'lib64') });
  dirs.push({ inc: '/usr/include', lib: '/usr/lib/x86_64-linux-gnu' });
  const py = spawnSync('python3', ['-c', 'import nvidia.cublas, os; print(os.path.dirname(nvidia.cublas.__file__) if nvidia.cublas.__file__ else list(nvidia.cublas.__path__)[0])'], { encoding: 'utf8' });
  if (py.status === 0 && py.stdout.trim()) dirs.push({ inc: path.join(py.stdout.trim(), 'include'), lib: path.join(py.stdout.trim(), 'lib') });
  for (const d of dirs) {
    if (!existsSync(path.join(d.inc, 'cublasLt.h'))) continue;
    const libs = existsSync(d.lib) ? readdirSync(d.lib).filter((f) => f.startsWith('libcublasLt.so')) : [];
    if (libs.length) return { ...d, libFile: libs.includes('libcublasLt.so') ? null : libs.sort()[0] };
  }
  return null;
}

function gencodes() {
  const archs = (process.env.LORA_CUDA_ARCHS ?? '90a').split(/[;, ]+/).filter(Boolean);
  const flags = archs.map((a) => `-gencode=arch=compute_${a},code=sm_${a}`);
  const ptx = archs[archs.length - 1].replace(/a$/, ''); // PTX of the plain arch: the driver can JIT it on newer GPUs
  flags.push(`-gencode=arch=compute_${ptx},code=compute_${ptx}`);
  return flags;
}

function run(cmd, argv, opts = {}) {
  return new Promise((resolve) => {
    const p = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('close', (code) => resolve({ code, out }));
    p.on('error', (e) => resolve({ code: -1, out: String(e) }));
  });
}

function newer(a, b) {
  return existsSync(b) && statSync(b).mtimeMs >= statSync(a).mtimeMs;
}

async function compileCuda({ nvcc, cudaHome, cublasLt, check }) {
  mkdirSync(outDir, { recursive: true });
  const headers = [path.join(nativeDir, 'cuda', 'common.cuh'), path.join(nativeDir, 'cuda', 'kernels.h'), path.join(nativeDir, 'src', 'executor.h')];
  const flags = ['-std=c++17', '-O3', '-Xcompiler', '-fPIC', ...gencodes(), `-I${path.join(cudaHome, 'include')}`];
  if (cublasLt) flags.push('-DLORA_HAVE_CUBLASLT', `-I${cublasLt.inc}`);
  const queue = cudaSources();
  const objects = [];
  const failures = [];
  const t0 = Date.now();
  const worker = async () => {
    for (let src = queue.shift(); src; src = queue.shift()) {
      const obj = path.join(outDir, `${path.basename(src)}.o`);
      objects.push(obj);
      if (!check && newer(src, obj) && headers.every((h) => newer(h, obj))) continue;
      const r = await run(nvcc, [...flags, '-c', src, '-o', obj]);
      if (r.code !== 0) failures.push(`${path.relative(root, src)}:\n${r.out}`);
      else log(`compiled ${path.relative(root, src)}`);
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  if (failures.length) throw new Error(`nvcc failed on ${failures.length} file(s):\n${failures.join('\n')}`);
  log(`${objects.length} CUDA sources compiled for ${gencodes().join(' ')} in ${((Date.now() - t0) / 1000).toFixed(0)} s${cublasLt ? ' (cuBLASLt)' : ' (no cuBLASLt: tiled GEMM fallback)'}`);
  if (check) return null;
  const lib = path.join(outDir, 'liblora_cuda.a');
  rmSync(lib, { force: true });
  const ar = await run('ar', ['rcs', lib, ...objects.sort()]);
  if (ar.code !== 0) throw new Error(`ar failed:\n${ar.out}`);
  return lib;
}

function nodeInclude() {
  const candidates = [process.env.LORA_NODE_INCLUDE, path.resolve(process.execPath, '..', '..', 'include', 'node'), '/usr/include/node', path.join(root, '.devnode', 'include', 'node')];
  return candidates.find((c) => c && existsSync(path.join(c, 'node_api.h'))) ?? null;
}

/** node-addon-api's headers: the installed package, or .devnode/include/napi on a machine without node_modules. */
function nodeAddonApiInclude() {
  try {
    return createRequire(import.meta.url)('node-addon-api').include_dir.replace(/^"|"$/g, '');
  } catch {
    const carried = path.join(root, '.devnode', 'include', 'napi');
    if (existsSync(path.join(carried, 'napi.h'))) return carried;
    throw new Error('node-addon-api headers not found (npm install, or node scripts/bundle-gpu.mjs to carry them)');
  }
}

function nodeGyp() {
  const candidates = [process.env.npm_config_node_gyp, path.resolve(process.execPath, '..', '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')];
  return candidates.find((c) => c && existsSync(c)) ?? null;
}

async function linkAddon({ withCuda, cudaHome, cublasLt, direct }) {
  const addonApi = nodeAddonApiInclude();
  const cudaLib = cudaHome ? [path.join(cudaHome, 'lib64'), path.join(cudaHome, 'lib')].find((d) => existsSync(path.join(d, 'libcudart.so'))) : null;
  if (withCuda && !cudaLib) throw new Error(`libcudart.so not found under ${cudaHome}/lib64 or lib`);
  const gyp = nodeGyp();
  const inc = nodeInclude();
  if (!direct && gyp && inc) {
    const env = { ...process.env, LORA_STUDIO_BUILD_CUDA: withCuda ? '1' : '0', CUDA_HOME: cudaHome ?? '', LORA_CUDA_LIBDIR: cudaLib ?? '', LORA_HAVE_CUBLASLT: cublasLt ? '1' : '0' };
    // cuBLASLt from a wheel sits outside the toolkit: let the linker find it
    if (cublasLt) env.LIBRARY_PATH = [cublasLt.lib, process.env.LIBRARY_PATH].filter(Boolean).join(':');
    const nodedir = path.resolve(inc, '..', '..');
    // configure + build, not rebuild: a clean would delete build/cuda (the kernels library)
    const r = await run(process.execPath, [gyp, 'configure', 'build', `--nodedir=${nodedir}`], { cwd: nativeDir, env });
    if (r.code !== 0) throw new Error(`node-gyp failed:\n${r.out}`);
  } else {
    if (!inc) throw new Error('Node-API headers (node_api.h) not found: set LORA_NODE_INCLUDE to a folder that has them');
    const out = path.join(nativeDir, 'build', 'Release');
    mkdirSync(out, { recursive: true });
    const argv = ['-shared', '-fPIC', '-std=c++17', '-O2', '-fexceptions', '-DNAPI_VERSION=8', '-DNAPI_CPP_EXCEPTIONS', `-I${inc}`, `-I${addonApi}`, path.join(nativeDir, 'src', 'addon.cc')];
    if (withCuda) {
      argv.push('-DLORA_WITH_CUDA', `-I${path.join(cudaHome, 'include')}`, path.join(outDir, 'liblora_cuda.a'), `-L${cudaLib}`, '-lcudart', `-Wl,-rpath,${cudaLib}`);
      if (cublasLt) argv.push(`-L${cublasLt.lib}`, cublasLt.libFile ? `-l:${cublasLt.libFile}` : '-lcublasLt', `-Wl,-rpath,${cublasLt.lib}`);
    }
    argv.push('-o', path.join(out, 'lora_native.node'));
    const r = await run('g++', argv);
    if (r.code !== 0) throw new Error(`g++ link failed:\n${r.out}`);
  }
  log(`built ${path.relative(root, path.join(nativeDir, 'build', 'Release', 'lora_native.node'))}${withCuda ? ' with CUDA' : ' without CUDA'}`);
}

function gpuVisible() {
  const r = spawnSync('nvidia-smi', ['-L'], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 && /GPU \d+/.test(r.stdout);
}

async function main() {
  const cpuOnly = args.has('--cpu-only');
  const ifWanted = args.has('--if-wanted');
  const cudaHome = findCudaHome();
  const nvcc = findNvcc(cudaHome);
  if (ifWanted) {
    // LORA_STUDIO_BUILD_CUDA=1 forces the build, =0 forbids it; unset: build where a GPU and nvcc are both present
    const flag = process.env.LORA_STUDIO_BUILD_CUDA;
    const wanted = flag === '1' || (flag !== '0' && nvcc !== null && gpuVisible());
    if (!wanted) return; // the default install: nothing to build, the CPU executor needs no addon
  }
  if (cpuOnly) return linkAddon({ withCuda: false, direct: args.has('--direct') });
  if (!nvcc || !cudaHome) throw new Error('nvcc / the CUDA toolkit was not found (set CUDA_HOME); the studio keeps running on the CPU executor without it');
  const cublasLt = findCublasLt(cudaHome);
  const check = args.has('--check');
  await compileCuda({ nvcc, cudaHome, cublasLt, check });
  if (!check) await linkAddon({ withCuda: true, cudaHome, cublasLt, direct: args.has('--direct') });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  main().catch((e) => {
    if (args.has('--if-wanted')) {
      console.warn(`build-native: skipped the CUDA addon (${e.message.split('\n')[0]}); the CPU executor is unaffected`);
      process.exit(0);
    }
    console.error(`build-native: ${e.message}`);
    process.exit(1);
  });
