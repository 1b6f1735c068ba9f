// gpu-parity — our CUDA executor against PyTorch + PEFT on the SAME weights and batch (issue 8's correctness proof):
// a random Qwen2.5-0.5B-shaped model (bf16-representable weights) with LoRA r=16 on q/k/v/o (non-zero A and B so
// every gradient flows), one padded batch: our loss, LoRA gradients and logits in f32 and bf16 sessions, then a
// bf16 loss curve over a few hundred AdamW steps. Everything is written as safetensors to --dir; bench/gpu_parity.py
// rebuilds the model in transformers + PEFT from those files, computes the same, compares and prints the verdict.
//   npx tsx bench/gpu-parity.ts [--dir /tmp/parity] [--layers 24] [--steps 200] [--targets all-linear]
// On a GPU machine without Node modules: node .devnode/gpu-parity.mjs (scripts/bundle-gpu.mjs builds it).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildLlamaProgram, type LlamaConfig } from '../src/main/model/families/llama/program.ts';
import { applyLora } from '../src/main/engine/lora/model.ts';
import { peftKey, type Program } from '../src/main/model/ir.ts';
import type { Batch, TensorMap } from '../src/main/engine/session.ts';
import { createCudaTrainingSession, probeCuda } from '../src/main/engine/executors/cuda/index.ts';
import { writeSafetensors, type TensorToWrite } from '../src/main/formats/safetensors/write.ts';
import { bf16BitsToF32, f32ToBf16Bits } from '../src/main/formats/safetensors/dtypes.ts';
import { mulberry32 } from '../src/main/engine/rng.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const DIR = arg('dir', '/tmp/lora-gpu-parity');
const LAYERS = Number(arg('layers', '24'));
const STEPS = Number(arg('steps', '200'));
const TARGETS = arg('targets', 'q_proj,k_proj,v_proj,o_proj');
const B = 2;
const T = 256;
const LOGIT_ROWS = 8; // first rows of each sequence compared in full vocab

export const QWEN05B: LlamaConfig = {
  family: 'qwen2', vocabSize: 151936, hiddenSize: 896, intermediateSize: 4864, numLayers: 24, numHeads: 14, numKvHeads: 2,
  headDim: 64, rmsNormEps: 1e-6, rope: { theta: 1000000, headDim: 64, scaling: null }, tieWordEmbeddings: true, attentionBias: true, qkNorm: false, slidingWindow: null,
};

/** Seeded values rounded to bf16, so both sides start from bit-identical bf16 weights. */
function bf16Random(n: number, seed: number, std: number, mean = 0): Float32Array {
  const next = mulberry32(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = bf16BitsToF32(f32ToBf16Bits(mean + (next() * 2 - 1) * std * Math.sqrt(3)));
  return a;
}

function batches(V: number, count: number): Batch[] {
  const out: Batch[] = [];
  for (let k = 0; k < count; k++) {
    const next = mulberry32(1000 + k);
    const ids = Int32Array.from({ length: B * T }, () => Math.floor(next() * V));
    const mask = new Uint8Array(B * T).fill(1);
    for (let t = T - 37; t < T; t++) { mask[T + t] = 0; ids[T + t] = 0; } // right padding on row 2
    // shifted labels (ours); gpu_parity.py gives transformers the unshifted ids with -100 on padding instead
    const labels = Int32Array.from({ length: B * T }, (_, i) => (i % T < T - 1 && mask[i + 1] ? ids[i + 1] : -100));
    out.push({ B, T, inputIds: ids, attentionMask: mask, labels });
  }
  return out;
}

const f32 = (name: string, shape: number[], data: Float32Array | Float64Array): TensorToWrite => ({ name, dtype: 'F32', shape, data });
const mapTensors = (prefix: string, m: TensorMap) => [...m].map(([k, t]) => f32(`${prefix}${k}`, t.shape, t.data));

async function main() {
  const probe = probeCuda();
  if (!probe.available) {
    console.error(`gpu-parity needs a CUDA device: ${probe.reason}`);
    process.exit(2);
  }
  mkdirSync(DIR, { recursive: true });
  const shape = { ...QWEN05B, numLayers: LAYERS };
  const targets = TARGETS === 'all-linear' ? 'all-linear' : TARGETS.split(',');
  const program: Program = applyLora(buildLlamaProgram(shape), { r: 16, alpha: 32, dropout: 0, targetModules: targets, bias: 'none', useRslora: false }).program;
  const weights = new Map<string, Float32Array>();
  program.params.forEach((d, i) => {
    if (d.trainable) return;
    const n = d.shape.reduce((a, b) => a * b, 1);
    weights.set(d.name, d.name.endsWith('norm.weight') ? bf16Random(n, i, 0.1, 1) : bf16Random(n, i, 0.02));
  });
  const lora: TensorMap = new Map();
  program.params.forEach((d, i) => {
    if (!d.trainable) return;
    const n = d.shape.reduce((a, b) => a * b, 1);
    lora.set(peftKey(d.name), { shape: d.shape, data: bf16Random(n, 5000 + i, d.name.includes('lora_A') ? 1 / Math.sqrt(d.shape[1]) : 0.01) });
  });
  const data = batches(shape.vocabSize, 4);
  await writeSafetensors(path.join(DIR, 'weights.safetensors'), program.params.filter((d) => !d.trainable).map((d) => ({ name: d.name, dtype: 'BF16' as const, shape: d.shape, data: weights.get(d.name)! })));
  await writeSafetensors(path.join(DIR, 'lora.safetensors'), mapTensors('', lora));
  await writeSafetensors(path.join(DIR, 'batches.safetensors'), data.flatMap((b, k) => [
    f32(`input_ids.${k}`, [B, T], Float32Array.from(b.inputIds)), f32(`attention_mask.${k}`, [B, T], Float32Array.from(b.attentionMask)),
  ]));
  writeFileSync(path.join(DIR, 'config.json'), JSON.stringify({ shape, targets, r: 16, alpha: 32, steps: STEPS, logitRows: LOGIT_ROWS }, null, 2));

  const update = { lr: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, maxGradNorm: 1 };
  for (const dtype of ['f32', 'bf16'] as const) {
    const s = await createCudaTrainingSession({ program, weights, seed: 1, capacityTokens: B * T, dtype });
    s.setTrainables(lora);
    const first = data[0];
    const r = await s.microStep(first);
    const grads = s.getAccumulatedGradients();
    const fwd = await s.forward(first);
    const V = shape.vocabSize;
    const rows = new Float32Array(B * LOGIT_ROWS * V);
    for (let b = 0; b < B; b++) rows.set(fwd.logits.subarray(b * T * V, (b * T + LOGIT_ROWS) * V), b * LOGIT_ROWS * V);
    const out: TensorToWrite[] = [
      f32('loss', [2], Float64Array.from([r.lossSum, r.tokens])), f32('logits', [B, LOGIT_ROWS, V], rows), ...mapTensors('grad.', grads),
    ];
    if (dtype === 'bf16') {
      // the loss curve: the first batch's gradients are already accumulated; go on cycling the 4 batches
      const curve = new Float64Array(STEPS);
      curve[0] = r.lossSum / r.tokens;
      await s.applyUpdate(update);
      for (let step = 1; step < STEPS; step++) {
        const m = await s.microStep(data[step % data.length]);
        curve[step] = m.lossSum / m.tokens;
        await s.applyUpdate(update);
      }
      out.push(f32('curve', [STEPS], curve));
    }
    await writeSafetensors(path.join(DIR, `ours-${dtype}.safetensors`), out);
    console.log(`ours ${dtype}: loss ${(r.lossSum / r.tokens).toFixed(6)} over ${r.tokens} tokens`);
    await s.dispose();
  }
  const here = path.dirname(fileURLToPath(import.meta.url));
  const script = [path.join(here, 'gpu_parity.py'), path.join(here, '..', 'bench', 'gpu_parity.py')].find((f) => existsSync(f)) ?? 'bench/gpu_parity.py';
  const py = spawnSync(process.env.PYTHON ?? 'python3', [script, '--dir', DIR], { stdio: 'inherit' });
  process.exit(py.status ?? 1);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
