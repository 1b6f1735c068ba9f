// The small, consistent world the default model's generated corpus talks about: animals with their sounds,
// food, homes and abilities, things with their colours, names, places and objects. The pretraining corpus
// (corpus.ts) and the demo dataset (scripts/demo-dataset) draw from the same facts, so a fine-tune on the demo
// data changes the *style* of the answers, not what the model knows.

export interface Animal {
  name: string;
  plural: string;
  sound: string; // what it "says"
  food: string;
  home: string; // a phrase that follows "lives"
  can: string[];
  cannot: string[];
  kind: string; // "a bird", "a fish", ...
  size: 'big' | 'small';
}

export const ANIMALS: readonly Animal[] = [
  {
    name: 'cat',
    plural: 'cats',
    sound: 'meow',
    food: 'fish',
    home: 'in the house',
    can: ['climb trees', 'jump'],
    cannot: ['fly', 'swim'],
    kind: 'a pet',
    size: 'small',
  },
  {
    name: 'dog',
    plural: 'dogs',
    sound: 'woof',
    food: 'bones',
    home: 'in the house',
    can: ['run fast', 'swim', 'dig'],
    cannot: ['fly', 'climb trees'],
    kind: 'a pet',
    size: 'small',
  },
  {
    name: 'cow',
    plural: 'cows',
    sound: 'moo',
    food: 'grass',
    home: 'on the farm',
    can: ['walk', 'eat all day'],
    cannot: ['fly', 'climb trees', 'jump'],
    kind: 'a farm animal',
    size: 'big',
  },
  {
    name: 'duck',
    plural: 'ducks',
    sound: 'quack',
    food: 'seeds',
    home: 'near the pond',
    can: ['swim', 'fly'],
    cannot: ['climb trees'],
    kind: 'a bird',
    size: 'small',
  },
  {
    name: 'horse',
    plural: 'horses',
    sound: 'neigh',
    food: 'hay',
    home: 'on the farm',
    can: ['run fast', 'jump'],
    cannot: ['fly', 'climb trees'],
    kind: 'a farm animal',
    size: 'big',
  },
  {
    name: 'sheep',
    plural: 'sheep',
    sound: 'baa',
    food: 'grass',
    home: 'on the farm',
    can: ['walk', 'run'],
    cannot: ['fly', 'swim'],
    kind: 'a farm animal',
    size: 'big',
  },
  {
    name: 'pig',
    plural: 'pigs',
    sound: 'oink',
    food: 'apples',
    home: 'on the farm',
    can: ['dig', 'run'],
    cannot: ['fly', 'climb trees'],
    kind: 'a farm animal',
    size: 'big',
  },
  {
    name: 'bird',
    plural: 'birds',
    sound: 'tweet',
    food: 'seeds',
    home: 'in a nest',
    can: ['fly', 'sing'],
    cannot: ['swim'],
    kind: 'an animal with wings',
    size: 'small',
  },
  {
    name: 'frog',
    plural: 'frogs',
    sound: 'ribbit',
    food: 'flies',
    home: 'near the pond',
    can: ['jump', 'swim'],
    cannot: ['fly', 'climb trees'],
    kind: 'a small green animal',
    size: 'small',
  },
  {
    name: 'owl',
    plural: 'owls',
    sound: 'hoot',
    food: 'mice',
    home: 'in a tree',
    can: ['fly', 'see at night'],
    cannot: ['swim'],
    kind: 'a bird',
    size: 'small',
  },
  {
    name: 'lion',
    plural: 'lions',
    sound: 'roar',
    food: 'meat',
    home: 'in the grass land',
    can: ['run fast', 'jump'],
    cannot: ['fly'],
    kind: 'a big cat',
    size: 'big',
  },
  {
    name: 'bee',
    plural: 'bees',
    sound: 'buzz',
    food: 'nectar from flowers',
    home: 'in a hive',
    can: ['fly', 'make honey'],
    cannot: ['swim'],
    kind: 'an insect',
    size: 'small',
  },
  {
    name: 'mouse',
    plural: 'mice',
    sound: 'squeak',
    food: 'cheese',
    home: 'in a small hole',
    can: ['run', 'climb'],
    cannot: ['fly'],
    kind: 'a small animal',
    size: 'small',
  },
  {
    name: 'rabbit',
    plural: 'rabbits',
    sound: 'sniff',
    food: 'carrots',
    home: 'in a burrow',
    can: ['jump', 'dig', 'run fast'],
    cannot: ['fly', 'climb trees'],
    kind: 'a small animal',
    size: 'small',
  },
  {
    name: 'fox',
    plural: 'foxes',
    sound: 'yip',
    food: 'berries and mice',
    home: 'in the forest',
    can: ['run fast', 'dig'],
    cannot: ['fly'],
    kind: 'a wild animal',
    size: 'small',
  },
  {
    name: 'bear',
    plural: 'bears',
    sound: 'growl',
    food: 'honey and fish',
    home: 'in the forest',
    can: ['climb trees', 'swim'],
    cannot: ['fly'],
    kind: 'a big wild animal',
    size: 'big',
  },
  {
    name: 'hen',
    plural: 'hens',
    sound: 'cluck',
    food: 'corn',
    home: 'on the farm',
    can: ['lay eggs', 'run'],
    cannot: ['swim'],
    kind: 'a bird',
    size: 'small',
  },
  {
    name: 'goat',
    plural: 'goats',
    sound: 'maa',
    food: 'leaves',
    home: 'on the hill',
    can: ['climb rocks', 'jump'],
    cannot: ['fly'],
    kind: 'a farm animal',
    size: 'big',
  },
  {
    name: 'fish',
    plural: 'fish',
    sound: 'blub',
    food: 'small plants',
    home: 'in the water',
    can: ['swim'],
    cannot: ['walk', 'fly'],
    kind: 'an animal that lives in water',
    size: 'small',
  },
  {
    name: 'monkey',
    plural: 'monkeys',
    sound: 'ooh ooh',
    food: 'bananas',
    home: 'in the jungle',
    can: ['climb trees', 'jump'],
    cannot: ['fly'],
    kind: 'a wild animal',
    size: 'small',
  },
];

/** Things with a fixed colour ("the sky is blue"). */
export const COLOURED_THINGS: ReadonlyArray<readonly [thing: string, colour: string]> = [
  ['sky', 'blue'],
  ['grass', 'green'],
  ['snow', 'white'],
  ['sun', 'yellow'],
  ['banana', 'yellow'],
  ['apple', 'red'],
  ['carrot', 'orange'],
  ['milk', 'white'],
  ['night', 'dark'],
  ['leaf', 'green'],
  ['sea', 'blue'],
  ['strawberry', 'red'],
  ['cloud', 'white'],
  ['lemon', 'yellow'],
  ['orange', 'orange'],
  ['coal', 'black'],
  ['frog', 'green'],
  ['tomato', 'red'],
];

export const GIRLS = [
  'Lily',
  'Mia',
  'Anna',
  'Lucy',
  'Emma',
  'Zoe',
  'Sara',
  'Ella',
  'Rosa',
  'Nina',
  'Amy',
  'Kate',
  'Maya',
  'Ruby',
] as const;
export const BOYS = [
  'Tom',
  'Ben',
  'Sam',
  'Max',
  'Jack',
  'Leo',
  'Tim',
  'Noah',
  'Finn',
  'Omar',
  'Dan',
  'Joe',
  'Ravi',
  'Hugo',
] as const;
export const PLACES = [
  'the park',
  'the garden',
  'the forest',
  'the beach',
  'the farm',
  'the river',
  'the hill',
  'the town',
  'the lake',
  'the field',
] as const;
export const OBJECTS = [
  'ball',
  'kite',
  'book',
  'hat',
  'box',
  'drum',
  'boat',
  'toy car',
  'doll',
  'cup',
  'bike',
  'shoe',
  'blanket',
  'balloon',
] as const;
export const COLOURS = [
  'red',
  'blue',
  'green',
  'yellow',
  'big',
  'little',
  'shiny',
  'soft',
  'old',
  'new',
  'pink',
  'purple',
] as const;
export const FOODS = [
  'cake',
  'soup',
  'bread',
  'apples',
  'cookies',
  'pie',
  'rice',
  'eggs',
  'pancakes',
  'grapes',
] as const;
export const WEATHER = ['sunny', 'rainy', 'windy', 'cold', 'warm', 'snowy', 'cloudy'] as const;
export const GOOD_FEELINGS = ['happy', 'glad', 'proud', 'excited', 'calm'] as const;
export const BAD_FEELINGS = ['sad', 'scared', 'angry', 'tired', 'worried'] as const;
export const RELATIVES = ['mom', 'dad', 'grandma', 'grandpa', 'sister', 'brother', 'aunt', 'uncle'] as const;

export const NUMBER_WORDS = [
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
  'twelve',
  'thirteen',
  'fourteen',
  'fifteen',
  'sixteen',
  'seventeen',
  'eighteen',
  'nineteen',
  'twenty',
] as const;

/** A small seeded generator (mulberry32) with the helpers the text generators use. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }
}

export const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
export const article = (word: string): string => (/^[aeiou]/i.test(word) ? `an ${word}` : `a ${word}`);
