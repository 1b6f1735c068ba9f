/**
 * A Llama-2 / SentencePiece-style BPE tokenizer.json for tests (no byte-level map): "▁" marks a space and is
 * prepended to each stretch of text, characters outside the vocabulary fall back to <0xNN> byte tokens, and
 * the post-processor adds <s>. Vocabulary: <unk>, <s>, </s>, the 256 byte tokens, the training text's
 * characters, the learned merges, then <|im_start|> and <|im_end|>. Merges are learned like the byte-level
 * fixture's (greedy, ties to the smallest pair), over characters.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHATML_TEMPLATE, TRAINING_TEXT } from '../../fixtures/tiny-tokenizer.ts';

export interface TinySentencePieceFiles {
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
  vocabSize: number;
  specialIds: Record<string, number>;
}

export function buildTinySentencePieceTokenizer({ merges: numMerges = 200 }: { merges?: number } = {}): TinySentencePieceFiles {
  const words = new Map<string, number>();
  for (const line of TRAINING_TEXT.split('\n')) {
    const normalized = '▁' + line.replaceAll(' ', '▁');
    for (const m of normalized.matchAll(/▁*[^▁]+/g)) words.set(m[0], (words.get(m[0]) ?? 0) + 1);
  }
  // Newlines stay out of the vocabulary, so they take the byte-fallback path.
  const chars = [...new Set([...TRAINING_TEXT.replaceAll(' ', '▁')].filter((c) => c !== '\n'))].sort();
  const merges = trainCharBpe(words, numMerges);
  const vocab: Record<string, number> = { '<unk>': 0, '<s>': 1, '</s>': 2 };
  for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = 3 + b;
  for (const c of chars) vocab[c] ??= Object.keys(vocab).length;
  for (const [a, b] of merges) vocab[a + b] ??= Object.keys(vocab).length;
  const base = Object.keys(vocab).length;
  const specialIds: Record<string, number> = { '<unk>': 0, '<s>': 1, '</s>': 2, '<|im_start|>': base, '<|im_end|>': base + 1 };
  const addedTokens = Object.entries(specialIds).map(([content, id]) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
    pre_tokenizer: null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
    },
    decoder: {
      type: 'Sequence',
      decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }],
    },
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, ignore_merges: false, vocab, merges: merges.map(([a, b]) => `${a} ${b}`) },
  };
  const tokenizerConfig = {
    add_bos_token: true,
    add_eos_token: false,
    added_tokens_decoder: Object.fromEntries(addedTokens.map(({ id, ...rest }) => [String(id), rest])),
    bos_token: '<s>',
    eos_token: '<|im_end|>',
    unk_token: '<unk>',
    pad_token: null,
    chat_template: '{{- bos_token }}' + CHATML_TEMPLATE,
    clean_up_tokenization_spaces: false,
    model_max_length: 2048,
    tokenizer_class: 'LlamaTokenizerFast',
  };
  return { tokenizerJson, tokenizerConfig, vocabSize: base + 2, specialIds };
}

export function writeTinySentencePieceTokenizer(dir: string, options: { merges?: number } = {}): TinySentencePieceFiles {
  const files = buildTinySentencePieceTokenizer(options);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(files.tokenizerJson, null, 2));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(files.tokenizerConfig, null, 2));
  return files;
}

function trainCharBpe(wordCounts: Map<string, number>, numMerges: number): Array<[string, string]> {
  const words = Array.from(wordCounts, ([w, count]) => ({ symbols: Array.from(w), count }));
  const merges: Array<[string, string]> = [];
  while (merges.length < numMerges) {
    const pairCounts = new Map<string, number>();
    for (const { symbols, count } of words) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = symbols[i] + '\u0000' + symbols[i + 1];
        pairCounts.set(key, (pairCounts.get(key) ?? 0) + count);
      }
    }
    let best: string | null = null;
    let bestCount = 0;
    for (const [key, count] of pairCounts) {
      if (count > bestCount || (count === bestCount && best !== null && key < best)) {
        best = key;
        bestCount = count;
      }
    }
    if (best === null) throw new Error(`the training text only supports ${merges.length} merges, ${numMerges} asked`);
    const [a, b] = best.split('\u0000') as [string, string];
    merges.push([a, b]);
    for (const word of words) {
      const merged: string[] = [];
      for (let i = 0; i < word.symbols.length; i++) {
        if (i + 1 < word.symbols.length && word.symbols[i] === a && word.symbols[i + 1] === b) {
          merged.push(a + b);
          i++;
        } else merged.push(word.symbols[i]);
      }
      word.symbols = merged;
    }
  }
  return merges;
}
