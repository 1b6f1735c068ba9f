/**
 * Extractive QA examples from the two layouts SQuAD is found in:
 * - the official nested JSON (v1.1 / v2.0): {"data": [{"title", "paragraphs": [{"context", "qas": [{"id",
 *   "question", "answers": [{"text", "answer_start"}], "is_impossible"?}]}]}]};
 * - the Hub's flat rows (JSONL, JSON, CSV/TSV, Parquet): id, title, context, question, answers {text: [...],
 *   answer_start: [...]} (in CSV the answers cell holds that object as JSON), columns named by the run's settings.
 *
 * SQuAD's answer_start counts Python characters (code points); here it becomes a UTF-16 index (what JavaScript's
 * string indices and the tokenizer's offsets use), so a context with emoji before the answer still lines up. An answer
 * whose text is not in the context at answer_start is a problem naming the file, line and field (and where the text
 * does occur, when it does), like every other dataset problem.
 */
import { promises as fsp } from 'node:fs';
import { basename, extname } from 'node:path';
import { say, type Said } from '../../../../common/api/phrases.ts';
import type { DatasetProblem } from '../problems.ts';
import { DatasetReadError, readRows, type ReadOptions } from '../read.ts';

export interface QaDatasetExample {
  id: string;
  title: string | null;
  question: string;
  context: string;
  /** answerStart: UTF-16 index into the context. Empty arrays: no answer (SQuAD v2). */
  answers: { text: string[]; answerStart: number[] };
  row: number;
  line?: number;
}

export interface QaColumns {
  question_column: string;
  context_column: string;
  answers_column: string;
  id_column: string;
  /** SQuAD v2: questions may have no answer. Without it, a question with none is a problem. */
  version_2_with_negative: boolean;
}

export interface QaDataset {
  file: string;
  layout: 'squad-nested' | 'flat';
  examples: QaDatasetExample[];
  problems: DatasetProblem[];
  /** How many usable examples have no answer (v2). */
  unanswerable: number;
}

/** UTF-16 index of code point `cp` in `text` (SQuAD counts Python characters), or -1 past the end. */
function codePointToUnit(text: string, cp: number): number {
  if (!/[\ud800-\udfff]/.test(text)) return cp <= text.length ? cp : -1;
  let units = 0;
  let count = 0;
  for (const ch of text) {
    if (count === cp) return units;
    units += ch.length;
    count++;
  }
  return count === cp ? units : -1;
}

interface RawAnswer {
  text: unknown;
  start: unknown;
  field: string;
}

interface RawQa {
  id: unknown;
  title: unknown;
  question: unknown;
  context: unknown;
  answers: RawAnswer[] | { error: Said; field: string };
  impossible: boolean;
  row: number;
  line?: number;
  /** Field path prefix for messages: `data[0].paragraphs[1].qas[2]` or the column names. */
  fields: { id: string; question: string; context: string };
}

export async function readQaDataset(
  path: string,
  columns: QaColumns,
  options: Pick<ReadOptions, 'onProgress' | 'limit'> = {},
): Promise<QaDataset> {
  const file = basename(path);
  const problems: DatasetProblem[] = [];
  let raw: RawQa[];
  let layout: QaDataset['layout'];
  const nested = extname(path).toLowerCase() === '.json' ? await readNested(path) : null;
  if (nested) {
    layout = 'squad-nested';
    raw = nested;
  } else {
    layout = 'flat';
    raw = [];
    const seenColumns = new Set<string>();
    for await (const item of readRows(path, options)) {
      if (!item.ok) {
        problems.push(item.problem);
        continue;
      }
      const f = item.row.fields;
      for (const key of Object.keys(f)) seenColumns.add(key);
      raw.push({
        id: f[columns.id_column],
        title: f.title,
        question: f[columns.question_column],
        context: f[columns.context_column],
        answers: flatAnswers(f[columns.answers_column], columns.answers_column),
        impossible: false,
        row: item.row.row,
        line: item.row.line,
        fields: { id: columns.id_column, question: columns.question_column, context: columns.context_column },
      });
    }
    const missing = [columns.question_column, columns.context_column, columns.answers_column].filter(
      (c) => !seenColumns.has(c),
    );
    if (raw.length > 0 && missing.length > 0) {
      throw new DatasetReadError(
        `${file}: no column ${missing.map((c) => `"${c}"`).join(', ')}; the file has ${[...seenColumns].join(', ')}. Name the columns in the run's question_answering settings (question_column, context_column, answers_column)`,
        path,
      );
    }
  }

  const examples: QaDatasetExample[] = [];
  const seen = new Set<string>();
  for (const qa of raw) {
    // each problem as a phrase beside its English (the wizard shows it in the UI's language; the CLI the English)
    const problem = (field: string, message: Said, expected?: Said): void => {
      problems.push({
        file,
        row: qa.row,
        ...(qa.line !== undefined ? { line: qa.line } : {}),
        field,
        message: message.message,
        phrase: message.phrase,
        ...(expected ? { expected: expected.message, expectedPhrase: expected.phrase } : {}),
      });
    };
    const shown = (v: unknown) => JSON.stringify(v ?? null);
    if (typeof qa.context !== 'string' || qa.context.length === 0) {
      problem(qa.fields.context, say('taskProblem.noContext', { value: shown(qa.context) }), say('taskExpected.context'));
      continue;
    }
    if (typeof qa.question !== 'string' || qa.question.trim().length === 0) {
      problem(qa.fields.question, say('taskProblem.noQuestion', { value: shown(qa.question) }), say('taskExpected.question'));
      continue;
    }
    const id =
      typeof qa.id === 'string' || typeof qa.id === 'number'
        ? String(qa.id)
        : layout === 'flat' && qa.id === undefined
          ? `row-${qa.row}`
          : null;
    if (id === null) {
      problem(qa.fields.id, say('taskProblem.noId', { value: shown(qa.id) }), say('taskExpected.id'));
      continue;
    }
    if (seen.has(id)) {
      problem(qa.fields.id, say('taskProblem.idRepeated', { id }), say('taskExpected.distinctId'));
      continue;
    }
    if (!Array.isArray(qa.answers)) {
      problem(qa.answers.field, qa.answers.error, say('taskExpected.answers'));
      continue;
    }
    const texts: string[] = [];
    const starts: number[] = [];
    let bad = false;
    for (const a of qa.answers) {
      if (typeof a.text !== 'string' || a.text.length === 0) {
        problem(a.field, say('taskProblem.answerText', { value: shown(a.text) }), say('taskExpected.answerText'));
        bad = true;
        break;
      }
      if (typeof a.start !== 'number' || !Number.isInteger(a.start) || a.start < 0) {
        problem(a.field, say('taskProblem.answerStart', { value: shown(a.start) }), say('taskExpected.answerStart'));
        bad = true;
        break;
      }
      // SQuAD's index counts code points; files written by JavaScript tools count UTF-16 units. Take whichever fits.
      const asCodePoints = codePointToUnit(qa.context, a.start);
      const unit =
        asCodePoints >= 0 && qa.context.startsWith(a.text, asCodePoints)
          ? asCodePoints
          : qa.context.startsWith(a.text, a.start)
            ? a.start
            : -1;
      if (unit < 0) {
        const found = qa.context.indexOf(a.text);
        const atStart = qa.context.slice(Math.max(0, asCodePoints), Math.max(0, asCodePoints) + a.text.length);
        problem(
          a.field,
          say('taskProblem.answerNotAt', {
            answer: a.text,
            start: a.start,
            there: atStart,
            found: found < 0 ? -1 : [...qa.context.slice(0, found)].length,
          }),
          say('taskExpected.answerAt'),
        );
        bad = true;
        break;
      }
      texts.push(a.text);
      starts.push(unit);
    }
    if (bad) continue;
    if (texts.length === 0 && !columns.version_2_with_negative) {
      problem(
        layout === 'squad-nested' ? `${qa.fields.id.replace(/\.id$/, '')}.answers` : columns.answers_column,
        qa.impossible ? say('taskProblem.impossible') : say('taskProblem.noAnswer'),
        say('taskExpected.anAnswer'),
      );
      continue;
    }
    seen.add(id);
    examples.push({
      id,
      title: typeof qa.title === 'string' ? qa.title : null,
      question: qa.question,
      context: qa.context,
      answers: { text: texts, answerStart: starts },
      row: qa.row,
      ...(qa.line !== undefined ? { line: qa.line } : {}),
    });
  }
  if (examples.length === 0) {
    throw new DatasetReadError(
      `${file}: no usable question (${problems.length} problems; the first: ${problems[0]?.message ?? 'no rows'})`,
      path,
    );
  }
  return { file, layout, examples, problems, unanswerable: examples.filter((e) => e.answers.text.length === 0).length };
}

/** A flat row's answers: {text: [...], answer_start: [...]} (or that as a JSON string, or a list of {text, answer_start}). */
function flatAnswers(value: unknown, column: string): RawQa['answers'] {
  let v = value;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      return { error: say('taskProblem.answersNotJson', { value: JSON.stringify(value).slice(0, 80) }), field: column };
    }
  }
  if (Array.isArray(v)) {
    return v.map((a: Record<string, unknown> | null, i) => ({
      text: a?.text,
      start: a?.answer_start,
      field: `${column}[${i}]`,
    }));
  }
  if (v === null || typeof v !== 'object') return { error: say('taskProblem.answersIs', { value: JSON.stringify(v ?? null) }), field: column };
  const { text, answer_start } = v as { text?: unknown; answer_start?: unknown };
  const list = (x: unknown): unknown[] | null =>
    Array.isArray(x) ? x : ArrayBuffer.isView(x) ? Array.from(x as unknown as ArrayLike<unknown>) : null;
  const texts = list(text);
  const starts = list(answer_start);
  if (!texts || !starts) return { error: say('taskProblem.answersLists'), field: column };
  if (texts.length !== starts.length) {
    return { error: say('taskProblem.answersCounts', { texts: texts.length, starts: starts.length }), field: column };
  }
  return texts.map((t, i) => ({
    text: t,
    start: typeof starts[i] === 'bigint' ? Number(starts[i]) : starts[i],
    field: `${column}.answer_start[${i}]`,
  }));
}

/** The nested official layout, or null when the JSON file holds something else (then it is read as rows). */
async function readNested(path: string): Promise<RawQa[] | null> {
  let text: string;
  let value: unknown;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(await fsp.readFile(path));
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    value = JSON.parse(text);
  } catch {
    // Not UTF-8 or not JSON: the row reader refuses it with the dataset readers' messages (encoding, line, byte).
    for await (const item of readRows(path, { limit: 1 })) void item;
    throw new DatasetReadError(`${basename(path)} is not a readable JSON file`, path);
  }
  const data = (value as { data?: unknown } | null)?.data;
  if (!Array.isArray(data) || !data.some((a) => Array.isArray((a as { paragraphs?: unknown } | null)?.paragraphs)))
    return null;
  const lineOfId = idLines(text);
  const out: RawQa[] = [];
  data.forEach((article: { title?: unknown; paragraphs?: unknown } | null, ai) => {
    const paragraphs = Array.isArray(article?.paragraphs) ? article.paragraphs : [];
    paragraphs.forEach((paragraph: { context?: unknown; qas?: unknown } | null, pi) => {
      const qas = Array.isArray(paragraph?.qas) ? paragraph.qas : [];
      qas.forEach((qa: Record<string, unknown> | null, qi) => {
        const at = `data[${ai}].paragraphs[${pi}].qas[${qi}]`;
        const answers = Array.isArray(qa?.answers)
          ? (qa.answers as Array<Record<string, unknown> | null>).map((a, i) => ({
              text: a?.text,
              start: a?.answer_start,
              field: `${at}.answers[${i}]`,
            }))
          : { error: say('taskProblem.answersIs', { value: JSON.stringify(qa?.answers ?? null) }), field: `${at}.answers` };
        const line = typeof qa?.id === 'string' ? lineOfId.get(qa.id) : undefined;
        out.push({
          id: qa?.id,
          title: article?.title,
          question: qa?.question,
          context: paragraph?.context,
          answers,
          impossible: qa?.is_impossible === true,
          row: out.length,
          ...(line !== undefined ? { line } : {}),
          fields: { id: `${at}.id`, question: `${at}.question`, context: `data[${ai}].paragraphs[${pi}].context` },
        });
      });
    });
  });
  return out;
}

/** 1-based line of each `"id": "…"` in the raw JSON, so a problem in a nested file can name its line. */
function idLines(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  let line = 1;
  let scanned = 0;
  for (const m of text.matchAll(/"id"\s*:\s*("(?:[^"\\]|\\.)*")/g)) {
    for (let i = scanned; i < m.index; i++) if (text.charCodeAt(i) === 10) line++;
    scanned = m.index;
    try {
      const id = JSON.parse(m[1]) as string;
      if (!lines.has(id)) lines.set(id, line);
    } catch {
      // not a string literal after all: no line for it
    }
  }
  return lines;
}
