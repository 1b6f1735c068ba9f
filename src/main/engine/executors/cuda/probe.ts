// probeCuda(): which CUDA device the addon sees, or why the GPU path is unavailable. Imports only the addon loader,
// so `lora-studio doctor` (through a worker) and executor selection can call it without loading the executor.
import { loadAddon, type NativeAddon } from './addon.ts';

export interface CudaDevice {
  name: string;
  computeCapability: string;
  totalMemory: number; // bytes
  freeMemory: number;
  multiprocessors: number;
  driverVersion: number; // e.g. 13000
  runtimeVersion: number;
  cublasLt: boolean; // built with cuBLASLt (else a slower tiled GEMM)
}

export interface CudaProbe {
  available: boolean;
  device: CudaDevice | null;
  reason: string | null; // why the GPU path is not available (null when it is)
}

/** Which CUDA device the addon sees, or why none can be used. Never throws. */
export function probeCuda(load: () => { addon: NativeAddon | null; reason?: string } = loadAddon): CudaProbe {
  try {
    const l = load();
    if (!l.addon) return { available: false, device: null, reason: l.reason ?? 'the native addon is not available' };
    const p = l.addon.probe();
    const device: CudaDevice | null = p.name
      ? {
          name: p.name, computeCapability: p.computeCapability ?? '?', totalMemory: p.totalMemory ?? 0, freeMemory: p.freeMemory ?? 0,
          multiprocessors: p.multiprocessors ?? 0, driverVersion: p.driverVersion ?? 0, runtimeVersion: p.runtimeVersion ?? 0, cublasLt: p.cublasLt ?? false,
        }
      : null;
    return { available: p.available === true && device !== null, device, reason: p.available ? null : p.reason || 'no usable CUDA device' };
  } catch (e) {
    return { available: false, device: null, reason: `probing CUDA failed: ${(e as Error).message}` };
  }
}
