// Classification and SQuAD readers: label resolution (names, class numbers, regression), column mapping, the
// official nested SQuAD layout and the Hub's flat one, code-point answer_start, and problems with file/line/field.
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassificationSection, QuestionAnsweringSection } from '../../../../src/common/api/runs.ts';
import { readClassificationDataset } from '../../../../src/main/formats/dataset/tasks/classification.ts';
import { readQaDataset } from '../../../../src/main/formats/dataset/tasks/squad.ts';
import { english, HANGUL, korean } from '../../../common/api/phrase-check.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'task-datasets-'));
});
function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
const section = (s: Partial<ClassificationSection> = {}): ClassificationSection => ClassificationSection.parse(s);
const QA = { ...QuestionAnsweringSection.parse({}) };
const fixtures = join(import.meta.dirname, '..', 'fixtures');
const resources = join(import.meta.dirname, '..', '..', '..', '..', 'resources', 'encoder-data');

describe('classification datasets', () => {
  it('SST-2 layout: "sentence" found, class numbers in order, id2label/label2id for config.json', async () => {
    const path = write(
      'sst2.jsonl',
      [
        '{"sentence":"a fine film","label":1,"idx":0}',
        '{"sentence":"dull","label":0,"idx":1}',
        '{"sentence":"great","label":"1","idx":2}',
      ].join('\n'),
    );
    const d = await readClassificationDataset(path, section());
    expect(d.textColumn).toBe('sentence');
    expect(d.labels).toEqual(['0', '1']);
    expect(d.problemType).toBe('single_label_classification');
    expect(d.examples.map((e) => [e.text, e.label, e.line])).toEqual([
      ['a fine film', 1, 1],
      ['dull', 0, 2],
      ['great', 1, 3],
    ]);
    expect(d.id2label).toEqual({ 0: '0', 1: '1' });
    expect(d.label2id).toEqual({ 0: 0, 1: 1 });
  });

  it('CSV sentence pairs with label names: names sorted, bad rows are problems with line and field', async () => {
    const path = write(
      'pairs.csv',
      [
        'premise,hypothesis,gold',
        'It rains,It is wet,entailment',
        'It rains,,neutral',
        'Sun,It is dark,contradiction',
        '  ,x,neutral',
        'A,B,-1',
      ].join('\n'),
    );
    const d = await readClassificationDataset(
      path,
      section({ text_column: 'premise', text_pair_column: 'hypothesis', label_column: 'gold' }),
    );
    expect(d.labels).toEqual(['contradiction', 'entailment']);
    expect(d.examples.map((e) => [e.text, e.textPair, e.label])).toEqual([
      ['It rains', 'It is wet', 1],
      ['Sun', 'It is dark', 0],
    ]);
    expect(d.problems).toEqual([
      {
        file: 'pairs.csv',
        line: 3,
        row: 1,
        field: 'hypothesis',
        message: 'missing or empty second text',
        phrase: { code: 'taskProblem.pairMissing', params: {} },
        expected: 'the second text of the pair',
        expectedPhrase: { code: 'taskExpected.pair', params: {} },
      },
      expect.objectContaining({ line: 5, row: 3, field: 'premise', message: 'empty text' }),
      expect.objectContaining({
        line: 6,
        row: 4,
        field: 'gold',
        message: expect.stringContaining('GLUE test files mark unlabelled rows with -1'),
      }),
    ]);
    // every problem is a code with its parameters beside the English, and the UI says each in Korean
    for (const p of d.problems) {
      expect(p.phrase?.code).toMatch(/^taskProblem\./);
      expect(english(p.phrase!)).toBe(p.message);
      expect(korean(p.phrase, p.message)).toMatch(HANGUL);
      expect(korean(p.expectedPhrase, p.expected!)).toMatch(HANGUL);
    }
    expect(d.problems[2].phrase).toEqual({ code: 'taskProblem.negativeLabel', params: { label: -1 } });
  });

  it('an evaluation split reads with the training labels: unseen labels are problems; class numbers index the names', async () => {
    const train = await readClassificationDataset(
      write('t.jsonl', '{"text":"good","label":"positive"}\n{"text":"bad","label":"negative"}'),
      section(),
    );
    const evalPath = write(
      'e.jsonl',
      '{"text":"meh","label":"neutral"}\n{"text":"fine","label":"positive"}\n{"text":"awful","label":0}',
    );
    const d = await readClassificationDataset(evalPath, section(), { labels: train });
    expect(d.examples.map((e) => [e.text, e.label])).toEqual([
      ['fine', 1],
      ['awful', 0],
    ]);
    expect(d.problems).toEqual([
      {
        file: 'e.jsonl',
        line: 1,
        row: 0,
        field: 'label',
        message: 'label "neutral" is not one of the training split',
        phrase: { code: 'taskProblem.unknownLabel', params: { label: '"neutral"', from: 'training' } },
        expected: 'one of negative, positive (or a class number below 2)',
        expectedPhrase: { code: 'taskExpected.knownLabel', params: { known: 'negative, positive', count: 2 } },
      },
    ]);
  });

  it('one float label per row is regression (Parquet, column mapping); a row without text is a problem', async () => {
    const d = await readClassificationDataset(
      join(fixtures, 'pairs.parquet'),
      section({ text_column: 'question', label_column: 'score' }),
    );
    expect(d.problemType).toBe('regression');
    expect(d.labels).toEqual([]);
    expect(d.examples.map((e) => [e.text, e.label])).toEqual([
      ['What is LoRA?', 1.5],
      ['What is QLoRA?', 2],
    ]);
    expect(d.problems).toEqual([expect.objectContaining({ file: 'pairs.parquet', row: 2, field: 'question' })]);
  });

  it('a missing text column or a single label is refused, naming the columns and what to set', async () => {
    const path = write('cols.jsonl', '{"review":"good","label":1}\n{"review":"bad","label":0}');
    await expect(readClassificationDataset(path, section())).rejects.toThrow(
      /no a "sentence" or "text" column; the file has review, label\. Set classification\.text_column/,
    );
    await expect(
      readClassificationDataset(write('one.jsonl', '{"text":"a","label":"x"}\n{"text":"b","label":"x"}'), section()),
    ).rejects.toThrow(/every row has the label "x"; a classifier needs at least two labels/);
  });

  it('reads the bundled SST-2-layout validation split', async () => {
    const d = await readClassificationDataset(join(resources, 'sst2', 'validation.jsonl'), section());
    expect(d.problems).toEqual([]);
    expect(d.labels).toEqual(['0', '1']);
    expect(d.examples.length).toBeGreaterThan(100);
  });
});

/** A nested SQuAD file, pretty-printed so questions sit on their own lines. */
function squadFile(name: string, qas: object[], context: string): string {
  return write(
    name,
    JSON.stringify({ version: '1.1', data: [{ title: 'T', paragraphs: [{ context, qas }] }] }, null, 1),
  );
}

describe('SQuAD datasets', () => {
  it('nested official layout: code-point answer_start becomes a UTF-16 index; a wrong one is a problem with line and field', async () => {
    const context = 'Mia 😀 works in Seoul. She likes tea.';
    const seoulCodePoints = [...context.slice(0, context.indexOf('Seoul'))].length; // 😀 is one character there
    const path = squadFile(
      'nested.json',
      [
        { id: 'a', question: 'Where does Mia work?', answers: [{ text: 'Seoul', answer_start: seoulCodePoints }] },
        { id: 'b', question: 'What does she like?', answers: [{ text: 'tea', answer_start: 5 }] },
      ],
      context,
    );
    const d = await readQaDataset(path, QA);
    expect(d.layout).toBe('squad-nested');
    expect(d.examples).toHaveLength(1);
    const [a] = d.examples;
    expect(context.slice(a.answers.answerStart[0], a.answers.answerStart[0] + 5)).toBe('Seoul');
    expect(a.title).toBe('T');
    const tea = [...context.slice(0, context.indexOf('tea'))].length;
    expect(d.problems).toEqual([
      {
        file: 'nested.json',
        row: 1,
        line: expect.any(Number),
        field: 'data[0].paragraphs[0].qas[1].answers[0]',
        message: `answer "tea" is not in the context at answer_start 5 (the context has " wo" there; the text occurs at ${tea})`,
        phrase: { code: 'taskProblem.answerNotAt', params: { answer: 'tea', start: 5, there: ' wo', found: tea } },
        expected: expect.stringContaining('fix answer_start or the text'),
        expectedPhrase: { code: 'taskExpected.answerAt', params: {} },
      },
    ]);
    // in the Korean UI the problem reads in Korean (it stayed English: the readers sent no code)
    expect(korean(d.problems[0].phrase, d.problems[0].message)).toBe(
      `답 "tea"이(가) 문맥의 answer_start 5 위치에 없습니다 (그 위치의 문맥은 " wo"; 이 텍스트는 ${tea} 위치에 있습니다)`,
    );
    // The line is the one with "id": "b" in the file.
    const lines = (await import('node:fs')).readFileSync(path, 'utf8').split('\n');
    expect(lines[d.problems[0].line! - 1]).toContain('"id": "b"');
  });

  it('nested SQuAD v2.0: is_impossible questions (answers [], plausible_answers ignored) are read with version_2_with_negative', async () => {
    const context = 'The bee says buzz.';
    const qas = [
      {
        id: 'v1',
        question: 'What does the bee say?',
        answers: [{ text: 'buzz', answer_start: 13 }],
        is_impossible: false,
      },
      {
        id: 'v2',
        question: 'What does the cow say?',
        answers: [],
        plausible_answers: [{ text: 'buzz', answer_start: 13 }],
        is_impossible: true,
      },
    ];
    const path = squadFile('v2.json', qas, context);
    const v2 = await readQaDataset(path, { ...QA, version_2_with_negative: true });
    expect(v2.examples.map((e) => [e.id, e.answers.text])).toEqual([
      ['v1', ['buzz']],
      ['v2', []],
    ]);
    expect(v2.unanswerable).toBe(1);
    const v1 = await readQaDataset(path, QA);
    expect(v1.problems).toEqual([
      expect.objectContaining({
        field: 'data[0].paragraphs[0].qas[1].answers',
        message: 'the question is marked is_impossible (SQuAD v2)',
        expected: expect.stringContaining('set question_answering.version_2_with_negative'),
      }),
    ]);
  });

  it('flat Hub layout (JSONL): answers {text[], answer_start[]}; v2 questions without answers need version_2_with_negative', async () => {
    const rows = [
      {
        id: '1',
        title: 'T',
        context: 'The cat says meow.',
        question: 'What does the cat say?',
        answers: { text: ['meow'], answer_start: [13] },
      },
      {
        id: '2',
        title: 'T',
        context: 'The cat says meow.',
        question: 'What does the dog say?',
        answers: { text: [], answer_start: [] },
      },
    ];
    const path = write('flat.jsonl', rows.map((r) => JSON.stringify(r)).join('\n'));
    const v1 = await readQaDataset(path, QA);
    expect(v1.layout).toBe('flat');
    expect(v1.examples.map((e) => e.id)).toEqual(['1']);
    expect(v1.problems).toEqual([
      expect.objectContaining({
        line: 2,
        field: 'answers',
        expected: expect.stringContaining('version_2_with_negative'),
      }),
    ]);
    const v2 = await readQaDataset(path, { ...QA, version_2_with_negative: true });
    expect(v2.examples).toHaveLength(2);
    expect(v2.unanswerable).toBe(1);
  });

  it('CSV with the answers cell as JSON and mapped columns; duplicate ids and missing columns', async () => {
    const path = write(
      'qa.csv',
      [
        'qid,q,passage,ans',
        '7,Who?,Ann met Bob.,"{""text"": [""Bob""], ""answer_start"": [8]}"',
        '7,Who else?,Ann met Bob.,"{""text"": [""Ann""], ""answer_start"": [0]}"',
      ].join('\n'),
    );
    const cols = { ...QA, id_column: 'qid', question_column: 'q', context_column: 'passage', answers_column: 'ans' };
    const d = await readQaDataset(path, cols);
    expect(d.examples.map((e) => [e.id, e.answers.text[0], e.answers.answerStart[0]])).toEqual([['7', 'Bob', 8]]);
    expect(d.problems).toEqual([
      expect.objectContaining({ line: 3, field: 'qid', message: 'id "7" is used by an earlier question too' }),
    ]);
    await expect(readQaDataset(path, QA)).rejects.toThrow(
      /no column "question", "context", "answers"; the file has qid, q, passage, ans/,
    );
  });

  it('reads the bundled SQuAD-layout dev set: every answer lines up with its context', async () => {
    const d = await readQaDataset(join(resources, 'squad', 'dev-v1.1.json'), QA);
    expect(d.problems).toEqual([]);
    expect(d.examples.length).toBeGreaterThan(20);
    for (const e of d.examples)
      expect(e.context.slice(e.answers.answerStart[0], e.answers.answerStart[0] + e.answers.text[0].length)).toBe(
        e.answers.text[0],
      );
  });
});

describe('SQuAD files that cannot be read', () => {
  it('broken JSON and non-UTF-8 get the dataset readers’ messages', async () => {
    await expect(readQaDataset(write('broken.json', '{"data": [ {"title": '), QA)).rejects.toThrow(
      /broken\.json is not valid JSON/,
    );
    const latin1 = join(dir, 'latin1.json');
    writeFileSync(latin1, Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xe9, 0x22, 0x7d]));
    await expect(readQaDataset(latin1, QA)).rejects.toThrow(/latin1\.json: line 1, byte 6 \(0xE9\) is not valid UTF-8/);
  });
});
