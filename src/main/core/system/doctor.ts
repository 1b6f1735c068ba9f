// `doctor`: what this machine offers the studio. onnxruntime-node is loaded in a short-lived child process,
// so a broken native binary is reported instead of taking down the core's process.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, platform, arch, totalmem } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DoctorReport } from '../../../common/api/system.ts';

type OrtStatus = DoctorReport['onnxruntime'];
type CudaStatus = DoctorReport['cuda'];

function run(file: string, args: string[], env?: NodeJS.ProcessEnv, timeoutMs = 15_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, env: env ?? process.env, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException).code === 'number' ? ((err as unknown as { code: number }).code) : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: err && !stderr ? err.message : String(stderr) });
    });
  });
}

/** Path of onnxruntime-node's entry, or null when it is not installed. */
function resolveOnnxruntime(): string | null {
  try {
    return createRequire(import.meta.url).resolve('onnxruntime-node');
  } catch {
    return null;
  }
}

export async function checkOnnxruntime(): Promise<OrtStatus & { cudaProviderInstalled: boolean }> {
  const entry = resolveOnnxruntime();
  if (!entry) return { available: false, version: null, backends: [], error: 'onnxruntime-node is not installed (run npm install)', cudaProviderInstalled: false };
  const script = `
    const ort = await import(${JSON.stringify(pathToFileURL(entry).href)});
    const backends = typeof ort.listSupportedBackends === 'function' ? ort.listSupportedBackends() : [{ name: 'cpu', bundled: true }];
    process.stdout.write(JSON.stringify({ version: ort.env?.versions?.node ?? null, backends }));`;
  // ELECTRON_RUN_AS_NODE makes this work when the core runs inside Electron (execPath is then Electron).
  const { code, stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', script], { ...process.env, ELECTRON_RUN_AS_NODE: '1' });
  if (code !== 0) {
    const lastLine = stderr.trim().split('\n').filter(Boolean).slice(-1)[0] ?? `exit code ${code}`;
    return { available: false, version: null, backends: [], error: `onnxruntime-node failed to load: ${lastLine}`, cudaProviderInstalled: false };
  }
  const parsed = JSON.parse(stdout) as { version: string | null; backends: { name: string; bundled: boolean }[] };
  // The CUDA provider is a separate library that onnxruntime-node's postinstall downloads (skipped by default here).
  const binDir = join(dirname(entry), '..', 'bin', 'napi-v6', platform(), arch());
  const cudaLib = platform() === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
  const cudaProviderInstalled = existsSync(join(binDir, cudaLib));
  const backends = parsed.backends.filter((b) => b.bundled || (b.name === 'cuda' && cudaProviderInstalled)).map((b) => b.name);
  return { available: true, version: parsed.version, backends, error: null, cudaProviderInstalled };
}

const LIBCUDA_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/cuda/lib64', '/usr/lib/wsl/lib'];

export async function checkCuda(cudaProviderInstalled: boolean): Promise<CudaStatus> {
  if (platform() === 'darwin') return { available: false, device: null, reason: 'CUDA does not exist on macOS; training runs on the CPU' };
  const smi = await run(platform() === 'win32' ? 'nvidia-smi.exe' : 'nvidia-smi', ['--query-gpu=name,memory.total,driver_version', '--format=csv,noheader'], undefined, 10_000);
  const libcuda = platform() === 'linux' ? LIBCUDA_DIRS.map((d) => join(d, 'libcuda.so.1')).find((f) => existsSync(f)) ?? null : null;
  if (smi.code !== 0) {
    const why = smi.code === -1 && /ENOENT/.test(smi.stderr) ? 'nvidia-smi is not on PATH' : `nvidia-smi failed: ${smi.stderr.trim().split('\n')[0]}`;
    const lib = platform() === 'linux' ? (libcuda ? `; libcuda.so.1 exists at ${libcuda} but no GPU answered` : '; libcuda.so.1 was not found either') : '';
    return { available: false, device: null, reason: `no NVIDIA GPU driver found (${why}${lib}); training runs on the CPU` };
  }
  const device = smi.stdout.trim().split('\n')[0]?.trim() || null;
  const provider = cudaProviderInstalled
    ? "onnxruntime's CUDA provider is installed"
    : "onnxruntime's CUDA provider is not installed (opt in with ONNXRUNTIME_NODE_INSTALL=cuda12 npm install)";
  return { available: true, device, reason: `NVIDIA driver answered through nvidia-smi; ${provider}` };
}

export async function doctor(dataDir: string, appVersion: string): Promise<DoctorReport> {
  const ort = await checkOnnxruntime();
  const cuda = await checkCuda(ort.cudaProviderInstalled);
  const { cudaProviderInstalled: _unused, ...onnxruntime } = ort;
  return {
    appVersion,
    node: process.versions.node,
    platform: platform(),
    arch: arch(),
    cpuThreads: cpus().length,
    totalMemoryBytes: totalmem(),
    onnxruntime,
    cuda,
    dataDir,
  };
}
