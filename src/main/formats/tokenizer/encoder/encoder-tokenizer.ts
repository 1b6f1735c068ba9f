/**
 * The tokenizer of an encoder task (BERT WordPiece, RoBERTa byte-level BPE, XLM-R Unigram): one text or a pair
 * (question + context, sentence A + B) → input ids, token type ids, attention mask, and for every token the range of
 * the original text it covers; long pairs become overlapping windows (`only_second` + `stride`, the "doc stride" of
 * transformers' run_qa.py).
 *
 * Ids come from @huggingface/tokenizers' own model (WordPiece/BPE/Unigram) on each word. What that library lacks —
 * offsets, the place of each special token, truncation with overflowing windows — is done here, because its Encoding
 * has only ids and token strings: the text goes through tokenizer.json's normalizer and pre-tokenizer on aligned text
 * (`aligned-text.ts`, `pre-tokenize.ts`), and the post-processor is read as a template (`post-process.ts`).
 * Offsets are [start, end) in UTF-16 units of the text given (so `text.slice(start, end)` is the token's text);
 * special tokens get [0, 0] and sequence id null, as in transformers' offset_mapping / sequence_ids().
 */
import { join } from 'node:path';
import type { Tokenizer } from '@huggingface/tokenizers';
import { HfTokenizer, TokenizerLoadError } from '../tokenizer.ts';
import {
  alignedNormalizer,
  alignedSlice,
  sliceAligned,
  spanOf,
  UnsupportedTokenizerError,
  type AlignedText,
  type ComponentConfig,
} from './aligned-text.ts';
import { alignedPreTokenizer, type AlignedPreTokenizer } from './pre-tokenize.ts';
import {
  readPostTemplate,
  specialCount,
  trimByteLevelOffsets,
  type PostTemplate,
  type TemplateItem,
} from './post-process.ts';

/** One text's tokens, without special tokens. */
export interface TextTokens {
  ids: number[];
  tokens: string[];
  /** [start, end) in UTF-16 units of the text. */
  offsets: Array<[number, number]>;
  /** The text tokenized. */
  text: string;
  /**
   * Byte-level tokenizers: the offsets before leading/trailing spaces were trimmed. The Rust library trims each window
   * of a truncated text on its own (its first token counts as first), so windows are trimmed again from these.
   */
  untrimmed?: Array<[number, number]>;
}

export type Truncation = 'longest_first' | 'only_first' | 'only_second' | 'none';

export interface EncodeOptions {
  /** Length limit in tokens, special tokens included. Default: the tokenizer's model_max_length, else none. */
  maxLength?: number | null;
  /** Which sequence gives up tokens (transformers' names). Default: longest_first. */
  truncation?: Truncation;
  /**
   * With only_first / only_second (or a single text): the cut-off tokens come back as further windows, each
   * overlapping the previous one by `stride` tokens of the truncated sequence (run_qa.py's doc stride).
   * Without it only the first window is returned.
   */
  returnOverflowing?: boolean;
  stride?: number;
  addSpecialTokens?: boolean;
}

/** One model input (a window of a long pair is one of these). */
export interface EncoderInput {
  inputIds: number[];
  /** 0 for the first sequence, 1 for the second (all 0 for models without token types, e.g. RoBERTa). */
  tokenTypeIds: number[];
  attentionMask: number[];
  tokens: string[];
  /** [start, end) into the text of the token's own sequence; [0, 0] for special tokens. */
  offsets: Array<[number, number]>;
  /** 0 / 1: which text the token came from; null for special tokens (transformers' sequence_ids()). */
  sequenceIds: Array<0 | 1 | null>;
}

export class EncoderTokenizeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EncoderTokenizeError';
  }
}

interface AddedTokenInfo {
  id: number;
  content: string;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
}

type LibraryModel = ((words: string[]) => string[]) & {
  tokens_to_ids: Map<string, number>;
  unk_token_id?: number;
  unk_token?: string;
  config: Record<string, unknown>;
};

export class EncoderTokenizer {
  readonly clsId: number | null;
  readonly sepId: number | null;
  readonly padId: number;
  readonly unkId: number | null;
  readonly maskId: number | null;
  /**
   * Whether the model takes token type ids (BERT does; RoBERTa, XLM-R and DistilBERT do not): tokenizer_config.json's
   * model_input_names when given, else the tokenizer class, else whether the pair template gives B another type.
   * Without them every type id is 0.
   */
  readonly usesTokenTypes: boolean;
  readonly template: PostTemplate;
  private readonly normalize: (a: AlignedText) => AlignedText;
  private readonly normalizeWhole: ((text: string) => string) | null;
  private readonly preTokenize: AlignedPreTokenizer;
  private readonly model: LibraryModel;
  private readonly added: AddedTokenInfo[];
  private readonly addedByContent: Map<string, AddedTokenInfo>;
  private readonly modelType: string;

  constructor(readonly hf: HfTokenizer) {
    const json = hf.tokenizerJson;
    const library = hf.library as Tokenizer & { normalizer: ((t: string) => string) | null; model: LibraryModel };
    this.model = library.model;
    this.modelType = String((json.model as ComponentConfig | undefined)?.type ?? '');
    if (hf.config.remove_space === true || hf.config.do_lowercase_and_remove_accent === true) {
      throw new UnsupportedTokenizerError(
        'tokenizer_config.json options remove_space / do_lowercase_and_remove_accent are not supported for encoder tasks',
      );
    }
    const tokenizerPath = join(hf.dir, 'tokenizer.json');
    // A component we cannot align is refused naming the file, so the user knows which model it is about.
    const read = <T>(make: () => T): T => {
      try {
        return make();
      } catch (err) {
        if (err instanceof UnsupportedTokenizerError)
          throw new TokenizerLoadError(`${tokenizerPath}: ${err.message}`, tokenizerPath);
        throw err;
      }
    };
    this.normalize = read(() => alignedNormalizer(json.normalizer as ComponentConfig | null));
    this.normalizeWhole = library.normalizer ? (t: string) => library.normalizer!(t) : null;
    this.preTokenize = read(() => alignedPreTokenizer(json.pre_tokenizer as ComponentConfig | null));
    this.added = ((json.added_tokens as Array<Record<string, unknown>> | undefined) ?? []).map((t) => ({
      id: Number(t.id),
      content: String(t.content),
      lstrip: t.lstrip === true,
      rstrip: t.rstrip === true,
      // As the library reads it: an added token is normalized unless it is special (when the field is absent).
      normalized:
        (t.normalized ?? t.special !== true) === true && json.normalizer !== null && json.normalizer !== undefined,
    }));
    this.addedByContent = new Map(this.added.map((t) => [t.content, t]));
    const idOf = (token: string): number | undefined =>
      this.addedByContent.get(token)?.id ?? this.model.tokens_to_ids.get(token);
    this.template = read(() => readPostTemplate(json.post_processor as ComponentConfig | null, idOf));

    const named = (key: string): number | null => {
      const value = hf.config[key];
      const content =
        typeof value === 'string'
          ? value
          : typeof (value as { content?: unknown })?.content === 'string'
            ? (value as { content: string }).content
            : null;
      return content === null ? null : (idOf(content) ?? null);
    };
    const firstSpecial = this.template.single.find((i) => i.kind === 'special');
    const lastSpecial = [...this.template.single].reverse().find((i) => i.kind === 'special');
    this.clsId = named('cls_token') ?? (firstSpecial?.kind === 'special' ? firstSpecial.ids[0] : null);
    this.sepId = named('sep_token') ?? (lastSpecial?.kind === 'special' ? lastSpecial.ids[0] : null);
    this.unkId = named('unk_token') ?? this.model.unk_token_id ?? null;
    this.maskId = named('mask_token');
    const padding = json.padding as { pad_id?: number } | null | undefined;
    const pad = named('pad_token') ?? (typeof padding?.pad_id === 'number' ? padding.pad_id : null);
    if (pad === null)
      throw new TokenizerLoadError(
        `${hf.dir}: the tokenizer has no pad_token, which batching needs; set "pad_token" in tokenizer_config.json (BERT: "[PAD]", RoBERTa/XLM-R: "<pad>")`,
        join(hf.dir, 'tokenizer_config.json'),
      );
    this.padId = pad;
    const inputNames = hf.config.model_input_names;
    const tokenizerClass = typeof hf.config.tokenizer_class === 'string' ? hf.config.tokenizer_class : '';
    // transformers' tokenizer classes whose model_input_names leave token_type_ids out (their models have none).
    const withoutTypes = /^(DistilBert|Roberta|XLMRoberta|Camembert|Longformer)Tokenizer(Fast)?$/.test(tokenizerClass);
    this.usesTokenTypes = Array.isArray(inputNames)
      ? inputNames.includes('token_type_ids')
      : !withoutTypes && this.template.pair.some((i) => i.kind === 'sequence' && i.typeId !== 0);
  }

  static load(dir: string): EncoderTokenizer {
    return new EncoderTokenizer(HfTokenizer.load(dir));
  }

  get modelMaxLength(): number | null {
    return this.hf.modelMaxLength;
  }

  /** The tokens of one text, no special tokens; offsets into `text`. */
  tokenize(text: string): TextTokens {
    const out: TextTokens = { ids: [], tokens: [], offsets: [], text };
    const sections = this.splitAdded(
      alignedSlice(text),
      this.added.filter((t) => !t.normalized),
    );
    sections.forEach((section, sectionIndex) => {
      if (section.added)
        return this.push(out, section.added.id, section.text.text, spanOf(section.text, 0, section.text.text.length));
      if (section.text.text.length === 0) return;
      let normalized = this.normalize(section.text);
      if (this.normalizeWhole) {
        const expected = this.normalizeWhole(section.text.text);
        // The per-unit map could not follow the library (see aligned-text.ts): keep its text, so ids stay its ids.
        if (expected !== normalized.text) normalized = realign(expected, normalized, section.text);
      }
      if (normalized.text.length === 0) return;
      for (const sub of this.splitAdded(
        normalized,
        this.added.filter((t) => t.normalized),
      )) {
        if (sub.added) {
          this.push(out, sub.added.id, sub.text.text, spanOf(sub.text, 0, sub.text.text.length));
          continue;
        }
        if (sub.text.text.length === 0) continue;
        for (const word of this.preTokenize(sub.text, { sectionIndex })) this.tokenizeWord(word, out);
      }
    });
    if (this.template.trimOffsets) {
      out.untrimmed = out.offsets.map(([s, e]): [number, number] => [s, e]);
      trimByteLevelOffsets(text, out.tokens, out.offsets, this.template.trimOffsets.addPrefixSpace);
    }
    return out;
  }

  /**
   * One text or a pair as model inputs. Without returnOverflowing the result has exactly one entry; with it, one per
   * window of the truncated sequence (transformers' return_overflowing_tokens, in the same order).
   */
  encode(first: string, second: string | null = null, options: EncodeOptions = {}): EncoderInput[] {
    return this.encodeTokens(this.tokenize(first), second === null ? null : this.tokenize(second), options);
  }

  /** Like encode, from already tokenized texts (a context shared by several questions is tokenized once). */
  encodeTokens(a: TextTokens, b: TextTokens | null, options: EncodeOptions = {}): EncoderInput[] {
    const addSpecial = options.addSpecialTokens !== false;
    const items = b === null ? this.template.single : this.template.pair;
    const added = addSpecial ? specialCount(items) : 0;
    const maxLength = options.maxLength === undefined ? this.modelMaxLength : options.maxLength;
    const truncation = options.truncation ?? 'longest_first';
    const stride = options.stride ?? 0;
    if (maxLength === null || truncation === 'none' || a.ids.length + (b?.ids.length ?? 0) + added <= maxLength) {
      return [this.assemble(items, a, b, addSpecial)];
    }
    const budget = maxLength - added;
    if (budget <= 0)
      throw new EncoderTokenizeError(
        `max_length ${maxLength} leaves no room for text after the ${added} special tokens`,
      );

    if (b === null || truncation === 'only_first' || truncation === 'only_second') {
      const cutSecond = b !== null && truncation === 'only_second';
      const kept = cutSecond ? a : b;
      const cut = cutSecond ? b! : a;
      const room = budget - (kept?.ids.length ?? 0);
      if (room <= 0) {
        const which = cutSecond ? 'first' : 'second';
        throw new EncoderTokenizeError(
          `the ${which} text is ${kept!.ids.length} tokens, which leaves no room for the other within max_length ${maxLength}; raise max_length or shorten the ${which} text`,
        );
      }
      const windows = windowRanges(cut.ids.length, room, stride, options.returnOverflowing === true);
      return windows.map(([from, to]) => {
        const part = sliceTokens(cut, from, to);
        return cutSecond ? this.assemble(items, a, part, addSpecial) : this.assemble(items, part, b, addSpecial);
      });
    }
    // longest_first, as the Rust library splits the room between the two (overflow is not returned for it).
    const swap = a.ids.length > b.ids.length;
    let n1 = Math.min(a.ids.length, b.ids.length); // the shorter one's share
    let n2 = n1 > budget ? n1 : Math.max(n1, budget - n1);
    if (n1 + n2 > budget) {
      n1 = Math.floor(budget / 2);
      n2 = n1 + (budget % 2);
    }
    if (swap) [n1, n2] = [n2, n1];
    return [
      this.assemble(
        items,
        sliceTokens(a, 0, Math.min(n1, a.ids.length)),
        sliceTokens(b, 0, Math.min(n2, b.ids.length)),
        addSpecial,
      ),
    ];
  }

  /** An input padded on the right to `length` (pad id, type 0, mask 0, offsets [0, 0], sequence id null). */
  pad(input: EncoderInput, length: number): EncoderInput {
    const n = Math.max(0, length - input.inputIds.length);
    const fill = <T>(v: T): T[] => new Array<T>(n).fill(v);
    return {
      inputIds: [...input.inputIds, ...fill(this.padId)],
      tokenTypeIds: [...input.tokenTypeIds, ...fill(0)],
      attentionMask: [...input.attentionMask, ...fill(0)],
      tokens: [...input.tokens, ...fill(this.hf.idToToken(this.padId) ?? '')],
      offsets: [...input.offsets, ...Array.from({ length: n }, (): [number, number] => [0, 0])],
      sequenceIds: [...input.sequenceIds, ...fill<0 | 1 | null>(null)],
    };
  }

  private assemble(items: TemplateItem[], a: TextTokens, b: TextTokens | null, addSpecial: boolean): EncoderInput {
    const out: EncoderInput = {
      inputIds: [],
      tokenTypeIds: [],
      attentionMask: [],
      tokens: [],
      offsets: [],
      sequenceIds: [],
    };
    for (const item of items) {
      if (item.kind === 'special') {
        if (!addSpecial) continue;
        item.ids.forEach((id, i) => {
          out.inputIds.push(id);
          out.tokenTypeIds.push(this.usesTokenTypes ? item.typeId : 0);
          out.tokens.push(item.tokens[i] ?? this.hf.idToToken(id) ?? '');
          out.offsets.push([0, 0]);
          out.sequenceIds.push(null);
        });
        continue;
      }
      const seq = item.sequence === 0 ? a : b;
      if (!seq) continue;
      const offsets = this.windowOffsets(seq);
      for (let i = 0; i < seq.ids.length; i++) {
        out.inputIds.push(seq.ids[i]);
        out.tokenTypeIds.push(this.usesTokenTypes ? item.typeId : 0);
        out.tokens.push(seq.tokens[i]);
        out.offsets.push(offsets[i]);
        out.sequenceIds.push(item.sequence);
      }
    }
    out.attentionMask = out.inputIds.map(() => 1);
    return out;
  }

  /** Offsets of one sequence's tokens as they go into an input (byte-level ones trimmed as this window's own). */
  private windowOffsets(seq: TextTokens): Array<[number, number]> {
    if (!this.template.trimOffsets || !seq.untrimmed) return seq.offsets.map(([s, e]): [number, number] => [s, e]);
    const offsets = seq.untrimmed.map(([s, e]): [number, number] => [s, e]);
    trimByteLevelOffsets(seq.text, seq.tokens, offsets, this.template.trimOffsets.addPrefixSpace);
    return offsets;
  }

  private push(out: TextTokens, id: number, token: string, span: [number, number]): void {
    out.ids.push(id);
    out.tokens.push(token);
    out.offsets.push(span);
  }

  /** The library's model on one pre-token, each resulting token aligned to the characters it stands for. */
  private tokenizeWord(word: AlignedText, out: TextTokens): void {
    const pieces = this.model([word.text]);
    const prefix =
      typeof this.model.config.continuing_subword_prefix === 'string'
        ? this.model.config.continuing_subword_prefix
        : '';
    const suffix = typeof this.model.config.end_of_word_suffix === 'string' ? this.model.config.end_of_word_suffix : '';
    const surface = (piece: string, i: number): string => {
      let s = piece;
      if (this.modelType === 'WordPiece' ? i > 0 : prefix.length > 0)
        if (prefix && s.startsWith(prefix)) s = s.slice(prefix.length);
      if (suffix && s.endsWith(suffix)) s = s.slice(0, -suffix.length);
      return s;
    };
    let cursor = 0;
    pieces.forEach((piece, i) => {
      const id =
        this.addedByContent.get(piece)?.id ?? this.model.tokens_to_ids.get(piece) ?? this.model.unk_token_id ?? 0;
      const s = surface(piece, i);
      let end: number;
      if (s.length > 0 && word.text.startsWith(s, cursor)) {
        end = cursor + s.length;
      } else if (i === pieces.length - 1) {
        end = word.text.length; // an unknown word (WordPiece's [UNK]) or the unknown tail of one
      } else {
        // An unknown piece in the middle (byte fallback, BPE unk): it covers the text up to the next known piece.
        const next = surface(pieces[i + 1], i + 1);
        const at = next.length > 0 ? word.text.indexOf(next, cursor + 1) : -1;
        end = at < 0 ? Math.min(word.text.length, cursor + 1) : at;
      }
      const span =
        end > cursor
          ? spanOf(word, cursor, end)
          : spanOf(word, Math.min(cursor, word.text.length - 1), Math.min(cursor + 1, word.text.length));
      this.push(out, id, piece, span);
      cursor = end;
    });
  }

  /**
   * Cuts aligned text at added tokens (longest match first), as the library does. lstrip / rstrip move the
   * whitespace next to the token into it, which is where the Rust library puts it (the token's text and offsets
   * then include that whitespace).
   */
  private splitAdded(
    text: AlignedText,
    tokens: AddedTokenInfo[],
  ): Array<{ text: AlignedText; added: AddedTokenInfo | null }> {
    if (tokens.length === 0) return [{ text, added: null }];
    const byLength = [...tokens].sort((x, y) => y.content.length - x.content.length);
    const ranges: Array<{ from: number; to: number; added: AddedTokenInfo | null }> = [];
    let start = 0;
    let i = 0;
    while (i < text.text.length) {
      const hit = byLength.find((t) => t.content.length > 0 && text.text.startsWith(t.content, i));
      if (!hit) {
        i++;
        continue;
      }
      if (i > start) ranges.push({ from: start, to: i, added: null });
      ranges.push({ from: i, to: i + hit.content.length, added: hit });
      i += hit.content.length;
      start = i;
    }
    if (start < text.text.length) ranges.push({ from: start, to: text.text.length, added: null });
    ranges.forEach((range, k) => {
      if (!range.added) return;
      const before = ranges[k - 1];
      const after = ranges[k + 1];
      if (range.added.lstrip && before && !before.added) {
        const kept = text.text.slice(before.from, before.to).trimEnd().length;
        range.from = before.to = before.from + kept;
      }
      if (range.added.rstrip && after && !after.added) {
        const segment = text.text.slice(after.from, after.to);
        range.to = after.from = after.from + segment.length - segment.trimStart().length;
      }
    });
    return ranges.map((r) => ({ text: sliceAligned(text, r.from, r.to), added: r.added }));
  }
}

/** [from, to) token ranges of the windows, each `room` long and starting `room - stride` after the previous one. */
export function windowRanges(
  length: number,
  room: number,
  stride: number,
  overflowing: boolean,
): Array<[number, number]> {
  if (!overflowing || length <= room) return [[0, Math.min(length, room)]];
  if (stride >= room) {
    throw new EncoderTokenizeError(
      `stride ${stride} must be smaller than the ${room} tokens a window has for the truncated text; lower the stride or raise max_length`,
    );
  }
  const ranges: Array<[number, number]> = [];
  for (let start = 0; ; start += room - stride) {
    const stop = Math.min(start + room, length);
    ranges.push([start, stop]);
    if (stop === length) return ranges;
  }
}

function sliceTokens(t: TextTokens, from: number, to: number): TextTokens {
  return {
    ids: t.ids.slice(from, to),
    tokens: t.tokens.slice(from, to),
    offsets: t.offsets.slice(from, to),
    text: t.text,
    ...(t.untrimmed ? { untrimmed: t.untrimmed.slice(from, to) } : {}),
  };
}

/**
 * The library's normalized text with the best map the per-unit pass gives: unit for unit when the lengths agree
 * (a character mapped differently in place, e.g. final sigma), else every unit to the whole section.
 */
function realign(expected: string, mine: AlignedText, section: AlignedText): AlignedText {
  if (expected.length === mine.text.length) return { text: expected, starts: mine.starts, ends: mine.ends };
  const [s, e] = spanOf(section, 0, section.text.length);
  return {
    text: expected,
    starts: new Array<number>(expected.length).fill(s),
    ends: new Array<number>(expected.length).fill(e),
  };
}
