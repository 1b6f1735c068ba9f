// A small byte-level BPE trainer and the Hugging Face files for its result (tokenizer.json,
// tokenizer_config.json, special_tokens_map.json). Used by the test fixtures' tiny tokenizer and by the bundled
// default model's build (scripts/default-model). Deterministic: ties go to the lexicographically smallest pair.
//
// Vocabulary layout (ids): 0..255 the byte symbols in GPT-2's bytes_to_unicode order, then one id per learned
// merge, then the special tokens in the order given.

/**
 * GPT-2's reversible byte → printable-character map: printable Latin-1 bytes map to themselves, the rest
 * to code points from 256 upward, so no symbol is whitespace or a control character.
 */
export function bytesToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const table: string[] = new Array(256);
  const isPrintable = new Set(printable);
  let next = 0;
  for (let b = 0; b < 256; b++) {
    table[b] = isPrintable.has(b) ? String.fromCodePoint(b) : String.fromCodePoint(256 + next++);
  }
  return table;
}

/** GPT-2's pre-tokenization split: contractions, letters, digits, other symbols, each with one leading space. */
export const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

export interface BpeTrainOptions {
  /** When the text supports fewer merges than asked: 'error' (default) or 'stop' and return what was learned. */
  whenExhausted?: 'error' | 'stop';
  /** Pairs seen fewer times than this are never merged (default 1). */
  minPairCount?: number;
}

/**
 * Count pre-tokenized words, then repeatedly merge the most frequent adjacent symbol pair. Pair counts are kept
 * incrementally (only the words containing the merged pair are recounted), so a corpus of many megabytes with
 * thousands of merges trains in seconds. `text` may be an iterable of documents.
 */
export function trainByteLevelBpe(
  text: string | Iterable<string>,
  numMerges: number,
  options: BpeTrainOptions = {},
): Array<[string, string]> {
  const byteSymbols = bytesToUnicode();
  const encoder = new TextEncoder();
  const wordCounts = new Map<string, number>();
  for (const doc of typeof text === 'string' ? [text] : text) {
    for (const match of doc.matchAll(GPT2_SPLIT)) {
      const word = Array.from(encoder.encode(match[0]), (b) => byteSymbols[b]).join('\u0000');
      wordCounts.set(word, (wordCounts.get(word) ?? 0) + 1);
    }
  }
  const words = Array.from(wordCounts, ([w, count]) => ({ symbols: w.split('\u0000'), count }));
  const pairCounts = new Map<string, number>();
  const pairWords = new Map<string, Set<number>>(); // pair → indices of words that contain it
  const addWord = (index: number, sign: 1 | -1) => {
    const { symbols, count } = words[index];
    for (let i = 0; i + 1 < symbols.length; i++) {
      const key = symbols[i] + '\u0000' + symbols[i + 1];
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + sign * count);
      if (sign > 0) {
        let set = pairWords.get(key);
        if (!set) pairWords.set(key, (set = new Set()));
        set.add(index);
      }
    }
  };
  for (let i = 0; i < words.length; i++) addWord(i, 1);
  const minCount = options.minPairCount ?? 1;
  const merges: Array<[string, string]> = [];
  while (merges.length < numMerges) {
    let best: string | null = null;
    let bestCount = 0;
    for (const [key, count] of pairCounts) {
      if (count > bestCount || (count === bestCount && best !== null && key < best)) {
        best = key;
        bestCount = count;
      }
    }
    if (best === null || bestCount < minCount) {
      if (options.whenExhausted === 'stop') break;
      throw new Error(`BPE trainer: the training text only supports ${merges.length} merges, ${numMerges} asked`);
    }
    const [a, b] = best.split('\u0000') as [string, string];
    merges.push([a, b]);
    for (const index of pairWords.get(best) ?? []) {
      const word = words[index];
      const s = word.symbols;
      if (s.length < 2) continue;
      addWord(index, -1);
      const merged: string[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          merged.push(a + b);
          i++;
        } else merged.push(s[i]);
      }
      word.symbols = merged;
      addWord(index, 1);
    }
    pairWords.delete(best);
    for (const [key, count] of pairCounts) if (count <= 0) pairCounts.delete(key);
  }
  return merges;
}

export interface ByteLevelBpeFilesOptions {
  merges: ReadonlyArray<readonly [string, string]>;
  /** Added special tokens, in id order after the merges. */
  specialTokens: readonly string[];
  /** A special token the post-processor prepends to every encoding (Llama-3 style), or null. */
  bosToken: string | null;
  eosToken: string;
  padToken: string | null;
  /** Special tokens listed as additional_special_tokens (e.g. the chat markers). */
  additionalSpecialTokens: readonly string[];
  chatTemplate: string | null;
  modelMaxLength: number;
}

export interface ByteLevelBpeFiles {
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
  specialTokensMap: Record<string, unknown>;
  vocabSize: number;
  specialIds: Record<string, number>;
}

/** The three Hugging Face tokenizer files for learned merges; loadable by `tokenizers` and transformers. */
export function byteLevelBpeFiles(o: ByteLevelBpeFilesOptions): ByteLevelBpeFiles {
  const byteSymbols = bytesToUnicode();
  const vocab: Record<string, number> = {};
  for (let b = 0; b < 256; b++) vocab[byteSymbols[b]] = b;
  o.merges.forEach(([a, b], i) => {
    vocab[a + b] = 256 + i;
  });
  const firstSpecial = 256 + o.merges.length;
  const specialIds: Record<string, number> = Object.fromEntries(o.specialTokens.map((t, i) => [t, firstSpecial + i]));
  const vocabSize = firstSpecial + o.specialTokens.length;
  // No check that eos/pad/bos are among the special tokens: tests write such broken folders on purpose.

  const addedTokens = o.specialTokens.map((content) => ({
    id: specialIds[content],
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));

  const byteLevelPost = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: true };
  const bos = o.bosToken;
  const postProcessor = bos
    ? {
        type: 'Sequence',
        processors: [
          byteLevelPost,
          {
            type: 'TemplateProcessing',
            single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
            pair: [
              { SpecialToken: { id: bos, type_id: 0 } },
              { Sequence: { id: 'A', type_id: 0 } },
              { SpecialToken: { id: bos, type_id: 1 } },
              { Sequence: { id: 'B', type_id: 1 } },
            ],
            special_tokens: { [bos]: { id: bos, ids: [specialIds[bos]], tokens: [bos] } },
          },
        ],
      }
    : byteLevelPost;

  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: postProcessor,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      // The legacy "a b" string form: unambiguous for byte-level symbols (a space is Ġ) and read by every tool.
      merges: o.merges.map(([a, b]) => `${a} ${b}`),
    },
  };

  const addedTokensDecoder = Object.fromEntries(addedTokens.map(({ id, ...rest }) => [String(id), { ...rest }]));
  const tokenizerConfig: Record<string, unknown> = {
    add_bos_token: bos !== null,
    add_eos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: addedTokensDecoder,
    additional_special_tokens: [...o.additionalSpecialTokens],
    bos_token: bos,
    clean_up_tokenization_spaces: false,
    eos_token: o.eosToken,
    errors: 'replace',
    model_max_length: o.modelMaxLength,
    pad_token: o.padToken,
    split_special_tokens: false,
    tokenizer_class: 'PreTrainedTokenizerFast',
    unk_token: null,
  };
  if (o.chatTemplate !== null) tokenizerConfig.chat_template = o.chatTemplate;

  const token = (content: string) => ({ content, lstrip: false, normalized: false, rstrip: false, single_word: false });
  const specialTokensMap: Record<string, unknown> = {
    additional_special_tokens: [...o.additionalSpecialTokens],
    eos_token: token(o.eosToken),
  };
  if (bos) specialTokensMap.bos_token = token(bos);
  if (o.padToken) specialTokensMap.pad_token = token(o.padToken);

  return { tokenizerJson, tokenizerConfig, specialTokensMap, vocabSize, specialIds };
}
