// An import counts rows, not problems (a row with two problems is one row left out), and keeps where the exact
// duplicates are; the previewer measures tokens per character, so a tokenizer without merges for a script
// (Korean on a tokenizer trained on English) is told apart from one that knows it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importDataset } from '../../../src/main/formats/dataset/import.ts';
import { previewDataset } from '../../../src/main/formats/dataset/preview.ts';
import { exampleCharacters, HEAVY_TOKENS_PER_CHARACTER } from '../../../src/main/formats/dataset/stats.ts';
import { makeTinyModel } from '../../fixtures/tiny-models.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lora-rows-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bad rows and duplicates', () => {
  it('counts 3 bad lines with 4 problems as 3 rows, and lists the duplicate lines', async () => {
    const file = join(dir, 'mixed.jsonl');
    writeFileSync(
      file,
      [
        '{"prompt":"a","completion":"b"}',
        '{"prompt":"c","completion":"d"}',
        '{"prompt":5,"completion":7}', // line 3: two problems
        '{"prompt":"x"}', // line 4: one
        'nope', // line 5: one
        '{"prompt":"a","completion":"b"}', // line 6 repeats line 1
        '{"prompt":"e","completion":"f"}',
        '{"prompt":"a","completion":"b"}', // line 8 repeats line 1
      ].join('\n') + '\n',
    );
    const imported = await importDataset(file);
    expect(imported.rowsRead).toBe(8);
    expect(imported.badRows).toBe(3);
    expect(imported.problemCount).toBe(4);
    expect(imported.problems.map((p) => [p.line, p.field ?? null])).toEqual([
      [3, 'prompt'],
      [3, 'completion'],
      [4, 'completion'],
      [5, null],
    ]);
    expect(imported.examples).toHaveLength(5);
    expect(imported.duplicates.duplicateRows).toBe(2);
    expect(imported.duplicates.groups).toEqual([
      {
        first: { row: 0, line: 1 },
        duplicates: [
          { row: 5, line: 6 },
          { row: 7, line: 8 },
        ],
      },
    ]);
  });
});

describe('tokens per character', () => {
  it('counts characters as a person does (code points, content only)', () => {
    expect(exampleCharacters({ kind: 'completion', prompt: '서울?', completion: ' 맑음' })).toBe(6);
    expect(exampleCharacters({ kind: 'chat', messages: [{ role: 'user', content: 'hi 👋' }] })).toBe(4);
  });

  it('flags Korean on a tokenizer with no Hangul merges, not English on the same tokenizer', async () => {
    const model = join(dir, 'tiny');
    await makeTinyModel(model, 'llama', { seed: 5 });
    const write = (name: string, rows: { prompt: string; completion: string }[]) => {
      const path = join(dir, name);
      writeFileSync(path, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
      return path;
    };
    const korean = write(
      'ko.jsonl',
      Array.from({ length: 6 }, (_, i) => ({
        prompt: `질문 ${i}: 서울의 날씨는 어떤가요?`,
        completion: ` 오늘 서울은 맑고 따뜻합니다.`,
      })),
    );
    const english = write(
      'en.jsonl',
      Array.from({ length: 6 }, (_, i) => ({
        prompt: `Question ${i}: what is the weather in Seoul?`,
        completion: ` Today Seoul is clear and warm.`,
      })),
    );
    const ko = (await previewDataset(korean, { modelDir: model, rows: 1 })).stats!;
    const en = (await previewDataset(english, { modelDir: model, rows: 1 })).stats!;
    // The ratio is the measured token count over the content's characters.
    expect(ko.characters).toBe(6 * (`질문 0: 서울의 날씨는 어떤가요?`.length + ` 오늘 서울은 맑고 따뜻합니다.`.length));
    expect(ko.tokensPerCharacter).toBeCloseTo((ko.mean * ko.count) / ko.characters, 10);
    expect(ko.tokensPerCharacter).toBeGreaterThanOrEqual(HEAVY_TOKENS_PER_CHARACTER);
    expect(ko.heavyTokenization).toBe(true);
    expect(en.tokensPerCharacter).toBeLessThan(HEAVY_TOKENS_PER_CHARACTER);
    expect(en.heavyTokenization).toBe(false);
    expect(ko.tokensPerCharacter / en.tokensPerCharacter).toBeGreaterThan(2.5);
  });
});
