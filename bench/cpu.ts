// bench:cpu — how close the CPU training step gets to the machine's GEMM rate on onnxruntime-node.
// Prints: the f32 2048² MatMul rate; for LoRA (r=16, q/k/v/o, seq 256, batch 1) on random-weight models shaped
// like SmolLM2-135M and Qwen2.5-0.5B: tokens/s, achieved GFLOP/s (forward 2·N·tokens + attention, plus the
// backward GEMMs the graph actually runs), that as a fraction of the GEMM rate, and peak RSS. Each model runs in
// its own process so its peak RSS is its own. On shared cores the GEMM rate moves with the load, so each step is
// compared with GEMM probes taken right before and after it (median of three pairs).
// Last line: `bench:cpu gemm_gflops=<x> step_fraction=<f>`.
//   npm run bench:cpu            (all)        npx tsx bench/cpu.ts --case smollm2   (one)

import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { buildLlamaProgram, type LlamaConfig } from '../src/main/model/families/llama/program.ts';
import { countParams } from '../src/main/model/ir.ts';
import { applyLora } from '../src/main/engine/lora/model.ts';
import type { Program } from '../src/main/model/ir.ts';
import { requiresGrad } from '../src/main/engine/autodiff.ts';
import { createCpuTrainingSession } from '../src/main/engine/executors/onnx/session.ts';
import { GraphBuilder } from '../src/main/engine/executors/onnx/builder.ts';
import { DataType } from '../src/main/engine/executors/onnx/proto.ts';
import { OrtGraph } from '../src/main/engine/executors/onnx/ort.ts';
import { mulberry32 } from '../src/main/engine/rng.ts';
import type { Batch } from '../src/main/engine/session.ts';
import { quantizeProgram, quantizeWeight } from '../src/main/engine/quant/program.ts';
import { isNf4, nf4StorageBytes, type Nf4Tensor } from '../src/main/engine/quant/nf4.ts';

const SHAPES: Record<string, LlamaConfig> = {
  smollm2: {
    family: 'smollm2', vocabSize: 49152, hiddenSize: 576, intermediateSize: 1536, numLayers: 30, numHeads: 9, numKvHeads: 3,
    headDim: 64, rmsNormEps: 1e-5, rope: { theta: 100000, headDim: 64, scaling: null }, tieWordEmbeddings: true,
    attentionBias: false, qkNorm: false, slidingWindow: null,
  },
  qwen25: {
    family: 'qwen2', vocabSize: 151936, hiddenSize: 896, intermediateSize: 4864, numLayers: 24, numHeads: 14, numKvHeads: 2,
    headDim: 64, rmsNormEps: 1e-6, rope: { theta: 1000000, headDim: 64, scaling: null }, tieWordEmbeddings: true,
    attentionBias: true, qkNorm: false, slidingWindow: null,
  },
};
const T = 256;
const B = 1;

/** A 2048² f32 MatMul session; rate() = best GFLOP/s of a few runs. */
async function gemmProbe(): Promise<{ rate(runs?: number): Promise<number>; release(): Promise<void> }> {
  const n = 2048;
  const g = new GraphBuilder('float32');
  g.output('c', g.matmul(g.input('a', DataType.FLOAT, [n, n]), g.input('b', DataType.FLOAT, [n, n])), DataType.FLOAT, [n, n]);
  const s = await OrtGraph.create(g.model('gemm'));
  const next = mulberry32(1);
  const a = Float32Array.from({ length: n * n }, next);
  const b = Float32Array.from({ length: n * n }, next);
  const feeds = { a: { data: a, dims: [n, n] }, b: { data: b, dims: [n, n] } };
  await s.run(feeds);
  return {
    async rate(runs = 5) {
      let best = 0;
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        await s.run(feeds);
        best = Math.max(best, (2 * n ** 3) / ((performance.now() - t0) / 1e3) / 1e9);
      }
      return best;
    },
    release: () => s.release(),
  };
}

async function gemmRate(): Promise<number> {
  const p = await gemmProbe();
  const r = await p.rate();
  await p.release();
  return r;
}

/** FLOPs of one training micro-step as the graph does it: every forward GEMM, and the backward GEMMs it needs. */
function stepFlops(p: Program, tokens: number): { forward: number; backward: number } {
  const need = requiresGrad(p);
  let forward = 0;
  let backward = 0;
  for (const n of p.nodes) {
    if (n.op === 'linear') {
      forward += 2 * tokens * n.inF * n.outF;
      const flows = need.has(n.out);
      if (flows && need.has(n.x)) backward += 2 * tokens * n.inF * n.outF; // dx = dy·W
      if (n.lora) {
        forward += 2 * tokens * n.lora.r * (n.inF + n.outF);
        backward += 2 * tokens * n.lora.r * (n.outF + n.inF + n.outF + (need.has(n.x) ? n.inF : 0)); // dy·B, dA, dB, dx
      }
    } else if (n.op === 'attention') {
      const f = 2 * 2 * B * n.NH * T * T * n.HD; // S = q·kᵀ and O = P·v
      forward += f;
      if (need.has(n.out)) backward += 2 * f; // dP, dv, dq, dk
    }
  }
  return { forward, backward };
}

function randomWeights(p: Program): Map<string, Float32Array> {
  const w = new Map<string, Float32Array>();
  const next = mulberry32(7);
  for (const d of p.params) {
    if (d.trainable) continue;
    const size = d.shape.reduce((a, b) => a * b, 1);
    const a = new Float32Array(size);
    if (d.name.endsWith('norm.weight')) a.fill(1);
    else for (let i = 0; i < size; i++) a[i] = (next() - 0.5) * 0.04;
    w.set(d.name, a);
  }
  return w;
}

/** `<shape>-qlora`: the same LoRA over a base whose linears are NF4 with double-quantized absmax. */
async function runCase(name: string): Promise<void> {
  const qlora = name.endsWith('-qlora');
  const cfg = SHAPES[name.replace(/-qlora$/, '')];
  const base = buildLlamaProgram(cfg);
  const program = applyLora(qlora ? quantizeProgram(base) : base, { r: 16, alpha: 32, dropout: 0.05, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'], bias: 'none', useRslora: false }).program;
  const t0 = performance.now();
  const floats = randomWeights(program);
  // the memory of the frozen base: float32 as loaded, and as the session holds it (NF4 codes + scales for QLoRA)
  let baseF32Bytes = 0;
  let baseHeldBytes = 0;
  const weights = new Map<string, Float32Array | Nf4Tensor>();
  for (const [k, w] of floats) {
    const held = program.params.find((d) => d.name === k)?.quant === 'nf4' ? quantizeWeight(program, k, w, { doubleQuant: true }) : w;
    baseF32Bytes += w.byteLength;
    baseHeldBytes += isNf4(held) ? nf4StorageBytes(held) : held.byteLength;
    weights.set(k, held);
  }
  floats.clear();
  const session = await createCpuTrainingSession({ program, weights, seed: 0 });
  weights.clear(); // the graph holds its own copy now
  const buildS = (performance.now() - t0) / 1e3;
  const next = mulberry32(3);
  const ids = Int32Array.from({ length: B * T }, () => Math.floor(next() * cfg.vocabSize));
  const labels = Int32Array.from({ length: B * T }, (_, i) => (i + 1 < T ? ids[i + 1] : -100));
  const batch: Batch = { B, T, inputIds: ids, attentionMask: new Uint8Array(B * T).fill(1), labels };
  const opt = { lr: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 1 };
  await session.microStep(batch); // warm-up: first run allocates and pre-packs
  await session.applyUpdate(opt);
  // The cores may be shared: interleave GEMM-rate probes with the steps and compare each step with the GEMM rate
  // measured right next to it, then take the median pair.
  const probe = await gemmProbe();
  const { forward, backward } = stepFlops(program, B * T);
  const pairs: { sec: number; gemm: number }[] = [];
  for (let i = 0; i < 3; i++) {
    const before = await probe.rate(2);
    const s0 = performance.now();
    await session.microStep(batch);
    await session.applyUpdate(opt);
    const sec = (performance.now() - s0) / 1e3;
    const after = await probe.rate(2);
    pairs.push({ sec, gemm: Math.max(before, after) });
  }
  await probe.release();
  await session.dispose();
  const fractionOf = (p: { sec: number; gemm: number }) => (forward + backward) / p.sec / 1e9 / p.gemm;
  pairs.sort((a, b) => fractionOf(a) - fractionOf(b));
  const mid = pairs[1];
  const sec = mid.sec;
  const gemm = mid.gemm;
  const gflops = (forward + backward) / sec / 1e9;
  const rssMiB = process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify({
    case: name, params: countParams(base), trainable: countParams(program, (d) => d.trainable), seq: T, batch: B,
    setup_s: +buildS.toFixed(1), step_s: +sec.toFixed(3), tokens_per_s: +((B * T) / sec).toFixed(1),
    gflop_per_step: +((forward + backward) / 1e9).toFixed(1), achieved_gflops: +gflops.toFixed(1),
    gemm_gflops_beside: +gemm.toFixed(1), fraction_of_gemm: +(gflops / gemm).toFixed(3), peak_rss_mib: Math.round(rssMiB),
    base_f32_mib: Math.round(baseF32Bytes / 2 ** 20), base_held_mib: Math.round(baseHeldBytes / 2 ** 20),
  }));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const caseArg = args.indexOf('--case');
  if (caseArg >= 0) {
    await runCase(args[caseArg + 1]);
    return;
  }
  const gemm = await gemmRate();
  console.log(`threads=${availableParallelism()} gemm_2048_f32_gflops=${gemm.toFixed(1)}`);
  let smolFraction = NaN;
  for (const name of [...Object.keys(SHAPES), 'smollm2-qlora']) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--case', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const line = r.stdout.trim().split('\n').at(-1) ?? '';
    console.log(line || `${name}: failed (exit ${r.status})`);
    if (name === 'smollm2' && line.startsWith('{')) smolFraction = JSON.parse(line).fraction_of_gemm;
  }
  // generation: decode tokens/s with the KV cache on the SmolLM2-135M shape (bench/decode.ts, its own process)
  const decode = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./decode.ts', import.meta.url))], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  console.log(decode.stdout.trim().split('\n').at(-1) || `smollm2-decode: failed (exit ${decode.status})`);
  console.log(`bench:cpu gemm_gflops=${gemm.toFixed(1)} step_fraction=${smolFraction}`);
}

await main();
