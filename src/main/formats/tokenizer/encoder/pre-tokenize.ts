/**
 * tokenizer.json's pre-tokenizers on aligned text: the same splits as @huggingface/tokenizers makes (same regular
 * expressions, same rules), but each piece keeps its map to the original text, which the library's pre-tokenizers
 * (they return bare strings) do not. Only the pre-tokenizers encoder tokenizers use are here; others are refused by
 * name rather than guessed.
 */
import {
  prependAligned,
  sliceAligned,
  UnsupportedTokenizerError,
  type AlignedText,
  type ComponentConfig,
} from './aligned-text.ts';

export interface PreTokenizeContext {
  /** Index of the section between added tokens (Metaspace's prepend_scheme "first" looks at it). */
  sectionIndex: number;
}

export type AlignedPreTokenizer = (piece: AlignedText, context: PreTokenizeContext) => AlignedText[];

/** The library's punctuation class (ASCII symbols count as punctuation, as in BERT's basic tokenizer). */
const PUNCTUATION = '\\p{P}\\u0021-\\u002F\\u003A-\\u0040\\u005B-\\u0060\\u007B-\\u007E';
const BERT_PATTERN = new RegExp(`[^\\s${PUNCTUATION}]+|[${PUNCTUATION}]`, 'gu');
const PUNCTUATION_PATTERN = new RegExp(`[^${PUNCTUATION}]+|[${PUNCTUATION}]+`, 'gu');
/** GPT-2's split, as the library's ByteLevel pre-tokenizer has it. */
const BYTE_LEVEL_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

function matches(pattern: RegExp): AlignedPreTokenizer {
  return (piece) => [...piece.text.matchAll(pattern)].map((m) => sliceAligned(piece, m.index, m.index + m[0].length));
}

/** GPT-2's byte-to-unicode table: every byte as one printable character. */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const table = new Array<string>(256);
  for (const b of printable) table[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) if (table[b] === undefined) table[b] = String.fromCharCode(256 + n++);
  return table;
})();

const utf8 = new TextEncoder();

/** Each UTF-8 byte of the piece as its byte-level character, aligned to the character the byte belongs to. */
function toByteLevel(piece: AlignedText): AlignedText {
  const out: AlignedText = { text: '', starts: [], ends: [] };
  const parts: string[] = [];
  for (let i = 0; i < piece.text.length;) {
    const cp = piece.text.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    const start = Math.min(piece.starts[i], piece.starts[i + width - 1]);
    const end = Math.max(piece.ends[i], piece.ends[i + width - 1]);
    for (const byte of utf8.encode(String.fromCodePoint(cp))) {
      parts.push(BYTE_TO_CHAR[byte]);
      out.starts.push(start);
      out.ends.push(end);
    }
    i += width;
  }
  out.text = parts.join('');
  return out;
}

function byteLevel(config: ComponentConfig): AlignedPreTokenizer {
  const addPrefixSpace = config.add_prefix_space === true;
  const useRegex = config.use_regex !== false;
  return (piece) => {
    let text = piece;
    if (addPrefixSpace && !text.text.startsWith(' ')) text = prependAligned(text, ' ');
    const words = useRegex ? matches(BYTE_LEVEL_PATTERN)(text, { sectionIndex: 0 }) : [text];
    return words.map(toByteLevel);
  };
}

function metaspace(config: ComponentConfig): AlignedPreTokenizer {
  const replacement = typeof config.replacement === 'string' ? config.replacement : '\u2581';
  const scheme = typeof config.prepend_scheme === 'string' ? config.prepend_scheme : 'always';
  // One UTF-16 unit, so replacing a space keeps every unit's alignment in place.
  if (replacement.length !== 1)
    throw new UnsupportedTokenizerError(`Metaspace replacement "${replacement}" must be one character`);
  return (piece, { sectionIndex }) => {
    const replaced: AlignedText = {
      text: piece.text.replaceAll(' ', replacement),
      starts: piece.starts,
      ends: piece.ends,
    };
    const prepend =
      !replaced.text.startsWith(replacement) && (scheme === 'always' || (scheme === 'first' && sectionIndex === 0));
    // Like the library, the piece is not split at the replacement character: the model sees it whole.
    return [prepend ? prependAligned(replaced, replacement) : replaced];
  };
}

export function alignedPreTokenizer(config: ComponentConfig | null | undefined): AlignedPreTokenizer {
  if (!config) return (piece) => [piece];
  const type = String(config.type);
  switch (type) {
    case 'BertPreTokenizer':
      return matches(BERT_PATTERN);
    case 'Whitespace':
      return matches(/\w+|[^\w\s]+/g);
    case 'WhitespaceSplit':
      return matches(/\S+/g);
    case 'Punctuation':
      return matches(PUNCTUATION_PATTERN);
    case 'Digits':
      return matches(new RegExp(`[^\\d]+|\\d${config.individual_digits === true ? '' : '+'}`, 'gu'));
    case 'ByteLevel':
      return byteLevel(config);
    case 'Metaspace':
      return metaspace(config);
    case 'Sequence': {
      const steps = ((config.pretokenizers as ComponentConfig[] | undefined) ?? []).map(alignedPreTokenizer);
      return (piece, context) =>
        steps.reduce<AlignedText[]>((pieces, step) => pieces.flatMap((p) => step(p, context)), [piece]);
    }
    default:
      throw new UnsupportedTokenizerError(`pre-tokenizer "${type}" is not supported for encoder tasks`);
  }
}
