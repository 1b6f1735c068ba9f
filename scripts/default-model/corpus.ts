// The default model's training text, generated from a seed: short children's stories, plain paragraphs of
// facts about the world in world.ts, and ChatML conversations where an assistant answers simple questions in a
// plain style. Everything here is written by this script (no third-party text), so the corpus carries the
// project's own licence. Same seed → same corpus, byte for byte.
import {
  ANIMALS,
  BAD_FEELINGS,
  BOYS,
  COLOURED_THINGS,
  COLOURS,
  FOODS,
  GIRLS,
  GOOD_FEELINGS,
  NUMBER_WORDS,
  OBJECTS,
  PLACES,
  RELATIVES,
  WEATHER,
  Rng,
  article,
  capitalize,
  type Animal,
} from './world.ts';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

interface Hero {
  name: string;
  he: string; // he / she
  his: string; // his / her
  him: string;
  kind: string; // boy / girl
}

function hero(rng: Rng): Hero {
  return rng.chance(0.5)
    ? { name: rng.pick(GIRLS), he: 'she', his: 'her', him: 'her', kind: 'girl' }
    : { name: rng.pick(BOYS), he: 'he', his: 'his', him: 'him', kind: 'boy' };
}

function friendOf(rng: Rng, h: Hero): Hero {
  let f = hero(rng);
  while (f.name === h.name) f = hero(rng);
  return f;
}

const OPENINGS = ['Once upon a time', 'One day', 'Long ago', 'One morning', 'Last summer', 'One evening'];

function storyLostObject(rng: Rng): string {
  const h = hero(rng);
  const f = friendOf(rng, h);
  const obj = rng.pick(OBJECTS);
  const adj = rng.pick(COLOURS);
  const place = rng.pick(PLACES);
  const bad = rng.pick(BAD_FEELINGS);
  const good = rng.pick(GOOD_FEELINGS);
  const hidden = rng.pick([
    'under a big tree',
    'behind a rock',
    'in the tall grass',
    'under a bench',
    'near the water',
    'in a bush',
  ]);
  const s = [
    `${rng.pick(OPENINGS)}, there was a little ${h.kind} named ${h.name}.`,
    `${h.name} had ${article(adj)} ${obj}. ${capitalize(h.he)} loved to play with it in ${place}.`,
    `One day, the ${obj} was gone. ${h.name} looked everywhere, but ${h.he} could not find it.`,
    `${h.name} felt ${bad}.`,
    `Then ${h.his} friend ${f.name} came by. ${f.name} said, "Do not be ${bad}. I will help you."`,
    `They looked together, and they found the ${obj} ${hidden}.`,
    `${h.name} was ${good}. ${capitalize(h.he)} said, "Thank you, ${f.name}!"`,
    rng.pick([
      `They played with the ${obj} until the sun went down.`,
      `From that day on, ${h.name} kept the ${obj} in a safe place.`,
      `Then they went home and had ${rng.pick(FOODS)} for dinner.`,
    ]),
  ];
  return s.join(' ');
}

function storyAnimal(rng: Rng): string {
  const h = hero(rng);
  const a = rng.pick(ANIMALS);
  const rel = rng.pick(RELATIVES);
  const weather = rng.pick(WEATHER);
  const s = [
    `It was a ${weather} day. ${h.name} went to ${a.home.startsWith('on the farm') ? 'the farm' : rng.pick(PLACES)} with ${h.his} ${rel}.`,
    `There, ${h.he} saw ${article(a.name)}.`,
    `The ${a.name} said, "${capitalize(a.sound)}!" ${h.name} laughed.`,
    `"Why does the ${a.name} say ${a.sound}?" asked ${h.name}.`,
    `"That is how ${a.plural} talk," said ${h.his} ${rel}.`,
    `${h.name} gave the ${a.name} some ${a.food}. The ${a.name} ate it all.`,
    `${capitalize(a.plural)} like ${a.food}, and they live ${a.home}.`,
    rng.chance(0.5)
      ? `The ${a.name} can ${rng.pick(a.can)}, but it cannot ${rng.pick(a.cannot)}.`
      : `The ${a.name} was ${a.size === 'big' ? 'big and strong' : 'small and quick'}.`,
    `When it was time to go, ${h.name} waved and said, "Goodbye, ${a.name}!"`,
    `${capitalize(h.he)} was ${rng.pick(GOOD_FEELINGS)} all the way home.`,
  ];
  return s.join(' ');
}

function storySharing(rng: Rng): string {
  const h = hero(rng);
  const f = friendOf(rng, h);
  const food = rng.pick(FOODS);
  const n = 2 + rng.int(5);
  const s = [
    `${rng.pick(OPENINGS)}, ${h.name} and ${f.name} were at ${rng.pick(PLACES)}.`,
    `${h.name} had ${NUMBER_WORDS[n * 2]} ${food === 'cake' || food === 'pie' || food === 'soup' || food === 'bread' || food === 'rice' ? `pieces of ${food}` : food}. ${f.name} had none.`,
    `${f.name} looked ${rng.pick(BAD_FEELINGS)}.`,
    `${h.name} thought for a moment. Then ${h.he} said, "Let us share. You can have ${NUMBER_WORDS[n]} and I will have ${NUMBER_WORDS[n]}."`,
    `${f.name} smiled. "You are a good friend," ${f.he} said.`,
    `They sat in the ${rng.pick(['sun', 'shade', 'grass'])} and ate together.`,
    `Sharing made them both ${rng.pick(GOOD_FEELINGS)}.`,
  ];
  return s.join(' ');
}

function storyWeather(rng: Rng): string {
  const h = hero(rng);
  const rel = rng.pick(RELATIVES);
  const obj = rng.pick(OBJECTS);
  const rainy = rng.chance(0.5);
  const s = rainy
    ? [
        `It was a rainy day, and ${h.name} could not go outside.`,
        `${capitalize(h.he)} sat by the window and felt ${rng.pick(BAD_FEELINGS)}.`,
        `${capitalize(h.his)} ${rel} came and said, "Let us build a fort with a blanket."`,
        `They built a big fort in the living room. Inside the fort, they read a book about ${rng.pick(ANIMALS).plural}.`,
        `Soon the rain stopped, and the sun came out.`,
        `${h.name} said, "Rainy days can be fun too!"`,
      ]
    : [
        `The sun was shining, and the sky was blue.`,
        `${h.name} took ${h.his} ${obj} and ran to ${rng.pick(PLACES)}.`,
        `${capitalize(h.he)} played all morning with ${h.his} ${rel}.`,
        `At noon they ate ${rng.pick(FOODS)} under a tree.`,
        `Then a ${rng.pick(['bird', 'bee', 'duck', 'rabbit', 'frog'])} came close and looked at them.`,
        `${h.name} stayed very still, and the animal was not scared.`,
        `It was the best day of the summer.`,
      ];
  return s.join(' ');
}

function storyLesson(rng: Rng): string {
  const h = hero(rng);
  const task = rng.pick([
    ['ride a bike', 'fell down', 'rode all the way around the park'],
    ['swim', 'swallowed some water', 'swam to the other side of the pool'],
    ['draw a cat', 'made a funny drawing', 'drew a beautiful cat'],
    ['tie a shoe', 'made a big knot', 'tied a perfect bow'],
    ['read a book', 'did not know a word', 'read the whole book'],
  ] as const);
  const rel = rng.pick(RELATIVES);
  const s = [
    `${h.name} wanted to learn to ${task[0]}.`,
    `The first time ${h.he} tried, ${h.he} ${task[1]}.`,
    `${capitalize(h.he)} felt ${rng.pick(BAD_FEELINGS)} and wanted to stop.`,
    `${capitalize(h.his)} ${rel} said, "Everyone makes mistakes. Try again, and do not give up."`,
    `So ${h.name} tried again, and again, and again.`,
    `At last, ${h.he} ${task[2]}!`,
    `${h.name} was very ${rng.pick(GOOD_FEELINGS)}. ${capitalize(h.he)} learned that practice helps.`,
  ];
  return s.join(' ');
}

const STORIES = [storyLostObject, storyAnimal, storySharing, storyWeather, storyLesson];

export function generateStory(rng: Rng): string {
  return rng.pick(STORIES)(rng);
}

export function animalFacts(rng: Rng, a: Animal): string[] {
  const facts = [
    `${capitalize(article(a.name))} is ${a.kind}.`,
    `${capitalize(article(a.name))} says ${a.sound}.`,
    `${capitalize(a.plural)} eat ${a.food}.`,
    `${capitalize(a.plural)} live ${a.home}.`,
    `${capitalize(article(a.name))} can ${a.can.join(' and ')}.`,
    `${capitalize(article(a.name))} cannot ${rng.pick(a.cannot)}.`,
    `${capitalize(article(a.name))} is a ${a.size} animal.`,
  ];
  return facts;
}

/** A plain expository paragraph: about one animal, or about colours of things, or counting. */
export function generateFactParagraph(rng: Rng): string {
  const r = rng.next();
  if (r < 0.6) {
    const a = rng.pick(ANIMALS);
    const facts = rng.shuffle(animalFacts(rng, a).slice(1));
    return [
      rng.pick([`Let me tell you about ${a.plural}.`, `This is about the ${a.name}.`, `Do you know the ${a.name}?`]),
      animalFacts(rng, a)[0],
      ...facts.slice(0, 3 + rng.int(3)),
    ].join(' ');
  }
  if (r < 0.85) {
    const items = rng.shuffle([...COLOURED_THINGS]).slice(0, 4);
    return [`Many things have colours.`, ...items.map(([t, c]) => `The ${t} is ${c}.`)].join(' ');
  }
  const a = 1 + rng.int(9);
  const b = 1 + rng.int(9);
  return `We can count. ${capitalize(NUMBER_WORDS[a])} and ${NUMBER_WORDS[b]} make ${NUMBER_WORDS[a + b]}. ${a} plus ${b} is ${a + b}.`;
}

/** One question with its plain answer; `kind` names the question family. The demo dataset restyles these. */
export interface QuestionAnswer {
  kind: string;
  question: string;
  answer: string;
}

export function generateQuestion(rng: Rng): QuestionAnswer {
  const a = rng.pick(ANIMALS);
  const r = rng.int(10);
  switch (r) {
    case 0:
      return {
        kind: 'sound',
        question: rng.pick([`What sound does ${article(a.name)} make?`, `What does ${article(a.name)} say?`]),
        answer: `${capitalize(article(a.name))} says ${a.sound}.`,
      };
    case 1:
      return {
        kind: 'food',
        question: rng.pick([`What does ${article(a.name)} eat?`, `What do ${a.plural} eat?`]),
        answer: `${capitalize(a.plural)} eat ${a.food}.`,
      };
    case 2:
      return {
        kind: 'home',
        question: rng.pick([`Where does ${article(a.name)} live?`, `Where do ${a.plural} live?`]),
        answer: `${capitalize(a.plural)} live ${a.home}.`,
      };
    case 3: {
      const yes = rng.chance(0.5);
      const ability = yes ? rng.pick(a.can) : rng.pick(a.cannot);
      return {
        kind: 'ability',
        question: `Can ${article(a.name)} ${ability}?`,
        answer: yes ? `Yes, ${article(a.name)} can ${ability}.` : `No, ${article(a.name)} cannot ${ability}.`,
      };
    }
    case 4: {
      const [thing, colour] = rng.pick(COLOURED_THINGS);
      return {
        kind: 'colour',
        question: rng.pick([`What colour is the ${thing}?`, `What color is the ${thing}?`]),
        answer: `The ${thing} is ${colour}.`,
      };
    }
    case 5: {
      const x = rng.int(10);
      const y = rng.int(10);
      return {
        kind: 'sum',
        question: rng.pick([`What is ${x} plus ${y}?`, `How much is ${x} and ${y}?`]),
        answer: `${x} plus ${y} is ${x + y}.`,
      };
    }
    case 6:
      return {
        kind: 'about',
        question: rng.pick([`Tell me about ${a.plural}.`, `What do you know about ${a.plural}?`]),
        answer: rng.shuffle(animalFacts(rng, a)).slice(0, 3).join(' '),
      };
    case 7:
      return {
        kind: 'kind',
        question: `What is ${article(a.name)}?`,
        answer: `${capitalize(article(a.name))} is ${a.kind}. ${capitalize(a.plural)} live ${a.home}.`,
      };
    case 8: {
      const greet = rng.pick(['Hello!', 'Hi!', 'Good morning!', 'Hi there!', 'Hello, who are you?', 'Who are you?']);
      const answer = greet.includes('who')
        ? 'I am a small helpful assistant. I can answer simple questions about animals, colours and numbers.'
        : 'Hello! How can I help you today?';
      return { kind: 'greeting', question: greet, answer };
    }
    default:
      return {
        kind: 'size',
        question: `Is ${article(a.name)} big or small?`,
        answer: `${capitalize(article(a.name))} is a ${a.size} animal.`,
      };
  }
}

/** A ChatML conversation in the base model's plain assistant style (one or two turns). */
export function generateChat(rng: Rng): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (rng.chance(0.3)) messages.push({ role: 'system', content: 'You are a helpful assistant.' });
  const turns = rng.chance(0.25) ? 2 : 1;
  for (let t = 0; t < turns; t++) {
    if (rng.chance(0.1)) {
      const a = rng.pick(ANIMALS);
      messages.push({ role: 'user', content: `Tell me a short story about ${article(a.name)}.` });
      messages.push({ role: 'assistant', content: storyAnimalAbout(rng, a) });
      continue;
    }
    const qa = generateQuestion(rng);
    messages.push({ role: 'user', content: qa.question });
    messages.push({ role: 'assistant', content: qa.answer });
  }
  return messages;
}

function storyAnimalAbout(rng: Rng, a: Animal): string {
  const h = hero(rng);
  return [
    `${h.name} met ${article(a.name)} ${a.home}.`,
    `The ${a.name} said, "${capitalize(a.sound)}!"`,
    `${h.name} gave it some ${a.food}, and the ${a.name} was ${rng.pick(GOOD_FEELINGS)}.`,
    `They became good friends.`,
  ].join(' ');
}

/** ChatML as the tokenizer's chat template renders it (no generation prompt). */
export function renderChatML(messages: readonly ChatMessage[]): string {
  return messages.map((m) => `<|im_start|>${m.role}\n${m.content}<|im_end|>\n`).join('');
}

export interface CorpusOptions {
  seed: number;
  stories: number;
  facts: number;
  chats: number;
}

export interface Corpus {
  /** Plain documents (stories and fact paragraphs), shuffled. */
  texts: string[];
  /** Chat conversations. */
  chats: ChatMessage[][];
}

export function generateCorpus(o: CorpusOptions): Corpus {
  const rng = new Rng(o.seed);
  const texts: string[] = [];
  for (let i = 0; i < o.stories; i++) texts.push(generateStory(rng));
  for (let i = 0; i < o.facts; i++) texts.push(generateFactParagraph(rng));
  rng.shuffle(texts);
  const chats: ChatMessage[][] = [];
  for (let i = 0; i < o.chats; i++) chats.push(generateChat(rng));
  return { texts, chats };
}
