// bench:gpu — our CUDA executor against PyTorch + PEFT, in one run on the same GPU: training tokens/s and peak GPU
// memory for random-weight models shaped like Qwen2.5-0.5B, Llama-3.2-1B and Llama-3.1-8B at seq 2048, LoRA r=16 on
// q/k/v/o and on all linear layers, and QLoRA (NF4) on all linear layers; MFU against the bf16 matmul peak that
// PyTorch measures on the same GPU. Both sides: bf16, same batch, same shapes, AdamW on the LoRA tensors, no
// gradient checkpointing, dropout 0 (PEFT then skips its dropout module), 3 warm-up steps then 10 timed ones.
// Last line: `bench:gpu speedup=<x> memory_ratio=<y> mfu=<z>` for the Llama-3.2-1B-shaped LoRA (all linear) run.
//   npm run bench:gpu                      (needs the addon built with CUDA: npm run build:native)
//   npx tsx bench/gpu.ts --models llama1b --configs lora-all --steps 5 --no-peft
// PyTorch's side is bench/gpu_peft.py (python3 with torch, transformers, peft; bitsandbytes for its QLoRA rows).

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { buildLlamaProgram, type LlamaConfig } from '../src/main/model/families/llama/program.ts';
import { countParams } from '../src/main/model/ir.ts';
import { applyLora } from '../src/main/engine/lora/model.ts';
import type { Program } from '../src/main/model/ir.ts';
import type { Batch } from '../src/main/engine/session.ts';
import { createCudaTrainingSession, probeCuda } from '../src/main/engine/executors/cuda/index.ts';

const llama3 = (factor: number) => ({ type: 'llama3' as const, factor, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 });
export const SHAPES: Record<string, LlamaConfig & { hf: string; batch: number }> = {
  qwen05b: {
    hf: 'qwen2', batch: 4, family: 'qwen2', vocabSize: 151936, hiddenSize: 896, intermediateSize: 4864, numLayers: 24, numHeads: 14, numKvHeads: 2,
    headDim: 64, rmsNormEps: 1e-6, rope: { theta: 1000000, headDim: 64, scaling: null }, tieWordEmbeddings: true, attentionBias: true, qkNorm: false, slidingWindow: null,
  },
  llama1b: {
    hf: 'llama', batch: 4, family: 'llama', vocabSize: 128256, hiddenSize: 2048, intermediateSize: 8192, numLayers: 16, numHeads: 32, numKvHeads: 8,
    headDim: 64, rmsNormEps: 1e-5, rope: { theta: 500000, headDim: 64, scaling: llama3(32) }, tieWordEmbeddings: true, attentionBias: false, qkNorm: false, slidingWindow: null,
  },
  llama8b: {
    hf: 'llama', batch: 1, family: 'llama', vocabSize: 128256, hiddenSize: 4096, intermediateSize: 14336, numLayers: 32, numHeads: 32, numKvHeads: 8,
    headDim: 128, rmsNormEps: 1e-5, rope: { theta: 500000, headDim: 128, scaling: llama3(8) }, tieWordEmbeddings: false, attentionBias: false, qkNorm: false, slidingWindow: null,
  },
};
const CONFIGS = {
  'lora-qkvo': { targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj'], qlora: false },
  'lora-all': { targets: 'all-linear', qlora: false },
  'qlora-all': { targets: 'all-linear', qlora: true },
} as const;
type ConfigName = keyof typeof CONFIGS;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}
const SEQ = Number(arg('seq', '2048'));
const STEPS = Number(arg('steps', '10'));
const WARMUP = 3;
const MODELS = arg('models', 'qwen05b,llama1b,llama8b').split(',');
const CONFIG_NAMES = arg('configs', 'lora-qkvo,lora-all,qlora-all').split(',') as ConfigName[];
const WITH_PEFT = !process.argv.includes('--no-peft');

/** Model FLOPs per trained token for LoRA (frozen base): forward 2·P and input-gradient 2·P for every linear (the
 *  head included), plus causal attention (QKᵀ and PV: 2·T·HD each per head, halved for causality) ×3 for backward.
 *  LoRA's own products and recomputation are not counted (as MFU conventions go). */
export function loraFlopsPerToken(c: LlamaConfig, T: number): number {
  const attnLinear = c.hiddenSize * (c.numHeads + 2 * c.numKvHeads) * c.headDim + c.numHeads * c.headDim * c.hiddenSize;
  const mlp = 3 * c.hiddenSize * c.intermediateSize;
  const linear = c.numLayers * (attnLinear + mlp) + c.vocabSize * c.hiddenSize;
  const attention = c.numLayers * c.numHeads * c.headDim * T * 2; // forward, causal
  return 4 * linear + 3 * attention;
}

/** One shared buffer of N(0, 0.02)-ish values, viewed for every weight: values do not change the timing, and an
 *  8B model's weights then cost one 2 GB buffer on the host instead of 32 GB. */
function sharedRandom(n: number): Float32Array {
  const a = new Float32Array(n);
  let x = 0x2545f491;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    a[i] = (((x >>> 0) / 4294967296) * 2 - 1) * 0.035; // uniform with std 0.02
  }
  return a;
}

function batchOf(V: number, B: number, T: number): Batch {
  const ids = Int32Array.from({ length: B * T }, (_, i) => (i * 7919 + 13) % V);
  const labels = Int32Array.from({ length: B * T }, (_, i) => (i % T === T - 1 ? -100 : ids[i + 1]));
  return { B, T, inputIds: ids, attentionMask: new Uint8Array(B * T).fill(1), labels };
}

interface Row { model: string; config: string; side: 'ours' | 'peft'; tokensPerS: number | null; peakGiB: number | null; note?: string }

async function runOurs(model: string, config: ConfigName): Promise<Row> {
  const shape = SHAPES[model];
  const c = CONFIGS[config];
  const program: Program = applyLora(buildLlamaProgram(shape), { r: 16, alpha: 32, dropout: 0, targetModules: c.targets as string[] | string, bias: 'none', useRslora: false }).program;
  const largest = Math.max(...program.params.map((d) => d.shape.reduce((a, b) => a * b, 1)));
  const pool = sharedRandom(largest);
  const weights = new Map<string, Float32Array>();
  for (const d of program.params) if (!d.trainable) weights.set(d.name, pool.subarray(0, d.shape.reduce((a, b) => a * b, 1)));
  const B = shape.batch;
  const session = await createCudaTrainingSession({ program, weights, seed: 1, capacityTokens: B * SEQ, qlora: c.qlora, dtype: 'bf16' });
  const batch = batchOf(shape.vocabSize, B, SEQ);
  const step = async () => {
    await session.microStep(batch);
    await session.applyUpdate({ lr: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 1 });
  };
  for (let i = 0; i < WARMUP; i++) await step();
  const t0 = performance.now();
  for (let i = 0; i < STEPS; i++) await step(); // each call returns after the device finished (NLL read back)
  const seconds = (performance.now() - t0) / 1000;
  const mem = session.memoryReport();
  await session.dispose();
  // peak = everything the session cudaMalloc'd (it allocates once, up front), comparable to PyTorch's
  // max_memory_reserved; the device-wide figure also counts the CUDA context
  return { model, config, side: 'ours', tokensPerS: (B * SEQ * STEPS) / seconds, peakGiB: mem.allocated / 2 ** 30, note: `device-wide peak ${(mem.peak / 2 ** 30).toFixed(2)} GiB, estimate ${(mem.estimate.total / 2 ** 30).toFixed(2)} GiB` };
}

function python(args: string[]): Record<string, unknown>[] {
  // beside this file, or bench/ when running the bundle from .devnode/
  const here = path.dirname(fileURLToPath(import.meta.url));
  const script = [path.join(here, 'gpu_peft.py'), path.join(here, '..', 'bench', 'gpu_peft.py')].find((f) => existsSync(f)) ?? 'bench/gpu_peft.py';
  const r = spawnSync(process.env.PYTHON ?? 'python3', [script, ...args], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 3_600_000 });
  if (r.status !== 0) throw new Error(`gpu_peft.py failed (${r.status}):\n${r.stderr.slice(-4000)}`);
  return r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

async function main() {
  const probe = probeCuda();
  if (!probe.available) {
    console.error(`bench:gpu needs a CUDA device: ${probe.reason}`);
    process.exit(2);
  }
  console.log(`device: ${probe.device!.name} (cc ${probe.device!.computeCapability}, ${(probe.device!.totalMemory / 2 ** 30).toFixed(0)} GiB, cuBLASLt ${probe.device!.cublasLt ? 'yes' : 'NO: tiled GEMM fallback'})`);
  let peakTflops: number | null = null;
  if (WITH_PEFT) peakTflops = Number(python(['--peak'])[0].bf16_peak_tflops);
  const rows: Row[] = [];
  for (const model of MODELS)
    for (const config of CONFIG_NAMES) {
      try {
        rows.push(await runOurs(model, config));
      } catch (e) {
        rows.push({ model, config, side: 'ours', tokensPerS: null, peakGiB: null, note: (e as Error).message.split('\n')[0] });
      }
      if (!WITH_PEFT) continue;
      const shape = SHAPES[model];
      const out = python(['--model', JSON.stringify(shape), '--seq', String(SEQ), '--batch', String(shape.batch), '--steps', String(STEPS), '--warmup', String(WARMUP), '--config', config])[0];
      rows.push({ model, config, side: 'peft', tokensPerS: out.tokens_per_s as number | null, peakGiB: out.peak_gib as number | null, note: out.note as string | undefined });
    }
  const fmt = (x: number | null, d = 0) => (x === null || !Number.isFinite(x) ? 'n/a' : x.toFixed(d));
  console.log(`\nseq ${SEQ}, bf16, LoRA r=16 alpha=32, ${STEPS} timed steps; bf16 matmul peak ${fmt(peakTflops, 0)} TFLOP/s`);
  console.log('| model | config | batch | ours tok/s | PEFT tok/s | speedup | ours peak GiB | PEFT peak GiB | memory ratio | MFU |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  let last = { speedup: NaN, memory: NaN, mfu: NaN };
  for (const model of MODELS)
    for (const config of CONFIG_NAMES) {
      const o = rows.find((r) => r.model === model && r.config === config && r.side === 'ours')!;
      const p = rows.find((r) => r.model === model && r.config === config && r.side === 'peft');
      const speedup = o.tokensPerS && p?.tokensPerS ? o.tokensPerS / p.tokensPerS : NaN;
      const memory = o.peakGiB && p?.peakGiB ? o.peakGiB / p.peakGiB : NaN;
      const mfu = o.tokensPerS && peakTflops ? (o.tokensPerS * loraFlopsPerToken(SHAPES[model], SEQ)) / (peakTflops * 1e12) : NaN;
      console.log(`| ${model} | ${config} | ${SHAPES[model].batch} | ${fmt(o.tokensPerS)} | ${fmt(p?.tokensPerS ?? null)} | ${fmt(speedup, 2)} | ${fmt(o.peakGiB, 2)} | ${fmt(p?.peakGiB ?? null, 2)} | ${fmt(memory, 2)} | ${fmt(mfu * 100, 1)}% |`);
      for (const r of [o, p]) if (r?.note) console.log(`  ${r.side} ${model}/${config}: ${r.note}`);
      if (model === 'llama1b' && config === 'lora-all') last = { speedup, memory, mfu };
    }
  console.log(`base params: ${MODELS.map((m) => `${m} ${(countParams(buildLlamaProgram(SHAPES[m])) / 1e9).toFixed(2)}B`).join(', ')}`);
  console.log(`bench:gpu speedup=${fmt(last.speedup, 2)} memory_ratio=${fmt(last.memory, 2)} mfu=${fmt(last.mfu, 3)}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
