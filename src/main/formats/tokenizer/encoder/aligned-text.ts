/**
 * Text that remembers, for every UTF-16 unit, which range of the original text it came from — what the Rust
 * `tokenizers` library calls a NormalizedString. @huggingface/tokenizers normalizes whole strings and keeps no such
 * map (its Encoding has no offsets), so the encoder tokenizer rebuilds the map here: each normalizer of
 * tokenizer.json is applied by the library's own class to one *unit* at a time (a code point with the combining marks
 * and conjoining jamo that follow it, the span inside which Unicode normalization composes and decomposes), and the
 * output is aligned character by character as the Rust library aligns it. Steps that look across units (Strip, Replace, Prepend) are done
 * on the whole text. `normalizeAligned` checks the result against the library's whole-string output, so the ids never
 * differ from the library's even where the per-unit map cannot follow it (Greek final sigma under lower-casing).
 */
import {
  BertNormalizer,
  LowercaseNormalizer,
  NFCNormalizer,
  NFDNormalizer,
  NFKCNormalizer,
  NFKDNormalizer,
  PrecompiledNormalizer,
  ReplaceNormalizer,
  StripAccentsNormalizer,
  type Normalizer,
} from '@huggingface/tokenizers';

export interface AlignedText {
  text: string;
  /** For each UTF-16 unit of `text`: the [start, end) range of the original text it came from. */
  starts: number[];
  ends: number[];
}

export type ComponentConfig = Record<string, unknown> & { type?: string };

export class UnsupportedTokenizerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedTokenizerError';
  }
}

/** `text[from, to)` of the original, aligned to itself. */
export function alignedSlice(text: string, from = 0, to = text.length): AlignedText {
  const starts: number[] = [];
  const ends: number[] = [];
  for (let i = from; i < to; i++) {
    // A surrogate pair is one character: both of its units map to the whole pair.
    const pairStart = i > from && isLowSurrogate(text.charCodeAt(i)) && isHighSurrogate(text.charCodeAt(i - 1));
    const pairEnd = i + 1 < to && isHighSurrogate(text.charCodeAt(i)) && isLowSurrogate(text.charCodeAt(i + 1));
    starts.push(pairStart ? i - 1 : i);
    ends.push(pairEnd ? i + 2 : i + 1);
  }
  return { text: text.slice(from, to), starts, ends };
}

export function sliceAligned(a: AlignedText, from: number, to: number): AlignedText {
  return { text: a.text.slice(from, to), starts: a.starts.slice(from, to), ends: a.ends.slice(from, to) };
}

/** The original range covered by units [from, to) of `a`. */
export function spanOf(a: AlignedText, from: number, to: number): [number, number] {
  let start = Infinity;
  let end = -Infinity;
  for (let i = from; i < to; i++) {
    if (a.starts[i] < start) start = a.starts[i];
    if (a.ends[i] > end) end = a.ends[i];
  }
  return start === Infinity ? [0, 0] : [start, end];
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}
function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** A code point with the combining marks / conjoining vowel and final jamo after it: normalization stays inside. */
const UNIT =
  /[^\p{M}\u1160-\u11ff\ud7b0-\ud7ff][\p{M}\u1160-\u11ff\ud7b0-\ud7ff]*|[\p{M}\u1160-\u11ff\ud7b0-\ud7ff]+/gsu;

/** Each unit of `a` replaced by f(unit); every output unit aligned to the whole input unit. */
export function mapUnits(a: AlignedText, f: (unit: string) => string): AlignedText {
  const out: AlignedText = { text: '', starts: [], ends: [] };
  const parts: string[] = [];
  for (const m of a.text.matchAll(UNIT)) {
    const from = m.index;
    const to = from + m[0].length;
    const mapped = f(m[0]);
    if (mapped.length === 0) continue;
    parts.push(mapped);
    if (mapped === m[0]) {
      for (let i = from; i < to; i++) {
        out.starts.push(a.starts[i]);
        out.ends.push(a.ends[i]);
      }
      continue;
    }
    // As the Rust library aligns a normalization: output character k stands for input character k, and output
    // beyond the input (a decomposition) for the last one; input characters beyond the output (a composition, a
    // removed accent) drop out of the offsets.
    const inputChars: Array<[number, number]> = [];
    for (let i = from; i < to;) {
      const width = (m[0].codePointAt(i - from) ?? 0) > 0xffff ? 2 : 1;
      inputChars.push(spanOf(a, i, i + width));
      i += width;
    }
    let k = 0;
    for (const ch of mapped) {
      const [s, e] = inputChars[Math.min(k++, inputChars.length - 1)];
      for (let i = 0; i < ch.length; i++) {
        out.starts.push(s);
        out.ends.push(e);
      }
    }
  }
  out.text = parts.join('');
  return out;
}

/**
 * Each match of `pattern` replaced by `content`. As in Rust's NormalizedString.replace, the new characters count as
 * inserted after the removed ones, so they take the alignment of the match's last character.
 */
export function replaceAligned(a: AlignedText, pattern: RegExp, content: string): AlignedText {
  const out: AlignedText = { text: '', starts: [], ends: [] };
  const parts: string[] = [];
  let cursor = 0;
  const global = pattern.global ? pattern : new RegExp(pattern.source, pattern.flags + 'g');
  for (const m of a.text.matchAll(global)) {
    if (m[0].length === 0) continue;
    const from = m.index;
    const to = from + m[0].length;
    parts.push(a.text.slice(cursor, from), content);
    out.starts.push(...a.starts.slice(cursor, from));
    out.ends.push(...a.ends.slice(cursor, from));
    for (let i = 0; i < content.length; i++) {
      out.starts.push(a.starts[to - 1]);
      out.ends.push(a.ends[to - 1]);
    }
    cursor = to;
  }
  parts.push(a.text.slice(cursor));
  out.starts.push(...a.starts.slice(cursor));
  out.ends.push(...a.ends.slice(cursor));
  out.text = parts.join('');
  return out;
}

/** `prefix` put before a non-empty text, aligned to its first character (as Rust's prepend does). */
export function prependAligned(a: AlignedText, prefix: string): AlignedText {
  if (a.text.length === 0 || prefix.length === 0) return a;
  const starts = new Array<number>(prefix.length).fill(a.starts[0]);
  const ends = new Array<number>(prefix.length).fill(a.ends[0]);
  return { text: prefix + a.text, starts: [...starts, ...a.starts], ends: [...ends, ...a.ends] };
}

function trimAligned(a: AlignedText, left: boolean, right: boolean): AlignedText {
  let from = 0;
  let to = a.text.length;
  if (left) from = a.text.length - a.text.trimStart().length;
  if (right) to = a.text.trimEnd().length;
  return to <= from ? { text: '', starts: [], ends: [] } : sliceAligned(a, from, to);
}

type NormalizerClass = new (config: never) => Normalizer;
/** Normalizers that act inside one unit: applied per unit by the library's own class. */
const PER_UNIT: Record<string, NormalizerClass> = {
  BertNormalizer: BertNormalizer as unknown as NormalizerClass,
  Lowercase: LowercaseNormalizer as unknown as NormalizerClass,
  NFC: NFCNormalizer as unknown as NormalizerClass,
  NFD: NFDNormalizer as unknown as NormalizerClass,
  NFKC: NFKCNormalizer as unknown as NormalizerClass,
  NFKD: NFKDNormalizer as unknown as NormalizerClass,
  StripAccents: StripAccentsNormalizer as unknown as NormalizerClass,
  // The library approximates SentencePiece's charsmap with control/space rules and NFKC (it ignores the map); the
  // ids must be the library's, so its rules are what is applied here.
  Precompiled: PrecompiledNormalizer as unknown as NormalizerClass,
};

/** A normalizer of tokenizer.json as a function on aligned text. */
export function alignedNormalizer(config: ComponentConfig | null | undefined): (a: AlignedText) => AlignedText {
  if (!config) return (a) => a;
  const type = String(config.type);
  if (type === 'Sequence') {
    const steps = ((config.normalizers as ComponentConfig[] | undefined) ?? []).map(alignedNormalizer);
    return (a) => steps.reduce((acc, step) => step(acc), a);
  }
  if (type === 'Strip') return (a) => trimAligned(a, config.strip_left === true, config.strip_right === true);
  if (type === 'Prepend') return (a) => prependAligned(a, String(config.prepend ?? ''));
  if (type === 'Replace') {
    // The library turns tokenizer.json's Oniguruma pattern into a JS RegExp; reuse its translation.
    const pattern = (new ReplaceNormalizer(config as never) as unknown as { pattern: RegExp | null }).pattern;
    const content = String(config.content ?? '');
    return (a) => (pattern === null ? a : replaceAligned(a, pattern, content));
  }
  const Class = PER_UNIT[type];
  if (!Class) throw new UnsupportedTokenizerError(`normalizer "${type}" is not supported for encoder tasks`);
  const normalizer = new Class(config as never);
  // Units repeat endlessly in real text (letters, spaces): normalize each distinct one once.
  const cache = new Map<string, string>();
  const normalizeUnit = (unit: string): string => {
    let out = cache.get(unit);
    if (out === undefined) {
      out = normalizer.normalize(unit);
      if (cache.size < 65536) cache.set(unit, out);
    }
    return out;
  };
  return (a) => mapUnits(a, normalizeUnit);
}
