// The decode loop: prefill the prompt, then one token at a time — sample, stop at EOS / a stop string / the token
// budget / a cancel — streaming the decoded text as it grows. Text is streamed in deltas whose concatenation is
// exactly the final answer: a delta never ends inside a multi-byte UTF-8 character (the decoder's U+FFFD for an
// incomplete sequence is held back) nor inside a possible stop string (held until it is ruled out).

import { Sampler, type SamplingOptions } from './sampling.ts';
import type { KvCache } from './decoder.ts';

/** What the loop needs of a model: a fresh cache, and logits (T, V) for the next tokens on top of it. */
export interface LogitsModel {
  readonly vocab: number;
  /** Sequence length the model cannot pass (learned positions); generation ends there with 'length'. */
  readonly maxPositions?: number;
  newCache(): KvCache;
  forward(cache: KvCache, ids: ArrayLike<number>): Promise<ArrayLike<number> & { subarray(start: number, end?: number): ArrayLike<number> }>;
}

/** What the loop needs of a tokenizer (HfTokenizer fits). */
export interface TextDecoderLike {
  decode(ids: ArrayLike<number>, options?: { skipSpecialTokens?: boolean }): string;
}

export interface GenerateOptions extends SamplingOptions {
  maxNewTokens: number;
  /** Generation ends when one of these is produced (not included in the text). */
  eosTokenIds: number[];
  /** Generation ends when the decoded text contains one of these; the text is cut before it. */
  stop: string[];
}

export type FinishReason = 'eos' | 'stop' | 'length' | 'cancelled';

export interface GenerationResult {
  text: string;
  tokenIds: number[]; // generated tokens (EOS excluded; those after a stop string's start included)
  finishReason: FinishReason;
  promptTokens: number;
  /** Seconds for the prompt's forward, and for the decode steps after it. */
  prefillSeconds: number;
  decodeSeconds: number;
  /** Generated tokens per second of decode (the first token comes from the prefill). */
  decodeTokensPerSecond: number;
}

export interface GenerateHooks {
  onDelta?(delta: string): void;
  signal?: AbortSignal;
}

/** Incremental text of a growing token list, and the stop-string rule. */
export class TextStream {
  private text = '';
  private emitted = 0;
  stopped = false;

  constructor(private readonly tokenizer: TextDecoderLike, private readonly stop: string[]) {
    for (const s of stop) if (s.length === 0) throw new Error('generation: a stop string must not be empty');
  }

  /** Re-decodes the tokens; returns the delta that is safe to show now ('' if none). */
  update(ids: readonly number[]): string {
    const full = this.tokenizer.decode(ids, { skipSpecialTokens: true });
    // an incomplete UTF-8 sequence at the end decodes to U+FFFD: wait for its next bytes
    const settled = full.endsWith('\uFFFD') ? full.replace(/\uFFFD+$/, '') : full;
    if (!settled.startsWith(this.text.slice(0, this.emitted))) return ''; // a re-segmentation changed shown text: keep ours
    this.text = settled;
    let limit = settled.length;
    let cut = -1;
    for (const s of this.stop) {
      const at = settled.indexOf(s, Math.max(0, this.emitted - s.length + 1));
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) {
      this.stopped = true;
      this.text = settled.slice(0, cut);
      limit = cut;
    } else {
      // hold back the longest tail that could still become a stop string
      for (const s of this.stop)
        for (let k = Math.min(s.length - 1, settled.length); k > 0; k--)
          if (settled.endsWith(s.slice(0, k))) {
            limit = Math.min(limit, settled.length - k);
            break;
          }
    }
    if (limit <= this.emitted) return '';
    const delta = this.text.slice(this.emitted, limit);
    this.emitted = limit;
    return delta;
  }

  /** At the end: whatever was held back (a partial stop string that never completed) is text after all. */
  flush(): string {
    const delta = this.text.slice(this.emitted);
    this.emitted = this.text.length;
    return delta;
  }

  get value(): string {
    return this.text;
  }
}

/**
 * The per-token rules every decode loop applies, whatever computes the tokens (the engine, llama.cpp): stop at a
 * cancel, an end token, a stop string or the token budget; stream the text; time the prefill and the decode.
 */
export class AnswerRules {
  readonly tokenIds: number[] = [];
  /** The prompt and the answer so far (what a repetition penalty looks at). */
  readonly seen: number[];
  finishReason: FinishReason = 'length';
  private readonly stream: TextStream;
  private readonly eos: Set<number>;
  private readonly t0 = performance.now();
  private t1 = 0;

  constructor(
    tokenizer: TextDecoderLike,
    private readonly promptIds: readonly number[],
    private readonly o: GenerateOptions,
    private readonly hooks: GenerateHooks = {},
  ) {
    this.stream = new TextStream(tokenizer, o.stop);
    this.eos = new Set(o.eosTokenIds);
    this.seen = [...promptIds];
  }

  /** The prompt's forward is done: decode time starts here. */
  prefilled(): void {
    this.t1 = performance.now();
  }

  /** Takes the next token; false when the answer ends here (the reason is in finishReason). */
  accept(id: number): boolean {
    if (this.hooks.signal?.aborted) {
      this.finishReason = 'cancelled';
      return false;
    }
    if (this.eos.has(id)) {
      this.finishReason = 'eos';
      return false;
    }
    this.tokenIds.push(id);
    this.seen.push(id);
    this.emit(this.stream.update(this.tokenIds));
    if (this.stream.stopped) {
      this.finishReason = 'stop';
      return false;
    }
    return this.tokenIds.length < this.o.maxNewTokens;
  }

  private emit(delta: string): void {
    if (delta) this.hooks.onDelta?.(delta);
  }

  result(): GenerationResult {
    if (!this.stream.stopped) this.emit(this.stream.flush());
    const now = performance.now();
    this.t1 ||= now; // no token came at all
    const decodeSeconds = (now - this.t1) / 1000;
    const n = this.tokenIds.length;
    return {
      text: this.stream.value,
      tokenIds: this.tokenIds,
      finishReason: this.finishReason,
      promptTokens: this.promptIds.length,
      prefillSeconds: (this.t1 - this.t0) / 1000,
      decodeSeconds,
      decodeTokensPerSecond: n > 1 && decodeSeconds > 0 ? (n - 1) / decodeSeconds : 0,
    };
  }
}

export async function generate(model: LogitsModel, tokenizer: TextDecoderLike, promptIds: readonly number[], o: GenerateOptions, hooks: GenerateHooks = {}): Promise<GenerationResult> {
  if (promptIds.length === 0) throw new Error('generation: the prompt is empty (no tokens)');
  if (model.maxPositions !== undefined && promptIds.length >= model.maxPositions)
    throw new Error(`generation: the prompt has ${promptIds.length} tokens; this model reads at most ${model.maxPositions} (its learned positions), leaving no room for an answer`);
  if (!Number.isInteger(o.maxNewTokens) || o.maxNewTokens < 1) throw new Error(`generation: max_new_tokens must be an integer ≥ 1, got ${o.maxNewTokens}`);
  const sampler = new Sampler(o);
  const rules = new AnswerRules(tokenizer, promptIds, o, hooks);
  const V = model.vocab;
  const cache = model.newCache();
  let logits = await model.forward(cache, promptIds);
  let last = logits.subarray((promptIds.length - 1) * V, promptIds.length * V);
  rules.prefilled();
  for (;;) {
    const id = sampler.next(last, rules.seen);
    if (!rules.accept(id)) break;
    if (model.maxPositions !== undefined && cache.length >= model.maxPositions) break; // the next token has no position
    logits = await model.forward(cache, [id]);
    last = logits.subarray(0, V);
  }
  return rules.result();
}

/** The same loop as an async iterator of text deltas; `result` settles when the iterator ends. */
export function generateStream(model: LogitsModel, tokenizer: TextDecoderLike, promptIds: readonly number[], o: GenerateOptions, signal?: AbortSignal): { deltas: AsyncIterable<string>; result: Promise<GenerationResult> } {
  const queue: string[] = [];
  let wake: (() => void) | null = null;
  let done = false;
  const result = generate(model, tokenizer, promptIds, o, {
    signal,
    onDelta: (d) => {
      queue.push(d);
      wake?.();
    },
  }).finally(() => {
    done = true;
    wake?.();
  });
  const deltas = {
    async *[Symbol.asyncIterator]() {
      for (;;) {
        if (queue.length) yield queue.shift()!;
        else if (done) {
          await result; // rethrows a failure
          return;
        } else await new Promise<void>((r) => (wake = r));
        wake = null;
      }
    },
  };
  return { deltas, result };
}
