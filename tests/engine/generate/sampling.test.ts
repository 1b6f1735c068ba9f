// Sampling as transformers defines it (repetition penalty, temperature, top-k, top-p, greedy), seeded draws, and
// the decode loop's stopping and streaming on a real byte-level BPE tokenizer with a scripted model.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  applyRepetitionPenalty, applyTopK, applyTopP, argmax, Sampler, softmax, validateSampling, type SamplingOptions,
} from '../../../src/main/engine/generate/sampling.ts';
import { generate, generateStream, TextStream, type LogitsModel } from '../../../src/main/engine/generate/generate.ts';
import type { KvCache } from '../../../src/main/engine/generate/decoder.ts';
import { HfTokenizer } from '../../../src/main/formats/tokenizer/index.ts';
import { writeTinyTokenizer } from '../../fixtures/tiny-tokenizer.ts';

const dir = mkdtempSync(join(tmpdir(), 'gen-sampling-'));
const files = writeTinyTokenizer(dir);
const tok = HfTokenizer.load(dir);
const EOS = files.specialIds['<|im_end|>'];
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const opts = (over: Partial<SamplingOptions> = {}): SamplingOptions => ({ temperature: 1, topK: 0, topP: 1, repetitionPenalty: 1, seed: 0, ...over });

describe('logits processors', () => {
  it('repetition penalty divides positive and multiplies negative logits of seen tokens, once each', () => {
    const x = Float64Array.from([2, -2, 1, 0.5]);
    applyRepetitionPenalty(x, [0, 1, 1, 0], 2);
    expect([...x]).toEqual([1, -4, 1, 0.5]);
  });
  it('top-k keeps the k largest (and ties with the k-th)', () => {
    const x = Float64Array.from([1, 5, 3, 3, 0]);
    applyTopK(x, 2);
    expect([...x]).toEqual([-Infinity, 5, 3, 3, -Infinity]);
  });
  it('top-p removes the tail whose cumulative probability is ≤ 1 − p, keeping the most likely', () => {
    const p = [0.5, 0.3, 0.15, 0.05];
    const x = Float64Array.from(p.map(Math.log));
    applyTopP(x, 0.75); // 1 − p = 0.25: the tail 0.05 + 0.15 = 0.2 goes
    expect([...x].map((v) => v === -Infinity)).toEqual([false, false, true, true]);
    const y = Float64Array.from(p.map(Math.log));
    applyTopP(y, 0.01);
    expect([...y].map((v) => v === -Infinity)).toEqual([false, true, true, true]);
  });
  it('greedy is the argmax after the penalty; bad settings are refused by name', () => {
    const s = new Sampler(opts({ temperature: 0, repetitionPenalty: 3 }));
    expect(s.next([3, 2.5, -1], [])).toBe(0);
    expect(s.next([3, 2.5, -1], [0])).toBe(1); // 3/3 = 1 < 2.5
    expect(argmax([1, 4, 4])).toBe(1);
    expect(() => validateSampling(opts({ topP: 0 }))).toThrow(/top_p must be in \(0, 1\]/);
    expect(() => validateSampling(opts({ temperature: -1 }))).toThrow(/temperature/);
    expect(() => validateSampling(opts({ topK: 1.5 }))).toThrow(/top_k/);
  });
});

describe('sampling', () => {
  it('draws follow the temperature-scaled, top-k-renormalised distribution; same seed, same draws', () => {
    const logits = [2, 1, 0.5, 0, -1];
    const s = new Sampler(opts({ temperature: 0.5, topK: 3, seed: 42 }));
    const counts = new Array(5).fill(0);
    const n = 20000;
    const draws: number[] = [];
    for (let i = 0; i < n; i++) draws.push(s.next(logits, []));
    for (const d of draws) counts[d]++;
    const expected = softmax([4, 2, 1]);
    for (let i = 0; i < 3; i++) expect(Math.abs(counts[i] / n - expected[i])).toBeLessThan(0.015);
    expect(counts[3] + counts[4]).toBe(0);
    const again = new Sampler(opts({ temperature: 0.5, topK: 3, seed: 42 }));
    expect(Array.from({ length: 200 }, () => again.next(logits, []))).toEqual(draws.slice(0, 200));
    const other = new Sampler(opts({ temperature: 0.5, topK: 3, seed: 43 }));
    expect(Array.from({ length: 200 }, () => other.next(logits, []))).not.toEqual(draws.slice(0, 200));
  });
});

/** A model that emits a fixed token script (then EOS), whatever it is fed: logits peak on script[position]. */
function scripted(script: number[], vocab: number, eos = EOS): LogitsModel & { fed: number[][] } {
  const fed: number[][] = [];
  let promptLen = 0;
  return {
    vocab, fed,
    newCache: (): KvCache => ({ length: 0, k: [], v: [] }),
    async forward(cache, ids) {
      fed.push(Array.from(ids));
      if (cache.length === 0) promptLen = ids.length;
      const out = new Float32Array(ids.length * vocab);
      for (let t = 0; t < ids.length; t++) {
        const gen = cache.length + t + 1 - promptLen; // index of the token this position predicts
        out[t * vocab + (gen >= 0 && gen < script.length ? script[gen] : eos)] = 10;
      }
      cache.length += ids.length;
      return out;
    },
  };
}

const greedy = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 0, eosTokenIds: [EOS], stop: [] as string[], maxNewTokens: 100 };

describe('decode loop', () => {
  it('stops at EOS, feeds one token per step after the prefill, and streams deltas that add up to the text', async () => {
    const text = 'Hello world, café 😀 done';
    const script = tok.encode(text);
    const model = scripted(script, tok.vocabSize);
    const deltas: string[] = [];
    const r = await generate(model, tok, [1, 2, 3], greedy, { onDelta: (d) => deltas.push(d) });
    expect(r.finishReason).toBe('eos');
    expect(r.text).toBe(text);
    expect(r.tokenIds).toEqual(script);
    expect(deltas.join('')).toBe(text);
    for (const d of deltas) expect(d).not.toContain('\uFFFD');
    expect(model.fed[0]).toEqual([1, 2, 3]);
    expect(model.fed.slice(1).every((f) => f.length === 1)).toBe(true);
  });

  it('splits multi-byte characters across tokens without ever showing a broken one', async () => {
    // one token per byte: the emoji's four bytes arrive in four steps
    const ids = [...'a😀é'].flatMap((ch) => tok.encode(ch)); // the tiny BPE has no merges for these: byte tokens
    expect(ids.length).toBeGreaterThan(3);
    const deltas: string[] = [];
    const r = await generate(scripted(ids, tok.vocabSize), tok, [5], greedy, { onDelta: (d) => deltas.push(d) });
    expect(r.text).toBe('a😀é');
    expect(deltas.join('')).toBe('a😀é');
    expect(deltas.some((d) => d.includes('\uFFFD'))).toBe(false);
  });

  it('stops at a stop string, cuts the text before it and never streams any part of it', async () => {
    const script = tok.encode('The answer is 42.\nUser: more');
    const deltas: string[] = [];
    const r = await generate(scripted(script, tok.vocabSize), tok, [1], { ...greedy, stop: ['\nUser:'] }, { onDelta: (d) => deltas.push(d) });
    expect(r.finishReason).toBe('stop');
    expect(r.text).toBe('The answer is 42.');
    expect(deltas.join('')).toBe('The answer is 42.');
    // a held-back partial match that never completes is released at the end
    const s2 = await generate(scripted(tok.encode('ab\nUs'), tok.vocabSize), tok, [1], { ...greedy, stop: ['\nUser:'] });
    expect(s2.text).toBe('ab\nUs');
    expect(s2.finishReason).toBe('eos');
  });

  it('honours max_new_tokens and cancel; the iterator form streams the same text', async () => {
    const script = tok.encode('one two three four five six');
    const r = await generate(scripted(script, tok.vocabSize), tok, [1], { ...greedy, maxNewTokens: 3 });
    expect(r.finishReason).toBe('length');
    expect(r.tokenIds).toEqual(script.slice(0, 3));
    const ac = new AbortController();
    ac.abort();
    expect((await generate(scripted(script, tok.vocabSize), tok, [1], greedy, { signal: ac.signal })).finishReason).toBe('cancelled');
    // a cancel mid-way keeps what was produced so far
    const stop = new AbortController();
    const shown: string[] = [];
    const partial = await generate(scripted(script, tok.vocabSize), tok, [1], greedy, {
      signal: stop.signal,
      onDelta: (d) => {
        shown.push(d);
        if (shown.length === 2) stop.abort();
      },
    });
    expect(partial.finishReason).toBe('cancelled');
    expect(partial.text).toBe(shown.join(''));
    expect(partial.tokenIds.length).toBeLessThan(script.length);
    const { deltas, result } = generateStream(scripted(script, tok.vocabSize), tok, [1], greedy);
    let all = '';
    for await (const d of deltas) all += d;
    expect(all).toBe('one two three four five six');
    expect((await result).text).toBe(all);
    await expect(generate(scripted(script, tok.vocabSize), tok, [], greedy)).rejects.toThrow(/prompt is empty/);
  });

  it('TextStream refuses an empty stop string', () => {
    expect(() => new TextStream(tok, [''])).toThrow(/stop string must not be empty/);
  });
});
