// Executors by name: 'cpu' (onnxruntime-node graphs) or 'cuda' (our kernels through the native addon), or 'auto' —
// CUDA when the addon is built and sees a usable GPU, else the CPU. An executor has a training side
// (TrainingSession) and a decoding side (DecodeSession, what generate/decoder.ts runs), both over the same flat
// trainables layout (trainables.ts), so neither the trainer nor generation names an executor. The device has no
// decode kernels yet: the CUDA executor's decoding side is the ONNX decode graph on the CPU, and says so.

import type { Program } from '../../model/ir.ts';
import type { DecodeSession, TrainingSession } from '../session.ts';
import type { Nf4Tensor } from '../quant/nf4.ts';
import { createCpuTrainingSession, type WeightSource } from './onnx/session.ts';
import { OnnxDecodeSession } from './onnx/decode-session.ts';
import type { BaseDtype } from './onnx/weight-file.ts';
export type { BaseDtype } from './onnx/weight-file.ts';
import { createCudaTrainingSession } from './cuda/session.ts';
import { probeCuda, type CudaProbe } from './cuda/probe.ts';
import { loadAddon, type NativeAddon } from './cuda/addon.ts';
import { checkSupported } from './plan/plan.ts';

export const EXECUTOR_NAMES = ['cpu', 'cuda'] as const;
export type ExecutorName = (typeof EXECUTOR_NAMES)[number];
export type ExecutorChoice = ExecutorName | 'auto';

export interface TrainingSessionRequest {
  program: Program;
  /** Base weights by param name (float arrays, or NF4 for params the program marks quantized), as a map or read
   *  one at a time on demand (the CPU session then never holds the whole base in JavaScript). */
  weights: WeightSource;
  seed: number;
  /** CPU threads (cpu). */
  threads?: number;
  /** Largest micro-batch in tokens (batch × sequence length): device activation slots are sized for it (cuda). */
  capacityTokens: number;
  /** Recompute each block in backward instead of keeping its activations (cuda). */
  checkpointing?: boolean;
  /** How the frozen float base is held (cpu): f32, or f16/bf16 widened to float32 per use (weight-file.ts). */
  baseDtype?: BaseDtype;
}

export interface DecodeSessionRequest {
  /** The base program (LoRA branches, if any, are ignored: adapters are step inputs). */
  program: Program;
  /** Base weights as a map, or read one at a time while the session is created (the CPU side keeps no JS copy). */
  weights: WeightSource;
  elem?: 'float32' | 'float64';
  threads?: number;
  /** How the frozen float base is held: f32 (exact) or f16/bf16, widened to float32 per use (CPU). */
  baseDtype?: BaseDtype;
  /** Which linear modules accept adapters (default: every linear but the output head). */
  adapterModules?: (module: string) => boolean;
  /** An open decode session of the same base model whose frozen weights this one may read instead of holding its
   *  own copy (a fused chat program beside the plain one; CPU: its weight file). Ignored where it cannot be shared. */
  shareBaseWith?: DecodeSession;
}

export interface Executor {
  readonly name: ExecutorName;
  /** Why this executor runs (what `auto` found, or that it was asked for). */
  readonly reason: string;
  createTrainingSession(r: TrainingSessionRequest): Promise<TrainingSession>;
  /** Where its decoding side runs, when that is not where it trains. */
  readonly decodeReason: string | null;
  createDecodeSession(r: DecodeSessionRequest): Promise<DecodeSession>;
}

export interface OpenExecutorOptions {
  /** The native addon (tests inject a CPU stand-in); default: the built addon, if any. */
  addon?: NativeAddon;
  probe?: () => CudaProbe;
  /** The program to train: `auto` keeps the CPU for what the CUDA executor cannot train (full fine-tuning, biases). */
  program?: Program;
}

/** A weight source as one map, for the CUDA session (it uploads the whole base at once). */
async function weightMap(p: Program, w: WeightSource): Promise<Map<string, ArrayLike<number> | Nf4Tensor>> {
  if (typeof w !== 'function') return w;
  const m = new Map<string, ArrayLike<number> | Nf4Tensor>();
  for (const d of p.params) if (!d.init) m.set(d.name, await w(d.name));
  return m;
}

const onnxDecode = (r: DecodeSessionRequest): Promise<DecodeSession> => OnnxDecodeSession.create(r);

const cpu = (reason: string): Executor => ({
  name: 'cpu',
  reason,
  createTrainingSession: (r) => createCpuTrainingSession({ program: r.program, weights: r.weights, seed: r.seed, threads: r.threads, baseDtype: r.baseDtype }),
  decodeReason: null,
  createDecodeSession: onnxDecode,
});

const cuda = (reason: string, addon: NativeAddon | undefined): Executor => ({
  name: 'cuda',
  reason,
  createTrainingSession: async (r) =>
    createCudaTrainingSession({ program: r.program, weights: await weightMap(r.program, r.weights), seed: r.seed, capacityTokens: r.capacityTokens, checkpointing: r.checkpointing, addon }),
  decodeReason: 'generation runs the ONNX decode graph on the CPU (the device has no decode kernels yet)',
  createDecodeSession: onnxDecode,
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
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}
