// The bundled default model and demo dataset: an ordinary Hugging Face folder that the normal loader opens, a
// real byte-level BPE tokenizer with a ChatML template, weights that are actually pretrained (low perplexity on
// fresh stories from the corpus generator, chat answers in the template), and a demo dataset that its seeded
// script reproduces byte for byte, with eval questions never seen in training.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_DIR, DEMO_DATASET_DIR } from '../../src/main/cli/commands/demo.ts';
import { openModelFolder } from '../../src/main/formats/model/index.ts';
import { HfTokenizer, renderChat } from '../../src/main/formats/tokenizer/index.ts';
import { buildLlamaProgram, llamaConfigFromModelSpec } from '../../src/main/model/families/llama/program.ts';
import { countParams, createCpuTrainingSession } from '../../src/main/engine/index.ts';
import { generateDemoDataset, pirateAnswer } from '../../scripts/demo-dataset/generate.ts';
import { generateStory } from '../../scripts/default-model/corpus.ts';
import { Rng } from '../../scripts/default-model/world.ts';

describe('bundled default model', () => {
  it('is a Llama-style Hugging Face folder the ordinary loader opens; small enough to commit', async () => {
    const folder = await openModelFolder(DEFAULT_MODEL_DIR);
    try {
      expect(folder.spec.family).toBe('llama');
      expect(folder.spec.vocabSize).toBe(HfTokenizer.load(DEFAULT_MODEL_DIR).vocabSize);
      const params = countParams(buildLlamaProgram(llamaConfigFromModelSpec(folder.spec)));
      expect(params).toBeGreaterThan(3_000_000);
      expect(params).toBeLessThan(30_000_000);
    } finally {
      await folder.close();
    }
    expect(statSync(join(DEFAULT_MODEL_DIR, 'model.safetensors')).size).toBeLessThan(50 * 2 ** 20);
    const report = JSON.parse(readFileSync(join(DEFAULT_MODEL_DIR, 'training_report.json'), 'utf8')) as {
      pretrain: { steps: number };
      chat: { steps: number };
    };
    expect(report.pretrain.steps).toBeGreaterThan(0);
    expect(report.chat.steps).toBeGreaterThan(0);
  });

  it('has a byte-level BPE tokenizer (any text round-trips) with ChatML special tokens and template', () => {
    const tok = HfTokenizer.load(DEFAULT_MODEL_DIR);
    for (const text of [
      'Once upon a time, there was a little girl named Lily.',
      'Ünïcödé ✓ 漢字 and tabs\tand 123 numbers',
    ])
      expect(tok.decode(tok.encode(text))).toBe(text);
    expect(tok.encode('The cat says meow.').length).toBeLessThanOrEqual(6); // learned merges: about a token a word
    const text = renderChat(tok, [{ role: 'user', content: 'Hi!' }], { addGenerationPrompt: true });
    expect(text).toBe('<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n');
    const ids = tok.encode(text);
    expect(ids[0]).toBe(tok.tokenToId('<|im_start|>'));
    expect(tok.special.eos?.content).toBe('<|im_end|>');
  });

  it('is pretrained: low perplexity on fresh stories, and greedy chat answers in plain English that end the turn', async () => {
    const folder = await openModelFolder(DEFAULT_MODEL_DIR);
    const program = buildLlamaProgram(llamaConfigFromModelSpec(folder.spec));
    const weights = new Map<string, Float32Array>();
    for (const d of program.params) weights.set(d.name, await folder.readHf(d.name));
    await folder.close();
    const tok = HfTokenizer.load(DEFAULT_MODEL_DIR);
    const session = await createCpuTrainingSession({ program, weights, seed: 0, threads: 1 });
    try {
      // stories from a seed the build never used
      const rng = new Rng(987_654);
      const rows = Array.from({ length: 8 }, () => tok.encode(generateStory(rng)));
      const T = Math.max(...rows.map((r) => r.length));
      const inputIds = new Int32Array(rows.length * T);
      const labels = new Int32Array(rows.length * T).fill(-100);
      const mask = new Uint8Array(rows.length * T);
      rows.forEach((r, b) => {
        r.forEach((id, t) => {
          inputIds[b * T + t] = id;
          mask[b * T + t] = 1;
          if (t + 1 < r.length) labels[b * T + t] = r[t + 1]!;
        });
      });
      const { nllPerSequence, tokensPerSequence } = await session.evaluate({
        B: rows.length,
        T,
        inputIds,
        attentionMask: mask,
        labels,
      });
      const ppl = Math.exp(nllPerSequence.reduce((a, b) => a + b, 0) / tokensPerSequence.reduce((a, b) => a + b, 0));
      expect(ppl).toBeLessThan(4); // a random model of this vocabulary sits near 1,349

      const V = program.params.find((d) => d.name === 'model.embed_tokens.weight')!.shape[0]!;
      const ids = tok.encode(
        renderChat(tok, [{ role: 'user', content: 'What sound does a cow make?' }], { addGenerationPrompt: true }),
      );
      const end = tok.tokenToId('<|im_end|>');
      const out: number[] = [];
      for (let i = 0; i < 24; i++) {
        const n = ids.length;
        const { logits } = await session.forward({
          B: 1,
          T: n,
          inputIds: Int32Array.from(ids),
          attentionMask: new Uint8Array(n).fill(1),
          labels: new Int32Array(n).fill(-100),
        });
        let best = 0;
        for (let v = 1; v < V; v++) if (logits[(n - 1) * V + v]! > logits[(n - 1) * V + best]!) best = v;
        if (best === end) break;
        ids.push(best);
        out.push(best);
      }
      expect(out.length).toBeLessThan(24); // it ends its turn
      expect(tok.decode(out)).toMatch(/\bmoo\b/);
    } finally {
      await session.dispose();
    }
  }, 60_000);
});

describe('demo dataset', () => {
  const read = (name: string) => readFileSync(join(DEMO_DATASET_DIR, name), 'utf8');
  const parse = (text: string) =>
    text
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { messages: { role: string; content: string }[] }).messages);

  it('is what its seeded script generates, byte for byte', () => {
    const { train, eval: evalRows } = generateDemoDataset();
    const jsonl = (rows: unknown[][]) => rows.map((messages) => JSON.stringify({ messages })).join('\n') + '\n';
    expect(read('train.jsonl')).toBe(jsonl(train));
    expect(read('eval.jsonl')).toBe(jsonl(evalRows));
  });

  it('teaches one behaviour: every answer is in the pirate style; eval questions never appear in training', () => {
    const train = parse(read('train.jsonl'));
    const evalRows = parse(read('eval.jsonl'));
    expect(train.length).toBeGreaterThan(300);
    expect(evalRows.length).toBeGreaterThan(50);
    for (const chat of [...train, ...evalRows]) {
      const answer = chat.at(-1)!;
      expect(answer.role).toBe('assistant');
      expect(answer.content).toMatch(/^Ahoy, matey! .+ Arr!$/);
    }
    const question = (chat: { role: string; content: string }[]) => chat.find((m) => m.role === 'user')!.content;
    const seen = new Set(train.map(question));
    for (const chat of evalRows) expect(seen.has(question(chat)), question(chat)).toBe(false);
    expect(pirateAnswer('Yes, a duck can swim.')).toBe('Ahoy, matey! Aye, a duck can swim. Arr!');
  });
});
