// The native addon's build, checked on any machine: binding.gyp is valid and builds the CUDA part only on request,
// every kernel file is compiled by the build script and declared in kernels.h, the install hook builds nothing by
// default. The nvcc compilation itself (minutes on 2 cores) runs in `npm run test:native` (LORA_NATIVE_COMPILE=1):
// it compiles every CUDA file for sm_90a + compute_90 PTX and links the addon with and without CUDA.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, cpSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import os from 'node:os';
import { cudaSources } from '../../scripts/build-native.mjs';

const root = path.resolve(import.meta.dirname, '..', '..');
const native = path.join(root, 'native');

describe('native build configuration', () => {
  it('binding.gyp: one Node-API target, CUDA only when LORA_STUDIO_BUILD_CUDA=1, and not at the package root', () => {
    const gyp = JSON.parse(readFileSync(path.join(native, 'binding.gyp'), 'utf8'));
    expect(gyp.targets).toHaveLength(1);
    const t = gyp.targets[0];
    expect(t.target_name).toBe('lora_native');
    expect(t.sources).toEqual(['src/addon.cc']);
    expect(gyp.variables['with_cuda%']).toMatch(/LORA_STUDIO_BUILD_CUDA === '1'/);
    const cudaCond = t.conditions.find((c: unknown[]) => c[0] === 'with_cuda==1');
    expect(cudaCond[1].defines).toContain('LORA_WITH_CUDA');
    expect(cudaCond[1].libraries[0]).toMatch(/build\/cuda\/liblora_cuda\.a$/);
    // npm runs node-gyp on install for a binding.gyp at the root: ours must not be there
    expect(existsSync(path.join(root, 'binding.gyp'))).toBe(false);
  });

  it('every kernel file is compiled, one op per file, each declared in kernels.h', () => {
    const files = readdirSync(path.join(native, 'cuda')).filter((f) => f.endsWith('.cu')).sort();
    expect(cudaSources().map((f: string) => path.relative(native, f))).toEqual([...files.map((f) => `cuda/${f}`), 'src/executor.cu']);
    for (const op of ['rmsnorm', 'layernorm', 'rope', 'swiglu', 'geglu', 'gelu', 'embedding', 'cross_entropy', 'attention', 'nf4', 'lora', 'adamw', 'gemm', 'gemm_cublaslt', 'softcap', 'slice', 'pooling', 'task_loss', 'relu'])
      expect(files).toContain(`${op}.cu`);
    const header = readFileSync(path.join(native, 'cuda', 'kernels.h'), 'utf8');
    for (const f of files) {
      const src = readFileSync(path.join(native, 'cuda', f), 'utf8');
      // launchers a file defines (template<…> cudaError_t name( at line start) must be declared in kernels.h
      for (const m of src.matchAll(/^(?:template <typename T>\s*)?cudaError_t (\w+)\(/gm)) expect(header, `${f}: ${m[1]}`).toMatch(new RegExp(`cudaError_t ${m[1]}\\(`));
    }
  });

  it('the install hook builds nothing without a GPU (or with LORA_STUDIO_BUILD_CUDA=0) and exits 0 silently', () => {
    const hook = (env: Record<string, string>) => spawnSync(process.execPath, [path.join(root, 'scripts', 'build-native.mjs'), '--if-wanted'], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });
    const hasGpu = spawnSync('nvidia-smi', ['-L'], { encoding: 'utf8' }).status === 0;
    for (const env of [{ LORA_STUDIO_BUILD_CUDA: '0' }, ...(hasGpu ? [] : [{ LORA_STUDIO_BUILD_CUDA: '' }])]) {
      const r = hook(env);
      expect(r.status).toBe(0);
      expect(r.stdout + r.stderr).toBe('');
    }
  });
});

const compile = process.env.LORA_NATIVE_COMPILE === '1';
const nvcc = spawnSync('sh', ['-c', 'command -v nvcc || ls /usr/local/cuda*/bin/nvcc'], { encoding: 'utf8' }).status === 0;
const why = !compile ? 'run `npm run test:native` (LORA_NATIVE_COMPILE=1): it takes minutes on 2 cores' : !nvcc ? 'nvcc is not installed' : '';

describe.skipIf(!compile || !nvcc)(`nvcc compilation${why ? ` (skipped: ${why})` : ''}`, () => {
  it('compiles every CUDA file for sm_90a with compute_90 PTX', () => {
    const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'build-native.mjs'), '--check', '--jobs', String(Math.max(1, os.cpus().length))], { encoding: 'utf8', timeout: 1_500_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\d+ CUDA sources compiled for -gencode=arch=compute_90a,code=sm_90a -gencode=arch=compute_90,code=compute_90/);
  }, 1_600_000);

  it('links the addon without CUDA (in a scratch copy): probe() says why there is no GPU path', () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'lora-native-'));
    try {
      cpSync(native, path.join(tmp, 'native'), { recursive: true, filter: (s) => !s.includes(`${path.sep}build`) });
      cpSync(path.join(root, 'scripts'), path.join(tmp, 'scripts'), { recursive: true });
      cpSync(path.join(root, 'node_modules', 'node-addon-api'), path.join(tmp, 'node_modules', 'node-addon-api'), { recursive: true });
      const r = spawnSync(process.execPath, [path.join(tmp, 'scripts', 'build-native.mjs'), '--cpu-only'], { encoding: 'utf8', timeout: 300_000 });
      expect(r.status, r.stdout + r.stderr).toBe(0);
      const addon = createRequire(import.meta.url)(path.join(tmp, 'native', 'build', 'Release', 'lora_native.node'));
      expect(addon.probe()).toEqual({ builtWithCuda: false, available: false, reason: expect.stringMatching(/built without CUDA/) });
      expect(addon.CudaSession).toBeUndefined();
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 320_000);
});
