// llama.cpp as a generation backend, through node-llama-cpp (its prebuilt CPU/CUDA/Vulkan/Metal binaries, chosen per
// platform at install). The model is the GGUF our own writer makes (formats/gguf), cached in the data dir per base
// and type; each adapter is a LoRA GGUF attached to a context with its scale, several at once. Prompts are our
// tokenizer's ids (the same chat template and tokens as the studio's engine), so the two backends answer the same
// prompt; llama.cpp samples with its own sampler (greedy answers match the engine's; sampled ones differ by RNG).
// An F32 GGUF also gets an F32 KV cache, so its logits match the engine's to float rounding.
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import type { Llama, LlamaContext, LlamaModel, Token } from 'node-llama-cpp';
import { parseWorkerThreads, WORKER_THREADS_ENV } from '../../../common/worker-protocol.ts';
import { exportGguf, exportLoraGguf, type GgufOutType } from '../../formats/gguf/index.ts';
import { AnswerRules, type GenerationResult, type TextDecoderLike } from './generate.ts';
import type { SamplingOptions } from './sampling.ts';

let llama: Promise<Llama> | null = null;

/** The llama.cpp binding, loaded once per process (never built from source: a missing binary is an error). */
export function loadLlama(): Promise<Llama> {
  llama ??= import('node-llama-cpp').then(({ getLlama, LlamaLogLevel }) =>
    getLlama({ gpu: 'auto', build: 'never', logLevel: LlamaLogLevel.error }),
  );
  llama.catch(() => (llama = null)); // a failed load may be retried (after an install)
  return llama;
}

/** Size and modification time of a folder's files that define its content. */
async function stamp(dir: string, files: readonly string[]): Promise<string> {
  const parts = await Promise.all(
    files.map(async (f) => {
      const s = await stat(join(dir, f)).catch(() => null);
      return s ? `${f}:${s.size}:${s.mtimeMs}` : `${f}:-`;
    }),
  );
  return parts.join('|');
}

const MODEL_FILES = [
  'config.json',
  'model.safetensors',
  'model.safetensors.index.json',
  'tokenizer.json',
  'tokenizer_config.json',
];
const ADAPTER_FILES = ['adapter_config.json', 'adapter_model.safetensors'];
const hash = (parts: unknown): string => createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 20);

const making = new Map<string, Promise<{ file: string; made: boolean }>>();
/** Writes into the cache one at a time: each also updates the folder's one output marker file. */
let writing: Promise<unknown> = Promise.resolve();

/**
 * Writes `make(tmp)` once under `file` (temp name + rename: a file with that name is always complete); callers in
 * this process asking for a file being written wait for that one write.
 */
function cached(
  file: string,
  make: (tmp: string) => Promise<unknown>,
  onMake?: () => void,
): Promise<{ file: string; made: boolean }> {
  let pending = making.get(file);
  if (!pending) {
    pending = writing.then(() => writeOnce(file, make, onMake)).finally(() => making.delete(file));
    writing = pending.catch(() => undefined);
    making.set(file, pending);
  }
  return pending;
}

async function writeOnce(
  file: string,
  make: (tmp: string) => Promise<unknown>,
  onMake?: () => void,
): Promise<{ file: string; made: boolean }> {
  if (
    await stat(file).then(
      (s) => s.isFile(),
      () => false,
    )
  )
    return { file, made: false };
  onMake?.();
  await mkdir(join(file, '..'), { recursive: true });
  const tmp = `${file}.${process.pid}.partial.gguf`;
  try {
    await make(tmp);
    await rename(tmp, file);
  } finally {
    await rm(tmp, { force: true });
  }
  return { file, made: true };
}

/** Where converted GGUF files are kept: `<data dir>/cache/gguf`. */
export function ggufCacheDir(dataDir: string): string {
  return join(dataDir, 'cache', 'gguf');
}

/**
 * The base model (with `merged` adapters folded in, as an export ships it) as a GGUF of this type, written by our
 * writer on first use and reused while the folders are unchanged.
 */
export async function cachedModelGguf(
  cacheDir: string,
  baseDir: string,
  type: GgufOutType,
  merged: { path: string; weight: number }[] = [],
  onMake?: () => void,
): Promise<{ file: string; made: boolean }> {
  const base = resolve(baseDir);
  const adapters = await Promise.all(
    merged.map(async (a) => [resolve(a.path), a.weight, await stamp(a.path, ADAPTER_FILES)]),
  );
  const key = hash([base, await stamp(base, MODEL_FILES), type, adapters]);
  const file = join(cacheDir, `${merged.length ? 'merged' : 'base'}-${key}-${type}.gguf`);
  return cached(
    file,
    (tmp) =>
      exportGguf({
        baseDir: base,
        outFile: tmp,
        type,
        adapters: merged.map((a) => ({ adapter: resolve(a.path), weight: a.weight })),
      }),
    onMake,
  );
}

/** A PEFT adapter folder as llama.cpp's LoRA GGUF (F32), cached like the base. */
export async function cachedLoraGguf(
  cacheDir: string,
  baseDir: string,
  adapterDir: string,
  onMake?: () => void,
): Promise<{ file: string; made: boolean }> {
  const key = hash([
    resolve(baseDir),
    await stamp(baseDir, MODEL_FILES),
    resolve(adapterDir),
    await stamp(adapterDir, ADAPTER_FILES),
  ]);
  return cached(
    join(cacheDir, `lora-${key}.gguf`),
    (tmp) => exportLoraGguf({ baseDir: resolve(baseDir), adapter: resolve(adapterDir), outFile: tmp, type: 'f32' }),
    onMake,
  );
}

/**
 * Threads for llama.cpp when none are named: the studio's Settings (LORA_STUDIO_THREADS), else all CPU threads but
 * one. ggml's workers spin while they wait for each other, so on every core they fight the studio's own process and
 * the decode slows several-fold on a busy machine (2 cores: ~3 tokens/s on 2 threads vs ~700 on 1, measured).
 */
export function llamaThreads(env: NodeJS.ProcessEnv = process.env): number {
  return parseWorkerThreads(env[WORKER_THREADS_ENV]) ?? Math.max(1, availableParallelism() - 1);
}

/** A LoRA GGUF attached with its scale (1 = as trained). */
export interface LlamaLora {
  file: string;
  scale: number;
}

export interface LlamaAnswerOptions extends SamplingOptions {
  maxNewTokens: number;
  stop: string[];
  eosTokenIds: number[];
  signal?: AbortSignal;
  onDelta?(delta: string): void;
}

/** A GGUF model loaded in llama.cpp, with one context per adapter set (contexts are kept: attaching is cheap after). */
export class LlamaCppModel {
  private readonly contexts = new Map<string, { context: Promise<LlamaContext>; busy: Promise<unknown> }>();

  private constructor(
    readonly file: string,
    private readonly model: LlamaModel,
    private readonly threads: number,
    private readonly exact: boolean,
  ) {}

  /** `exact`: an F32 KV cache (llama.cpp's default F16 cache moves logits by ~1e-3). */
  static async open(file: string, o: { threads?: number; exact?: boolean } = {}): Promise<LlamaCppModel> {
    const l = await loadLlama();
    const model = await l.loadModel({ modelPath: file });
    return new LlamaCppModel(file, model, o.threads ?? llamaThreads(), o.exact ?? false);
  }

  get contextSize(): number {
    return Math.min(4096, this.model.trainContextSize);
  }

  private context(loras: readonly LlamaLora[]): { context: Promise<LlamaContext>; busy: Promise<unknown> } {
    const active = loras.filter((l) => l.scale !== 0);
    const key = JSON.stringify(active.map((l) => [l.file, l.scale]));
    let entry = this.contexts.get(key);
    if (!entry) {
      const context = this.model.createContext({
        contextSize: this.contextSize,
        sequences: 1,
        threads: this.threads,
        ...(this.exact
          ? { flashAttention: false, experimentalKvCacheKeyType: 'F32', experimentalKvCacheValueType: 'F32' }
          : {}),
        ...(active.length ? { lora: { adapters: active.map((l) => ({ filePath: l.file, scale: l.scale })) } } : {}),
      });
      entry = { context, busy: Promise.resolve() };
      this.contexts.set(key, entry);
    }
    return entry;
  }

  /** Runs `fn` on the adapter set's one sequence, after whatever runs on it now (panes sharing adapters take turns). */
  private async withSequence<T>(
    loras: readonly LlamaLora[],
    fn: (seq: ReturnType<LlamaContext['getSequence']>) => Promise<T>,
  ): Promise<T> {
    const entry = this.context(loras);
    const run = entry.busy.then(async () => {
      const seq = (await entry.context).getSequence();
      try {
        return await fn(seq);
      } finally {
        seq.dispose();
      }
    });
    entry.busy = run.catch(() => undefined);
    return run;
  }

  /** Log-probabilities of the token after `ids` (log-softmax of the logits: equal to them up to one constant). */
  logProbs(ids: readonly number[], loras: readonly LlamaLora[] = []): Promise<Float64Array> {
    return this.withSequence(loras, async (seq) => {
      const sampling = { temperature: 1, topK: 0, topP: 1, minP: 0 };
      const input = ids.map((t, i) =>
        i === ids.length - 1 ? ([t, { generateNext: { probabilities: true, options: sampling } }] as const) : t,
      );
      const res = await seq.controlledEvaluate(input as Parameters<typeof seq.controlledEvaluate>[0]);
      const probabilities = res.at(-1)?.next?.probabilities;
      if (!probabilities) throw new Error('llama.cpp returned no probabilities');
      const out = new Float64Array(probabilities.size).fill(-Infinity);
      for (const [token, p] of probabilities) out[token] = Math.log(p);
      return out;
    });
  }

  /**
   * Summed negative log-likelihood of a sequence's trained targets (labels already shifted: `labels[t]` is the
   * token after position t; -100 = not trained), from a fresh KV cache.
   */
  sequenceNll(ids: readonly number[], labels: readonly number[]): Promise<{ nll: number; tokens: number }> {
    return this.withSequence([], async (seq) => {
      const sampling = { temperature: 1, topK: 0, topP: 1, minP: 0 };
      const input = ids.map((t, i) =>
        labels[i]! >= 0 ? ([t, { generateNext: { probabilities: true, options: sampling } }] as const) : t,
      );
      const res = await seq.controlledEvaluate(input as Parameters<typeof seq.controlledEvaluate>[0]);
      let nll = 0;
      let tokens = 0;
      labels.forEach((label, i) => {
        if (label < 0) return;
        const p = res[i]?.next?.probabilities?.get(label as Token) ?? 0;
        nll -= Math.log(p); // a probability llama.cpp rounds to 0 counts as infinite loss, as it should
        tokens++;
      });
      return { nll, tokens };
    });
  }

  /** One answer to a prompt (token ids), streamed as text deltas with the same stop rules as the engine's loop. */
  answer(
    promptIds: readonly number[],
    loras: readonly LlamaLora[],
    tokenizer: TextDecoderLike,
    o: LlamaAnswerOptions,
  ): Promise<GenerationResult> {
    if (promptIds.length === 0) throw new Error('generation: the prompt is empty (no tokens)');
    if (promptIds.length >= this.contextSize)
      throw new Error(
        `generation: the prompt has ${promptIds.length} tokens; llama.cpp's context here holds ${this.contextSize}, leaving no room for an answer`,
      );
    return this.withSequence(loras, async (seq) => {
      const budget = Math.min(o.maxNewTokens, this.contextSize - promptIds.length);
      const rules = new AnswerRules(
        tokenizer,
        promptIds,
        { ...o, maxNewTokens: budget },
        { onDelta: o.onDelta, signal: o.signal },
      );
      const tokens = seq.evaluate(promptIds as Token[], {
        temperature: o.temperature,
        topK: o.topK,
        topP: o.topP,
        minP: 0,
        seed: o.seed,
        yieldEogToken: true,
        // as the engine and transformers apply it: every token seen so far, prompt included
        ...(o.repetitionPenalty !== 1
          ? {
              repeatPenalty: {
                punishTokens: () => rules.seen as Token[],
                maxPunishTokens: promptIds.length + budget,
                penalty: o.repetitionPenalty,
              },
            }
          : {}),
      });
      let first = true;
      for await (const token of tokens) {
        if (first) rules.prefilled(); // llama.cpp yields the first token after the prompt's forward
        first = false;
        if (!rules.accept(token)) break;
      }
      return rules.result();
    });
  }

  async dispose(): Promise<void> {
    for (const { context } of this.contexts.values()) await (await context.catch(() => null))?.dispose();
    this.contexts.clear();
    await this.model.dispose();
  }
}
