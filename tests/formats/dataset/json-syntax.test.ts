// A JSONL line that is not JSON: the problem says what to fix and where (1-based character), in words the UI
// renders in Korean too, instead of V8's English message with its 0-based position. Each line below is parsed by
// the real JSON.parse of this Node; the expected character is counted by hand from the line.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatProblem, importDataset } from '../../../src/main/formats/dataset/index.ts';
import { jsonSyntax } from '../../../src/main/formats/dataset/json-syntax.ts';
import { english, HANGUL, korean } from '../../common/api/phrase-check.ts';

const dir = mkdtempSync(join(tmpdir(), 'lora-json-syntax-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** [line, reason, character] */
const BROKEN: [string, string, number][] = [
  ['{"prompt": "a", "completion": "b"', 'commaOrBrace', 34],
  ['{"prompt": "a" "completion": "b"}', 'commaOrBrace', 16],
  ['{"prompt": "a", "completion": "b",}', 'propertyName', 35],
  ["{'prompt': 'a'}", 'propertyName', 2],
  ['{"prompt" "a"}', 'colon', 11],
  ['{"prompt": "a}', 'unclosedString', 15],
  ['{"prompt": "a\tb", "completion": "c"}', 'controlInString', 14],
  ['{"prompt": "a\\qb", "completion": "c"}', 'badEscape', 15],
  ['{"prompt": "a", "completion": "b"} {"prompt": "c"}', 'textAfter', 36],
  ['{"prompt": "a", "tags": [1 2]}', 'commaOrBracket', 28],
  ['{"prompt": "a", "n": 1.}', 'badNumber', 24],
  ['{"prompt": "a", "completion": }', 'unexpected', 31],
  ['{"prompt": {"x": 1}, "completion": }', 'unexpected', 36], // not the inner object's brace: the one V8 stopped at
  ['{"prompt": "}", "completion": x}', 'unexpected', 31],
  ['{"prompt": "a", "completion": ', 'endsEarly', 30], // just past the colon: trailing blanks are not counted
];

describe('a line that is not JSON', () => {
  it('names the reason and the character for each of V8’s messages', () => {
    for (const [line, reason, character] of BROKEN) {
      let err: unknown;
      try {
        JSON.parse(line);
      } catch (e) {
        err = e;
      }
      expect(err, line).toBeInstanceOf(SyntaxError);
      expect(jsonSyntax(err, line), `${line} → ${(err as Error).message}`).toEqual({ reason, character });
    }
  });

  it('a message it does not know keeps V8’s words rather than hiding them', () => {
    expect(jsonSyntax(new SyntaxError('Something new in JSON'), '{')).toBeNull();
  });

  it('import lists each broken line with its reason and character, in English for the CLI and Korean for the UI', async () => {
    const path = join(dir, 'pairs.jsonl');
    const good = JSON.stringify({ prompt: 'q', completion: 'a' });
    writeFileSync(path, [good, ...BROKEN.map(([line]) => line), good].join('\n') + '\n');
    const report = await importDataset(path);
    expect(report.problems).toHaveLength(BROKEN.length);
    expect(formatProblem(report.problems[0])).toBe(
      'pairs.jsonl:2 (row 1): malformed JSON at character 34: expected a comma or a closing brace after a value (expected: one JSON object per line)',
    );
    report.problems.forEach((p, i) => {
      const [, reason, character] = BROKEN[i];
      expect(p.phrase).toEqual({ code: 'problem.jsonSyntax', params: { reason, character } });
      expect(english(p.phrase!)).toBe(p.message);
      const ko = korean(p.phrase, p.message);
      expect(ko).toMatch(HANGUL);
      expect(ko).toContain(`${character}번째 글자`);
      expect(ko).not.toMatch(/Unexpected|Expected|position|malformed/);
    });
  });
});
