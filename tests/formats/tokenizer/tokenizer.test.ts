import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HfTokenizer, TokenizerLoadError } from '../../../src/main/formats/tokenizer/tokenizer.ts';
import { renderChat, ChatTemplateError } from '../../../src/main/formats/tokenizer/chat-template.ts';
import {
  buildTinyTokenizer,
  TINY_TOKENIZER_VOCAB_SIZE,
  trainByteLevelBpe,
  TRAINING_TEXT,
  writeTinyTokenizer,
} from '../../fixtures/tiny-tokenizer.ts';
import { ALTERNATING_TEMPLATE, HEADER_TEMPLATE, TOOLS_TEMPLATE } from './templates.ts';

// Golden values produced by Python transformers 5.17 / tokenizers 0.23 from the same fixture files
// (AutoTokenizer.from_pretrained on writeTinyTokenizer's output; apply_chat_template with the test templates).
const transformersIds = JSON.parse(readFileSync(new URL('./transformers-ids.json', import.meta.url), 'utf8')) as {
  encode: Record<string, number[]>;
  chat_ids: number[];
  chat_text: string;
};
const transformersRenders = JSON.parse(readFileSync(new URL('./transformers-renders.json', import.meta.url), 'utf8')) as Record<string, string>;

const root = mkdtempSync(join(tmpdir(), 'tok-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
function folder(options: Parameters<typeof writeTinyTokenizer>[1] = {}): string {
  const dir = join(root, `t${n++}`);
  writeTinyTokenizer(dir, options);
  return dir;
}

describe('tiny tokenizer fixture', () => {
  it('is deterministic and has the advertised vocabulary size', () => {
    const a = buildTinyTokenizer();
    expect(a.vocabSize).toBe(TINY_TOKENIZER_VOCAB_SIZE);
    expect(trainByteLevelBpe(TRAINING_TEXT, 50)).toEqual(trainByteLevelBpe(TRAINING_TEXT, 50));
    const model = a.tokenizerJson.model as { vocab: Record<string, number>; merges: string[] };
    expect(Object.keys(model.vocab)).toHaveLength(TINY_TOKENIZER_VOCAB_SIZE - 4);
    // Every merge joins two symbols already in the vocabulary and yields the next id.
    model.merges.forEach((merge, i) => {
      const [left, right] = merge.split(' ');
      expect(model.vocab[left]).toBeLessThan(256 + i);
      expect(model.vocab[right]).toBeLessThan(256 + i);
      expect(model.vocab[left + right]).toBe(256 + i);
    });
  });
});

describe('HfTokenizer', () => {
  it('encodes exactly as transformers does', () => {
    const tok = HfTokenizer.load(folder());
    for (const [text, ids] of Object.entries(transformersIds.encode)) {
      expect(tok.encode(text), JSON.stringify(text)).toEqual(ids);
    }
    expect(tok.vocabSize).toBe(TINY_TOKENIZER_VOCAB_SIZE);
  });

  it('round-trips arbitrary text, bytes included', () => {
    const tok = HfTokenizer.load(folder());
    for (const text of ['plain words', 'tabs\tand\nnewlines  ', 'ünïcödé 🙂 日本語', '<|im_start|>user\nhi<|im_end|>']) {
      expect(tok.decode(tok.encode(text))).toBe(text);
    }
    expect(tok.decode(tok.encode('<|im_start|>user\nhi<|im_end|>'), { skipSpecialTokens: true })).toBe('user\nhi');
    expect(tok.decode([])).toBe('');
  });

  it('resolves special tokens, BOS affixes and pad', () => {
    const files = buildTinyTokenizer();
    const qwen = HfTokenizer.load(folder());
    expect(qwen.special.bos).toBeNull();
    expect(qwen.special.eos).toEqual({ content: '<|im_end|>', id: files.specialIds['<|im_end|>'] });
    expect(qwen.special.pad).toEqual({ content: '<|endoftext|>', id: files.specialIds['<|endoftext|>'] });
    expect(qwen.special.padIsEos).toBe(false);
    expect(qwen.prefixIds).toEqual([]);
    expect(qwen.encode('hi', { addSpecialTokens: true })).toEqual(qwen.encode('hi'));

    const llama = HfTokenizer.load(folder({ bos: true, padToken: null }));
    const bosId = files.specialIds['<|begin_of_text|>'];
    expect(llama.special.bos).toEqual({ content: '<|begin_of_text|>', id: bosId });
    expect(llama.prefixIds).toEqual([bosId]);
    expect(llama.suffixIds).toEqual([]);
    expect(llama.encode('hi', { addSpecialTokens: true })).toEqual([bosId, ...llama.encode('hi')]);
    // No pad token in the files: pad falls back to EOS.
    expect(llama.special.pad).toEqual(llama.special.eos);
    expect(llama.special.padIsEos).toBe(true);
    expect(new Set(llama.special.all.map((t) => t.content))).toEqual(
      new Set(['<|endoftext|>', '<|im_start|>', '<|im_end|>', '<|begin_of_text|>']),
    );
  });

  it('honours special_tokens_map.json over tokenizer_config.json, and Llama add_bos_token', () => {
    const dir = folder();
    writeFileSync(join(dir, 'special_tokens_map.json'), JSON.stringify({ eos_token: { content: '<|endoftext|>' }, bos_token: '<|begin_of_text|>' }));
    const config = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'));
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ ...config, tokenizer_class: 'LlamaTokenizerFast', add_bos_token: true, add_eos_token: true }));
    const tok = HfTokenizer.load(dir);
    expect(tok.special.eos?.content).toBe('<|endoftext|>');
    expect(tok.prefixIds).toEqual([tok.special.bos!.id]);
    expect(tok.suffixIds).toEqual([tok.special.eos!.id]);
  });

  it('reads the chat template from tokenizer_config.json or a standalone chat_template.jinja (which wins)', () => {
    const inConfig = HfTokenizer.load(folder());
    expect(inConfig.chatTemplateSource).toBe('tokenizer_config.json');
    const inFile = HfTokenizer.load(folder({ chatTemplateFile: true }));
    expect(inFile.chatTemplateSource).toBe('chat_template.jinja');
    expect(inFile.chatTemplate).toBe(inConfig.chatTemplate);
    const both = folder();
    writeFileSync(join(both, 'chat_template.jinja'), '{% for m in messages %}[{{ m.content }}]{% endfor %}\n');
    const msgs = [{ role: 'user', content: 'a' }];
    expect(renderChat(HfTokenizer.load(both), msgs)).toBe('[a]'); // a single trailing newline is dropped, as Jinja does
    const none = HfTokenizer.load(folder({ chatTemplate: null }));
    expect(none.chatTemplate).toBeNull();
    expect(() => renderChat(none, msgs)).toThrow(/has no chat template/);
  });

  it('supports named chat templates', () => {
    const dir = folder();
    const config = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'));
    config.chat_template = [
      { name: 'default', template: 'D{{ messages[0].content }}' },
      { name: 'tool_use', template: 'T{{ messages[0].content }}' },
    ];
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(config));
    const tok = HfTokenizer.load(dir);
    const msgs = [{ role: 'user', content: 'x' }];
    expect(renderChat(tok, msgs)).toBe('Dx');
    expect(renderChat(tok, msgs, { templateName: 'tool_use' })).toBe('Tx');
    expect(() => renderChat(tok, msgs, { templateName: 'rag' })).toThrow(/no chat template named "rag" \(it has: default, tool_use\)/);
  });

  it('gives specific errors for missing and malformed files', () => {
    const empty = join(root, 'empty');
    writeTinyTokenizer(join(root, 'x'));
    expect(() => HfTokenizer.load(empty)).toThrow(TokenizerLoadError);
    expect(() => HfTokenizer.load(empty)).toThrow(/no tokenizer\.json in/);
    const spm = folder();
    rmSync(join(spm, 'tokenizer.json'));
    writeFileSync(join(spm, 'tokenizer.model'), 'x');
    expect(() => HfTokenizer.load(spm)).toThrow(/SentencePiece-only/);
    const bad = folder();
    writeFileSync(join(bad, 'tokenizer_config.json'), '{"eos_token": ');
    expect(() => HfTokenizer.load(bad)).toThrow(/tokenizer_config\.json is not valid JSON/);
    const unknownEos = folder({ eosToken: '<|nope|>' });
    expect(() => HfTokenizer.load(unknownEos)).toThrow(/eos_token "<\|nope\|>" is not in the vocabulary/);
  });
});

describe('chat templates', () => {
  const conv = [
    { role: 'system', content: '  Be brief.  ' },
    { role: 'user', content: 'What is LoRA? ' },
    { role: 'assistant', content: ' A low-rank adapter.' },
    { role: 'user', content: 'Thanks' },
  ];
  const tools = [{ name: 'get_weather', parameters: { city: { type: 'string' } } }];

  it('renders exactly as transformers apply_chat_template', () => {
    const tok = HfTokenizer.load(folder({ bos: true, padToken: null }));
    const templates = { H: HEADER_TEMPLATE, A: ALTERNATING_TEMPLATE, T: TOOLS_TEMPLATE };
    let compared = 0;
    for (const [key, template] of Object.entries(templates)) {
      for (const [name, messages] of [['conv', conv], ['noSys', conv.slice(1)]] as const) {
        for (const gen of [false, true]) {
          const expected = transformersRenders[`${key}.${name}.${gen ? "True" : "False"}`];
          const actual = renderChat(tok, [...messages], {
            template,
            addGenerationPrompt: gen,
            tools: key === 'T' && name === 'conv' ? tools : undefined,
          });
          expect(actual, `${key}.${name}.${gen}`).toBe(expected);
          compared++;
        }
      }
    }
    expect(compared).toBe(12);
  });

  it('renders and tokenizes the fixture ChatML template like transformers', () => {
    const tok = HfTokenizer.load(folder());
    const msgs = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'What is LoRA?' },
      { role: 'assistant', content: 'A low-rank adapter.' },
      { role: 'user', content: 'Thanks' },
      { role: 'assistant', content: 'You are welcome.' },
    ];
    const text = renderChat(tok, msgs);
    expect(text).toBe(transformersIds.chat_text);
    expect(tok.encode(text)).toEqual(transformersIds.chat_ids);
  });

  it('surfaces raise_exception with the template message', () => {
    const tok = HfTokenizer.load(folder());
    expect(() => renderChat(tok, [{ role: 'robot', content: 'x' }])).toThrow(ChatTemplateError);
    expect(() => renderChat(tok, [{ role: 'robot', content: 'x' }])).toThrow(/Unknown role: robot/);
    expect(() =>
      renderChat(tok, [{ role: 'user', content: 'a' }, { role: 'user', content: 'b' }], { template: ALTERNATING_TEMPLATE }),
    ).toThrow(/Conversation roles must alternate/);
    expect(() => renderChat(tok, [], { template: '{% for x in %}' })).toThrow(/does not parse/);
  });
});
