// Loading the native addon (native/build/Release/lora_native.node) and the TypeScript face of its contract.
// Absent or built without CUDA is a normal state: the studio then runs on the CPU executor.

import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** What the addon's probe() reports (native/src/addon.cc). */
export interface NativeProbe {
  builtWithCuda: boolean;
  available: boolean;
  reason: string;
  count?: number;
  name?: string;
  computeCapability?: string;
  multiprocessors?: number;
  totalMemory?: number;
  freeMemory?: number;
  driverVersion?: number;
  runtimeVersion?: number;
  cublasLt?: boolean;
}

export interface NativeBatch {
  B: number;
  T: number;
  V: number;
  ids: Int32Array;
  labels: Int32Array;
  mask: Uint8Array;
  segments?: Int32Array;
  positions: Int32Array; // (N) token positions (learned position tables)
  tokenTypes: Int32Array; // (N) token types (token-type tables), zeros when the batch has none
  targets?: Float32Array; // (B) regression targets (mse_loss), NaN = not trained
  starts?: Int32Array; // (B) gold span starts / ends (span_loss)
  ends?: Int32Array;
  cos?: Float32Array; // (N, HD)
  sin?: Float32Array;
  cosLocal?: Float32Array; // tables of rope steps marked local (Gemma 3 sliding layers)
  sinLocal?: Float32Array;
  headDim: number;
  dropoutSeed: number;
  hostKeep?: Uint8Array; // exact-parity dropout: keep flags of every LoRA module, plan order, concatenated
  hostKeepOffsets?: number[]; // (modules + 1) byte offsets into hostKeep
}

export interface NativeAdamw {
  lr: number; beta1: number; beta2: number; eps: number; weightDecay: number;
  biasCorr1: number; biasCorr2: number; invTokens: number; clipMax: number;
}

/** The session object the addon constructs (class CudaSession in addon.cc). */
export interface NativeSession {
  uploadWeight(index: number, data: Float32Array): void;
  /** A weight quantized on the host (quant/nf4.ts, block 64): double-quantized parts, or plain f32 absmax. */
  uploadNf4(index: number, t: { n: number; codes: Uint8Array; absmax?: Float32Array; qabsmax?: Uint8Array; absmax2?: Float32Array; offset?: number }): void;
  setTrainables(data: Float32Array): void;
  getTrainables(n: number): Float32Array;
  getGradients(n: number): Float32Array;
  setMoments(m: Float32Array, v: Float32Array): void;
  getMoments(n: number): { m: Float32Array; v: Float32Array };
  /** mode 0 = train (forward + backward, gradients accumulate), 1 = eval, 2 = logits. */
  run(mode: 0 | 1 | 2, batch: NativeBatch): Promise<{ nll: Float32Array; logits?: Float32Array }>;
  applyUpdate(a: NativeAdamw): Promise<number>;
  deviceBytes(): number;
  peakBytes(): number;
  dispose(): void;
}

export interface NativeSessionOptions {
  dtype: 'bf16' | 'f32';
  capacityTokens: number;
  maxHeadDim: number;
  nf4Fused: boolean;
  hostDropout: boolean; // room for host-drawn dropout masks (exactDropout sessions)
  decay: Uint8Array; // (trainables)
  dynMap: Float32Array; // 256
  weights: { name: string; shape: number[]; nf4: boolean }[];
  plans: unknown[]; // train, eval, logits: Plan objects (plan.ts), passed as they are
}

export interface NativeAddon {
  abiVersion: number;
  probe(): NativeProbe;
  CudaSession?: new (o: NativeSessionOptions) => NativeSession;
}

export const ADDON_ABI_VERSION = 1;

/** Where the addon may be: $LORA_STUDIO_NATIVE_ADDON, the working directory's native/build, or above this module. */
export function addonCandidates(): string[] {
  const rel = path.join('native', 'build', 'Release', 'lora_native.node');
  const list: string[] = [];
  if (process.env.LORA_STUDIO_NATIVE_ADDON) list.push(process.env.LORA_STUDIO_NATIVE_ADDON);
  list.push(path.resolve(process.cwd(), rel));
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    list.push(path.join(dir, rel));
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return [...new Set(list)];
}

export type AddonLoad = { addon: NativeAddon; path: string } | { addon: null; reason: string };

/** Loads the addon once; never throws (a missing or broken addon is a reason, not an error). */
let cached: AddonLoad | null = null;
export function loadAddon(candidates?: string[]): AddonLoad {
  if (cached && !candidates) return cached;
  const found = (candidates ?? addonCandidates()).find((p) => existsSync(p));
  let result: AddonLoad;
  if (!found) result = { addon: null, reason: 'the native addon is not built (run `npm run build:native` on a machine with the CUDA toolkit)' };
  else
    try {
      const addon = createRequire(import.meta.url)(found) as NativeAddon;
      result = addon.abiVersion === ADDON_ABI_VERSION
        ? { addon, path: found }
        : { addon: null, reason: `the native addon at ${found} speaks contract ${addon.abiVersion}, this build needs ${ADDON_ABI_VERSION}: rebuild it (npm run build:native)` };
    } catch (e) {
      result = { addon: null, reason: `the native addon at ${found} failed to load: ${(e as Error).message.split('\n')[0]}` };
    }
  if (!candidates) cached = result;
  return result;
}
