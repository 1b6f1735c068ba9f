import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { importDataset, type DatasetExample } from '../../../src/main/formats/dataset/import.ts';
import { DatasetProblemError, formatProblem } from '../../../src/main/formats/dataset/problems.ts';
import { detectFormat, DatasetFormatError } from '../../../src/main/formats/dataset/schema.ts';
import { splitByRatio, countOverlap } from '../../../src/main/formats/dataset/split.ts';
import { tokenLengthStats } from '../../../src/main/formats/dataset/stats.ts';
import type { ReadProgress, RawRow } from '../../../src/main/formats/dataset/read.ts';
import { HfTokenizer } from '../../../src/main/formats/tokenizer/tokenizer.ts';
import { ExampleRenderer } from '../../../src/main/formats/tokenizer/render.ts';
import { writeTinyTokenizer } from '../../fixtures/tiny-tokenizer.ts';

const root = mkdtempSync(join(tmpdir(), 'ds-import-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fixtures = new URL('./fixtures/', import.meta.url).pathname;

function file(name: string, content: string): string {
  const path = join(root, name);
  writeFileSync(path, content);
  return path;
}
const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const raw = (fields: Record<string, unknown>): RawRow => ({ row: 0, fields });

describe('format detection', () => {
  it('recognises the common layouts', () => {
    expect(detectFormat([raw({ messages: [{ role: 'user', content: 'a' }] })]).mapping).toEqual({ format: 'chat', messages: 'messages', roleKey: 'role', contentKey: 'content' });
    expect(detectFormat([raw({ conversations: [{ from: 'human', value: 'a' }] })]).mapping).toEqual({
      format: 'chat',
      messages: 'conversations',
      roleKey: 'from',
      contentKey: 'value',
    });
    expect(detectFormat([raw({ instruction: 'i', input: '', output: 'o' })]).mapping).toEqual({ format: 'alpaca', instruction: 'instruction', input: 'input', output: 'output' });
    expect(detectFormat([raw({ prompt: 'p', completion: 'c' })]).mapping).toEqual({ format: 'completion', prompt: 'prompt', completion: 'completion' });
    expect(detectFormat([raw({ question: 'q', answer: 'a', id: 1 })]).mapping).toEqual({ format: 'completion', prompt: 'question', completion: 'answer' });
    expect(detectFormat([raw({ text: 't' })]).mapping).toEqual({ format: 'text', text: 'text' });
    expect(() => detectFormat([raw({ foo: 1, bar: 2 })])).toThrow(/cannot tell the dataset's format from its columns \(foo, bar\)/);
  });
});

describe('import', () => {
  it('normalises every format into examples', async () => {
    const chat = await importDataset(
      file('sharegpt.jsonl', jsonl([{ conversations: [{ from: 'system', value: 'S' }, { from: 'human', value: 'Q' }, { from: 'gpt', value: 'A' }] }])),
    );
    expect(chat.mapping.format).toBe('chat');
    expect(chat.examples[0].example).toMatchObject({ kind: 'chat', messages: [{ role: 'system', content: 'S' }, { role: 'user', content: 'Q' }, { role: 'assistant', content: 'A' }] });

    const alpaca = await importDataset(file('alpaca.json', JSON.stringify([{ instruction: 'Translate', input: 'chat', output: 'cat' }, { instruction: 'Say hi', input: '', output: 'hi' }])));
    expect(alpaca.examples.map((e) => e.example)).toMatchObject([
      { kind: 'completion', prompt: 'Translate\n\nchat', completion: 'cat', fields: { instruction: 'Translate', input: 'chat', output: 'cat' } },
      { kind: 'completion', prompt: 'Say hi', completion: 'hi' },
    ]);

    const mapped = await importDataset(file('qa.csv', 'Frage,Antwort,id\nWie?,So.,7\n'), { mapping: { format: 'completion', prompt: 'Frage', completion: 'Antwort' } });
    expect(mapped.examples[0].example).toEqual({ kind: 'completion', prompt: 'Wie?', completion: 'So.', fields: { Frage: 'Wie?', Antwort: 'So.', id: '7' } });
    expect(mapped.mappingReason).toBe('given');

    const conversational = await importDataset(
      file('conv-pairs.jsonl', jsonl([{ prompt: [{ role: 'user', content: 'Q' }], completion: [{ role: 'assistant', content: 'A' }] }])),
    );
    expect(conversational.examples[0].example).toMatchObject({ kind: 'chat', messages: [{ role: 'user', content: 'Q' }, { role: 'assistant', content: 'A' }] });
  });

  it('reads message lists stored as JSON text in CSV cells, and maps custom role names', async () => {
    const cell = (v: unknown) => `"${JSON.stringify(v).replaceAll('"', '""')}"`;
    const csv = `id,dialog\n1,${cell([{ speaker: 'customer', text: 'Where is my order?' }, { speaker: 'agent', text: 'On its way.' }])}\n`;
    const detected = await importDataset(file('dialog.csv', csv));
    expect(detected.mapping).toEqual({ format: 'chat', messages: 'dialog', roleKey: 'speaker', contentKey: 'text' });
    expect(detected.problems[0]).toMatchObject({ line: 2, field: 'dialog[0].speaker', message: 'unknown role "customer"' });
    const mapped = await importDataset(file('dialog2.csv', csv), { mapping: { ...detected.mapping, roleMap: { customer: 'user', agent: 'assistant' } } });
    expect(mapped.examples[0].example).toMatchObject({ kind: 'chat', messages: [{ role: 'user', content: 'Where is my order?' }, { role: 'assistant', content: 'On its way.' }] });
  });

  it('reports each bad row with file, line, field and what was expected, and skips it', async () => {
    const path = file(
      'chat.jsonl',
      jsonl([
        { messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }] },
        { messages: [{ role: 'user', content: 'hi' }, { role: 'robot', content: 'beep' }] },
        { messages: [{ role: 'user', content: '   ' }, { role: 'assistant', content: 'x' }] },
        { messages: [{ role: 'user', content: 'only a question' }] },
        { messages: 'not a list' },
        { nothing: true },
        { messages: [{ role: 'user', content: 5 }, { content: 'no role' }] },
      ]) + '{broken\n',
    );
    const result = await importDataset(path);
    expect(result.examples.map((e) => e.row)).toEqual([0]);
    expect(result.rowsRead).toBe(8);
    expect(result.problemCount).toBe(8);
    const lines = result.problems.map(formatProblem);
    expect(lines).toEqual([
      'chat.jsonl:2 (row 1), field "messages[1].role": unknown role "robot" (expected: one of system, user, assistant, tool, human, gpt, bot, model, function, observation, ipython)',
      'chat.jsonl:3 (row 2), field "messages[0].content": is empty (expected: a non-empty message)',
      'chat.jsonl:4 (row 3), field "messages": has no assistant message: nothing to train on (expected: at least one assistant message)',
      'chat.jsonl:5 (row 4), field "messages": is a string (expected: a list of messages)',
      'chat.jsonl:6 (row 5), field "messages": is missing (expected: a list of messages)',
      'chat.jsonl:7 (row 6), field "messages[0].content": is a number (expected: the message text as a string)',
      'chat.jsonl:7 (row 6), field "messages[1].role": is missing (expected: a role name)',
      'chat.jsonl:8 (row 7): malformed JSON at character 2: expected a field name in double quotes (no trailing comma, no single quotes) (expected: one JSON object per line)',
    ]);
  });

  it("stops at the first problem when asked to, and checks the mapping's columns", async () => {
    const path = file('pc.jsonl', jsonl([{ prompt: 'a', completion: 'b' }, { prompt: 'a', completion: 7 }]));
    const err = await importDataset(path, { onProblem: 'stop' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetProblemError);
    expect((err as DatasetProblemError).problem).toMatchObject({ file: 'pc.jsonl', line: 2, row: 1, field: 'completion', message: 'is a number', expected: 'the completion as a string' });
    // a bad row before a line that is not JSON is still the first: rows held back to detect the format are checked first
    const mixed = file('mixed.jsonl', jsonl([{ prompt: 'a', completion: 'b' }, { prompt: 'a', completion: 7 }]) + '{broken\n');
    const first = await importDataset(mixed, { onProblem: 'stop' }).catch((e: unknown) => e);
    expect((first as DatasetProblemError).problem).toMatchObject({ line: 2, field: 'completion' });
    const onlyJson = file('only-json.jsonl', '{broken\n' + jsonl([{ prompt: 'a', completion: 7 }]));
    expect(((await importDataset(onlyJson, { onProblem: 'stop' }).catch((e: unknown) => e)) as DatasetProblemError).problem.line).toBe(1);
    await expect(importDataset(path, { mapping: { format: 'text', text: 'body' } })).rejects.toThrow(DatasetFormatError);
    await expect(importDataset(path, { mapping: { format: 'text', text: 'body' } })).rejects.toThrow(/names column\(s\) "body", which the file does not have \(it has prompt, completion\)/);
  });

  it('reports exact duplicates, and hashes content independently of the file format', async () => {
    const rows = [
      { prompt: 'a', completion: 'b' },
      { prompt: 'c', completion: 'd' },
      { prompt: 'a', completion: 'b' },
      { prompt: 'a', completion: 'b' },
    ];
    const fromJsonl = await importDataset(file('dup.jsonl', jsonl(rows)));
    expect(fromJsonl.duplicates).toEqual({ duplicateRows: 2, groups: [{ first: { row: 0, line: 1 }, duplicates: [{ row: 2, line: 3 }, { row: 3, line: 4 }] }] });
    expect(fromJsonl.examples).toHaveLength(4);
    const fromCsv = await importDataset(file('dup.csv', 'prompt,completion\n' + rows.map((r) => `${r.prompt},${r.completion}`).join('\n')));
    expect(fromCsv.contentHash).toBe(fromJsonl.contentHash);
    expect(fromCsv.contentHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    const dropped = await importDataset(file('dup2.jsonl', jsonl(rows)), { dropDuplicates: true });
    expect(dropped.examples.map((e) => e.row)).toEqual([0, 1]);
    const changed = await importDataset(file('dup3.jsonl', jsonl([...rows.slice(0, 3), { prompt: 'a', completion: 'B' }])));
    expect(changed.contentHash).not.toBe(fromJsonl.contentHash);
  });

  it('imports a pyarrow Parquet file and flags its bad row', async () => {
    const result = await importDataset(join(fixtures, 'chat.parquet'));
    expect(result.examples).toHaveLength(2);
    expect(result.problems).toEqual([
      { file: 'chat.parquet', line: undefined, row: 2, field: 'messages[1].role', message: 'unknown role "robot"', expected: expect.stringContaining('system, user, assistant'), phrase: { code: 'problem.unknownRole', params: { role: 'robot' } }, expectedPhrase: expect.objectContaining({ code: 'expected.oneOf' }) },
    ]);
    const pairs = await importDataset(join(fixtures, 'pairs.parquet'));
    expect(pairs.mapping).toEqual({ format: 'completion', prompt: 'question', completion: 'answer' });
    expect(pairs.problems[0]).toMatchObject({ row: 2, field: 'question', message: 'is null' });
  });

  it('imports 100k rows in seconds, with progress', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 100_000; i++) {
      lines.push(JSON.stringify({ messages: [{ role: 'user', content: `Question number ${i}: what is ${i} squared?` }, { role: 'assistant', content: `It is ${i * i}.` }] }));
    }
    const path = file('big.jsonl', lines.join('\n') + '\n');
    const progress: ReadProgress[] = [];
    const started = performance.now();
    const result = await importDataset(path, { onProgress: (p) => progress.push(p) });
    const seconds = (performance.now() - started) / 1000;
    expect(result.examples).toHaveLength(100_000);
    expect(result.problemCount).toBe(0);
    expect(seconds).toBeLessThan(20); // ~2–4 s here; slack for a CI machine running other suites on its 2 cores
    expect(progress.length).toBeGreaterThan(3);
    expect(progress.at(-1)!.bytesRead).toBe(statSync(path).size);
    expect(progress.every((p, i) => i === 0 || p.bytesRead >= progress[i - 1].bytesRead)).toBe(true);
  });
});

describe('split', () => {
  const examples: DatasetExample[] = Array.from({ length: 200 }, (_, i) => ({ row: i, example: { kind: 'text', text: `example ${i}` } }));

  it('is stable for a seed, differs across seeds, keeps file order and the ratio', () => {
    const a = splitByRatio(examples, { evalRatio: 0.1, seed: 42 });
    const b = splitByRatio(examples, { evalRatio: 0.1, seed: 42 });
    const c = splitByRatio(examples, { evalRatio: 0.1, seed: 43 });
    expect(a.eval.map((e) => e.row)).toEqual(b.eval.map((e) => e.row));
    expect(a.eval.map((e) => e.row)).not.toEqual(c.eval.map((e) => e.row));
    expect(a.eval).toHaveLength(20);
    expect(a.train).toHaveLength(180);
    expect(new Set([...a.train, ...a.eval].map((e) => e.row)).size).toBe(200);
    expect(a.train.map((e) => e.row)).toEqual([...a.train.map((e) => e.row)].sort((x, y) => x - y));
    expect(a.overlap).toBe(0);
  });

  it('handles small sets and reports train/eval overlap', () => {
    const two = splitByRatio(examples.slice(0, 2), { evalRatio: 0.05, seed: 1 });
    expect([two.train.length, two.eval.length]).toEqual([1, 1]);
    expect(splitByRatio(examples.slice(0, 5), { evalRatio: 0, seed: 1 }).eval).toEqual([]);
    expect(() => splitByRatio(examples, { evalRatio: 1, seed: 1 })).toThrow(RangeError);
    const dupes = [...examples.slice(0, 3), { row: 3, example: { kind: 'text' as const, text: 'example 0' } }];
    expect(countOverlap(dupes.slice(0, 3), dupes.slice(3))).toBe(1);
  });
});

describe('token-length statistics', () => {
  it('counts tokens with the run template and marks the truncated share', async () => {
    writeTinyTokenizer(join(root, 'tok'));
    const tokenizer = HfTokenizer.load(join(root, 'tok'));
    const examples: DatasetExample[] = Array.from({ length: 50 }, (_, i) => ({
      row: i,
      example: { kind: 'completion', prompt: 'Tell me about the loss.', completion: ' the loss falls'.repeat(1 + (i % 10)) },
    }));
    const renderer = new ExampleRenderer(tokenizer, { type: 'chat' }, { maxLength: 40 });
    const lengths = examples.map((e) => renderer.render(e.example).fullLength);
    const stats = tokenLengthStats(examples, renderer, { bins: 10 });
    expect(stats.count).toBe(50);
    expect(stats.min).toBe(Math.min(...lengths));
    expect(stats.max).toBe(Math.max(...lengths));
    expect(stats.mean).toBeCloseTo(lengths.reduce((a, b) => a + b, 0) / 50, 10);
    const truncated = lengths.filter((l) => l > 40).length;
    expect(truncated).toBeGreaterThan(0);
    expect(stats.truncated).toBe(truncated);
    expect(stats.truncatedShare).toBeCloseTo(truncated / 50, 10);
    expect(stats.histogram.counts.reduce((a, b) => a + b, 0)).toBe(50);
    expect(stats.histogram.edges.at(-2)).toBe(40); // the cut-off is an edge…
    expect(stats.histogram.counts.at(-1)).toBe(truncated); // …and the last bin is exactly the truncated examples
    const failing = tokenLengthStats([{ row: 9, example: { kind: 'chat', messages: [{ role: 'robot', content: 'x' }] } }], renderer);
    expect(failing.failures[0]).toMatchObject({ row: 9, message: expect.stringMatching(/Unknown role: robot/) });
  });
});
