// bench:cpu, memory part — the frozen base held as f32, f16 or bf16 (RunConfig base_dtype), for LoRA and QLoRA, on
// the SmolLM2-135M shape (and Qwen2.5-0.5B with --qwen): peak RSS of the training step, tokens/s, the base as held
// against its f32 size, and peak RSS against the absolute accounting (f32 base + adapter state + activations, as in
// bench/cpu.ts). Each variant runs in its own process (its peak RSS is its own), all alive at once and stepped
// round-robin, so the machine's load hits them alike: only the ratios between them mean anything on shared cores.
// The first micro-step's loss of each variant is printed beside f32's (the error the half base costs).
//   npx tsx bench/base-dtype.ts [--qwen] [--steps N] [--seq T]
//   npx tsx bench/base-dtype.ts --case <shape>:<lora|qlora>:<f32|f16|bf16>:<T>   (one worker, driven over stdin)
// Last line: `bench:cpu base_dtype f16_rss_vs_f32=<x> f16_speed_vs_f32=<y> qlora_f16_base=<z>x_f32 rss_vs_accounting_f16=<w>`.

import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { buildLlamaProgram, type LlamaConfig } from '../src/main/model/families/llama/program.ts';
import { countParams, type Program } from '../src/main/model/ir.ts';
import { applyLora } from '../src/main/engine/lora/model.ts';
import { createCpuTrainingSession } from '../src/main/engine/executors/onnx/session.ts';
import type { BaseDtype } from '../src/main/engine/executors/onnx/weight-file.ts';
import { mulberry32 } from '../src/main/engine/rng.ts';
import type { Batch } from '../src/main/engine/session.ts';
import { quantizeProgram, quantizeWeight } from '../src/main/engine/quant/program.ts';

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
const LORA = { r: 16, alpha: 32, dropout: 0, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'], bias: 'none' as const, useRslora: false };

/** bench/cpu.ts's absolute accounting: f32 base + adapter state (4 copies) + one micro-step's activations. */
function accountingBytes(p: Program, baseF32: number, T: number): number {
  let act = 0;
  for (const n of p.nodes) {
    act += T * (p.widths.get(n.out) ?? 0) * 4;
    if (n.op === 'attention') act += 2 * n.NH * T * T * 4;
  }
  act += 2 * T * p.vocab * 4;
  return baseF32 + 4 * 4 * countParams(p, (d) => d.trainable) + act;
}

async function worker(spec: string): Promise<void> {
  const [shape, method, dtype, seq] = spec.split(':');
  const T = Number(seq);
  const base = buildLlamaProgram(SHAPES[shape]);
  const program = applyLora(method === 'qlora' ? quantizeProgram(base) : base, LORA).program;
  const rand = mulberry32(7);
  let baseF32 = 0;
  const session = await createCpuTrainingSession({
    program, seed: 0, baseDtype: dtype as BaseDtype,
    weights: async (name) => {
      const d = program.params.find((x) => x.name === name)!;
      const w = new Float32Array(d.shape.reduce((x, y) => x * y, 1));
      if (name.endsWith('norm.weight')) w.fill(1);
      else for (let i = 0; i < w.length; i++) w[i] = (rand() - 0.5) * 0.04;
      baseF32 += w.byteLength;
      return d.quant === 'nf4' ? quantizeWeight(program, name, w, { doubleQuant: true }) : w;
    },
  });
  const next = mulberry32(3);
  const ids = Int32Array.from({ length: T }, () => Math.floor(next() * SHAPES[shape].vocabSize));
  const labels = Int32Array.from({ length: T }, (_, i) => (i + 1 < T ? ids[i + 1] : -100));
  const batch: Batch = { B: 1, T, inputIds: ids, attentionMask: new Uint8Array(T).fill(1), labels };
  const opt = { lr: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 1 };
  const first = await session.microStep(batch); // warm-up; its loss is the same batch and weights for every variant
  await session.applyUpdate(opt);
  console.log(JSON.stringify({ ready: true }));
  for await (const line of createInterface({ input: process.stdin })) {
    if (line !== 'step') break;
    const t0 = performance.now();
    await session.microStep(batch);
    await session.applyUpdate(opt);
    console.log(JSON.stringify({ sec: (performance.now() - t0) / 1e3 }));
  }
  const rss = process.resourceUsage().maxRSS * 1024;
  const mem = session.memory();
  await session.dispose();
  const held = mem.weightFileBytes + mem.jsWeightBytes;
  console.log(JSON.stringify({
    case: spec, loss0: first.lossSum / first.tokens, peak_rss_mib: Math.round(rss / 2 ** 20), base_f32_mib: Math.round(baseF32 / 2 ** 20),
    base_held_mib: Math.round(held / 2 ** 20), base_held_vs_f32: +(held / baseF32).toFixed(3),
    rss_vs_accounting: +(rss / accountingBytes(program, baseF32, T)).toFixed(2),
  }));
  process.exit(0);
}

class Worker {
  private readonly lines: AsyncIterator<string>;
  constructor(readonly spec: string, private readonly child: ChildProcessByStdio<Writable, Readable, null>) {
    this.lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  }
  async next(): Promise<Record<string, number | string>> {
    for (;;) {
      const r = await this.lines.next();
      if (r.done) throw new Error(`${this.spec}: worker ended`);
      if (r.value.startsWith('{')) return JSON.parse(r.value) as Record<string, number | string>;
    }
  }
  async ask(cmd: string) {
    this.child.stdin.write(`${cmd}\n`);
    return this.next();
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (k: string) => (args.includes(k) ? args[args.indexOf(k) + 1] : undefined);
  if (flag('--case')) return worker(flag('--case')!);
  const steps = Number(flag('--steps') ?? 3);
  const T = Number(flag('--seq') ?? 256);
  const summary: Record<string, Record<string, number | string>> = {};
  const speed: Record<string, number> = {};
  for (const shape of args.includes('--qwen') ? ['smollm2', 'qwen25'] : ['smollm2']) {
    const specs = ['lora:f32', 'lora:f16', 'lora:bf16', 'qlora:f32', 'qlora:f16'].map((v) => `${shape}:${v}:${T}`);
    const workers: Worker[] = [];
    for (const spec of specs) {
      // started one after another: building sessions side by side would stack their set-up peaks in time, not in RSS
      const w = new Worker(spec, spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--case', spec], { stdio: ['pipe', 'pipe', 'inherit'] }));
      await w.next();
      workers.push(w);
    }
    const secs = new Map<string, number[]>(specs.map((s) => [s, []]));
    for (let i = 0; i < steps; i++) for (const w of workers) secs.get(w.spec)!.push(Number((await w.ask('step')).sec));
    for (const w of workers) {
      const s = await w.ask('done');
      const sorted = secs.get(w.spec)!.sort((a, b) => a - b);
      speed[w.spec] = T / sorted[sorted.length >> 1];
      summary[w.spec] = { ...s, tokens_per_s: +speed[w.spec].toFixed(1) };
      console.log(JSON.stringify(summary[w.spec]));
    }
  }
  const k = (v: string) => `smollm2:${v}:${T}`;
  const ratio = (a: string, b: string, key: string) => (Number(summary[k(a)][key]) / Number(summary[k(b)][key])).toFixed(2);
  console.log(
    `bench:cpu base_dtype f16_rss_vs_f32=${ratio('lora:f16', 'lora:f32', 'peak_rss_mib')} f16_speed_vs_f32=${(speed[k('lora:f16')] / speed[k('lora:f32')]).toFixed(2)} ` +
      `qlora_f16_base=${summary[k('qlora:f16')].base_held_vs_f32}x_f32 rss_vs_accounting_f16=${summary[k('lora:f16')].rss_vs_accounting} ` +
      `loss_f16_vs_f32=${(Math.abs(Number(summary[k('lora:f16')].loss0) - Number(summary[k('lora:f32')].loss0)) / Number(summary[k('lora:f32')].loss0)).toExponential(1)}`,
  );
}

await main();
