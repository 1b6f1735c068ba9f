// `tsx scripts/encoder-data/generate.ts`: writes the bundled encoder-task datasets under resources/encoder-data/,
// in the layouts the public datasets use, so the same files exercise the readers real data goes through:
//   sst2/train.jsonl, sst2/validation.jsonl   GLUE SST-2 as the Hub serves it: {"sentence", "label" (0 = negative,
//                                             1 = positive), "idx"} per line;
//   squad/train-v1.1.json, squad/dev-v1.1.json  SQuAD v1.1's official nested layout: {"version", "data": [{"title",
//                                             "paragraphs": [{"context", "qas": [{"id", "question", "answers":
//                                             [{"text", "answer_start"}]}]}]}]}.
// The text talks about the default model's small world (scripts/default-model/world.ts), whose corpus the bundled
// encoder is pretrained on. Seeded: same seed, same bytes. Evaluation rows never repeat a training row: a sentence
// (SST-2) or a context (SQuAD) drawn for evaluation is dropped from training.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ANIMALS,
  BOYS,
  COLOURS,
  FOODS,
  GIRLS,
  OBJECTS,
  PLACES,
  RELATIVES,
  Rng,
  WEATHER,
  GOOD_FEELINGS,
  BAD_FEELINGS,
  capitalize,
} from '../default-model/world.ts';

export const ENCODER_DATA_SEED = 14;
export const SST2_LABELS = ['negative', 'positive'] as const;

// ------------------------------------------------------------------------------------------------------------
// SST-2 style: one sentence, positive or negative. Negation ("was not good") and contrast ("… but … in the end")
// make the label depend on more than one word.

const GOOD = [
  'good',
  'great',
  'wonderful',
  'lovely',
  'fun',
  'nice',
  'amazing',
  'beautiful',
  'delightful',
  'charming',
  'funny',
  'perfect',
];
const BAD = [
  'bad',
  'terrible',
  'awful',
  'boring',
  'dull',
  'horrible',
  'ugly',
  'slow',
  'silly',
  'annoying',
  'sad',
  'messy',
];
const LIKE = ['loved', 'liked', 'enjoyed', 'adored'];
const DISLIKE = ['hated', 'disliked', 'could not stand', 'regretted'];
const INTENSIFIERS = ['', '', 'really ', 'very ', 'so ', 'quite '];

export interface Sst2Row {
  sentence: string;
  label: 0 | 1;
  idx: number;
}

function subject(rng: Rng): string {
  const animal = rng.pick(ANIMALS);
  return rng.pick([
    () => 'the story',
    () => 'the film',
    () => 'the song',
    () => `the trip to ${rng.pick(PLACES)}`,
    () => `the ${rng.pick(FOODS)}`,
    () => `the ${animal.name} show`,
    () => `the book about the ${animal.plural}`,
    () => `our day at ${rng.pick(PLACES)}`,
    () => `the new ${rng.pick(OBJECTS)}`,
    () => `the party at ${rng.pick(PLACES)}`,
  ])();
}

/** One sentence and whether it is positive. */
export function sentimentSentence(rng: Rng): { sentence: string; positive: boolean } {
  const positive = rng.next() < 0.5;
  const adj = (good: boolean) => rng.pick(good ? GOOD : BAD);
  const name = rng.pick([...GIRLS, ...BOYS]);
  const s = subject(rng);
  const kind = rng.int(8);
  let sentence: string;
  switch (kind) {
    case 0:
      sentence = `${capitalize(s)} was ${rng.pick(INTENSIFIERS)}${adj(positive)}.`;
      break;
    case 1: // negation flips the adjective
      sentence = `${capitalize(s)} was not ${rng.pick(['', 'very ', 'at all '])}${adj(!positive)}.`
        .replace('not at all ', 'not ')
        .replace(/ at all \./, '.');
      break;
    case 2:
      sentence = `I ${rng.pick(positive ? LIKE : DISLIKE)} ${s}.`;
      break;
    case 3:
      sentence = `${name} said ${s} was ${adj(positive)}.`;
      break;
    case 4:
      sentence =
        `What ${rng.pick(['a', 'a'])} ${adj(positive)} ${rng.pick(['day', 'film', 'story', 'trip', 'song', 'party'])}!`.replace(
          /^What a ([aeiou])/,
          'What an $1',
        );
      break;
    case 5: // contrast: the second half decides
      sentence = `${capitalize(s)} was ${adj(!positive)} at first but ${adj(positive)} in the end.`;
      break;
    case 6:
      sentence = `${capitalize(s)} was ${adj(positive)} and ${adj(positive)}.`;
      break;
    default:
      sentence = `${name} felt ${rng.pick(positive ? GOOD_FEELINGS : BAD_FEELINGS)} after ${s}.`;
  }
  return { sentence, positive };
}

export function generateSst2(
  seed = ENCODER_DATA_SEED,
  trainRows = 6000,
  evalRows = 600,
): { train: Sst2Row[]; validation: Sst2Row[] } {
  const rng = new Rng(seed);
  const validation: Sst2Row[] = [];
  const held = new Set<string>();
  while (validation.length < evalRows) {
    const { sentence, positive } = sentimentSentence(rng);
    if (held.has(sentence)) continue;
    held.add(sentence);
    validation.push({ sentence, label: positive ? 1 : 0, idx: validation.length });
  }
  const train: Sst2Row[] = [];
  for (let draws = 0; train.length < trainRows && draws < trainRows * 20; draws++) {
    const { sentence, positive } = sentimentSentence(rng);
    if (held.has(sentence)) continue; // evaluation sentences never train
    train.push({ sentence, label: positive ? 1 : 0, idx: train.length });
  }
  return { train, validation };
}

// ------------------------------------------------------------------------------------------------------------
// SQuAD style: a short paragraph and questions whose answers are spans of it. Paragraphs about one or two
// children (names, places, companions and things change every time, so the answer must be read, not recalled)
// and about animals (whose facts the pretraining corpus states).

export interface SquadAnswer {
  text: string;
  answer_start: number;
}
export interface SquadQuestion {
  id: string;
  question: string;
  answers: SquadAnswer[];
}
export interface SquadParagraph {
  context: string;
  qas: SquadQuestion[];
}
export interface SquadFile {
  version: string;
  data: Array<{ title: string; paragraphs: SquadParagraph[] }>;
}

interface Fact {
  sentence: string;
  answer: string; // a substring of the sentence
  question: string;
}

/** Sentences with the answer each one holds, joined into a context with exact character offsets. */
function paragraph(facts: Fact[], extra: string[], rng: Rng, id: () => string, perParagraph: number): SquadParagraph {
  const sentences = rng.shuffle([...new Set([...facts.map((f) => f.sentence), ...extra])]);
  const context = sentences.join(' ');
  const asked = rng.shuffle([...facts]).slice(0, perParagraph);
  const qas = asked.map((f) => {
    const at = context.indexOf(f.sentence) + f.sentence.indexOf(f.answer);
    if (f.sentence.indexOf(f.answer) < 0 || context.slice(at, at + f.answer.length) !== f.answer)
      throw new Error(`generator bug: "${f.answer}" not in "${f.sentence}"`);
    return { id: id(), question: f.question, answers: [{ text: f.answer, answer_start: at }] };
  });
  return { context, qas };
}

function childFacts(rng: Rng, name: string, girl: boolean): Fact[] {
  const his = girl ? 'her' : 'his';
  const place = rng.pick(PLACES);
  const relative = rng.pick(RELATIVES);
  const colour = rng.pick(COLOURS);
  const object = rng.pick(OBJECTS);
  const food = rng.pick(FOODS);
  const feeling = rng.pick([...GOOD_FEELINGS, ...BAD_FEELINGS]);
  const animal = rng.pick(ANIMALS);
  const went = `${name} went to ${place} with ${his} ${relative}.`; // two questions read this sentence
  return [
    { sentence: went, answer: place, question: `Where did ${name} go?` },
    { sentence: went, answer: `${his} ${relative}`, question: `Who went with ${name}?` },
    {
      sentence: `${rng.pick(['There', 'Later'])} ${name} found a ${colour} ${object}.`,
      answer: colour,
      question: `What colour was the ${object} ${name} found?`,
    },
    { sentence: `${name} ate ${food} for lunch.`, answer: food, question: `What did ${name} eat for lunch?` },
    {
      sentence: `${name} saw a ${animal.name} near the path.`,
      answer: `a ${animal.name}`,
      question: `What did ${name} see near the path?`,
    },
    {
      sentence: `At the end of the day ${name} felt ${feeling}.`,
      answer: feeling,
      question: `How did ${name} feel at the end of the day?`,
    },
  ];
}

function animalParagraphFacts(rng: Rng): { facts: Fact[]; extra: string[] } {
  const a = rng.pick(ANIMALS);
  const The = `The ${a.name}`;
  return {
    facts: [
      { sentence: `${The} eats ${a.food}.`, answer: a.food, question: `What does the ${a.name} eat?` },
      { sentence: `${The} lives ${a.home}.`, answer: a.home, question: `Where does the ${a.name} live?` },
      { sentence: `${The} says ${a.sound}.`, answer: a.sound, question: `What does the ${a.name} say?` },
      { sentence: `${The} can ${a.can[0]}.`, answer: a.can[0], question: `What can the ${a.name} do?` },
    ],
    extra: [`${The} is ${a.kind}.`],
  };
}

function squadParagraph(rng: Rng, id: () => string): { title: string; paragraph: SquadParagraph } {
  const r = rng.next();
  if (r < 0.25) {
    const { facts, extra } = animalParagraphFacts(rng);
    return { title: 'Animals', paragraph: paragraph(facts, extra, rng, id, 2) };
  }
  const girl = rng.next() < 0.5;
  const name = rng.pick(girl ? GIRLS : BOYS);
  const weather = rng.pick(WEATHER);
  const facts = childFacts(rng, name, girl);
  const extra = [`It was a ${weather} day.`];
  if (r < 0.55) {
    // a second child with other facts: the question's name decides which sentence holds the answer
    const girl2 = rng.next() < 0.5;
    const other = rng.pick((girl2 ? GIRLS : BOYS).filter((n) => n !== name));
    const facts2 = childFacts(rng, other, girl2);
    const picked = rng.shuffle([...facts]).slice(0, 3);
    const picked2 = rng.shuffle([...facts2]).slice(0, 3);
    return { title: 'Two friends', paragraph: paragraph([...picked, ...picked2], extra, rng, id, 3) };
  }
  return { title: 'A day out', paragraph: paragraph(facts, extra, rng, id, 3) };
}

export function generateSquad(
  seed = ENCODER_DATA_SEED + 1,
  trainParagraphs = 2500,
  evalParagraphs = 250,
): { train: SquadFile; dev: SquadFile } {
  const rng = new Rng(seed);
  let n = 0;
  const id = () => `q${String(n++).padStart(6, '0')}`;
  const file = (paragraphs: Array<{ title: string; paragraph: SquadParagraph }>): SquadFile => {
    const byTitle = new Map<string, SquadParagraph[]>();
    for (const p of paragraphs) byTitle.set(p.title, [...(byTitle.get(p.title) ?? []), p.paragraph]);
    return { version: '1.1', data: [...byTitle].map(([title, ps]) => ({ title, paragraphs: ps })) };
  };
  const dev: Array<{ title: string; paragraph: SquadParagraph }> = [];
  const held = new Set<string>();
  while (dev.length < evalParagraphs) {
    const p = squadParagraph(rng, id);
    if (held.has(p.paragraph.context)) continue;
    held.add(p.paragraph.context);
    dev.push(p);
  }
  const train: Array<{ title: string; paragraph: SquadParagraph }> = [];
  while (train.length < trainParagraphs) {
    const p = squadParagraph(rng, id);
    if (!held.has(p.paragraph.context)) train.push(p);
  }
  return { train: file(train), dev: file(dev) };
}

async function main(): Promise<void> {
  const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
  const out = join(root, 'resources/encoder-data');
  const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
  const sst2 = generateSst2();
  await mkdir(join(out, 'sst2'), { recursive: true });
  await writeFile(join(out, 'sst2/train.jsonl'), jsonl(sst2.train));
  await writeFile(join(out, 'sst2/validation.jsonl'), jsonl(sst2.validation));
  const squad = generateSquad();
  await mkdir(join(out, 'squad'), { recursive: true });
  await writeFile(join(out, 'squad/train-v1.1.json'), JSON.stringify(squad.train) + '\n');
  await writeFile(join(out, 'squad/dev-v1.1.json'), JSON.stringify(squad.dev) + '\n');
  const questions = (f: SquadFile) =>
    f.data.reduce((s, d) => s + d.paragraphs.reduce((t, p) => t + p.qas.length, 0), 0);
  process.stdout.write(
    `sst2: ${sst2.train.length} train, ${sst2.validation.length} validation; squad: ${questions(squad.train)} train, ${questions(squad.dev)} dev questions → ${out}\n`,
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
