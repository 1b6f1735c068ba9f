// A dataset's bad rows as the core sends them: each problem's message and expectation carry a phrase (code +
// parameters) that says exactly their English text (the CLI prints that text, unchanged), and the UI in Korean
// renders both from the catalogue, as the Datasets page and the wizard's data step list them.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetProblem as WireProblem, PreviewRow } from '../../../src/common/api/datasets.ts';
import { VALUE_KINDS } from '../../../src/common/api/phrases.ts';
import { ClassificationSection, QuestionAnsweringSection } from '../../../src/common/api/runs.ts';
import { readClassificationDataset } from '../../../src/main/formats/dataset/tasks/classification.ts';
import { readQaDataset } from '../../../src/main/formats/dataset/tasks/squad.ts';
import { DatasetFormatError, DatasetReadError, formatProblem, importDataset, type DatasetProblem } from '../../../src/main/formats/dataset/index.ts';
import { setCurrentLocale } from '../../../src/renderer/src/i18n/locale.ts';
import { sayPhrase } from '../../../src/renderer/src/i18n/phrase.ts';
import { english, HANGUL, korean } from './phrase-check.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lora-dataset-phrases-'));
});
afterAll(() => {
  setCurrentLocale('en');
  rmSync(dir, { recursive: true, force: true });
});

/** Every problem's message and expectation: a phrase with the same English, a different Korean sentence. */
function expectSaidBothWays(problems: DatasetProblem[]): void {
  for (const p of problems) {
    const said = [{ text: p.message, phrase: p.phrase }];
    if (p.expected !== undefined) said.push({ text: p.expected, phrase: p.expectedPhrase });
    for (const { text, phrase } of said) {
      expect(phrase, text).toBeDefined();
      expect(english(phrase!)).toBe(text);
      expect(sayPhrase(phrase, text)).toBe(text); // English: the core's own words
      const ko = korean(phrase, text);
      expect(ko, text).toMatch(HANGUL);
      expect(ko).not.toBe(text);
    }
  }
}

describe('a dataset’s bad rows as phrases', () => {
  it('chat and pair rows: the CLI’s lines stay word for word, every message and expectation renders in Korean', async () => {
    const rows = [
      {
        messages: [
          { role: 'user', content: 'Q' },
          { role: 'assistant', content: 'A' },
        ],
      },
      {
        messages: [
          { role: 'user', content: 'Q' },
          { role: 'robot', content: 'A' },
        ],
      },
      {
        messages: [
          { role: 'user', content: '' },
          { role: 'assistant', content: 'A' },
        ],
      },
      { messages: [{ role: 'user', content: 'only a question' }] },
      { messages: 'not a list' },
      { nothing: true },
      { messages: [{ role: 'user', content: 5 }, { content: 'no role' }] },
      { messages: [] },
      { messages: [7] },
    ];
    const path = join(dir, 'chat.jsonl');
    writeFileSync(path, rows.map((r) => JSON.stringify(r)).join('\n') + '\n{broken\n[1, 2]\n');
    const chat = await importDataset(path);
    expect(chat.problems.map(formatProblem)).toEqual([
      'chat.jsonl:2 (row 1), field "messages[1].role": unknown role "robot" (expected: one of system, user, assistant, tool, human, gpt, bot, model, function, observation, ipython)',
      'chat.jsonl:3 (row 2), field "messages[0].content": is empty (expected: a non-empty message)',
      'chat.jsonl:4 (row 3), field "messages": has no assistant message: nothing to train on (expected: at least one assistant message)',
      'chat.jsonl:5 (row 4), field "messages": is a string (expected: a list of messages)',
      'chat.jsonl:6 (row 5), field "messages": is missing (expected: a list of messages)',
      'chat.jsonl:7 (row 6), field "messages[0].content": is a number (expected: the message text as a string)',
      'chat.jsonl:7 (row 6), field "messages[1].role": is missing (expected: a role name)',
      'chat.jsonl:8 (row 7), field "messages": is an empty list (expected: at least one user and one assistant message)',
      'chat.jsonl:9 (row 8), field "messages[0]": is a number (expected: a message object with "role" and "content")',
      'chat.jsonl:10 (row 9): malformed JSON at character 2: expected a field name in double quotes (no trailing comma, no single quotes) (expected: one JSON object per line)',
      'chat.jsonl:11 (row 10): the line holds an array (expected: a JSON object)',
    ]);
    expectSaidBothWays(chat.problems);
    // why these columns: the Datasets page and the wizard's data step show it
    expect(chat.mappingReason).toBe('column "messages" holds a list of messages ({role, content})');
    expect(english(chat.mappingReasonPhrase)).toBe(chat.mappingReason);
    expect(korean(chat.mappingReasonPhrase, chat.mappingReason)).toBe(
      '"messages" 열에 메시지 목록({role, content})이 있습니다',
    );
    expect(korean(chat.problems[0].phrase, chat.problems[0].message)).toBe('알 수 없는 역할 "robot"');

    const pairsPath = join(dir, 'pairs.jsonl');
    const pairs = [
      { prompt: 'a', completion: 'b' },
      { prompt: null, completion: 'b' },
      { prompt: 'a', completion: 7 },
      { prompt: '  ', completion: 'b' },
    ];
    writeFileSync(pairsPath, pairs.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const completion = await importDataset(pairsPath);
    expect(completion.problems.map(formatProblem)).toEqual([
      'pairs.jsonl:2 (row 1), field "prompt": is null (expected: the prompt as a string)',
      'pairs.jsonl:3 (row 2), field "completion": is a number (expected: the completion as a string)',
      'pairs.jsonl:4 (row 3), field "prompt": is empty (expected: a non-empty prompt)',
    ]);
    expectSaidBothWays(completion.problems);
    expect(completion.mappingReason).toBe('columns "prompt" → "completion" (prompt and completion)');
    expect(english(completion.mappingReasonPhrase)).toBe(completion.mappingReason);
    const given = await importDataset(pairsPath, {
      mapping: { format: 'completion', prompt: 'prompt', completion: 'completion' },
    });
    expect([given.mappingReason, korean(given.mappingReasonPhrase, given.mappingReason)]).toEqual([
      'given',
      '직접 지정함',
    ]);
    expect(korean(completion.problems[1].expectedPhrase, completion.problems[1].expected!)).toBe('문자열로 된 답');
  });

  it('CSV rows with the wrong field count or an unclosed quote, and the phrases survive the contract', async () => {
    const path = join(dir, 'pairs.csv');
    writeFileSync(path, 'prompt,completion\na,b\nc,d,e\nf,"g\n');
    const csv = await importDataset(path);
    expect(csv.problems.map(formatProblem)).toEqual([
      'pairs.csv:3 (row 1): the row has 3 fields (expected: 2 fields (prompt, completion))',
      'pairs.csv:4 (row 2): a quoted field is never closed (expected: a closing " before the end of the file)',
    ]);
    expectSaidBothWays(csv.problems);
    const wire = WireProblem.parse({ ...csv.problems[0], text: formatProblem(csv.problems[0]) });
    expect(wire.phrase).toEqual({ code: 'problem.fieldCount', params: { count: 3 } });
    expect(korean(wire.expectedPhrase, wire.expected!)).toBe('필드 2개 (prompt, completion)');
  });
});

describe('an encoder task’s left-out rows and the previewer’s row notes as phrases', () => {
  it('classification and question-answering problems each carry a code: the CLI’s English word for word, Korean in the UI', async () => {
    const cls = join(dir, 'cls.jsonl');
    writeFileSync(
      cls,
      [
        { text: 'good', label: 'pos' },
        { text: 'bad', label: 'neg' },
        { text: '', label: 'pos' },
        { label: 'pos' },
        { text: 'meh', label: null },
        { text: 'meh', label: -1 },
        { text: 'odd', label: 'other' },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n'),
    );
    const c = await readClassificationDataset(cls, ClassificationSection.parse({ labels: ['neg', 'pos'] }));
    expect(c.problems.map((p) => p.phrase?.code)).toEqual([
      'taskProblem.textEmpty',
      'taskProblem.textMissing',
      'taskProblem.noLabel',
      'taskProblem.negativeLabel',
      'taskProblem.unknownLabel',
    ]);
    expectSaidBothWays(c.problems);

    const qa = join(dir, 'qa.jsonl');
    const context = 'Mia went to the river with her dad.';
    writeFileSync(
      qa,
      [
        { id: 'a', question: 'Where?', context, answers: { text: ['the river'], answer_start: [12] } },
        { id: 'a', question: 'Again?', context, answers: { text: ['the river'], answer_start: [12] } },
        { id: 'b', question: '', context, answers: { text: ['x'], answer_start: [0] } },
        { id: 'c', question: 'Who?', context: '', answers: { text: ['x'], answer_start: [0] } },
        { id: 'd', question: 'Who?', context, answers: { text: ['her dad'], answer_start: [3] } },
        { id: 'e', question: 'Who?', context, answers: { text: ['x', 'y'], answer_start: [0] } },
        { id: 'f', question: 'Who?', context, answers: { text: [], answer_start: [] } },
        { id: 'g', question: 'Who?', context, answers: 'not json' },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n'),
    );
    const q = await readQaDataset(qa, QuestionAnsweringSection.parse({}));
    expect(q.problems.map((p) => p.phrase?.code)).toEqual([
      'taskProblem.idRepeated',
      'taskProblem.noQuestion',
      'taskProblem.noContext',
      'taskProblem.answerNotAt',
      'taskProblem.answersCounts',
      'taskProblem.noAnswer',
      'taskProblem.answersNotJson',
    ]);
    expectSaidBothWays(q.problems);
    // as taskData.inspect sends them: the phrases survive the contract
    for (const p of [...c.problems, ...q.problems]) {
      const wire = { ...p, text: formatProblem(p) };
      expect(WireProblem.parse(wire)).toEqual(wire);
    }
  });

  it('a preview row’s notes and error travel as phrases the contract checks, and refuses what it does not know', () => {
    const row = {
      row: 0,
      columns: { text: 'hi' },
      rendered: {
        text: 'hi',
        tokens: 1,
        trainedTokens: 0,
        truncated: true,
        fullLength: 9,
        warnings: ['truncated to 1 tokens, no trained token is left: the example teaches nothing'],
        warningPhrases: [{ code: 'render.nothingLeft', params: { length: 1 } }],
        pieces: [],
      },
      error: null,
      errorPhrase: null,
    };
    expect(PreviewRow.parse(row)).toEqual(row);
    expect(korean(row.rendered.warningPhrases[0], row.rendered.warnings[0])).toBe(
      '1 토큰으로 잘려 학습할 토큰이 남지 않습니다: 이 예제는 아무것도 가르치지 않습니다',
    );
    expect(PreviewRow.safeParse({ ...row, rendered: { ...row.rendered, warningPhrases: [{ code: 1 }] } }).success).toBe(false);
    expect(PreviewRow.safeParse({ ...row, errorPhrase: undefined }).success).toBe(false);
    expect(PreviewRow.safeParse({ ...row, extra: 1 }).success).toBe(false);
    expect(PreviewRow.safeParse({ ...row, rendered: { ...row.rendered, notes: [] } }).success).toBe(false);
  });

  it('names every kind of value a field can hold in plain English: no "a" before a vowel, no "a undefined"', () => {
    for (const [kind, words] of Object.entries(VALUE_KINDS)) {
      expect(words, kind).not.toMatch(/\ba [aeiou]/i);
      expect(words, kind).not.toMatch(/undefined/);
    }
  });
});

describe('a file that cannot be read as a dataset', () => {
  it('every refusal carries a phrase: the CLI’s English word for word, a Korean sentence in the UI', async () => {
    const file = (name: string, content: string | Buffer) => {
      const path = join(dir, name);
      writeFileSync(path, content);
      return path;
    };
    const cases: [string, RegExp][] = [
      [file('x.xlsx', 'a'), /^x\.xlsx: unknown dataset file type "\.xlsx"/],
      [join(dir, 'missing.jsonl'), /^cannot open .*missing\.jsonl: ENOENT$/],
      [(mkdirSync(join(dir, 'folder.jsonl')), join(dir, 'folder.jsonl')), /folder\.jsonl is not a file$/],
      [file('utf16.jsonl', Buffer.from([0xff, 0xfe, 0x7b, 0x00])), /^utf16\.jsonl is encoded as UTF-16 \(little-endian\)/],
      [file('latin1.jsonl', Buffer.from('{"text": "caf\xe9"}\n', 'latin1')), /^latin1\.jsonl: line 1, byte 13 \(0xE9\) is not valid UTF-8/],
      [file('lines.json', '{"text": "a"}\n{"text": "b"}\n'), /^lines\.json is not valid JSON, but each line is a JSON object: .* rename it to \.jsonl$/],
      [file('broken.json', '[\n  {"text": "a"},\n  {"text": "b"\n]\n'), /^broken\.json is not valid JSON at line 4, character 1: expected a comma or a closing brace after a value$/],
      [file('string.json', '"just a string"'), /^string\.json: expected a JSON array of rows, found a string$/],
      [file('two.json', '{"a": [], "b": []}'), /^two\.json: expected a JSON array of rows \(or an object with exactly one array of rows\), found an object with keys a, b$/],
      [file('blank-name.csv', 'a,,c\n1,2,3\n'), /^blank-name\.csv: line 1: the header has an empty column name$/],
      [file('twice.csv', 'a,a\n1,2\n'), /^twice\.csv: line 1: the header names column "a" twice$/],
      [file('empty.csv', ''), /^empty\.csv is empty: expected a header line with column names$/],
      [file('fake.parquet', 'not parquet at all'), /^fake\.parquet is not a readable Parquet file: /],
      [file('nothing.jsonl', '\n\n'), /^nothing\.jsonl has no readable rows$/],
      [file('columns.jsonl', '{"foo": 1, "bar": 2}\n'), /^columns\.jsonl: cannot tell the dataset's format from its columns \(foo, bar\)/],
      [file('chat.csv', 'messages\nhello\n'), /^chat\.csv: no row is usable: column "messages" must hold a list of messages .* but holds line 2: "hello"$/],
    ];
    for (const [path, message] of cases) {
      const err = await importDataset(path).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, path).toBeInstanceOf(Error);
      expect(err instanceof DatasetReadError || err instanceof DatasetFormatError, path).toBe(true);
      const { message: text, phrase } = err as DatasetReadError;
      expect(text, path).toMatch(message);
      expect(phrase, path).toBeDefined();
      expect(english(phrase!)).toBe(text);
      const ko = korean(phrase, text);
      expect(ko, path).toMatch(HANGUL);
      expect(ko).not.toBe(text);
    }
    const mapped = await importDataset(join(dir, 'columns.jsonl'), { mapping: { format: 'text', text: 'body' } }).then(
      () => null,
      (e: unknown) => e as DatasetFormatError,
    );
    expect(mapped?.message).toBe('columns.jsonl: the mapping names column(s) "body", which the file does not have (it has foo, bar)');
    expect(korean(mapped?.phrase, mapped!.message)).toBe('columns.jsonl: 지정한 열 "body"이(가) 파일에 없습니다 (파일의 열: foo, bar)');
  });
});
