/**
 * tokenizer.json's post-processor as a template: where the special tokens go around one sequence or a pair, and the
 * token type id of each part. The library's post-processors splice token *strings* and drop everything else; the
 * encoder needs each special token's place to give it an empty offset and no sequence id, so the template is read
 * here from the same config (BertProcessing, RobertaProcessing, TemplateProcessing, ByteLevel, Sequence).
 */
import { UnsupportedTokenizerError, type ComponentConfig } from './aligned-text.ts';

export type TemplateItem =
  | { kind: 'special'; ids: number[]; tokens: string[]; typeId: number }
  | { kind: 'sequence'; sequence: 0 | 1; typeId: number };

export interface PostTemplate {
  single: TemplateItem[];
  pair: TemplateItem[];
  /** Byte-level offset trimming (leading/trailing spaces out of each token's offsets), when the config asks for it. */
  trimOffsets: { addPrefixSpace: boolean } | null;
}

const NO_SPECIALS: PostTemplate = {
  single: [{ kind: 'sequence', sequence: 0, typeId: 0 }],
  // Without a post-processor the Rust library still gives the second sequence type id 1.
  pair: [
    { kind: 'sequence', sequence: 0, typeId: 0 },
    { kind: 'sequence', sequence: 1, typeId: 1 },
  ],
  trimOffsets: null,
};

function tokenPair(
  value: unknown,
  where: string,
  idOf: (token: string) => number | undefined,
): { ids: number[]; tokens: string[] } {
  if (!Array.isArray(value) || typeof value[0] !== 'string') {
    throw new UnsupportedTokenizerError(`post_processor.${where} must be ["token", id]`);
  }
  const token = value[0];
  const id = typeof value[1] === 'number' ? value[1] : idOf(token);
  if (id === undefined)
    throw new UnsupportedTokenizerError(`post_processor.${where}: "${token}" is not in the vocabulary`);
  return { ids: [id], tokens: [token] };
}

function special(t: { ids: number[]; tokens: string[] }, typeId: number): TemplateItem {
  return { kind: 'special', ...t, typeId };
}

/** Reads a post_processor config; `idOf` resolves a token string to its id. */
export function readPostTemplate(
  config: ComponentConfig | null | undefined,
  idOf: (token: string) => number | undefined,
): PostTemplate {
  if (!config) return NO_SPECIALS;
  const type = String(config.type);
  switch (type) {
    case 'BertProcessing': {
      const cls = tokenPair(config.cls, 'cls', idOf);
      const sep = tokenPair(config.sep, 'sep', idOf);
      const seq = (sequence: 0 | 1, typeId: number): TemplateItem => ({ kind: 'sequence', sequence, typeId });
      return {
        single: [special(cls, 0), seq(0, 0), special(sep, 0)],
        pair: [special(cls, 0), seq(0, 0), special(sep, 0), seq(1, 1), special(sep, 1)],
        trimOffsets: null,
      };
    }
    case 'RobertaProcessing': {
      const cls = tokenPair(config.cls, 'cls', idOf);
      const sep = tokenPair(config.sep, 'sep', idOf);
      const seq = (sequence: 0 | 1): TemplateItem => ({ kind: 'sequence', sequence, typeId: 0 });
      // RoBERTa has one token type: the Rust processor gives every position type 0 (`<s> A </s></s> B </s>`).
      return {
        single: [special(cls, 0), seq(0), special(sep, 0)],
        pair: [special(cls, 0), seq(0), special(sep, 0), special(sep, 0), seq(1), special(sep, 0)],
        trimOffsets: config.trim_offsets === false ? null : { addPrefixSpace: config.add_prefix_space !== false },
      };
    }
    case 'TemplateProcessing': {
      const specials = (config.special_tokens ?? {}) as Record<string, { ids?: number[]; tokens?: string[] }>;
      const items = (list: unknown, where: string): TemplateItem[] =>
        (Array.isArray(list) ? list : []).map((item: Record<string, { id: string; type_id?: number }>, i) => {
          if (item.SpecialToken) {
            const name = item.SpecialToken.id;
            const entry = specials[name];
            const ids = entry?.ids ?? (idOf(name) === undefined ? undefined : [idOf(name)!]);
            if (!ids)
              throw new UnsupportedTokenizerError(`post_processor.${where}[${i}]: special token "${name}" has no id`);
            return { kind: 'special', ids, tokens: entry?.tokens ?? [name], typeId: item.SpecialToken.type_id ?? 0 };
          }
          if (item.Sequence)
            return { kind: 'sequence', sequence: item.Sequence.id === 'B' ? 1 : 0, typeId: item.Sequence.type_id ?? 0 };
          throw new UnsupportedTokenizerError(`post_processor.${where}[${i}] is neither SpecialToken nor Sequence`);
        });
      return { single: items(config.single, 'single'), pair: items(config.pair, 'pair'), trimOffsets: null };
    }
    case 'ByteLevel':
      return {
        ...NO_SPECIALS,
        trimOffsets: config.trim_offsets === true ? { addPrefixSpace: config.add_prefix_space !== false } : null,
      };
    case 'Sequence': {
      let result = NO_SPECIALS;
      let trim: PostTemplate['trimOffsets'] = null;
      for (const part of (config.processors as ComponentConfig[] | undefined) ?? []) {
        const read = readPostTemplate(part, idOf);
        if (read.trimOffsets) trim = read.trimOffsets;
        if (part.type !== 'ByteLevel') result = read;
      }
      return { ...result, trimOffsets: trim };
    }
    default:
      throw new UnsupportedTokenizerError(`post-processor "${type}" is not supported for encoder tasks`);
  }
}

/** How many special tokens the template adds (what max_length must leave room for). */
export function specialCount(items: TemplateItem[]): number {
  return items.reduce((n, item) => n + (item.kind === 'special' ? item.ids.length : 0), 0);
}

const SPACE_SYMBOL = '\u0120'; // 'Ġ': the byte-level character of a space

/** `pos` moved by `n` code points of `text` (forward for n > 0, back for n < 0), or null past either end. */
function moveCodePoints(text: string, pos: number, n: number): number | null {
  let p = pos;
  for (let k = 0; k < Math.abs(n); k++) {
    if (n > 0) {
      if (p >= text.length) return null;
      p += (text.codePointAt(p) ?? 0) > 0xffff ? 2 : 1;
    } else {
      if (p <= 0) return null;
      const low = text.charCodeAt(p - 1);
      p -= low >= 0xdc00 && low <= 0xdfff && p >= 2 ? 2 : 1;
    }
  }
  return p;
}

/**
 * Rust tokenizers' byte_level::process_offsets: leading and trailing spaces of a token are not part of its offsets
 * (except the one space add_prefix_space put in front of the first token). The Rust library moves the offsets by
 * characters; here they are UTF-16 units of `text`, so they move by code points (a space that add_prefix_space put
 * before an emoji is aligned to the emoji, two units wide).
 */
export function trimByteLevelOffsets(
  text: string,
  tokens: string[],
  offsets: Array<[number, number]>,
  addPrefixSpace: boolean,
): void {
  const isSpace = (c: string): boolean => c === SPACE_SYMBOL || /\s/u.test(c);
  tokens.forEach((token, i) => {
    const chars = [...token];
    let leading = 0;
    while (leading < chars.length && isSpace(chars[leading])) leading++;
    let trailing = 0;
    while (trailing < chars.length && isSpace(chars[chars.length - 1 - trailing])) trailing++;
    const o = offsets[i];
    if (leading > 0) {
      const isFirst = i === 0 || o[0] === 0;
      if (!(isFirst && addPrefixSpace && leading === 1))
        o[0] = Math.min(moveCodePoints(text, o[0], leading) ?? text.length, o[1]);
    }
    if (trailing > 0) {
      const end = moveCodePoints(text, o[1], -trailing);
      if (end !== null) o[1] = Math.max(end, o[0]);
    }
  });
}
