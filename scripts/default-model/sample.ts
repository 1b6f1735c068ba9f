// `npx tsx scripts/default-model/sample.ts [model-dir]`: what the default model writes — story continuations
// (greedy and sampled) and chat answers — through the engine's KV-cache generation. Used for the model README.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ChatModel } from '../../src/main/engine/generate/chat-model.ts';
import { generate } from '../../src/main/engine/generate/generate.ts';

const dir = resolve(process.argv[2] ?? fileURLToPath(new URL('../../resources/default-model', import.meta.url)));
const model = await ChatModel.open(dir, { threads: 1 });
const greedy = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 0 };
const sampled = { temperature: 0.8, topK: 40, topP: 0.95, repetitionPenalty: 1.1, seed: 1 };
const eos = model.eosTokenIds;
for (const [label, sampling] of [
  ['greedy', greedy],
  ['sampled (T=0.8, seed 1)', sampled],
] as const) {
  for (const prompt of ['Once upon a time, there was a little girl named', 'It was a rainy day, and']) {
    const ids = model.tokenizer.encode(prompt);
    const r = await generate(model.decoder.withAdapters([]), model.tokenizer, ids, {
      ...sampling,
      maxNewTokens: 80,
      eosTokenIds: eos,
      stop: [],
    });
    process.stdout.write(`[${label}] ${prompt}${r.text}\n\n`);
  }
}
for (const question of [
  'What sound does a cow make?',
  'Can a fish fly?',
  'Where do bears live?',
  'What is 3 plus 4?',
  'Tell me a short story about a frog.',
  'Who are you?',
]) {
  const r = await model.answer([{ role: 'user', content: question }], [], { ...greedy, maxNewTokens: 80, stop: [] });
  process.stdout.write(`user: ${question}\nassistant: ${r.text.trim()}\n\n`);
}
await model.dispose();
