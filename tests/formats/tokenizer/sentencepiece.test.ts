// A Llama-2 / SentencePiece-style tokenizer.json (Prepend + Replace normalizer, byte fallback, <s> added by
// the post-processor): ids as the Rust `tokenizers` library gives for the same file, and training masks.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HfTokenizer } from '../../../src/main/formats/tokenizer/tokenizer.ts';
import { renderChat } from '../../../src/main/formats/tokenizer/chat-template.ts';
import { renderExample } from '../../../src/main/formats/tokenizer/render.ts';
import { writeTinySentencePieceTokenizer } from './sentencepiece-fixture.ts';

const root = mkdtempSync(join(tmpdir(), 'sp-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const files = writeTinySentencePieceTokenizer(root);
const tok = HfTokenizer.load(root);

// From tokenizers 0.23 (Rust): Tokenizer.from_file(tokenizer.json).encode(text).ids, and decode.
const RUST = [
  ['The analyst trains a model.', [1, 344, 315, 480, 380, 300, 311, 334, 263], '<s> The analyst trains a model.'],
  ['é 你好 \t\n  x', [1, 308, 198, 172, 308, 231, 192, 163, 232, 168, 192, 308, 12, 13, 308, 308, 305], '<s> é 你好 \t\n  x'],
  ['<|im_start|>user\nhi there<|im_end|>\n', [1, 509, 308, 449, 313, 13, 289, 290, 312, 374, 510, 308, 13], '<s><|im_start|> user\nhi there<|im_end|> \n'],
] as const;

describe('SentencePiece-style BPE with byte fallback', () => {
  it('encodes and decodes like the Rust tokenizers library', () => {
    expect(tok.vocabSize).toBe(files.vocabSize);
    for (const [text, ids, decoded] of RUST) {
      expect(tok.encode(text, { addSpecialTokens: true }), text).toEqual(ids);
      expect(tok.decode(ids)).toBe(decoded);
    }
  });

  it('adds <s> for a Llama tokenizer class and pads with EOS', () => {
    expect(tok.prefixIds).toEqual([1]);
    expect(tok.special.bos).toEqual({ content: '<s>', id: 1 });
    expect(tok.special.pad).toEqual(tok.special.eos);
  });

  it('trains exactly the assistant tokens (checked against tokenizing each prompt prefix in full)', () => {
    let seed = 99;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
    const words = ['the', 'model', ' loss', 'é', '你好', '  ', '\n', 'rank', '16', '!', 'adapter', '🙂', '<|im_end|>'];
    const say = () => Array.from({ length: 1 + rand(10) }, () => words[rand(words.length)]).join(rand(2) ? ' ' : '');
    for (let c = 0; c < 30; c++) {
      const messages: Array<{ role: string; content: string }> = [];
      for (let t = 0, turns = 1 + rand(3); t < turns; t++) messages.push({ role: 'user', content: say() }, { role: 'assistant', content: say() });
      const out = renderExample(tok, { kind: 'chat', messages }, { type: 'chat' });
      expect(out.ids[0]).toBe(1); // the template's <s>, once
      expect(Array.from(out.ids)).toEqual(tok.encode(out.text));
      const expected = new Array(out.ids.length).fill(0);
      messages.forEach((m, i) => {
        if (m.role !== 'assistant') return;
        const from = tok.encode(renderChat(tok, messages.slice(0, i), { addGenerationPrompt: true })).length;
        const to = tok.encode(renderChat(tok, messages.slice(0, i + 1)).replace(/\n$/, '')).length;
        expected.fill(1, from, to);
      });
      expect(Array.from(out.trained), JSON.stringify(messages)).toEqual(expected);
    }
  });
});
