// The bundled encoder-task datasets: the committed files are what the seeded generator writes, byte for byte; every
// SQuAD answer is the span of its context at answer_start; evaluation rows never appear in training; both labels
// are represented and some labels hinge on negation or contrast.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateSquad, generateSst2, type SquadFile } from '../../scripts/encoder-data/generate.ts';

const DIR = resolve(import.meta.dirname, '../../resources/encoder-data');
const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

describe('bundled encoder datasets', () => {
  it('SST-2 files are the generator’s output, balanced, with no validation sentence in training', () => {
    const { train, validation } = generateSst2();
    expect(readFileSync(join(DIR, 'sst2/train.jsonl'), 'utf8')).toBe(jsonl(train));
    expect(readFileSync(join(DIR, 'sst2/validation.jsonl'), 'utf8')).toBe(jsonl(validation));
    const seen = new Set(train.map((r) => r.sentence));
    expect(validation.filter((r) => seen.has(r.sentence))).toEqual([]);
    const positives = train.filter((r) => r.label === 1).length / train.length;
    expect(positives).toBeGreaterThan(0.4);
    expect(positives).toBeLessThan(0.6);
    // a negated bad word is positive, so no single adjective decides every label
    expect(train.some((r) => / was not (very )?(bad|boring|dull)\./.test(r.sentence) && r.label === 1)).toBe(true);
    expect(Object.keys(train[0]).sort()).toEqual(['idx', 'label', 'sentence']);
  });

  it('SQuAD files are the generator’s output in the official nested layout; each answer is its context’s span', () => {
    const { train, dev } = generateSquad();
    expect(readFileSync(join(DIR, 'squad/train-v1.1.json'), 'utf8')).toBe(JSON.stringify(train) + '\n');
    expect(readFileSync(join(DIR, 'squad/dev-v1.1.json'), 'utf8')).toBe(JSON.stringify(dev) + '\n');
    const check = (file: SquadFile) => {
      let questions = 0;
      for (const article of file.data)
        for (const p of article.paragraphs)
          for (const qa of p.qas) {
            questions++;
            for (const a of qa.answers)
              expect(p.context.slice(a.answer_start, a.answer_start + a.text.length)).toBe(a.text);
          }
      return questions;
    };
    expect(check(train)).toBeGreaterThan(5000);
    expect(check(dev)).toBeGreaterThan(500);
    const trainContexts = new Set(train.data.flatMap((d) => d.paragraphs.map((p) => p.context)));
    expect(dev.data.flatMap((d) => d.paragraphs).filter((p) => trainContexts.has(p.context))).toEqual([]);
    const ids = [...train.data, ...dev.data].flatMap((d) => d.paragraphs.flatMap((p) => p.qas.map((q) => q.id)));
    expect(new Set(ids).size).toBe(ids.length);
  });
});
