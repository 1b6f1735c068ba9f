// Executors by name: 'cpu' (onnxruntime-node graphs) or 'cuda' (our kernels through the native addon), or 'auto' —
// CUDA when the addon is built and sees a usable GPU, else the CPU. Both train the same Program over the same flat
// trainables layout (trainables.ts) behind the TrainingSession contract, so the trainer never names one.
// Generation (generate/decoder.ts) runs the ONNX decode graph on either choice: the device has no decode path yet.

import type { Program } from '../../model/ir.ts';
import type { TrainingSession } from '../session.ts';
import type { Nf4Tensor } from '../quant/nf4.ts';
import { createCpuTrainingSession } from './onnx/session.ts';
import { createCudaTrainingSession } from './cuda/session.ts';
import { probeCuda, type CudaProbe } from './cuda/probe.ts';
import { loadAddon, type NativeAddon } from './cuda/addon.ts';
import { checkSupported, cudaKernelGap } from './plan/plan.ts';

export const EXECUTOR_NAMES = ['cpu', 'cuda'] as const;
export type ExecutorName = (typeof EXECUTOR_NAMES)[number];
export type ExecutorChoice = ExecutorName | 'auto';

export interface TrainingSessionRequest {
  program: Program;
  /** Base weights by param name (float arrays, or NF4 for params the program marks quantized). */
  weights: Map<string, ArrayLike<number> | Nf4Tensor>;
  seed: number;
  /** CPU threads (cpu). */
  threads?: number;
  /** Largest micro-batch in tokens (batch × sequence length): device activation slots are sized for it (cuda). */
  capacityTokens: number;
  /** Recompute each block in backward instead of keeping its activations (cuda). */
  checkpointing?: boolean;
}

export interface Executor {
  readonly name: ExecutorName;
  /** Why this executor runs (what `auto` found, or that it was asked for). */
  readonly reason: string;
  createTrainingSession(r: TrainingSessionRequest): Promise<TrainingSession>;
}

export interface OpenExecutorOptions {
  /** The native addon (tests inject a CPU stand-in); default: the built addon, if any. */
  addon?: NativeAddon;
  probe?: () => CudaProbe;
  /** The program to train: `auto` keeps the CPU for what the CUDA executor cannot train (full fine-tuning, biases). */
  program?: Program;
}

const cpu = (reason: string): Executor => ({
  name: 'cpu',
  reason,
  createTrainingSession: (r) => createCpuTrainingSession({ program: r.program, weights: r.weights, seed: r.seed, threads: r.threads }),
});

const cuda = (reason: string, addon: NativeAddon | undefined): Executor => ({
  name: 'cuda',
  reason,
  createTrainingSession: (r) =>
    createCudaTrainingSession({ program: r.program, weights: r.weights, seed: r.seed, capacityTokens: r.capacityTokens, checkpointing: r.checkpointing, addon }),
});

/** The executor a choice names; `auto` probes for CUDA. Asking for 'cuda' without a usable GPU is an error saying why. */
export function openExecutor(choice: ExecutorChoice, o: OpenExecutorOptions = {}): Executor {
  if (choice === 'cpu') return cpu('asked for the CPU executor');
  const probe = o.probe ?? (() => probeCuda(o.addon ? () => ({ addon: o.addon! }) : loadAddon));
  const p = probe();
  if (choice === 'cuda') {
    if (!p.available) throw new Error(`the CUDA executor is not available: ${p.reason ?? 'no usable CUDA device'}. Use --device cpu (executor "cpu"), or "auto" to fall back to the CPU.`);
    return cuda(`asked for the CUDA executor (${p.device?.name ?? 'GPU'})`, o.addon);
  }
  if (!p.available) return cpu(`auto: CPU (${p.reason ?? 'no usable CUDA device'})`);
  const unsupported = o.program ? cudaRefusal(o.program) : null;
  if (unsupported) return cpu(`auto: CPU (${unsupported})`);
  return cuda(`auto: CUDA on ${p.device?.name ?? 'a GPU'}`, o.addon);
}

/** Why the CUDA executor cannot train a program, or null. */
function cudaRefusal(p: Program): string | null {
  try {
    checkSupported(p);
    return cudaKernelGap(p);
  } catch (e) {
    return (e as Error).message;
  }
}
