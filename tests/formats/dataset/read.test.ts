import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readRows, DatasetReadError, formatFromPath, type ReadItem, type ReadProgress } from '../../../src/main/formats/dataset/read.ts';

const root = mkdtempSync(join(tmpdir(), 'ds-read-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fixtures = new URL('./fixtures/', import.meta.url).pathname;

function file(name: string, content: string | Buffer): string {
  const path = join(root, name);
  writeFileSync(path, content);
  return path;
}

async function collect(path: string, options = {}): Promise<ReadItem[]> {
  const out: ReadItem[] = [];
  for await (const item of readRows(path, options)) out.push(item);
  return out;
}
const rowsOf = (items: ReadItem[]) => items.flatMap((i) => (i.ok ? [i.row] : []));
const problemsOf = (items: ReadItem[]) => items.flatMap((i) => (i.ok ? [] : [i.problem]));

describe('JSONL', () => {
  it('reads objects line by line, reporting bad lines with their line numbers and going on', async () => {
    const path = file(
      'a.jsonl',
      '\uFEFF{"text": "one"}\r\n\n{"text": "two"\n[1, 2]\n{"text": "three", "n": 3}\n{"text": "four"}',
    );
    const items = await collect(path);
    expect(rowsOf(items)).toEqual([
      { row: 0, line: 1, fields: { text: 'one' } },
      { row: 3, line: 5, fields: { text: 'three', n: 3 } },
      { row: 4, line: 6, fields: { text: 'four' } },
    ]);
    const problems = problemsOf(items);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatchObject({ file: 'a.jsonl', line: 3, row: 1, expected: 'one JSON object per line' });
    expect(problems[0].message).toMatch(/^malformed JSON/);
    expect(problems[1]).toMatchObject({ line: 4, row: 2, message: 'the line holds an array', expected: 'a JSON object' });
  });

  it('decodes multi-byte characters split across read chunks', async () => {
    const text = 'é'.repeat(700_000); // 1.4 MB: crosses the 1 MiB chunk inside a character
    const items = await collect(file('big.jsonl', JSON.stringify({ text }) + '\n'));
    expect(rowsOf(items)[0].fields.text).toBe(text);
  });
});

describe('JSON', () => {
  it('reads an array of objects, or the one array inside an object', async () => {
    const items = await collect(file('a.json', JSON.stringify([{ text: 'a' }, 'oops', { text: 'b' }])));
    expect(rowsOf(items).map((r) => r.fields.text)).toEqual(['a', 'b']);
    expect(problemsOf(items)[0]).toMatchObject({ file: 'a.json', row: 1, message: 'element 1 is a string', expected: 'a JSON object' });
    const wrapped = await collect(file('b.json', JSON.stringify({ version: 1, data: [{ text: 'x' }] })));
    expect(rowsOf(wrapped)[0].fields).toEqual({ text: 'x' });
  });

  it('says what is wrong with the file as a whole', async () => {
    await expect(collect(file('c.json', '{"text": "a"}\n{"text": "b"}\n'))).rejects.toThrow(/looks like JSON Lines: rename it to \.jsonl/);
    await expect(collect(file('d.json', '"just a string"'))).rejects.toThrow(/expected a JSON array of rows, found a string/);
    await expect(collect(file('e.json', '{"a": [], "b": []}'))).rejects.toThrow(/exactly one array/);
  });
});

describe('CSV and TSV', () => {
  it('handles quotes, escaped quotes, embedded newlines and separators, CRLF and a BOM', async () => {
    const csv =
      '\uFEFFprompt,completion\r\n' +
      '"Say ""hi""","Hi, there"\r\n' +
      '"two\r\nlines",plain\r\n' +
      'a,b\r\n' +
      '"",empty prompt';
    const items = await collect(file('a.csv', csv));
    expect(problemsOf(items)).toEqual([]);
    expect(rowsOf(items)).toEqual([
      { row: 0, line: 2, fields: { prompt: 'Say "hi"', completion: 'Hi, there' } },
      { row: 1, line: 3, fields: { prompt: 'two\r\nlines', completion: 'plain' } },
      { row: 2, line: 5, fields: { prompt: 'a', completion: 'b' } },
      { row: 3, line: 6, fields: { prompt: '', completion: 'empty prompt' } },
    ]);
  });

  it('reports rows with the wrong field count, text after a quote and an unclosed quote', async () => {
    const csv = 'a,b\n1,2,3\n"x"y,2\nok,fine\n"never closed,2\n';
    const items = await collect(file('bad.csv', csv));
    expect(rowsOf(items)).toEqual([{ row: 2, line: 4, fields: { a: 'ok', b: 'fine' } }]);
    const problems = problemsOf(items);
    expect(problems[0]).toMatchObject({ file: 'bad.csv', line: 2, row: 0, message: 'the row has 3 fields', expected: '2 fields (a, b)' });
    expect(problems[1]).toMatchObject({ line: 3, row: 1 });
    expect(problems[1].message).toMatch(/text after the closing quote of field 1/);
    expect(problems[2]).toMatchObject({ line: 5, row: 3, message: 'a quoted field is never closed' });
  });

  it('rejects a bad header', async () => {
    await expect(collect(file('h.csv', 'a,a\n1,2\n'))).rejects.toThrow(/names column "a" twice/);
    await expect(collect(file('e.csv', ''))).rejects.toThrow(/is empty: expected a header line/);
  });

  it('reads TSV, and quoted fields across read-chunk boundaries', async () => {
    const tsv = await collect(file('a.tsv', 'text\tlabel\nhello, world\t1\n'));
    expect(rowsOf(tsv)[0].fields).toEqual({ text: 'hello, world', label: '1' });
    // ~2.5 MB of awkward rows: some chunk boundary lands inside a quoted field, on a "" pair or a CRLF.
    const expected: string[] = [];
    let csv = 'id,text\r\n';
    for (let i = 0; i < 30_000; i++) {
      const text = `row ${i} says "hi", then\r\na new line${'x'.repeat(i % 37)}`;
      expected.push(text);
      csv += `${i},"${text.replaceAll('"', '""')}"\r\n`;
    }
    const items = await collect(file('chunks.csv', csv));
    expect(problemsOf(items)).toEqual([]);
    const rows = rowsOf(items);
    expect(rows).toHaveLength(30_000);
    rows.forEach((r, i) => {
      if (r.fields.text !== expected[i]) throw new Error(`row ${i}: ${JSON.stringify(r.fields.text)}`);
    });
    expect(rows[29_999].line).toBe(2 + 2 * 29_999);
  });
});

describe('Parquet (files written by pyarrow)', () => {
  it('reads nested message lists, row group by row group, with progress', async () => {
    const progress: ReadProgress[] = [];
    const items = await collect(join(fixtures, 'chat.parquet'), { onProgress: (p: ReadProgress) => progress.push(p) });
    const rows = rowsOf(items);
    expect(rows).toHaveLength(3);
    expect(rows[1]).toEqual({
      row: 1,
      fields: {
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Is 16 a good rank?' },
          { role: 'assistant', content: 'Yes, to start.' },
        ],
        source: 'faq',
      },
    });
    expect(progress.map((p) => p.rowsRead)).toEqual([2, 3]); // two row groups
    expect(progress[1].bytesRead).toBe(statSync(join(fixtures, 'chat.parquet')).size);
  });

  it('reads zstd-compressed files with nulls and floats', async () => {
    const rows = rowsOf(await collect(join(fixtures, 'pairs.parquet')));
    expect(rows.map((r) => r.fields)).toEqual([
      { question: 'What is LoRA?', answer: 'Low-rank adapters.', score: 1.5 },
      { question: 'What is QLoRA?', answer: 'LoRA over a 4-bit base.', score: 2 },
      { question: null, answer: 'orphan', score: 3.25 },
    ]);
  });

  it('says when a file is not Parquet', async () => {
    await expect(collect(file('fake.parquet', 'not parquet at all'))).rejects.toThrow(/fake\.parquet is not a readable Parquet file/);
  });
});

describe('file types', () => {
  it('maps extensions and refuses unknown ones', async () => {
    expect(formatFromPath('x.ndjson')).toBe('jsonl');
    expect(formatFromPath('x.TSV')).toBe('tsv');
    expect(() => formatFromPath('x.xlsx')).toThrow(/unknown dataset file type "\.xlsx"/);
    await expect(collect(join(root, 'missing.jsonl'))).rejects.toThrow(DatasetReadError);
    expect(rowsOf(await collect(file('limit.jsonl', '{"a":1}\n{"a":2}\n{"a":3}\n'), { limit: 2 }))).toHaveLength(2);
  });
});
