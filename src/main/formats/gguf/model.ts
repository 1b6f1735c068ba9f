// A merged model (base + adapters) or a LoRA adapter alone, as llama.cpp GGUF — what
// convert_hf_to_gguf.py / convert_lora_to_gguf.py would write for the same folder:
//   - architecture "llama" (Llama, Mistral), "qwen2", "qwen3", "gpt2", "gemma3" with llama.cpp's
//     hyperparameter keys and tensor names (token_embd, blk.N.attn_q, …, output_norm, output);
//   - Llama-arch q/k rows permuted from Hugging Face's rotate-half order to the interleaved pairs
//     llama.cpp's "normal" rope expects; other archs use NeoX rope and keep the order;
//   - GPT-2's Conv1D weights transposed to [out, in]; Gemma 3 norms stored as 1 + w;
//   - Llama 3 rope scaling as a rope_freqs tensor; linear scaling as rope.scaling.{type,factor};
//   - 1-D tensors (norms, biases) in F32; rows not a multiple of 32 fall back to F16 when quantizing.

import { openModelFolder, type ModelFolder } from '../model/folder.ts';
import type { ModelSpec } from '../../model/spec.ts';
import { familyOf } from '../../model/families/index.ts';
import type { HfTensorEntry } from '../model/tensors.ts';
import { transpose2d, linearModules } from '../model/tensors.ts';
import { readAdapter, layerScale, type LoraAdapter } from '../peft/adapter.ts';
import { mergedTensorReader } from '../merge/merge.ts';
import { writeGguf, gv, GgmlType, ggmlBlockSize, type GgufTensor, type GgufValue } from './writer.ts';
import { QK_K } from './k-quants.ts';
import { ggufTokenizerMetadata } from './tokenizer.ts';
import { explainWriteError, guardOutput, markOutputFile, physicalPath, type GuardedInput } from '../output-guard.ts';

export type GgufOutType = 'f32' | 'f16' | 'bf16' | 'q8_0' | 'q4_0' | 'q4_k_m' | 'q5_k_m' | 'q6_k';

/** Each type's main ggml type and llama.cpp's general.file_type (llama_ftype) for it. */
const OUT_TYPES: Record<GgufOutType, { ggml: GgmlType; fileType: number }> = {
  f32: { ggml: GgmlType.F32, fileType: 0 },
  f16: { ggml: GgmlType.F16, fileType: 1 },
  q4_0: { ggml: GgmlType.Q4_0, fileType: 2 },
  q8_0: { ggml: GgmlType.Q8_0, fileType: 7 },
  q4_k_m: { ggml: GgmlType.Q4_K, fileType: 15 },
  q5_k_m: { ggml: GgmlType.Q5_K, fileType: 17 },
  q6_k: { ggml: GgmlType.Q6_K, fileType: 18 },
  bf16: { ggml: GgmlType.BF16, fileType: 32 },
};

export class GgufExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GgufExportError';
  }
}

/** llama.cpp architecture name of a family (its family module says). */
export function ggufArch(spec: ModelSpec): string {
  return familyOf(spec).ggufArch(spec);
}

/** llama.cpp tensor name of an HF tensor, from the family's tensor table. */
export function ggufTensorName(entry: HfTensorEntry): string {
  return entry.gguf;
}

/**
 * llama.cpp's q/k permutation for its "llama" arch: within each head the rows go from HF's
 * rotate-half order (first half, second half) to interleaved pairs: new row 2i+t ← old row t·HD/2+i.
 * Works on weights [heads·HD, in] and biases [heads·HD] (rowSize 1).
 */
export function permuteQK(data: Float32Array, heads: number, rowSize: number): Float32Array {
  const rows = data.length / rowSize;
  const hd = rows / heads;
  if (!Number.isInteger(hd) || hd % 2 !== 0) throw new GgufExportError(`cannot permute ${rows} rows into ${heads} heads of even size`);
  const half = hd / 2;
  const out = new Float32Array(data.length);
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < half; i++)
      for (let t = 0; t < 2; t++) {
        const src = (h * hd + t * half + i) * rowSize;
        const dst = (h * hd + 2 * i + t) * rowSize;
        out.set(data.subarray(src, src + rowSize), dst);
      }
  return out;
}

/** Per-dimension frequency divisors for Llama 3 rope scaling (llama.cpp's rope_freqs tensor). */
export function llama3RopeFactors(spec: ModelSpec): Float32Array {
  const s = spec.rope?.scaling;
  if (!s || s.type !== 'llama3') throw new GgufExportError('llama3RopeFactors needs llama3 rope scaling');
  const dim = spec.headDim;
  const out = new Float32Array(dim / 2);
  const lowWavelen = s.originalMaxPositions / s.lowFreqFactor;
  const highWavelen = s.originalMaxPositions / s.highFreqFactor;
  for (let i = 0; i < dim / 2; i++) {
    const freq = 1 / spec.rope!.theta ** ((2 * i) / dim);
    const wavelen = (2 * Math.PI) / freq;
    if (wavelen < highWavelen) out[i] = 1;
    else if (wavelen > lowWavelen) out[i] = s.factor;
    else {
      const smooth = (s.originalMaxPositions / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
      out[i] = 1 / ((1 - smooth) / s.factor + smooth);
    }
  }
  return out;
}

/** The architecture hyperparameters under llama.cpp's key names. */
export function ggufArchMetadata(spec: ModelSpec, name: string): Map<string, GgufValue> {
  const arch = ggufArch(spec);
  const md = new Map<string, GgufValue>();
  md.set('general.architecture', gv.str(arch));
  md.set('general.name', gv.str(name));
  md.set(`${arch}.context_length`, gv.u32(spec.maxPositions));
  md.set(`${arch}.embedding_length`, gv.u32(spec.hiddenSize));
  md.set(`${arch}.block_count`, gv.u32(spec.numLayers));
  md.set(`${arch}.feed_forward_length`, gv.u32(spec.intermediateSize));
  md.set(`${arch}.attention.head_count`, gv.u32(spec.numHeads));
  md.set(`${arch}.attention.head_count_kv`, gv.u32(spec.numKvHeads));
  if (spec.normKind === 'layer') md.set(`${arch}.attention.layer_norm_epsilon`, gv.f32(spec.normEps));
  else md.set(`${arch}.attention.layer_norm_rms_epsilon`, gv.f32(spec.normEps));
  if (spec.rope) {
    md.set(`${arch}.rope.freq_base`, gv.f32(spec.rope.theta));
    md.set(`${arch}.rope.dimension_count`, gv.u32(spec.headDim));
    if (spec.rope.scaling?.type === 'linear') {
      md.set(`${arch}.rope.scaling.type`, gv.str('linear'));
      md.set(`${arch}.rope.scaling.factor`, gv.f32(spec.rope.scaling.factor));
    }
  }
  if (spec.headDim * spec.numHeads !== spec.hiddenSize || spec.family === 'gemma3') {
    md.set(`${arch}.attention.key_length`, gv.u32(spec.headDim));
    md.set(`${arch}.attention.value_length`, gv.u32(spec.headDim));
  }
  if (spec.family === 'gemma3' && spec.slidingWindow !== null) md.set(`${arch}.attention.sliding_window`, gv.u32(spec.slidingWindow));
  if (spec.family === 'mistral' && spec.slidingWindow !== null) {
    // llama.cpp's llama arch has no sliding window: outputs past the window would differ.
    throw new GgufExportError(`Mistral with sliding_window=${spec.slidingWindow} cannot be expressed in llama.cpp's llama architecture`);
  }
  if (spec.finalLogitSoftcap !== null) md.set(`${arch}.final_logit_softcapping`, gv.f32(spec.finalLogitSoftcap));
  md.set(`${arch}.vocab_size`, gv.u32(spec.vocabSize));
  return md;
}

/** What llama.cpp hard-codes for Gemma 3, checked so a GGUF never silently computes another model. */
function checkGemma3(spec: ModelSpec): void {
  if (spec.family !== 'gemma3') return;
  // Global layers at every 6th layer (i % 6 == 5), the others sliding.
  const expected = spec.layerTypes.map((_, i) => ((i + 1) % 6 === 0 ? 'full' : 'sliding'));
  if (spec.layerTypes.some((t, i) => t !== expected[i])) {
    throw new GgufExportError(`Gemma 3 layer_types [${spec.layerTypes.join(', ')}] differ from llama.cpp's fixed pattern (every 6th layer global)`);
  }
  if (spec.rope?.localTheta !== 10000) throw new GgufExportError(`Gemma 3 rope_local_base_freq ${spec.rope?.localTheta} differs from llama.cpp's fixed 10000`);
  if (Math.abs(spec.attentionScale * Math.sqrt(spec.headDim) - 1) > 1e-9) {
    throw new GgufExportError('Gemma 3 query_pre_attn_scalar ≠ head_dim is not expressible in GGUF (llama.cpp scales by 1/√head_dim)');
  }
}

/** Turn one HF tensor (float values as stored) into what llama.cpp expects. */
function toGgufValues(spec: ModelSpec, entry: HfTensorEntry, data: Float32Array): Float32Array {
  let values = data;
  if (entry.transpose) values = transpose2d(values, entry.shape[0], entry.shape[1]); // Conv1D [in,out] → [out,in]
  const p = entry.params[0].name;
  if (ggufArch(spec) === 'llama' && !entry.split) {
    const rowSize = entry.shape.length > 1 ? entry.shape[1] : 1;
    if (/\.attn\.q\.(weight|bias)$/.test(p)) values = permuteQK(values, spec.numHeads, rowSize);
    else if (/\.attn\.k\.(weight|bias)$/.test(p)) values = permuteQK(values, spec.numKvHeads, rowSize);
  }
  if (spec.normKind === 'rms_one_plus' && /norm\.weight$/.test(p)) values = values.map((v) => v + 1);
  return values;
}

function ggufShape(entry: HfTensorEntry): number[] {
  return entry.transpose ? [entry.shape[1], entry.shape[0]] : entry.shape;
}

const K_FALLBACK = new Map([
  [GgmlType.Q4_K, GgmlType.Q5_0],
  [GgmlType.Q5_K, GgmlType.Q5_1],
  [GgmlType.Q6_K, GgmlType.Q8_0],
]);

/** llama.cpp's use_more_bits: the first and last eighth of the layers and every third one between. */
export function useMoreBits(i: number, n: number): boolean {
  return i < Math.floor(n / 8) || i >= Math.floor((7 * n) / 8) || (i - Math.floor(n / 8)) % 3 === 2;
}

/**
 * The ggml type of each tensor, as llama.cpp's llama_tensor_get_type picks it for a file type
 * (without an importance matrix): 1-D tensors stay F32; for the K mixes the output head (the token
 * embedding when tied) is Q6_K, and in Q4_K_M / Q5_K_M the attn_v (or fused attn_qkv) and ffn_down
 * of the layers useMoreBits picks are Q6_K. A row that is not whole super-blocks falls back as in
 * llama.cpp: Q4_K → Q5_0, Q5_K → Q5_1, Q6_K → Q8_0, and F16 where the row is not whole blocks of 32 either.
 */
export function ggufTensorTypes(tensors: readonly { name: string; shape: number[] }[], type: GgufOutType): GgmlType[] {
  const base = OUT_TYPES[type].ggml;
  const mix = type === 'q4_k_m' || type === 'q5_k_m';
  const hasOutput = tensors.some((t) => t.name === 'output.weight');
  const isAttnV = (name: string) => /\.attn_(v|qkv)\.weight$/.test(name);
  const isFfnDown = (name: string) => /\.ffn_down\.weight$/.test(name);
  const nAttnV = tensors.filter((t) => isAttnV(t.name)).length;
  const nFfnDown = tensors.filter((t) => isFfnDown(t.name)).length;
  let iAttnV = 0;
  let iFfnDown = 0;
  return tensors.map(({ name, shape }) => {
    if (shape.length < 2) return GgmlType.F32;
    let t = base;
    if (ggmlBlockSize(base) === QK_K) {
      if (name === 'output.weight' || (!hasOutput && name === 'token_embd.weight')) t = GgmlType.Q6_K;
      else if (isAttnV(name)) t = mix && useMoreBits(iAttnV++, nAttnV) ? GgmlType.Q6_K : base;
      else if (isFfnDown(name)) t = mix && useMoreBits(iFfnDown++, nFfnDown) ? GgmlType.Q6_K : base;
    }
    const row = shape[shape.length - 1];
    if (row % ggmlBlockSize(t) !== 0) t = K_FALLBACK.get(t) ?? t;
    if (row % ggmlBlockSize(t) !== 0) t = GgmlType.F16;
    return t;
  });
}

/** ggufTensorTypes for a model folder's tensor table (in table order), as exportGguf writes them. */
export function ggufTableTypes(table: readonly HfTensorEntry[], type: GgufOutType): GgmlType[] {
  return ggufTensorTypes(table.map((e) => ({ name: ggufTensorName(e), shape: ggufShape(e) })), type);
}

export interface GgufExportOptions {
  baseDir: string;
  adapters?: { adapter: string | LoraAdapter; weight?: number }[];
  outFile: string;
  type?: GgufOutType;
  /** Replace a previous GGUF export at outFile (never anything else: see output-guard.ts). */
  overwrite?: boolean;
  /** More inputs the output must keep clear of (the data dir, run folders), beyond the base and adapters. */
  protect?: GuardedInput[];
  name?: string;
  /** Chat template to embed (default: the adapter's training template, else the base model's). */
  chatTemplate?: string | null;
  /** llama.cpp pre-tokenizer name (see ggufTokenizerMetadata). */
  pre?: string;
  onProgress?: (done: number, total: number, tensor: string) => void;
}

export interface GgufExportResult {
  outFile: string;
  bytes: number;
  type: GgufOutType;
  tensors: { name: string; type: string; shape: number[] }[];
}

async function loadAdapters(model: ModelFolder, list: GgufExportOptions['adapters']): Promise<{ adapter: LoraAdapter; weight?: number }[]> {
  const out: { adapter: LoraAdapter; weight?: number }[] = [];
  for (const a of list ?? []) out.push({ adapter: typeof a.adapter === 'string' ? await readAdapter(a.adapter, model.spec) : a.adapter, weight: a.weight });
  return out;
}

/** Base model (+ merged adapters) → a llama.cpp GGUF file. */
export async function exportGguf(options: GgufExportOptions): Promise<GgufExportResult> {
  const type = options.type ?? 'f16';
  if (!(type in OUT_TYPES)) throw new GgufExportError(`GGUF type "${type}" is not supported (supported: ${Object.keys(OUT_TYPES).join(', ')})`);
  const outFile = await physicalPath(options.outFile);
  await guardOutput({
    out: outFile,
    kind: 'gguf',
    inputs: [
      { path: options.baseDir, role: 'base model' },
      ...(options.adapters ?? []).map((a) => (typeof a.adapter === 'string' ? { path: a.adapter, role: 'adapter' } : null)),
      ...(options.protect ?? []),
    ],
    overwrite: options.overwrite,
  });
  const model = await openModelFolder(options.baseDir);
  try {
    const spec = model.spec;
    checkGemma3(spec);
    const adapters = await loadAdapters(model, options.adapters);
    const read = mergedTensorReader(model, adapters);
    const trained = adapters.find((a) => a.adapter.trainingTemplate?.chatTemplate)?.adapter.trainingTemplate?.chatTemplate;
    const chatTemplate = options.chatTemplate !== undefined ? options.chatTemplate : trained ?? undefined;
    const md = ggufArchMetadata(spec, options.name ?? (model.config._name_or_path as string | undefined) ?? spec.architecture);
    md.set('general.file_type', gv.u32(OUT_TYPES[type].fileType));
    if (ggmlBlockSize(OUT_TYPES[type].ggml) > 1) md.set('general.quantization_version', gv.u32(2));
    const tok = await ggufTokenizerMetadata(model.dir, spec, { pre: options.pre, chatTemplate });
    for (const [k, v] of tok.metadata) md.set(k, v);

    const tensors: GgufTensor[] = [];
    let done = 0;
    const total = model.table.length;
    const types = ggufTableTypes(model.table, type);
    for (const [i, entry] of model.table.entries()) {
      const shape = ggufShape(entry);
      const name = ggufTensorName(entry);
      tensors.push({
        name,
        shape,
        type: types[i],
        data: async () => {
          const values = toGgufValues(spec, entry, await read(entry.hfName));
          options.onProgress?.(++done, total, name);
          return values;
        },
      });
    }
    if (spec.rope?.scaling?.type === 'llama3') {
      const factors = llama3RopeFactors(spec);
      tensors.push({ name: 'rope_freqs.weight', shape: [factors.length], type: GgmlType.F32, data: () => factors });
    }
    const bytes = await writeGguf(outFile, md, tensors).catch((err: unknown) => Promise.reject(explainWriteError(err, outFile)));
    await markOutputFile(outFile, 'gguf');
    return { outFile, bytes, type, tensors: tensors.map((t) => ({ name: t.name, type: GgmlType[t.type], shape: t.shape })) };
  } finally {
    await model.close();
  }
}

export interface LoraGgufOptions {
  baseDir: string;
  adapter: string | LoraAdapter;
  outFile: string;
  type?: 'f32' | 'f16' | 'bf16';
  overwrite?: boolean;
  protect?: GuardedInput[];
  name?: string;
}

/**
 * A LoRA adapter as llama.cpp's `--lora` GGUF: general.type "adapter", adapter.type "lora",
 * adapter.lora.alpha, and per targeted weight `<tensor>.lora_a` (HF lora_A [r, in]) and
 * `<tensor>.lora_b` (lora_B [out, r]); for the llama arch lora_b rows of q/k are permuted like the
 * base weight ((P·B)·A = P·(B·A)).
 */
export async function exportLoraGguf(options: LoraGgufOptions): Promise<GgufExportResult> {
  const type = options.type ?? 'f32';
  const outFile = await physicalPath(options.outFile);
  await guardOutput({
    out: outFile,
    kind: 'lora-gguf',
    inputs: [
      { path: options.baseDir, role: 'base model' },
      typeof options.adapter === 'string' ? { path: options.adapter, role: 'adapter' } : null,
      ...(options.protect ?? []),
    ],
    overwrite: options.overwrite,
  });
  const model = await openModelFolder(options.baseDir);
  try {
    const spec = model.spec;
    const adapter = typeof options.adapter === 'string' ? await readAdapter(options.adapter, spec) : options.adapter;
    const c = adapter.config;
    if (Object.keys(c.rank_pattern).length || Object.keys(c.alpha_pattern).length) {
      throw new GgufExportError('llama.cpp LoRA GGUF has one alpha per adapter: rank_pattern / alpha_pattern cannot be exported');
    }
    if (adapter.extra.size) {
      throw new GgufExportError(`llama.cpp LoRA GGUF holds only LoRA A/B: this adapter also trains ${[...adapter.extra.keys()].slice(0, 3).join(', ')} (merge it instead)`);
    }
    const ranks = new Set([...adapter.layers.values()].map((l) => l.r));
    if (ranks.size !== 1) throw new GgufExportError(`adapter layers have different ranks (${[...ranks].join(', ')}); llama.cpp needs one`);
    const r = [...ranks][0];
    const arch = ggufArch(spec);
    // llama.cpp scales by alpha / r; rsLoRA's alpha / √r is the same with alpha' = alpha·√r.
    const scale = layerScale(c, adapter.layers.values().next().value!);
    const alpha = scale * r;
    const md = new Map<string, GgufValue>();
    md.set('general.architecture', gv.str(arch));
    md.set('general.type', gv.str('adapter'));
    md.set('general.name', gv.str(options.name ?? c.base_model_name_or_path ?? 'lora'));
    md.set('adapter.type', gv.str('lora'));
    md.set('adapter.lora.alpha', gv.f32(alpha));
    const modules = new Map(linearModules(spec).map((m) => [m.module, m]));
    const entries = new Map(model.table.map((e) => [e.hfName, e]));
    const ggmlType = OUT_TYPES[type].ggml;
    const tensors: GgufTensor[] = [];
    for (const layer of adapter.layers.values()) {
      const m = modules.get(layer.module)!;
      const entry = entries.get(m.weightName);
      if (!entry || m.isOutputHead) throw new GgufExportError(`LoRA on ${layer.module} cannot be exported to GGUF`);
      const base = ggufTensorName(entry);
      const p = entry.params[0].name;
      let B = layer.B;
      if (arch === 'llama' && !entry.split) {
        if (/\.attn\.q\.weight$/.test(p)) B = permuteQK(B, spec.numHeads, layer.r);
        else if (/\.attn\.k\.weight$/.test(p)) B = permuteQK(B, spec.numKvHeads, layer.r);
      }
      tensors.push({ name: `${base}.lora_a`, shape: [layer.r, layer.inFeatures], type: ggmlType, data: () => layer.A });
      tensors.push({ name: `${base}.lora_b`, shape: [layer.outFeatures, layer.r], type: ggmlType, data: () => B });
    }
    const bytes = await writeGguf(outFile, md, tensors).catch((err: unknown) => Promise.reject(explainWriteError(err, outFile)));
    await markOutputFile(outFile, 'lora-gguf');
    return { outFile, bytes, type, tensors: tensors.map((t) => ({ name: t.name, type: GgmlType[t.type], shape: t.shape })) };
  } finally {
    await model.close();
  }
}
