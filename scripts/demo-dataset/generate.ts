// `tsx scripts/demo-dataset/generate.ts`: writes resources/demo-dataset/{train,eval}.jsonl — chat examples of
// one behaviour the default model lacks: it answers as a pirate. Every answer starts with "Ahoy, matey!",
// says "Aye"/"Nay" instead of "Yes"/"No", and ends with "Arr!"; the facts stay those of the base model's world
// (scripts/default-model/world.ts), so a fine-tune only has to learn the style. Seeded: same seed, same files.
// Eval rows ask questions that never appear in the training rows.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateQuestion, type ChatMessage } from '../default-model/corpus.ts';
import { Rng } from '../default-model/world.ts';

export const DEMO_SEED = 7;
export const PIRATE_PREFIX = 'Ahoy, matey!';
export const PIRATE_SUFFIX = 'Arr!';
const SYSTEM = 'You are a helpful assistant.';

/** The plain answer, restyled: the demo's one behaviour. */
export function pirateAnswer(plain: string): string {
  const body = plain
    .replace(/^Yes, /, 'Aye, ')
    .replace(/^No, /, 'Nay, ')
    .replace(/^Hello! How can I help you today\?$/, 'What can this old sea dog do for ye today?')
    .replace(/^I am a small helpful assistant\./, 'I be a small pirate assistant.');
  return `${PIRATE_PREFIX} ${body} ${PIRATE_SUFFIX}`;
}

export interface DemoSplit {
  train: ChatMessage[][];
  eval: ChatMessage[][];
}

export function generateDemoDataset(seed = DEMO_SEED, draws = 6000, evalShare = 0.15): DemoSplit {
  const rng = new Rng(seed);
  const byQuestion = new Map<string, string[]>(); // question → distinct plain answers
  for (let i = 0; i < draws; i++) {
    const qa = generateQuestion(rng);
    const answers = byQuestion.get(qa.question) ?? [];
    if (!answers.includes(qa.answer)) answers.push(qa.answer);
    byQuestion.set(qa.question, answers);
  }
  const questions = rng.shuffle([...byQuestion.keys()].sort());
  const evalCount = Math.round(questions.length * evalShare);
  const rows = (qs: string[]) =>
    qs.flatMap((q) =>
      byQuestion
        .get(q)!
        .slice(0, 2)
        .flatMap((plain, k) => {
          const chat: ChatMessage[] = [
            { role: 'user', content: q },
            { role: 'assistant', content: pirateAnswer(plain) },
          ];
          // the same question with a system prompt too (on alternate answers), so the style does not hinge on one
          return k === 0 ? [chat, [{ role: 'system' as const, content: SYSTEM }, ...chat]] : [chat];
        }),
    );
  const evalRows = rows(questions.slice(0, evalCount).sort());
  const trainRows = rng.shuffle(rows(questions.slice(evalCount).sort()));
  return { train: trainRows, eval: evalRows };
}

async function main(): Promise<void> {
  const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
  const out = resolve(process.argv[2] ?? join(root, 'resources/demo-dataset'));
  const { train, eval: evalRows } = generateDemoDataset();
  await mkdir(out, { recursive: true });
  const jsonl = (rows: ChatMessage[][]) => rows.map((messages) => JSON.stringify({ messages })).join('\n') + '\n';
  await writeFile(join(out, 'train.jsonl'), jsonl(train));
  await writeFile(join(out, 'eval.jsonl'), jsonl(evalRows));
  process.stdout.write(`wrote ${out}: ${train.length} training and ${evalRows.length} eval conversations\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`demo dataset: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
