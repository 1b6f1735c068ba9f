// The byte-level BPE trainer (used by the tiny test tokenizer and the bundled default model's build): its
// incremental pair counting learns exactly the merges of the plain "recount everything" algorithm, it stops or
// fails as asked when the text runs out of pairs, and its files load in the tokenizers library and round-trip.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  byteLevelBpeFiles,
  bytesToUnicode,
  GPT2_SPLIT,
  trainByteLevelBpe,
} from '../../../src/main/formats/tokenizer/bpe-trainer.ts';
import { HfTokenizer } from '../../../src/main/formats/tokenizer/index.ts';
import { TRAINING_TEXT } from '../../fixtures/tiny-tokenizer.ts';

/** The textbook algorithm: recount every pair after every merge; ties to the smallest pair. */
function naiveMerges(text: string, n: number): Array<[string, string]> {
  const table = bytesToUnicode();
  const counts = new Map<string, number>();
  for (const m of text.matchAll(GPT2_SPLIT)) {
    const w = Array.from(new TextEncoder().encode(m[0]), (b) => table[b]).join('\u0000');
    counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  const words = [...counts].map(([w, c]) => ({ s: w.split('\u0000'), c }));
  const merges: Array<[string, string]> = [];
  while (merges.length < n) {
    const pairs = new Map<string, number>();
    for (const { s, c } of words)
      for (let i = 0; i + 1 < s.length; i++)
        pairs.set(s[i] + '\u0000' + s[i + 1], (pairs.get(s[i] + '\u0000' + s[i + 1]) ?? 0) + c);
    let best: string | null = null;
    for (const [k, c] of pairs)
      if (best === null || c > pairs.get(best)! || (c === pairs.get(best)! && k < best)) best = k;
    if (best === null) break;
    const [a, b] = best.split('\u0000') as [string, string];
    merges.push([a, b]);
    for (const w of words) {
      const out: string[] = [];
      for (let i = 0; i < w.s.length; i++) {
        if (i + 1 < w.s.length && w.s[i] === a && w.s[i + 1] === b) {
          out.push(a + b);
          i++;
        } else out.push(w.s[i]!);
      }
      w.s = out;
    }
  }
  return merges;
}

describe('trainByteLevelBpe', () => {
  it('learns the same merges as the plain algorithm', () => {
    expect(trainByteLevelBpe(TRAINING_TEXT, 400)).toEqual(naiveMerges(TRAINING_TEXT, 400));
  });

  it('stops or fails, as asked, when the text runs out of pairs', () => {
    expect(() => trainByteLevelBpe('ab ab', 10)).toThrow(/only supports 2 merges, 10 asked/);
    expect(trainByteLevelBpe('ab ab', 10, { whenExhausted: 'stop' })).toEqual([
      ['a', 'b'],
      ['Ġ', 'ab'],
    ]);
    // pairs seen once are not merged with minPairCount 2
    expect(trainByteLevelBpe('ab ab cd', 10, { whenExhausted: 'stop', minPairCount: 2 })).toEqual([['a', 'b']]);
  });
});

describe('byteLevelBpeFiles', () => {
  it('writes files the tokenizers library loads: ids as laid out, any text round-trips, specials whole', () => {
    const merges = trainByteLevelBpe(TRAINING_TEXT, 300);
    const files = byteLevelBpeFiles({
      merges,
      specialTokens: ['<|endoftext|>', '<|im_start|>', '<|im_end|>'],
      bosToken: null,
      eosToken: '<|im_end|>',
      padToken: '<|endoftext|>',
      additionalSpecialTokens: ['<|im_start|>', '<|im_end|>'],
      chatTemplate:
        "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}{% endfor %}",
      modelMaxLength: 512,
    });
    expect(files.vocabSize).toBe(256 + 300 + 3);
    expect(files.specialIds['<|im_end|>']).toBe(256 + 300 + 2);
    const dir = mkdtempSync(join(tmpdir(), 'bpe-files-'));
    try {
      writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(files.tokenizerJson));
      writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(files.tokenizerConfig));
      writeFileSync(join(dir, 'special_tokens_map.json'), JSON.stringify(files.specialTokensMap));
      const tok = HfTokenizer.load(dir);
      for (const text of ['The analyst opens the studio.', 'ÜTF-8 ✓ 漢字\ttabs', '<|im_start|>user\nhi<|im_end|>'])
        expect(tok.decode(tok.encode(text))).toBe(text);
      expect(tok.encode(' the')).toEqual([256 + merges.findIndex(([a, b]) => a + b === 'Ġthe')]);
      expect(tok.encode('<|im_start|>')).toEqual([files.specialIds['<|im_start|>']]);
      expect(tok.special.eos?.content).toBe('<|im_end|>');
      expect(tok.special.pad?.content).toBe('<|endoftext|>');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
