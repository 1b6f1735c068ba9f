// gpu-check — every kernel of the CUDA executor against the float64 references, runnable on a GPU machine with only
// a Node binary (bundled by scripts/bundle-gpu.mjs to .devnode/gpu-check.mjs; no vitest, no onnxruntime there).
// The reference side is the same session API backed by the plan harness (tests/native/fake-addon.ts), so each
// comparison runs whole tiny models of every family: loss, every LoRA gradient, AdamW steps and logits; the encoders
// (BERT, DistilBERT, RoBERTa) with their task heads trained in full as PEFT's modules_to_save.
// Cases mirror tests/native/gpu.test.ts. Last line: `gpu-check: ok` or `gpu-check: FAIL <cases>`.
//   npx tsx bench/gpu-check.ts            node .devnode/gpu-check.mjs        --only <text>: cases naming it

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildLlamaProgram, type LlamaConfig } from '../src/main/model/families/llama/program.ts';
import { buildProgramFromSpec } from '../src/main/model/families/index.ts';
import { specFromConfig } from '../src/main/formats/model/index.ts';
import { applyLora } from '../src/main/engine/lora/model.ts';
import type { LoraConfig } from '../src/main/engine/lora/config.ts';
import type { Program } from '../src/main/model/ir.ts';
import type { Batch } from '../src/main/engine/session.ts';
import { quantizeProgram, quantizeWeight } from '../src/main/engine/quant/program.ts';
import type { Nf4Tensor } from '../src/main/engine/quant/nf4.ts';
import { createCudaTrainingSession, CudaOutOfMemoryError, probeCuda, type CudaSessionOptions } from '../src/main/engine/executors/cuda/index.ts';
import { fakeAddon } from '../tests/native/fake-addon.ts';
import { tinyModelConfig } from '../tests/fixtures/tiny-models.ts';
import { randomWeights, tinyBatch, tinyConfig } from '../tests/engine/tiny.ts';
import { tinyEncoderConfig } from '../tests/fixtures/tiny-encoders.ts';
import { encoderTaskBatch } from '../tests/engine/encoder-programs.ts';
import { fuseProgram, type FrozenAdapter, type FusionOptions } from '../src/main/engine/fusion/program.ts';

// --self-test: the "GPU" side is the harness too (checks this script's plumbing on a machine without a GPU)
const SELF_TEST = process.argv.includes('--self-test');
const device = (p: Program) => (SELF_TEST ? { addon: fakeAddon(p) } : {});
const lora = (over: Partial<LoraConfig> = {}): LoraConfig => ({ r: 8, alpha: 16, dropout: 0.1, targetModules: 'all-linear', bias: 'none', useRslora: false, ...over });
const update = { lr: 2e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, maxGradNorm: 1 };

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 1e-12;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
}

function randomBatch(V: number, B: number, T: number, seed: number, pad = 3): Batch {
  let s = seed;
  const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const ids = Int32Array.from({ length: B * T }, () => Math.floor(rnd() * V));
  const mask = new Uint8Array(B * T).fill(1);
  for (let t = T - pad; t < T; t++) mask[(B - 1) * T + t] = 0;
  const labels = Int32Array.from({ length: B * T }, (_, i) => (i % T < T - 1 && mask[i + 1] ? ids[i + 1] : -100));
  return { B, T, inputIds: ids, attentionMask: mask, labels };
}

/** Worst relative error of CUDA vs the float64 harness over 3 micro-steps + updates, gradients and real-row logits. */
async function compare(p: Program, batch: Batch, extra: Partial<CudaSessionOptions> = {}): Promise<number> {
  const weights = extra.weights ?? new Map([...randomWeights(p, 7, 0.05)].map(([k, v]) => [k, Float32Array.from(v)]));
  const base = { program: p, weights, seed: 3, capacityTokens: batch.B * batch.T, exactDropout: true };
  const ref = await createCudaTrainingSession({ ...base, dtype: 'f32', addon: fakeAddon(p) });
  const gpu = await createCudaTrainingSession({ ...base, ...extra, weights, ...device(p) });
  let worst = 0;
  try {
    for (let step = 0; step < 3; step++) {
      const [a, b] = [await ref.microStep(batch), await gpu.microStep(batch)];
      worst = Math.max(worst, Math.abs(b.lossSum - a.lossSum) / a.lossSum);
      if (step === 0) for (const [k, g] of ref.getAccumulatedGradients()) worst = Math.max(worst, relErr(gpu.getAccumulatedGradients().get(k)!.data, g.data) / 10);
      const [ua, ub] = [await ref.applyUpdate(update), await gpu.applyUpdate(update)];
      worst = Math.max(worst, Math.abs(ub.gradNorm - ua.gradNorm) / ua.gradNorm / 10);
    }
    const [fa, fb] = [await ref.forward(batch), await gpu.forward(batch)];
    const V = p.vocab;
    for (let i = 0; i < batch.B * batch.T; i++)
      if (batch.attentionMask[i]) worst = Math.max(worst, relErr(fb.logits.subarray(i * V, (i + 1) * V), fa.logits.subarray(i * V, (i + 1) * V)) / 10);
  } finally {
    await gpu.dispose();
  }
  return worst; // loss-scale units: gradients and logits get 10× the loss tolerance
}

const mid = (over: Partial<LlamaConfig> = {}): LlamaConfig => ({
  ...tinyConfig('qwen2'), vocabSize: 1000, hiddenSize: 128, intermediateSize: 352, numLayers: 2, numHeads: 8, numKvHeads: 2, headDim: 64,
  rope: { theta: 1e6, headDim: 64, scaling: null }, ...over,
});

const specs = {
  gpt2: () => specFromConfig(tinyModelConfig('gpt2', { config: { vocab_size: 13, n_embd: 8, n_head: 2, n_inner: 12, n_positions: 9 } }), 'gpt2/config.json'),
  gemma3: () => specFromConfig(tinyModelConfig('gemma3', { layers: 3, config: { vocab_size: 13, hidden_size: 8, intermediate_size: 12, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 6, query_pre_attn_scalar: 5, sliding_window: 3, rope_theta: 1000, rope_local_base_freq: 50, final_logit_softcapping: 2.5 } }), 'gemma3/config.json'),
};

/** A base program with two frozen random adapters combined (issue 15): adapter a on q/v/o/up/down, b on every other. */
function fused(base: Program, o: Omit<FusionOptions, 'seed'>): Program {
  let s = 17;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5) * 0.2;
  const linears = base.nodes.flatMap((n) => (n.op === 'linear' && /(q_proj|v_proj|o_proj|up_proj|down_proj)$/.test(n.module) ? [n] : []));
  const layer = (r: number, IC: number, OC: number) => ({ r, A: Float64Array.from({ length: r * IC }, rnd), B: Float64Array.from({ length: OC * r }, rnd), scale: 2 });
  const adapters: FrozenAdapter[] = [
    { name: 'a', layers: new Map(linears.map((n) => [n.module, layer(4, n.inF, n.outF)])) },
    { name: 'b', layers: new Map(linears.filter((_n, i) => i % 2 === 0).map((n) => [n.module, layer(8, n.inF, n.outF)])) },
  ];
  return fuseProgram(base, adapters, { ...o, seed: 5 }).program;
}

async function main() {
  const probe = probeCuda();
  if (!probe.available && !SELF_TEST) {
    console.error(`gpu-check needs a CUDA device: ${probe.reason}`);
    process.exit(2);
  }
  console.log(SELF_TEST ? 'self-test: harness on both sides' : `device: ${probe.device!.name}, cuBLASLt ${probe.device!.cublasLt}`);
  const cases: [string, number, () => Promise<number>][] = [];
  for (const family of ['llama', 'qwen2', 'qwen3', 'mistral'] as const)
    cases.push([`${family} tiny f32`, 1e-4, () => { const p = applyLora(buildLlamaProgram(tinyConfig(family, { numLayers: 3 })), lora({ r: 4 })).program; return compare(p, tinyBatch(p.vocab, 6), { dtype: 'f32' }); }]);
  for (const [kind, spec] of Object.entries(specs))
    cases.push([`${kind} tiny f32`, 1e-4, () => { const p = applyLora(buildProgramFromSpec(spec()), lora({ r: 2 })).program; return compare(p, tinyBatch(p.vocab, 6), { dtype: 'f32' }); }]);
  // encoders (bidirectional attention, exact GELU, ReLU, token types, offset positions, pooling) with PEFT's task
  // heads in modules_to_save: classification (CE on a trained, biased classifier), regression (MSE), QA (span)
  const encoders = [['bert', 'sequence_classification', undefined], ['bert', 'sequence_classification', ['only']], ['distilbert', 'sequence_classification', undefined], ['roberta', 'question_answering', undefined]] as const;
  for (const [kind, head, labels] of encoders)
    cases.push([`${kind} ${head}${labels ? ' (regression)' : ''} f32`, 1e-4, () => {
      const base = buildProgramFromSpec(specFromConfig(tinyEncoderConfig(kind, head, labels ? [...labels] : undefined), `${kind}/config.json`));
      const p = applyLora(base, lora({ r: 2, dropout: 0, targetModules: ['query', 'value', 'q_lin', 'v_lin'], modulesToSave: [head === 'question_answering' ? 'qa_outputs' : 'classifier'] })).program;
      return compare(p, encoderTaskBatch(p, 3, 12, 23, kind === 'bert'), { dtype: 'f32' });
    }]);
  const midLora = () => applyLora(buildLlamaProgram(mid()), lora()).program;
  cases.push(['T=300 GQA 8/2 HD 64 f32', 1e-3, () => compare(midLora(), randomBatch(1000, 2, 300, 5, 40), { dtype: 'f32' })]);
  cases.push(['T=300 GQA 8/2 HD 64 bf16', 3e-2, () => compare(midLora(), randomBatch(1000, 2, 300, 5, 40), { dtype: 'bf16' })]);
  cases.push(['HD 128, checkpointing, bf16', 3e-2, () => compare(applyLora(buildLlamaProgram(mid({ numHeads: 4, headDim: 128, rope: { theta: 1e6, headDim: 128, scaling: null } })), lora()).program, randomBatch(1000, 2, 200, 6), { dtype: 'bf16', checkpointing: true })]);
  cases.push(['packed rows + window 37 f32', 1e-3, () => {
    const p = applyLora(buildLlamaProgram(mid({ family: 'mistral', slidingWindow: 37 })), lora({ dropout: 0 })).program;
    return compare(p, { ...randomBatch(1000, 2, 96, 9, 0), segmentIds: Int32Array.from({ length: 192 }, (_, i) => 1 + Math.floor((i % 96) / 40)) }, { dtype: 'f32' });
  }]);
  // adapter combinations (adapter_fusion.cu): learned weights and AdapterFusion attention over two frozen adapters
  const fusionModes: [string, Omit<FusionOptions, 'seed'>][] = [
    ['weights softmax', { mode: 'weights', perLayer: false, softmax: true, attentionDim: 1 }],
    ['weights per layer unconstrained', { mode: 'weights', perLayer: true, softmax: false, attentionDim: 1 }],
    ['attention', { mode: 'attention', perLayer: false, softmax: true, attentionDim: 16, valueRank: 8 }],
  ];
  for (const [label, o] of fusionModes) {
    cases.push([`fusion ${label} tiny f32`, 1e-4, () => { const p = fused(buildLlamaProgram(tinyConfig('llama', { numLayers: 3 })), o); return compare(p, tinyBatch(p.vocab, 6), { dtype: 'f32' }); }]);
    cases.push([`fusion ${label} T=300 bf16, checkpointing`, 3e-2, () => compare(fused(buildLlamaProgram(mid()), o), randomBatch(1000, 2, 300, 5, 40), { dtype: 'bf16', checkpointing: true })]);
  }
  const qlora = async (extra: Partial<CudaSessionOptions>, fromFloat: boolean) => {
    const q = applyLora(quantizeProgram(buildLlamaProgram(mid())), lora({ dropout: 0 })).program;
    const floats = new Map([...randomWeights(q, 11, 0.05)].map(([k, v]) => [k, Float32Array.from(v)]));
    const nf4 = new Map<string, Float32Array | Nf4Tensor>();
    for (const [k, v] of floats) nf4.set(k, q.params.find((d) => d.name === k)!.quant === 'nf4' ? quantizeWeight(q, k, v, { doubleQuant: true }) : v);
    // the reference always gets the host-quantized weights; fromFloat makes the device quantize the floats itself
    const batch = randomBatch(1000, 2, 64, 3);
    if (!fromFloat) return compare(q, batch, { dtype: 'f32', weights: nf4, ...extra });
    const ref = await createCudaTrainingSession({ program: q, weights: nf4, seed: 3, capacityTokens: 128, addon: fakeAddon(q), dtype: 'f32' });
    const gpu = await createCudaTrainingSession({ program: q, weights: floats, seed: 3, capacityTokens: 128, dtype: 'f32', ...extra, ...device(q) });
    const [a, b] = [await ref.microStep(batch), await gpu.microStep(batch)];
    await gpu.dispose();
    return Math.abs(b.lossSum - a.lossSum) / a.lossSum;
  };
  cases.push(['QLoRA host NF4, dequant + GEMM', 1e-3, () => qlora({}, false)]);
  cases.push(['QLoRA host NF4, fused kernel', 1e-3, () => qlora({ nf4Fused: true }, false)]);
  cases.push(['QLoRA quantized on the device', 1e-4, () => qlora({}, true)]);
  if (!SELF_TEST) cases.push(['out of memory names what to change', 0.5, async () => {
    const p = midLora();
    const err = await createCudaTrainingSession({ program: p, weights: new Map([...randomWeights(p, 1)].map(([k, v]) => [k, Float32Array.from(v)])), seed: 1, capacityTokens: 2 ** 26 }).catch((e) => e);
    return err instanceof CudaOutOfMemoryError && /batch size.*checkpointing.*QLoRA/s.test(err.message) ? 0 : 1;
  }]);

  const failed: string[] = [];
  const only = process.argv.indexOf('--only') > 0 ? process.argv[process.argv.indexOf('--only') + 1] : null; // cases whose name contains it
  console.log('| case | worst relative error | tolerance | verdict |\n| --- | --- | --- | --- |');
  for (const [name, tol, run] of cases) {
    if (only && !name.includes(only)) continue;
    let err: number;
    let note = '';
    try {
      err = await run();
    } catch (e) {
      err = Number.POSITIVE_INFINITY;
      note = ` (${(e as Error).message.split('\n')[0]})`;
    }
    const ok = err <= tol;
    if (!ok) failed.push(name);
    console.log(`| ${name} | ${Number.isFinite(err) ? err.toExponential(2) : 'error'}${note} | ${tol.toExponential(0)} | ${ok ? 'ok' : 'FAIL'} |`);
  }
  console.log(failed.length ? `gpu-check: FAIL ${failed.join('; ')}` : 'gpu-check: ok');
  process.exit(failed.length ? 1 : 0);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
