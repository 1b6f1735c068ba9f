/**
 * Token-length statistics for the previewer: per-example token counts with the run's template, a
 * histogram with the max-length cut-off, and the share of examples that will be truncated.
 */
import type { ExampleRenderer } from '../tokenizer/render.ts';
import type { Example } from './types.ts';
import type { DatasetExample } from './import.ts';

/**
 * What a BPE tokenizer usually spends on text it was trained for: about one token per 3–4 characters of English
 * prose (0.25–0.33 tokens per character), a little more with a template's markers on short examples.
 */
export const USUAL_TOKENS_PER_CHARACTER = 0.3;
/**
 * Above this, the tokenizer is splitting characters into bytes rather than merging them into words: Korean on a
 * tokenizer with no Hangul merges costs 2–3 tokens per character (each syllable is 3 UTF-8 bytes).
 */
export const HEAVY_TOKENS_PER_CHARACTER = 1.2;

/** Characters (code points) of an example's content: what a person would count, template aside. */
export function exampleCharacters(example: Example): number {
  const length = (s: string) => {
    let n = 0;
    for (const _ of s) n++;
    return n;
  };
  switch (example.kind) {
    case 'text':
      return length(example.text);
    case 'completion':
      return length(example.prompt) + length(example.completion);
    case 'chat':
      return example.messages.reduce((sum, m) => sum + length(m.content), 0);
  }
}

export interface TokenLengthStats {
  count: number;
  min: number;
  max: number;
  mean: number;
  median: number;
  p95: number;
  maxLength: number | null;
  /** Examples longer than maxLength. */
  truncated: number;
  truncatedShare: number;
  /** Examples left with no trained token (after truncation, or none to begin with). */
  untrainable: number;
  /** Bins [edges[i], edges[i+1]); when examples exceed maxLength, the last bin is (maxLength, max]: the truncated ones. */
  histogram: { edges: number[]; counts: number[] };
  /** Rows whose rendering failed (template errors), with the reason. */
  failures: Array<{ row: number; line?: number; message: string }>;
  /** Content characters of the measured examples, and the tokens they came to per character. */
  characters: number;
  tokensPerCharacter: number;
  /** True when tokensPerCharacter ≥ HEAVY_TOKENS_PER_CHARACTER: the tokenizer does not know this text's script. */
  heavyTokenization: boolean;
}

export interface StatsOptions {
  bins?: number;
  /** Measure at most this many examples (evenly spaced), for a quick preview. */
  sample?: number;
}

export function tokenLengthStats(examples: DatasetExample[], renderer: ExampleRenderer, options: StatsOptions = {}): TokenLengthStats {
  const maxLength = renderer.options.maxLength ?? null;
  const step = options.sample && examples.length > options.sample ? examples.length / options.sample : 1;
  const lengths: number[] = [];
  let truncated = 0;
  let untrainable = 0;
  const failures: TokenLengthStats['failures'] = [];
  let characters = 0;
  for (let x = 0; x < examples.length; x += step) {
    const e = examples[Math.floor(x)];
    try {
      const r = renderer.render(e.example);
      lengths.push(r.fullLength);
      characters += exampleCharacters(e.example);
      if (r.truncated) truncated++;
      if (r.trainedTokens === 0) untrainable++;
    } catch (err) {
      failures.push({ row: e.row, line: e.line, message: (err as Error).message });
    }
  }
  const sorted = Float64Array.from(lengths).sort();
  const count = sorted.length;
  const quantile = (q: number) => (count === 0 ? 0 : sorted[Math.min(count - 1, Math.floor(q * (count - 1) + 0.5))]);
  const max = count ? sorted[count - 1] : 0;
  const bins = Math.max(2, options.bins ?? 20);
  // With a cut-off, the bins cover [0, maxLength] and one last bin (maxLength, max] holds exactly the
  // truncated examples; without one, equal bins cover [0, max].
  const overflow = maxLength !== null && max > maxLength;
  const regular = overflow ? bins - 1 : bins;
  const top = maxLength ?? Math.max(1, max);
  const width = top / regular;
  const edges = Array.from({ length: regular + 1 }, (_, i) => Math.round(i * width * 1000) / 1000);
  if (overflow) edges.push(max);
  const counts = new Array<number>(edges.length - 1).fill(0);
  for (const len of sorted) {
    if (overflow && len > maxLength!) counts[regular]++;
    else counts[Math.min(regular - 1, Math.floor(len / width))]++;
  }
  return {
    count,
    min: count ? sorted[0] : 0,
    max,
    mean: count ? lengths.reduce((a, b) => a + b, 0) / count : 0,
    median: quantile(0.5),
    p95: quantile(0.95),
    maxLength,
    truncated,
    truncatedShare: count ? truncated / count : 0,
    untrainable,
    histogram: { edges, counts },
    failures,
    characters,
    tokensPerCharacter: characters > 0 ? lengths.reduce((a, b) => a + b, 0) / characters : 0,
    heavyTokenization: characters > 0 && lengths.reduce((a, b) => a + b, 0) / characters >= HEAVY_TOKENS_PER_CHARACTER,
  };
}
