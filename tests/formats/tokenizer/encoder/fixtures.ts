/**
 * Three tokenizer folders in the Hub's real formats, small enough to reason about by hand:
 * - BERT uncased: BertNormalizer (clean text, CJK split, lower-case, strip accents) + BertPreTokenizer + WordPiece
 *   with `##` pieces, TemplateProcessing `[CLS] $A [SEP] $B:1 [SEP]:1` (as bert-base-uncased's file has it);
 * - RoBERTa: ByteLevel pre-tokenizer + byte-level BPE (merges learned by our trainer), RobertaProcessing with
 *   trim_offsets, `<mask>` with lstrip;
 * - XLM-R style: NFKC + collapse-spaces normalizer, Metaspace pre-tokenizer, Unigram pieces with scores,
 *   TemplateProcessing `<s> $A </s> </s> $B </s>`. (xlm-roberta-base has a Precompiled charsmap normalizer, which
 *   cannot be written by hand; @huggingface/tokenizers applies NFKC for it anyway.)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { trainByteLevelBpe, bytesToUnicode } from '../../../../src/main/formats/tokenizer/bpe-trainer.ts';

function added(id: number, content: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true, ...extra };
}

function writeFolder(dir: string, tokenizerJson: unknown, tokenizerConfig: unknown): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig));
  return dir;
}

export const BERT_WORDS = [
  'the',
  'cafe',
  'naive',
  'un',
  '##believ',
  '##ably',
  'hello',
  'world',
  ',',
  '!',
  '?',
  '.',
  "'",
  's',
  'what',
  'is',
  'a',
  'model',
  'where',
  'does',
  'she',
  'work',
  'in',
  'seoul',
  'analyst',
  'studio',
  'you',
  'tune',
  '##d',
  '你',
  // Hangul syllables become conjoining jamo under strip_accents (NFD), as in bert-base-uncased.
  '한국'.normalize('NFD'),
  '##' + '어'.normalize('NFD'),
  '서울'.normalize('NFD'),
  '1',
  '##9',
  '##8',
  '##4',
  'year',
];

/** Cased, as klue/bert-base: no lower-casing, no accent stripping, so Hangul stays in syllables. */
export const CASED_BERT_WORDS = [
  'Hello',
  'Seoul',
  'She',
  'The',
  '한국',
  '##어',
  '서울',
  '##에서',
  '일',
  '##해요',
  'café',
  'Café',
  'naïve',
  '😀',
];

export function writeBertTokenizer(dir: string, { cased = false }: { cased?: boolean } = {}): string {
  const specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  const vocab: Record<string, number> = {};
  for (const t of [...specials, ...BERT_WORDS, ...(cased ? CASED_BERT_WORDS : [])])
    vocab[t] ??= Object.keys(vocab).length;
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((t) => added(vocab[t], t)),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: !cased,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [vocab['[CLS]']], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [vocab['[SEP]']], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab,
    },
  };
  const config = {
    do_lower_case: !cased,
    model_max_length: 512,
    cls_token: '[CLS]',
    sep_token: '[SEP]',
    pad_token: '[PAD]',
    unk_token: '[UNK]',
    mask_token: '[MASK]',
    tokenizer_class: 'BertTokenizer',
  };
  return writeFolder(dir, json, config);
}

export const ROBERTA_TEXT = `Hello world! The analyst tunes a model in the studio. Where does she work? She works in Seoul.
The café is naïve about models, and the studio learns quickly. Hello again, world.`;

/** `addPrefixSpace`: as RoBERTa tokenizers saved with add_prefix_space=True (a space before each text's first word). */
export function writeRobertaTokenizer(
  dir: string,
  { addPrefixSpace = false }: { addPrefixSpace?: boolean } = {},
): string {
  const merges = trainByteLevelBpe(ROBERTA_TEXT, 120, { whenExhausted: 'stop' });
  const symbols = bytesToUnicode();
  const vocab: Record<string, number> = { '<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3 };
  for (const s of symbols) vocab[s] ??= Object.keys(vocab).length;
  for (const [a, b] of merges) vocab[a + b] ??= Object.keys(vocab).length;
  vocab['<mask>'] = Object.keys(vocab).length;
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      added(0, '<s>'),
      added(1, '<pad>'),
      added(2, '</s>'),
      added(3, '<unk>'),
      added(vocab['<mask>'], '<mask>', { lstrip: true }),
    ],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: addPrefixSpace, trim_offsets: true, use_regex: true },
    post_processor: {
      type: 'RobertaProcessing',
      sep: ['</s>', 2],
      cls: ['<s>', 0],
      trim_offsets: true,
      add_prefix_space: addPrefixSpace,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
  const config = {
    model_max_length: 512,
    bos_token: '<s>',
    eos_token: '</s>',
    cls_token: '<s>',
    sep_token: '</s>',
    pad_token: '<pad>',
    unk_token: '<unk>',
    mask_token: { content: '<mask>', lstrip: true, normalized: false, rstrip: false, single_word: false },
    tokenizer_class: 'RobertaTokenizer',
  };
  return writeFolder(dir, json, config);
}

/** Unigram pieces with log-probability scores (longer, common pieces score higher). */
export const UNIGRAM_PIECES: Array<[string, number]> = [
  ['▁', -2],
  ['▁hello', -5],
  ['▁world', -5],
  ['▁the', -3],
  ['▁analyst', -7],
  ['▁tune', -7],
  ['s', -3],
  ['▁a', -3],
  ['▁model', -6],
  ['▁in', -4],
  ['▁seoul', -8],
  ['▁서울', -8],
  ['에서', -6],
  ['▁한국어', -9],
  ['▁한국', -8],
  ['어', -5],
  ['▁where', -6],
  ['▁does', -6],
  ['▁she', -5],
  ['▁work', -6],
  ['?', -4],
  ['!', -4],
  ['.', -3],
  [',', -3],
  ['▁cafe', -8],
  ['▁café', -8],
  ['▁naïve', -9],
  ['h', -6],
  ['e', -5],
  ['l', -5],
  ['o', -5],
  ['w', -6],
  ['r', -6],
  ['d', -6],
  ['▁un', -6],
  ['believ', -9],
  ['ably', -8],
  ['▁1984', -10],
  ['1', -7],
  ['9', -7],
  ['8', -7],
  ['4', -7],
];

/** `prependScheme` 'first': "▁" only before the text's start, not after an added token inside it. */
export function writeXlmrTokenizer(
  dir: string,
  { prependScheme = 'always' }: { prependScheme?: 'always' | 'first' } = {},
): string {
  const specials = ['<s>', '<pad>', '</s>', '<unk>'];
  const vocab: Array<[string, number]> = [
    ...specials.map((t): [string, number] => [t, 0]),
    ...UNIGRAM_PIECES,
    ['<mask>', 0],
  ];
  const id = (t: string): number => vocab.findIndex(([p]) => p === t);
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [...specials.map((t) => added(id(t), t)), added(id('<mask>'), '<mask>', { lstrip: true })],
    normalizer: {
      type: 'Sequence',
      normalizers: [{ type: 'NFKC' }, { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' }],
    },
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: prependScheme, split: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '<s>', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '</s>', type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: '<s>', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '</s>', type_id: 0 } },
        { SpecialToken: { id: '</s>', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 0 } },
        { SpecialToken: { id: '</s>', type_id: 0 } },
      ],
      special_tokens: {
        '<s>': { id: '<s>', ids: [id('<s>')], tokens: ['<s>'] },
        '</s>': { id: '</s>', ids: [id('</s>')], tokens: ['</s>'] },
      },
    },
    decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: prependScheme, split: true },
    model: { type: 'Unigram', unk_id: id('<unk>'), vocab, byte_fallback: false },
  };
  const config = {
    model_max_length: 512,
    bos_token: '<s>',
    eos_token: '</s>',
    cls_token: '<s>',
    sep_token: '</s>',
    pad_token: '<pad>',
    unk_token: '<unk>',
    mask_token: '<mask>',
    tokenizer_class: 'XLMRobertaTokenizer',
  };
  return writeFolder(dir, json, config);
}
