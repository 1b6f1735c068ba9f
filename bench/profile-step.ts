// Profiles one LoRA training micro-step (SmolLM2-135M shape by default, --shape qwen25 for Qwen2.5-0.5B's) with ORT's profiler and prints the time
// per op type, the time per (op, input shapes) group with its achieved GFLOP/s for MatMul/Gemm kinds, and the
// slowest nodes — the tool for making the training graph lean. On shared cores a node's time moves with the others'
// load: with --runs N (> 1) each node's time is its fastest of the N measured runs (after a warm-up run).
//   npx tsx bench/profile-step.ts [--shape smollm2|qwen25] [--layers 30] [--seq 256] [--runs 3] [--threads 2] [--top 30]
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildLlamaProgram } from '../src/main/model/families/llama/program.ts';
import { applyLora } from '../src/main/engine/lora/model.ts';
import { createCpuTrainingSession } from '../src/main/engine/executors/onnx/session.ts';
import { mulberry32 } from '../src/main/engine/rng.ts';

const args = process.argv.slice(2);
const arg = (k: string, d: string) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
const SHAPES = {
  smollm2: {
    family: 'smollm2' as const, vocabSize: 49152, hiddenSize: 576, intermediateSize: 1536, numLayers: 30, numHeads: 9, numKvHeads: 3,
    headDim: 64, rmsNormEps: 1e-5, rope: { theta: 100000, headDim: 64, scaling: null }, tieWordEmbeddings: true,
    attentionBias: false, qkNorm: false, slidingWindow: null,
  },
  qwen25: {
    family: 'qwen2' as const, vocabSize: 151936, hiddenSize: 896, intermediateSize: 4864, numLayers: 24, numHeads: 14, numKvHeads: 2,
    headDim: 64, rmsNormEps: 1e-6, rope: { theta: 1000000, headDim: 64, scaling: null }, tieWordEmbeddings: true,
    attentionBias: true, qkNorm: false, slidingWindow: null,
  },
};
const shape = arg('--shape', 'smollm2');
if (!(shape in SHAPES)) throw new Error(`--shape ${shape}: expected one of ${Object.keys(SHAPES).join(', ')}`);
const base = SHAPES[shape as keyof typeof SHAPES];
const T = Number(arg('--seq', '256'));
const runs = Math.max(1, Number(arg('--runs', '1')));
const top = Number(arg('--top', '30'));
const cfg = { ...base, numLayers: Number(arg('--layers', String(base.numLayers))) };
const program = applyLora(buildLlamaProgram(cfg), { r: 16, alpha: 32, dropout: 0.05, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'], bias: 'none', useRslora: false }).program;
const next = mulberry32(1);
const weights = new Map<string, Float32Array>();
for (const d of program.params) if (!d.trainable) weights.set(d.name, Float32Array.from({ length: d.shape.reduce((a, b) => a * b, 1) }, () => (d.name.endsWith('norm.weight') ? 1 : (next() - 0.5) * 0.04)));
const prefix = join(tmpdir(), `lora-studio-profile-${process.pid}`);
const threads = args.includes('--threads') ? Number(arg('--threads', '2')) : undefined;
const s = await createCpuTrainingSession({ program, weights, seed: 0, profilePrefix: prefix, threads });
const ids = Int32Array.from({ length: T }, () => Math.floor(next() * cfg.vocabSize));
const batch = { B: 1, T, inputIds: ids, attentionMask: new Uint8Array(T).fill(1), labels: Int32Array.from(ids, (_, i) => (i + 1 < T ? ids[i + 1] : -100)) };
await s.microStep(batch);
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  await s.microStep(batch);
  console.log(`step ${(performance.now() - t0).toFixed(0)} ms (run ${i + 2})`);
}
await s.endProfiling();
await s.dispose();
const file = readdirSync(tmpdir()).map((f) => join(tmpdir(), f)).find((f) => f.startsWith(prefix))!;
interface Ev { cat: string; name: string; dur: number; ts: number; args?: { op_name?: string; input_type_shape?: Record<string, number[]>[]; output_type_shape?: Record<string, number[]>[] } }
const events = JSON.parse(readFileSync(file, 'utf8')) as Ev[];
rmSync(file);
const starts = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').map((e) => e.ts);
const measured = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time') && e.ts >= starts[1]);
const fastest = new Map<string, Ev>(); // each node's fastest measured run
for (const e of measured) if (!fastest.has(e.name) || e.dur < fastest.get(e.name)!.dur) fastest.set(e.name, e);
const nodes = [...fastest.values()];
const shapes = (a?: Record<string, number[]>[]) => (a ?? []).map((o) => Object.values(o)[0]);
const prod = (v: number[]) => v.reduce((x, y) => x * y, 1);
/** FLOPs of a MatMul-kind node from its shapes: 2·|out|·K, K = |A| / (|out| / out's last axis). */
function flops(e: Ev): number {
  if (!/^(Gemm|MatMul|FusedMatMul)$/.test(e.args?.op_name ?? '')) return 0;
  const [a] = shapes(e.args?.input_type_shape);
  const [o] = shapes(e.args?.output_type_shape);
  return a && o ? 2 * prod(o) * (prod(a) / (prod(o) / o[o.length - 1])) : 0;
}
const total = nodes.reduce((t, e) => t + e.dur, 0);
console.log(`kernel time ${(total / 1e3).toFixed(0)} ms over ${nodes.length} nodes${runs > 1 ? ` (each node's fastest of ${runs} runs)` : ''}`);
const byOp = new Map<string, number>();
for (const e of nodes) byOp.set(e.args?.op_name ?? '?', (byOp.get(e.args?.op_name ?? '?') ?? 0) + e.dur);
for (const [op, us] of [...byOp].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${op.padEnd(24)} ${(us / 1e3).toFixed(1).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%`);
console.log('by op and shapes (GFLOP/s for GEMM kinds):');
const groups = new Map<string, { us: number; n: number; flops: number }>();
for (const e of nodes) {
  const key = `${e.args?.op_name} ${JSON.stringify(shapes(e.args?.input_type_shape))} → ${JSON.stringify(shapes(e.args?.output_type_shape))}`;
  const grp = groups.get(key) ?? { us: 0, n: 0, flops: 0 };
  grp.us += e.dur;
  grp.n++;
  grp.flops += flops(e);
  groups.set(key, grp);
}
for (const [k, grp] of [...groups].sort((a, b) => b[1].us - a[1].us).slice(0, top))
  console.log(`  ${(grp.us / 1e3).toFixed(1).padStart(8)} ms ${String(grp.n).padStart(4)}× ${grp.flops ? `${(grp.flops / grp.us / 1e3).toFixed(1).padStart(6)} GF/s` : ' '.repeat(11)}  ${k}`);
console.log('slowest nodes:');
for (const e of [...nodes].sort((a, b) => b.dur - a.dur).slice(0, 12)) console.log(`  ${(e.dur / 1e3).toFixed(1).padStart(8)} ms  ${e.args?.op_name} ${e.name.replace('_kernel_time', '')}`);
