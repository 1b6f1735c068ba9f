import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HfTokenizer } from '../../../src/main/formats/tokenizer/tokenizer.ts';
import { ExampleRenderer, pinTemplate, renderExample, RenderError } from '../../../src/main/formats/tokenizer/render.ts';
import { ChatTemplateError, renderChat } from '../../../src/main/formats/tokenizer/chat-template.ts';
import { PromptTemplateError } from '../../../src/main/formats/tokenizer/prompt-template.ts';
import { tokenPieces } from '../../../src/main/formats/tokenizer/pieces.ts';
import type { Example } from '../../../src/main/formats/dataset/types.ts';
import { writeTinyTokenizer } from '../../fixtures/tiny-tokenizer.ts';
import { english, HANGUL, korean } from '../../common/api/phrase-check.ts';

// transformers 5.17's own assistant mask (return_assistant_tokens_mask with {% generation %} tags around
// each assistant reply and its <|im_end|>) for a conversation, on the fixture tokenizer.
const reference = JSON.parse(readFileSync(new URL('./transformers-assistant-mask.json', import.meta.url), 'utf8')) as {
  template: string;
  messages: Array<{ role: string; content: string }>;
  ids: number[];
  mask: number[];
};

const root = mkdtempSync(join(tmpdir(), 'render-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
writeTinyTokenizer(join(root, 'qwen'));
writeTinyTokenizer(join(root, 'llama'), { bos: true, padToken: null });
const qwen = HfTokenizer.load(join(root, 'qwen'));
const llama = HfTokenizer.load(join(root, 'llama'));

/** The text of the trained tokens, run by run. */
function trainedRuns(tok: HfTokenizer, ids: Int32Array, trained: Uint8Array): string[] {
  const runs: string[] = [];
  let current: number[] = [];
  for (let i = 0; i <= ids.length; i++) {
    if (i < ids.length && trained[i]) current.push(ids[i]);
    else if (current.length) {
      runs.push(tok.decode(current));
      current = [];
    }
  }
  return runs;
}

describe('chat examples', () => {
  const chat: Example = { kind: 'chat', messages: reference.messages };

  it('trains exactly the tokens transformers marks as assistant tokens', () => {
    const out = renderExample(qwen, chat, { type: 'chat' });
    expect(Array.from(out.ids)).toEqual(reference.ids);
    expect(Array.from(out.trained)).toEqual(reference.mask);
    expect(out.truncated).toBe(false);
    expect(out.warnings).toEqual([]);
    // The same with the {% generation %}-tagged template (the tags render to nothing).
    const tagged = renderExample(qwen, chat, { type: 'chat', template: reference.template });
    expect(Array.from(tagged.trained)).toEqual(reference.mask);
  });

  it('trained tokens are the assistant replies and their end token', () => {
    const out = renderExample(qwen, chat, { type: 'chat' });
    expect(trainedRuns(qwen, out.ids, out.trained)).toEqual([
      'A low-rank adapter.<|im_end|>',
      'You are welcome, the team says.<|im_end|>',
    ]);
    expect(out.trainedTokens).toBe(reference.mask.reduce((a, b) => a + b, 0));
    expect(out.text).toBe(qwen.decode(out.ids));
  });

  it('turns prompt/completion pairs into a user/assistant exchange, with an optional system prompt', () => {
    const pair: Example = { kind: 'completion', prompt: 'What is the loss?', completion: 'The number the trainer watches.' };
    const out = renderExample(qwen, pair, { type: 'chat', systemPrompt: 'Be brief.' });
    expect(out.text).toBe(
      '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWhat is the loss?<|im_end|>\n<|im_start|>assistant\nThe number the trainer watches.<|im_end|>\n',
    );
    expect(trainedRuns(qwen, out.ids, out.trained)).toEqual(['The number the trainer watches.<|im_end|>']);
  });

  it('does not train turns a template rewrites, and fails when the last one cannot be found', () => {
    // Earlier assistant turns are hidden in the full conversation (as "thinking" templates do).
    const hiding =
      "{%- for m in messages %}{%- if m.role == 'assistant' and not loop.last %}{{ '<|im_start|>assistant\\n(earlier)<|im_end|>\\n' }}" +
      "{%- else %}{{ '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}{%- endif %}{%- endfor %}" +
      "{%- if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{%- endif %}";
    const out = renderExample(qwen, chat, { type: 'chat', template: hiding });
    expect(out.warnings).toHaveLength(1);
    expect(out.warnings[0]).toMatch(/assistant message 3 is not trained/);
    expect(trainedRuns(qwen, out.ids, out.trained)).toEqual(['You are welcome, the team says.<|im_end|>']);

    const reversed = "{%- for m in messages|reverse %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{%- endfor %}";
    expect(() => renderExample(qwen, chat, { type: 'chat', template: reversed })).toThrow(ChatTemplateError);
  });

  it('moves an assistant boundary that a merge crosses, and says so', () => {
    // The generation prompt ends with a space that byte-level BPE glues to the reply's first word ("Ġthe").
    const glued =
      "{%- for m in messages %}{{ '<|im_start|>' + m.role + ': ' + m.content + '<|im_end|>' }}{%- endfor %}" +
      "{%- if add_generation_prompt %}{{ '<|im_start|>assistant: ' }}{%- endif %}";
    const example: Example = { kind: 'completion', prompt: 'Colour?', completion: 'the grey one' };
    const out = renderExample(qwen, example, { type: 'chat', template: glued });
    expect(out.text).toBe('<|im_start|>user: Colour?<|im_end|><|im_start|>assistant: the grey one<|im_end|>');
    expect(out.warnings).toHaveLength(1);
    expect(out.warnings[0]).toMatch(/crosses the boundary/);
    // the warning as a code with its figures beside the English, so the previewer says it in the UI's language
    expect(out.warningPhrases).toEqual([{ code: 'render.boundaryMoved', params: { at: expect.any(Number), excerpt: expect.any(String), token: expect.any(Number) } }]);
    expect(english(out.warningPhrases[0])).toBe(out.warnings[0]);
    expect(korean(out.warningPhrases[0], out.warnings[0])).toMatch(HANGUL);
    expect(trainedRuns(qwen, out.ids, out.trained)).toEqual([' the grey one<|im_end|>']);
    expect(Array.from(out.ids)).toEqual(qwen.encode(out.text));
  });

  it('agrees with tokenizing every prompt prefix in full (TRL\'s way) on random conversations', () => {
    let seed = 12345;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
    const words = ['the', 'model', ' loss', 'é', '你好', '  ', '\n', 'rank16', '!', '<|im_end|>', 'adapter', "'s", '🙂'];
    const say = () => Array.from({ length: 1 + rand(12) }, () => words[rand(words.length)]).join(rand(2) ? ' ' : '');
    for (let c = 0; c < 40; c++) {
      const messages: Array<{ role: string; content: string }> = [];
      if (rand(2)) messages.push({ role: 'system', content: say() });
      for (let t = 0, turns = 1 + rand(3); t < turns; t++) messages.push({ role: 'user', content: say() }, { role: 'assistant', content: say() });
      const out = renderExample(qwen, { kind: 'chat', messages }, { type: 'chat' });
      const expected = new Array(out.ids.length).fill(0);
      messages.forEach((m, i) => {
        if (m.role !== 'assistant') return;
        const from = qwen.encode(renderChat(qwen, messages.slice(0, i), { addGenerationPrompt: true })).length;
        const to = qwen.encode(renderChat(qwen, messages.slice(0, i + 1)).replace(/\n$/, '')).length;
        expected.fill(1, from, to);
      });
      expect(Array.from(out.ids)).toEqual(qwen.encode(out.text));
      expect(Array.from(out.trained), JSON.stringify(messages)).toEqual(expected);
    }
  });

  it('passes template variables through (apply_chat_template keyword arguments)', () => {
    const head = "'<|im_start|>assistant\\n' + ('' if enable_thinking else '<think></think>')";
    const thinking =
      "{%- for m in messages %}{%- if m.role == 'assistant' %}{{ " + head + " + m.content + '<|im_end|>\\n' }}" +
      "{%- else %}{{ '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}{%- endif %}{%- endfor %}" +
      "{%- if add_generation_prompt %}{{ " + head + " }}{%- endif %}";
    const example: Example = { kind: 'completion', prompt: 'Hi', completion: 'Hello.' };
    const off = renderExample(qwen, example, { type: 'chat', template: thinking, variables: { enable_thinking: false } });
    expect(off.text).toBe('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think></think>Hello.<|im_end|>\n');
    expect(trainedRuns(qwen, off.ids, off.trained)).toEqual(['Hello.<|im_end|>']);
    const on = renderExample(qwen, example, { type: 'chat', template: thinking, variables: { enable_thinking: true } });
    expect(on.text).not.toContain('<think>');
  });

  it('warns when a conversation has nothing to train', () => {
    const out = renderExample(qwen, { kind: 'chat', messages: [{ role: 'user', content: 'hi' }] }, { type: 'chat' });
    expect(out.trainedTokens).toBe(0);
    expect(out.warnings[0]).toMatch(/no assistant turn/);
    expect(out.warningPhrases).toEqual([{ code: 'render.noAssistant', params: {} }]);
    expect(korean(out.warningPhrases[0], out.warnings[0])).toBe('대화에 assistant 차례가 없어 학습할 것이 없습니다');
  });

  it('pins the chat template source into the spec, and renders the same with it', () => {
    const pinned = pinTemplate(qwen, { type: 'chat', systemPrompt: 'Be brief.' });
    expect(pinned).toEqual({ type: 'chat', systemPrompt: 'Be brief.', template: qwen.chatTemplate });
    expect(renderExample(qwen, chat, pinned).text).toBe(renderExample(qwen, chat, { type: 'chat', systemPrompt: 'Be brief.' }).text);
    expect(pinTemplate(qwen, { type: 'plain' })).toEqual({ type: 'plain' });
  });

  it("keeps the template's BOS and does not add another one", () => {
    const out = renderExample(llama, chat, { type: 'chat' });
    const bos = llama.special.bos!.id;
    expect(out.ids[0]).toBe(bos);
    expect(Array.from(out.ids).filter((id) => id === bos)).toHaveLength(1);
    expect(out.trained[0]).toBe(0);
  });
});

describe('text, plain and prompt templates', () => {
  it('trains every token of plain text and appends a trained EOS; BOS is added and not trained', () => {
    const out = renderExample(llama, { kind: 'text', text: 'The loss falls as the model learns.' }, { type: 'chat' });
    const body = llama.encode('The loss falls as the model learns.');
    expect(Array.from(out.ids)).toEqual([llama.special.bos!.id, ...body, llama.special.eos!.id]);
    expect(Array.from(out.trained)).toEqual([0, ...body.map(() => 1), 1]);
    expect(out.text).toBe('<|begin_of_text|>The loss falls as the model learns.<|im_end|>');
    const noEos = renderExample(llama, { kind: 'text', text: 'abc' }, { type: 'plain' }, { appendEos: false });
    expect(Array.from(noEos.ids)).toEqual([llama.special.bos!.id, ...llama.encode('abc')]);
  });

  it('plain template: prompt + completion, only the completion (and EOS) trained', () => {
    const out = renderExample(qwen, { kind: 'completion', prompt: 'Q: what rank?\nA:', completion: ' sixteen' }, { type: 'plain' });
    expect(out.text).toBe('Q: what rank?\nA: sixteen<|im_end|>');
    expect(trainedRuns(qwen, out.ids, out.trained)).toEqual([' sixteen<|im_end|>']);
    expect(out.warnings).toEqual([]);
  });

  it('prompt template with a column mapping, moving a boundary a merge crosses and saying so', () => {
    const example: Example = {
      kind: 'completion',
      prompt: 'ignored',
      completion: 'ignored',
      fields: { passage: 'The weather is grey.', query: 'What colour is the sky', answer: 'the grey one.' },
    };
    const spec = {
      type: 'prompt' as const,
      template: '### context: {input}\n### question: {question}\n### answer: {target}',
      columns: { input: 'passage', question: 'query', target: 'answer' },
    };
    const out = renderExample(qwen, example, spec);
    expect(out.text).toBe('### context: The weather is grey.\n### question: What colour is the sky\n### answer: the grey one.<|im_end|>');
    // "answer: " + "the": byte-level BPE glues the space to "the" (the merge "Ġthe"), so that token straddles the boundary.
    expect(out.warnings).toHaveLength(1);
    expect(out.warnings[0]).toMatch(/crosses the boundary/);
    expect(trainedRuns(qwen, out.ids, out.trained)).toEqual([' the grey one.<|im_end|>']);

    const clean = renderExample(qwen, example, { ...spec, template: '### context: {input}\n### answer:{target}' });
    expect(clean.warnings).toEqual([]);
    expect(trainedRuns(qwen, clean.ids, clean.trained)).toEqual(['the grey one.<|im_end|>']);
  });

  it('prompt template without a target: the pair\'s completion is appended and trained', () => {
    // Alpaca-style row: no "prompt" column, so {prompt} reaches the example's prompt (instruction + input).
    const example: Example = {
      kind: 'completion',
      prompt: 'Name a colour.',
      completion: 'Grey.',
      fields: { instruction: 'Name a colour.', input: '', output: 'Grey.' },
    };
    const out = renderExample(qwen, example, { type: 'prompt', template: '### Question: {prompt}\n### Answer:' });
    expect(out.text).toBe('### Question: Name a colour.\n### Answer:Grey.<|im_end|>');
    expect(trainedRuns(qwen, out.ids, out.trained)).toEqual(['Grey.<|im_end|>']);
    // A column wins over the canonical name; plain text rows train whole.
    const text = renderExample(qwen, { kind: 'text', text: 'ignored', fields: { text: 'The sky.' } }, { type: 'prompt', template: 'Note: {text}' });
    expect(trainedRuns(qwen, text.ids, text.trained)).toEqual(['Note: The sky.<|im_end|>']);
  });

  it('explains prompt template problems', () => {
    const row: Example = { kind: 'text', text: 't', fields: { a: '1' } };
    expect(() => renderExample(qwen, row, { type: 'prompt', template: '{a} {b}' })).toThrow(/placeholder \{b\} reads column "b", which this row does not have \(columns: text, a\)/);
    expect(() => renderExample(qwen, row, { type: 'prompt', template: 'no placeholders' })).toThrow(PromptTemplateError);
    // each with its code and figures (the wizard's template step shows it in the UI's language)
    const missing = (() => {
      try {
        renderExample(qwen, row, { type: 'prompt', template: '{a} {b}' });
      } catch (e) {
        return e as PromptTemplateError;
      }
    })()!;
    expect(missing.phrase).toEqual({ code: 'template.noColumn', params: { placeholder: 'b', column: 'b', columns: 'text, a' } });
    expect(english(missing.phrase)).toBe(missing.message);
    expect(korean(missing.phrase, missing.message)).toBe('자리표시자 {b}는 "b" 열을 읽는데 이 행에는 그 열이 없습니다 (열: text, a)');
    expect(() => renderExample(qwen, row, { type: 'prompt', template: '{a' })).toThrow(/never closed/);
    expect(() => renderExample(qwen, row, { type: 'prompt', template: '{a}', target: 'z' })).toThrow(/no \{z\} placeholder/);
    expect(renderExample(qwen, row, { type: 'prompt', template: '{{literal}} {a}' }).text).toBe('{literal} 1<|im_end|>');
    expect(() => renderExample(qwen, { kind: 'chat', messages: [] }, { type: 'prompt', template: '{a}' })).toThrow(RenderError);
    expect(() => renderExample(qwen, { kind: 'chat', messages: [] }, { type: 'plain' })).toThrow(/need a chat template/);
  });
});

describe('truncation and options', () => {
  const long: Example = { kind: 'completion', prompt: 'Tell me about training.', completion: ' Training a model means showing it examples again and again.' };

  it('cuts to maxLength, keeps the head and reports it', () => {
    const full = renderExample(qwen, long, { type: 'chat' });
    const cut = renderExample(qwen, long, { type: 'chat' }, { maxLength: 20 });
    expect(cut.truncated).toBe(true);
    expect(cut.fullLength).toBe(full.ids.length);
    expect(Array.from(cut.ids)).toEqual(Array.from(full.ids.slice(0, 20)));
    expect(Array.from(cut.trained)).toEqual(Array.from(full.trained.slice(0, 20)));
    const tiny = renderExample(qwen, long, { type: 'chat' }, { maxLength: 5 });
    expect(tiny.trainedTokens).toBe(0);
    expect(tiny.warnings.join()).toMatch(/no trained token is left/);
    expect(() => new ExampleRenderer(qwen, { type: 'chat' }, { maxLength: 0 })).toThrow(/positive integer/);
  });

  it("trainOn 'all' trains every token", () => {
    const out = renderExample(llama, long, { type: 'plain' }, { trainOn: 'all' });
    expect(Array.from(out.trained)).toEqual([0, ...Array.from(out.ids.slice(1), () => 1)]);
  });
});

describe('token pieces for the previewer', () => {
  it('groups the bytes of one character and flags special and trained tokens', () => {
    const out = renderExample(qwen, { kind: 'completion', prompt: 'Say hi', completion: '你好 café' }, { type: 'chat' });
    const pieces = tokenPieces(qwen, out.ids, out.trained);
    expect(pieces.map((p) => p.text).join('')).toBe(out.text);
    expect(pieces.every((p) => !p.text.includes('\uFFFD'))).toBe(true);
    expect(pieces.filter((p) => p.text === '你')).toHaveLength(1);
    expect(pieces.find((p) => p.text === '你')!.ids.length).toBe(3);
    expect(pieces.filter((p) => p.special).map((p) => p.text)).toEqual(['<|im_start|>', '<|im_end|>', '<|im_start|>', '<|im_end|>']);
    expect(pieces.filter((p) => p.trained).map((p) => p.text).join('')).toBe('你好 café<|im_end|>');
  });
});
