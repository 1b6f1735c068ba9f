// The encoder tokenizer on real-format tokenizer.json files (WordPiece, byte-level BPE, Unigram): ids, offsets,
// token types and stride windows checked by hand on tricky text, and against two independent readers of the same
// files — Hugging Face's Rust `tokenizers` (its Node binding, a devDependency: offsets, pairs and overflowing windows
// as transformers gets them) and @huggingface/tokenizers' own encode (ids).
import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import {
  EncoderTokenizer,
  EncoderTokenizeError,
  windowRanges,
  type EncoderInput,
} from '../../../../src/main/formats/tokenizer/encoder/encoder-tokenizer.ts';
import { mulberry32 } from '../../../../src/main/formats/dataset/split.ts';
import { writeBertTokenizer, writeRobertaTokenizer, writeXlmrTokenizer } from './fixtures.ts';

interface RustEncoding {
  getIds(): number[];
  getTypeIds(): number[];
  getTokens(): string[];
  getOffsets(): number[][];
  getSequenceIds(): Array<number | null | undefined>;
  getOverflowing(): RustEncoding[];
}
interface RustTokenizer {
  encode(a: string, b?: string | null, o?: { addSpecialTokens?: boolean }): Promise<RustEncoding>;
  setTruncation(maxLength: number, options?: { stride?: number; strategy?: string }): void;
  disableTruncation(): void;
}
const require = createRequire(import.meta.url);
const Rust = (require('tokenizers') as { Tokenizer: { fromFile(path: string): RustTokenizer } }).Tokenizer;

/** The Rust library counts offsets in code points; ours are UTF-16 units (JS string indices). */
function unitIndex(text: string, codePoint: number): number {
  let units = 0;
  let count = 0;
  for (const ch of text) {
    if (count === codePoint) return units;
    units += ch.length;
    count++;
  }
  return units;
}

function fromRust(
  e: RustEncoding,
  first: string,
  second: string | null,
  usesTokenTypes: boolean,
): Omit<EncoderInput, 'attentionMask' | 'tokens'> {
  const seq = e.getSequenceIds().map((s) => (s === null || s === undefined ? null : (s as 0 | 1)));
  return {
    inputIds: e.getIds(),
    tokenTypeIds: usesTokenTypes ? e.getTypeIds() : e.getTypeIds().map(() => 0),
    offsets: e.getOffsets().map(([s, end], i): [number, number] => {
      if (seq[i] === null) return [0, 0];
      const text = seq[i] === 1 ? second! : first;
      return [unitIndex(text, s), unitIndex(text, end)];
    }),
    sequenceIds: seq,
  };
}

function ours(input: EncoderInput): Omit<EncoderInput, 'attentionMask' | 'tokens'> {
  return {
    inputIds: input.inputIds,
    tokenTypeIds: input.tokenTypeIds,
    offsets: input.offsets,
    sequenceIds: input.sequenceIds,
  };
}

const TRICKY = [
  'Hello, world!',
  'Café naïve  unbelievably',
  '한국어 서울에서 일해요',
  '😀 hi😀 emoji 👩‍💻!',
  '  the\tanalyst\n works [MASK] here  ',
  '你好 1984 year',
  'Ἀθῆναι ΣΟΦΟΣ',
  'she <mask> works',
  'e\u0301cole cafe\u0301', // decomposed accents
  "it's the analyst's model?!",
  '',
];
const QUESTION = 'Where does she work?';

let dirs: { bert: string; bertCased: string; roberta: string; robertaPrefix: string; xlmr: string; xlmrFirst: string };
beforeAll(() => {
  const root = mkdtempSync(join(tmpdir(), 'encoder-tokenizer-'));
  dirs = {
    bert: writeBertTokenizer(join(root, 'bert')),
    bertCased: writeBertTokenizer(join(root, 'bert-cased'), { cased: true }),
    roberta: writeRobertaTokenizer(join(root, 'roberta')),
    robertaPrefix: writeRobertaTokenizer(join(root, 'roberta-prefix'), { addPrefixSpace: true }),
    xlmr: writeXlmrTokenizer(join(root, 'xlmr')),
    xlmrFirst: writeXlmrTokenizer(join(root, 'xlmr-first'), { prependScheme: 'first' }),
  };
});

describe('hand-worked: BERT uncased WordPiece', () => {
  it('lower-cases, strips accents, splits long words into ## pieces, offsets into the original text', () => {
    const tok = EncoderTokenizer.load(dirs.bert);
    const text = 'Café naïve  Unbelievably!';
    const t = tok.tokenize(text);
    expect(t.tokens).toEqual(['cafe', 'naive', 'un', '##believ', '##ably', '!']);
    expect(t.offsets).toEqual([
      [0, 4],
      [5, 10],
      [12, 14],
      [14, 20],
      [20, 24],
      [24, 25],
    ]);
    expect(t.offsets.map(([s, e]) => text.slice(s, e))).toEqual(['Café', 'naïve', 'Un', 'believ', 'ably', '!']);
  });

  it('Korean becomes jamo pieces whose offsets are whole syllables; emoji and unknown words are one [UNK] each', () => {
    const tok = EncoderTokenizer.load(dirs.bert);
    const text = '한국어 hi😀 你好';
    const t = tok.tokenize(text);
    expect(t.tokens).toEqual(['한국'.normalize('NFD'), '##' + '어'.normalize('NFD'), '[UNK]', '你', '[UNK]']);
    expect(t.offsets.map(([s, e]) => text.slice(s, e))).toEqual(['한국', '어', 'hi😀', '你', '好']);
  });

  it('a pair: [CLS] A [SEP] B [SEP], type ids 0/1, sequence ids, specials at [0, 0]', () => {
    const tok = EncoderTokenizer.load(dirs.bert);
    const [input] = tok.encode('What is a model?', 'A model in Seoul.');
    expect(input.tokens).toEqual([
      '[CLS]',
      'what',
      'is',
      'a',
      'model',
      '?',
      '[SEP]',
      'a',
      'model',
      'in',
      'seoul',
      '.',
      '[SEP]',
    ]);
    expect(input.tokenTypeIds).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
    expect(input.sequenceIds).toEqual([null, 0, 0, 0, 0, 0, null, 1, 1, 1, 1, 1, null]);
    expect(input.offsets[0]).toEqual([0, 0]);
    expect(input.offsets[10]).toEqual([11, 16]);
    expect(input.attentionMask.every((m) => m === 1)).toBe(true);
    expect(tok.clsId).toBe(2);
    expect(tok.sepId).toBe(3);
    expect(tok.padId).toBe(0);
    expect(tok.usesTokenTypes).toBe(true);
  });

  it('only_second with stride: windows of the context overlapping by stride tokens, question in each', () => {
    const tok = EncoderTokenizer.load(dirs.bert);
    // Question: 3 tokens; context: 8 tokens; max_length 10 → 10 - 3 specials - 3 = 4 context tokens per window.
    const windows = tok.encode('Where work?', 'the analyst does work in the studio .', {
      maxLength: 10,
      truncation: 'only_second',
      stride: 2,
      returnOverflowing: true,
    });
    const contextTokens = windows.map((w) => w.tokens.filter((_, i) => w.sequenceIds[i] === 1));
    // Windows start every 4 - 2 = 2 tokens: [0,4) [2,6) [4,8).
    expect(contextTokens).toEqual([
      ['the', 'analyst', 'does', 'work'],
      ['does', 'work', 'in', 'the'],
      ['in', 'the', 'studio', '.'],
    ]);
    for (const w of windows) expect(w.tokens.slice(0, 5)).toEqual(['[CLS]', 'where', 'work', '?', '[SEP]']);
    // Offsets of a later window still point into the whole context.
    const studio = windows[2].tokens.indexOf('studio');
    expect(windows[2].offsets[studio]).toEqual([29, 35]);
    expect(windowRanges(8, 4, 2, true)).toEqual([
      [0, 4],
      [2, 6],
      [4, 8],
    ]);
  });

  it('refuses a stride as long as the window and a question that leaves no room, saying what to change', () => {
    const tok = EncoderTokenizer.load(dirs.bert);
    expect(() =>
      tok.encode('where', 'the analyst does work in the studio', {
        maxLength: 8,
        truncation: 'only_second',
        stride: 4,
        returnOverflowing: true,
      }),
    ).toThrow(/stride 4 must be smaller than the 4 tokens a window has.*lower the stride or raise max_length/);
    expect(() =>
      tok.encode('the analyst does work in the studio', 'where', { maxLength: 8, truncation: 'only_second' }),
    ).toThrow(EncoderTokenizeError);
  });

  it('DistilBERT (same files, tokenizer class DistilBertTokenizer) takes no token types: all 0', () => {
    const dir = writeBertTokenizer(join(mkdtempSync(join(tmpdir(), 'distilbert-')), 'tok'));
    const configPath = join(dir, 'tokenizer_config.json');
    writeFileSync(
      configPath,
      JSON.stringify({ ...JSON.parse(readFileSync(configPath, 'utf8')), tokenizer_class: 'DistilBertTokenizer' }),
    );
    const tok = EncoderTokenizer.load(dir);
    expect(tok.usesTokenTypes).toBe(false);
    const [pair] = tok.encode('what is a model?', 'a model');
    expect(pair.tokenTypeIds.every((t) => t === 0)).toBe(true);
    expect(pair.sequenceIds).toContain(1);
  });

  it('refuses a pre-tokenizer it cannot align and a tokenizer without a pad token, naming the file and the fix', () => {
    const dir = writeBertTokenizer(join(mkdtempSync(join(tmpdir(), 'unsupported-')), 'tok'));
    const jsonPath = join(dir, 'tokenizer.json');
    const json = JSON.parse(readFileSync(jsonPath, 'utf8'));
    writeFileSync(jsonPath, JSON.stringify({ ...json, pre_tokenizer: { type: 'FixedLength', length: 3 } }));
    expect(() => EncoderTokenizer.load(dir)).toThrow(
      `${jsonPath}: pre-tokenizer "FixedLength" is not supported for encoder tasks`,
    );
    writeFileSync(jsonPath, JSON.stringify(json));
    const configPath = join(dir, 'tokenizer_config.json');
    const { pad_token: _pad, ...config } = JSON.parse(readFileSync(configPath, 'utf8'));
    writeFileSync(configPath, JSON.stringify(config));
    expect(() => EncoderTokenizer.load(dir)).toThrow(
      /has no pad_token, which batching needs; set "pad_token" in tokenizer_config\.json/,
    );
  });

  it('pads on the right with the pad id, mask 0 and no sequence', () => {
    const tok = EncoderTokenizer.load(dirs.bert);
    const padded = tok.pad(tok.encode('hello')[0], 6);
    expect(padded.inputIds).toEqual([2, tok.hf.tokenToId('hello'), 3, 0, 0, 0]);
    expect(padded.attentionMask).toEqual([1, 1, 1, 0, 0, 0]);
    expect(padded.sequenceIds).toEqual([null, 0, null, null, null, null]);
  });
});

describe('hand-worked: cased BERT (klue/bert-base style)', () => {
  it('keeps case, accents and Hangul syllables; ## pieces of Korean words', () => {
    const tok = EncoderTokenizer.load(dirs.bertCased);
    const text = 'Café 한국어 서울에서 일해요 😀';
    const t = tok.tokenize(text);
    expect(t.tokens).toEqual(['Café', '한국', '##어', '서울', '##에서', '일', '##해요', '😀']);
    expect(t.offsets.map(([s, e]) => text.slice(s, e))).toEqual([
      'Café',
      '한국',
      '어',
      '서울',
      '에서',
      '일',
      '해요',
      '😀',
    ]);
  });
});

describe('hand-worked: RoBERTa byte-level BPE', () => {
  it('offsets leave out the leading space (trim_offsets), specials <s> A </s></s> B </s>, no token types', () => {
    const tok = EncoderTokenizer.load(dirs.roberta);
    const text = 'Hello world! The café';
    const t = tok.tokenize(text);
    expect(t.tokens.join('')).toBe('HelloĠworld!ĠTheĠcafÃ©');
    expect(t.offsets.map(([s, e]) => text.slice(s, e)).join('|')).not.toMatch(/\| /); // no offset starts at a space
    const word = t.tokens.findIndex((x) => x === 'Ġworld');
    expect(word).toBeGreaterThan(0);
    expect(t.offsets[word]).toEqual([6, 11]);
    const [pair] = tok.encode('Hi', 'Yo');
    expect(pair.tokens[0]).toBe('<s>');
    expect(pair.tokens.filter((x) => x === '</s>')).toHaveLength(3);
    expect(pair.tokenTypeIds.every((x) => x === 0)).toBe(true);
    expect(tok.usesTokenTypes).toBe(false);
    expect(tok.padId).toBe(1);
  });

  it('an emoji split into byte pieces: every piece points at the whole emoji', () => {
    const tok = EncoderTokenizer.load(dirs.roberta);
    const text = 'a😀';
    const t = tok.tokenize(text);
    expect(t.tokens[0]).toBe('a');
    for (const o of t.offsets.slice(1)) expect(o).toEqual([1, 3]);
  });
});

describe('hand-worked: XLM-R style Unigram', () => {
  it('▁ pieces, unknown characters fused into one <unk> with their span, Korean pieces on syllables', () => {
    const tok = EncoderTokenizer.load(dirs.xlmr);
    const text = '한국어 서울에서 Ωx';
    const t = tok.tokenize(text);
    expect(t.tokens).toEqual(['▁한국어', '▁서울', '에서', '▁', 'Ωx']);
    expect(t.ids[4]).toBe(tok.unkId);
    expect(t.offsets).toEqual([
      [0, 3],
      [3, 6],
      [6, 8],
      [8, 9],
      [9, 11],
    ]);
  });
});

describe('against the Rust tokenizers library and @huggingface/tokenizers', () => {
  for (const name of ['bert', 'bertCased', 'roberta', 'robertaPrefix', 'xlmr', 'xlmrFirst'] as const) {
    it(`${name}: ids, type ids, offsets and sequence ids of single texts and pairs`, async () => {
      const tok = EncoderTokenizer.load(dirs[name]);
      const rust = Rust.fromFile(join(dirs[name], 'tokenizer.json'));
      for (const text of TRICKY) {
        const single = await rust.encode(text);
        expect(ours(tok.encode(text)[0]), `${name} ${JSON.stringify(text)}`).toEqual(
          fromRust(single, text, null, tok.usesTokenTypes),
        );
        const pair = await rust.encode(text, QUESTION);
        expect(ours(tok.encode(text, QUESTION)[0]), `${name} pair ${JSON.stringify(text)}`).toEqual(
          fromRust(pair, text, QUESTION, tok.usesTokenTypes),
        );
        const library = tok.hf.library.encode(text, { text_pair: QUESTION, add_special_tokens: true });
        expect(tok.encode(text, QUESTION)[0].inputIds, `${name} library ${JSON.stringify(text)}`).toEqual(library.ids);
      }
    });

    it(`${name}: only_second windows with stride, and longest_first, as the Rust library cuts them`, async () => {
      const tok = EncoderTokenizer.load(dirs[name]);
      const rust = Rust.fromFile(join(dirs[name], 'tokenizer.json'));
      const context =
        'The analyst tunes a model in the studio. Where does she work? She works in Seoul, 한국어 서울에서, and the café is naïve 😀.';
      const questionLength = tok.encode(QUESTION, 'x')[0].sequenceIds.filter((q) => q !== 1).length;
      for (const [room, stride] of [
        [8, 3],
        [6, 0],
        [12, 7],
      ] as const) {
        const maxLength = questionLength + room; // `room` context tokens per window
        // tokenizers 0.23.1+ stops tokenizing a sequence at max_length tokens when truncation is on (its "early exit",
        // PR #1990; reported as huggingface/tokenizers#2091, fix open), so windows past that point go missing from its
        // overflow. Cut the context to max_length tokens first: every window then lies where it still tokenizes.
        const full = tok.tokenize(context);
        const cut = context.slice(0, full.offsets[Math.min(maxLength, full.offsets.length) - 1][1]);
        rust.setTruncation(maxLength, { stride, strategy: 'OnlySecond' });
        const encoding = await rust.encode(QUESTION, cut);
        const expected = [encoding, ...encoding.getOverflowing()].map((e) =>
          fromRust(e, QUESTION, cut, tok.usesTokenTypes),
        );
        const got = tok
          .encode(QUESTION, cut, { maxLength, truncation: 'only_second', stride, returnOverflowing: true })
          .map(ours);
        expect(got.length).toBeGreaterThan(1);
        expect(got, `${name} max ${maxLength} stride ${stride}`).toEqual(expected);
      }
      rust.setTruncation(14, { stride: 0, strategy: 'LongestFirst' });
      const longest = await rust.encode(context, QUESTION + ' ' + QUESTION);
      expect(ours(tok.encode(context, QUESTION + ' ' + QUESTION, { maxLength: 14 })[0])).toEqual(
        fromRust(longest, context, QUESTION + ' ' + QUESTION, tok.usesTokenTypes),
      );
      rust.disableTruncation();
    });
  }

  /** Seeded random text from pieces that stress alignment: scripts, marks, emoji, spaces, controls, specials. */
  const PIECES = [
    'the',
    'Seoul',
    'café',
    'e\u0301',
    'naïve',
    '한국어',
    '서울에서',
    '\u1112\u1161\u11ab',
    '你好',
    '😀',
    '👩‍💻',
    'ΣΟΦΟΣ',
    'ﬁ',
    '１２３',
    '1984',
    "'s",
    '?!',
    '...',
    ' ',
    '  ',
    '\t',
    '\n',
    '\u00a0',
    '\u200b',
    '\u0007',
    '[MASK]',
    '<mask>',
    '<s>',
    'unbelievably',
    'Ωx',
    '\ufffd',
    '-',
    '"',
    'model',
    'tune',
  ];
  function randomText(rand: () => number): string {
    const n = 1 + Math.floor(rand() * 12);
    let text = '';
    for (let i = 0; i < n; i++) text += PIECES[Math.floor(rand() * PIECES.length)] + (rand() < 0.6 ? ' ' : '');
    return text;
  }

  for (const name of ['bert', 'bertCased', 'roberta', 'robertaPrefix', 'xlmr', 'xlmrFirst'] as const) {
    it(`${name}: 150 seeded random texts and pairs give the Rust library's ids, offsets and type ids`, async () => {
      const tok = EncoderTokenizer.load(dirs[name]);
      const rust = Rust.fromFile(join(dirs[name], 'tokenizer.json'));
      const rand = mulberry32(14);
      for (let i = 0; i < 150; i++) {
        const a = randomText(rand);
        const b = rand() < 0.5 ? randomText(rand) : null;
        const expected = fromRust(await rust.encode(a, b), a, b, tok.usesTokenTypes);
        expect(ours(tok.encode(a, b)[0]), `${name} ${JSON.stringify(a)} / ${JSON.stringify(b)}`).toEqual(expected);
      }
    });
  }
});
