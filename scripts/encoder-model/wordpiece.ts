// The bundled encoder's tokenizer: a BERT-style uncased WordPiece vocabulary built from the pretraining corpus, and
// the files transformers' BertTokenizerFast reads (tokenizer.json, vocab.txt, tokenizer_config.json,
// special_tokens_map.json). The vocabulary is every character of the corpus (alone and as a "##" continuation,
// so any text of it encodes without [UNK]), common word endings, and the most frequent whole words up to the
// target size: greedy longest-match WordPiece then keeps frequent words whole and spells rare ones in pieces.
// (Google's WordPiece learns pieces by likelihood; for a corpus of a few thousand distinct words, whole words and
// characters are what that would keep anyway.)

export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;
const ENDINGS = ['s', 'es', 'ed', 'ing', 'er', 'ly', 'y', 'ful', 'n', 't', 'd'];

/** BERT's basic pre-tokenization of lower-cased text: words and single punctuation marks. */
export function basicWords(text: string): string[] {
  return (
    text
      .toLowerCase()
      .normalize('NFD')
      .replace(/\p{Mn}/gu, '')
      .match(/[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu) ?? []
  );
}

export function buildWordPieceVocab(texts: Iterable<string>, target: number): string[] {
  const counts = new Map<string, number>();
  const chars = new Set<string>();
  for (const text of texts)
    for (const word of basicWords(text)) {
      counts.set(word, (counts.get(word) ?? 0) + 1);
      for (const ch of word) chars.add(ch);
    }
  const vocab: string[] = [...SPECIAL_TOKENS];
  const seen = new Set<string>(vocab);
  const add = (piece: string) => {
    if (!seen.has(piece)) {
      seen.add(piece);
      vocab.push(piece);
    }
  };
  const sortedChars = [...chars].sort();
  for (const ch of sortedChars) add(ch);
  for (const ch of sortedChars) if (/[\p{L}\p{N}]/u.test(ch)) add(`##${ch}`);
  for (const e of ENDINGS) add(`##${e}`);
  const words = [...counts].filter(([w]) => w.length > 1).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  for (const [word] of words) {
    if (vocab.length >= target) break;
    add(word);
  }
  return vocab;
}

export interface WordPieceFiles {
  tokenizerJson: object;
  vocabTxt: string;
  tokenizerConfig: object;
  specialTokensMap: object;
}

/** The files of an uncased BERT tokenizer over `vocab` (ids = positions), as transformers writes them. */
export function wordPieceFiles(vocab: string[], modelMaxLength: number): WordPieceFiles {
  const id = (t: string) => vocab.indexOf(t);
  const special = (t: string) => ({
    id: id(t),
    content: t,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map(special),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
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
        '[CLS]': { id: '[CLS]', ids: [id('[CLS]')], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [id('[SEP]')], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
    },
  };
  const tokenizerConfig = {
    added_tokens_decoder: Object.fromEntries(
      SPECIAL_TOKENS.map((t) => [String(id(t)), { ...special(t), id: undefined }]),
    ),
    clean_up_tokenization_spaces: true,
    cls_token: '[CLS]',
    do_lower_case: true,
    mask_token: '[MASK]',
    model_max_length: modelMaxLength,
    pad_token: '[PAD]',
    sep_token: '[SEP]',
    strip_accents: null,
    tokenize_chinese_chars: true,
    tokenizer_class: 'BertTokenizer',
    unk_token: '[UNK]',
  };
  const specialTokensMap = {
    cls_token: '[CLS]',
    mask_token: '[MASK]',
    pad_token: '[PAD]',
    sep_token: '[SEP]',
    unk_token: '[UNK]',
  };
  return { tokenizerJson, vocabTxt: vocab.join('\n') + '\n', tokenizerConfig, specialTokensMap };
}
