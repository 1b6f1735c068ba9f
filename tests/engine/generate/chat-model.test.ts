// Chat on a model folder: the prompt goes through the chat template with the generation prompt, adapters read
// from PEFT folders attach / detach / scale / combine on the one loaded base, and sampling is reproducible.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatModel, type LoadedAdapter } from '../../../src/main/engine/generate/chat-model.ts';
import { renderChat } from '../../../src/main/formats/tokenizer/index.ts';
import { makeChatFixture, type ChatFixture } from './fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'gen-chat-'));
let fx: ChatFixture;
let chat: ChatModel;
let a0: LoadedAdapter, a1: LoadedAdapter;
beforeAll(async () => {
  fx = await makeChatFixture(dir, { adapters: 2 });
  chat = await ChatModel.open(fx.model.dir, { threads: 1 });
  a0 = await chat.loadAdapter(fx.adapters[0], 'tuned');
  a1 = await chat.loadAdapter(fx.adapters[1], 'other');
});
afterAll(async () => {
  await chat?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const messages = [{ role: 'user', content: 'Say something.' }];
const greedy = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 0, maxNewTokens: 12, stop: [] };

describe('ChatModel', () => {
  it('renders the conversation with the generation prompt and tokenizes it without extra specials', () => {
    const ids = chat.promptIds(messages);
    const text = renderChat(chat.tokenizer, messages, { addGenerationPrompt: true });
    expect(text.endsWith('<|im_start|>assistant\n')).toBe(true);
    expect(chat.tokenizer.decode(ids)).toBe(text);
    expect(() => chat.promptIds([])).toThrow(/no messages/);
  });

  it('answers with the base, with an adapter, at scale 0 (= base), and with two adapters combined', async () => {
    const deltas: string[] = [];
    const base = await chat.answer(messages, [], { ...greedy, onDelta: (d) => deltas.push(d) });
    expect(base.tokenIds.length).toBeGreaterThan(0);
    expect(deltas.join('')).toBe(base.text);
    const tuned = await chat.answer(messages, [{ adapter: a0.factors, weight: 1 }], greedy);
    expect(tuned.adapters).toEqual(['tuned']);
    expect(tuned.tokenIds).not.toEqual(base.tokenIds);
    const zero = await chat.answer(messages, [{ adapter: a0.factors, weight: 0 }], greedy);
    expect(zero.tokenIds).toEqual(base.tokenIds);
    const both = await chat.answer(messages, [{ adapter: a0.factors, weight: 1 }, { adapter: a1.factors, weight: 0.5 }], greedy);
    expect(both.adapters).toEqual(['tuned', 'other']);
    expect(both.tokenIds).not.toEqual(tuned.tokenIds);
  });

  it('two answers (base and tuned) can be generated at the same time over the one loaded base', async () => {
    const [b, t] = await Promise.all([chat.answer(messages, [], greedy), chat.answer(messages, [{ adapter: a0.factors, weight: 1 }], greedy)]);
    expect(b.tokenIds).toEqual((await chat.answer(messages, [], greedy)).tokenIds);
    expect(t.tokenIds).toEqual((await chat.answer(messages, [{ adapter: a0.factors, weight: 1 }], greedy)).tokenIds);
  });

  it('sampling with a seed is reproducible', async () => {
    const sample = { ...greedy, temperature: 1.2, topK: 40, topP: 0.95, repetitionPenalty: 1.1, maxNewTokens: 16 };
    const x = await chat.answer(messages, [], { ...sample, seed: 5 });
    const y = await chat.answer(messages, [], { ...sample, seed: 5 });
    expect(y.text).toBe(x.text);
    const others = await Promise.all([6, 7, 8].map((seed) => chat.answer(messages, [], { ...sample, seed })));
    expect(others.some((o) => o.text !== x.text)).toBe(true);
  });
});

describe('ChatModel on other families', () => {
  it('GPT-2: answers, and stops with "length" at its last learned position', async () => {
    const d = mkdtempSync(join(tmpdir(), 'gen-chat-gpt2-'));
    try {
      const fx2 = await makeChatFixture(d, { adapters: 0, family: 'gpt2' });
      const m = await ChatModel.open(fx2.model.dir, { threads: 1 });
      const r = await m.answer(messages, [], { ...greedy, maxNewTokens: 1000, repetitionPenalty: 1.3 });
      const max = m.decoder.maxPositions!;
      expect(max).toBe(128);
      // every fed token has a position; the last one sampled (from position max − 1) is never fed
      if (r.finishReason === 'length') expect(r.promptTokens + r.tokenIds.length).toBe(max + 1);
      else expect(r.finishReason).toBe('eos');
      await expect(m.answer([{ role: 'user', content: 'word '.repeat(200) }], [], greedy)).rejects.toThrow(/at most 128 \(its learned positions\)/);
      await m.dispose();
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
