// bench:cpu, generation part — decode speed with the KV cache on the SmolLM2-135M shape (random weights, a
// random r=16 q/k/v/o adapter attached as graph inputs, as chat runs it): a 64-token prompt's prefill, then 64
// greedy one-token steps through the real decode loop. Prints one JSON line (bench/cpu.ts runs it as a case).
//   npx tsx bench/decode.ts [--nf4]     (--nf4: the base held as NF4 with double quant, as QLoRA chat loads it)
import { buildLlamaProgram, type LlamaConfig } from '../src/main/model/families/llama/program.ts';
import { countParams } from '../src/main/model/ir.ts';
import type { Program } from '../src/main/model/ir.ts';
import { mulberry32 } from '../src/main/engine/rng.ts';
import { Decoder, type AdapterFactors } from '../src/main/engine/generate/decoder.ts';
import { generate } from '../src/main/engine/generate/generate.ts';
import { quantizeProgram, quantizeWeight } from '../src/main/engine/quant/program.ts';
import type { Nf4Tensor } from '../src/main/engine/quant/nf4.ts';

// SmolLM2-135M's config.json (bench/cpu.ts trains the same shape)
const SMOLLM2: LlamaConfig = {
  family: 'smollm2', vocabSize: 49152, hiddenSize: 576, intermediateSize: 1536, numLayers: 30, numHeads: 9, numKvHeads: 3,
  headDim: 64, rmsNormEps: 1e-5, rope: { theta: 100000, headDim: 64, scaling: null }, tieWordEmbeddings: true,
  attentionBias: false, qkNorm: false, slidingWindow: null,
};
const PROMPT = 64;
const NEW = 64;

function randomWeights(p: Program, next: () => number): Map<string, Float32Array> {
  const w = new Map<string, Float32Array>();
  for (const d of p.params) {
    const a = new Float32Array(d.shape.reduce((x, y) => x * y, 1));
    if (d.name.endsWith('norm.weight')) a.fill(1);
    else for (let i = 0; i < a.length; i++) a[i] = (next() - 0.5) * 0.04;
    w.set(d.name, a);
  }
  return w;
}

export async function decodeBench(nf4 = false): Promise<Record<string, number | string>> {
  const base = buildLlamaProgram(SMOLLM2);
  const program = nf4 ? quantizeProgram(base) : base;
  const next = mulberry32(7);
  const t0 = performance.now();
  const weights = new Map<string, Float32Array | Nf4Tensor>(randomWeights(base, next));
  if (nf4) for (const d of program.params) if (d.quant === 'nf4') weights.set(d.name, quantizeWeight(program, d.name, weights.get(d.name) as Float32Array, { doubleQuant: true }));
  const decoder = await Decoder.create({ program, weights });
  weights.clear();
  const setupS = (performance.now() - t0) / 1e3;
  const layers: AdapterFactors['layers'] = new Map();
  for (const n of program.nodes)
    if (n.op === 'linear' && /\.(q|k|v|o)_proj$/.test(n.module)) {
      const r = 16;
      const rand = (len: number) => Float32Array.from({ length: len }, () => (next() - 0.5) * 0.02);
      layers.set(n.module, { r, A: rand(r * n.inF), B: rand(n.outF * r), scale: 2 });
    }
  const view = decoder.withAdapters([{ adapter: { name: 'bench', layers }, weight: 1 }]);
  const prompt = Array.from({ length: PROMPT }, () => Math.floor(next() * SMOLLM2.vocabSize));
  const opts = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 0, maxNewTokens: NEW, eosTokenIds: [], stop: [] };
  const silent = { decode: () => '' };
  await generate(view, silent, prompt.slice(0, 8), { ...opts, maxNewTokens: 4 }); // warm-up: allocations, pre-packing
  const r = await generate(view, silent, prompt, opts);
  await decoder.dispose();
  return {
    case: nf4 ? 'smollm2-decode-nf4' : 'smollm2-decode', params: countParams(program), adapter_r: 16, prompt_tokens: PROMPT, new_tokens: r.tokenIds.length,
    setup_s: +setupS.toFixed(1), prefill_s: +r.prefillSeconds.toFixed(3), decode_tokens_per_s: +r.decodeTokensPerSecond.toFixed(1),
    ms_per_token: +((1000 * r.decodeSeconds) / Math.max(1, r.tokenIds.length - 1)).toFixed(1),
    peak_rss_mib: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await decodeBench(process.argv.includes('--nf4'))));
