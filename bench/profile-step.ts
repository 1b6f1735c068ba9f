// Profiles one LoRA training micro-step (SmolLM2-135M shape by default) with ORT's profiler and prints the time
// per op type and the slowest nodes — the tool for making the training graph lean.
//   npx tsx bench/profile-step.ts [--layers 30] [--case smollm2]
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildLlamaProgram } from '../src/main/model/families/llama/program.ts';
import { applyLora } from '../src/main/engine/lora/model.ts';
import { createCpuTrainingSession } from '../src/main/engine/executors/onnx/session.ts';
import { mulberry32 } from '../src/main/engine/rng.ts';

const args = process.argv.slice(2);
const arg = (k: string, d: string) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
const layers = Number(arg('--layers', '30'));
const T = Number(arg('--seq', '256'));
const cfg = {
  family: 'smollm2' as const, vocabSize: 49152, hiddenSize: 576, intermediateSize: 1536, numLayers: layers, numHeads: 9, numKvHeads: 3,
  headDim: 64, rmsNormEps: 1e-5, rope: { theta: 100000, headDim: 64, scaling: null }, tieWordEmbeddings: true,
  attentionBias: false, qkNorm: false, slidingWindow: null,
};
const program = applyLora(buildLlamaProgram(cfg), { r: 16, alpha: 32, dropout: 0.05, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'], bias: 'none', useRslora: false }).program;
const next = mulberry32(1);
const weights = new Map<string, Float32Array>();
for (const d of program.params) if (!d.trainable) weights.set(d.name, Float32Array.from({ length: d.shape.reduce((a, b) => a * b, 1) }, () => (d.name.endsWith('norm.weight') ? 1 : (next() - 0.5) * 0.04)));
const prefix = join(tmpdir(), `lora-studio-profile-${process.pid}`);
const s = await createCpuTrainingSession({ program, weights, seed: 0, profilePrefix: prefix });
const ids = Int32Array.from({ length: T }, () => Math.floor(next() * cfg.vocabSize));
const batch = { B: 1, T, inputIds: ids, attentionMask: new Uint8Array(T).fill(1), labels: Int32Array.from(ids, (_, i) => (i + 1 < T ? ids[i + 1] : -100)) };
await s.microStep(batch);
const t0 = performance.now();
await s.microStep(batch);
console.log(`step ${(performance.now() - t0).toFixed(0)} ms (second run)`);
await s.endProfiling();
await s.dispose();
const { readdirSync } = await import('node:fs');
const file = readdirSync(tmpdir()).map((f) => join(tmpdir(), f)).find((f) => f.startsWith(prefix))!;
const events = JSON.parse(readFileSync(file, 'utf8')) as { cat: string; name: string; dur: number; args?: { op_name?: string } }[];
rmSync(file);
const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run');
const lastRunStart = (runs.at(-1) as unknown as { ts: number }).ts;
const nodes = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time') && (e as unknown as { ts: number }).ts >= lastRunStart);
const byOp = new Map<string, number>();
for (const e of nodes) byOp.set(e.args?.op_name ?? '?', (byOp.get(e.args?.op_name ?? '?') ?? 0) + e.dur);
const total = [...byOp.values()].reduce((a, b) => a + b, 0);
console.log(`kernel time ${(total / 1e3).toFixed(0)} ms`);
for (const [op, us] of [...byOp].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${op.padEnd(24)} ${(us / 1e3).toFixed(1).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%`);
console.log('slowest nodes:');
for (const e of [...nodes].sort((a, b) => b.dur - a.dur).slice(0, 12)) console.log(`  ${(e.dur / 1e3).toFixed(1).padStart(8)} ms  ${e.args?.op_name} ${e.name.replace('_kernel_time', '')}`);
