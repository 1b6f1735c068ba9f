/**
 * Text classification rows (GLUE-style: `sentence,label`, or a pair `sentence1,sentence2,label`) from JSONL, JSON,
 * CSV/TSV or Parquet, read with the dataset readers and their problem reporting. Labels may be names ("positive"),
 * class numbers (0, 1, or "1" from a CSV) or, for regression, one float per row; the label list becomes the model's
 * id2label / label2id:
 * - given (the run's `labels`): names map to their index, class numbers must be below the count;
 * - else from these rows: class numbers in order when every label is a whole number, names sorted (as run_glue.py
 *   sorts them) otherwise; a file whose labels are numbers with a fraction is regression (one output, MSE);
 * - an evaluation split reads with the training split's list, so a label the training rows never had is a problem.
 */
import { basename } from 'node:path';
import type { ClassificationSection } from '../../../../common/api/runs.ts';
import { say, type Said } from '../../../../common/api/phrases.ts';
import type { DatasetProblem } from '../problems.ts';
import { DatasetReadError, readRows, type RawRow, type ReadOptions } from '../read.ts';

export type ClassificationProblemType = 'single_label_classification' | 'regression';

export interface ClassificationExample {
  text: string;
  textPair: string | null;
  /** Class id (single-label) or the target value (regression). */
  label: number;
  row: number;
  line?: number;
}

export interface ClassificationLabels {
  problemType: ClassificationProblemType;
  /** Label names in class-id order; empty for regression. */
  labels: string[];
}

export interface ClassificationDataset extends ClassificationLabels {
  file: string;
  examples: ClassificationExample[];
  problems: DatasetProblem[];
  /** The columns read (the text column resolved when the section left it null). */
  textColumn: string;
  textPairColumn: string | null;
  labelColumn: string;
  /** For config.json. */
  id2label: Record<string, string>;
  label2id: Record<string, number>;
}

export interface ReadClassificationOptions extends Pick<ReadOptions, 'onProgress' | 'limit'> {
  /** The training split's labels, for reading an evaluation split (its labels must be among them). */
  labels?: ClassificationLabels;
}

export type RawLabel =
  { kind: 'int'; value: number } | { kind: 'float'; value: number } | { kind: 'name'; value: string };

function rawLabel(value: unknown): RawLabel | null {
  if (typeof value === 'number' && Number.isFinite(value))
    return Number.isInteger(value) ? { kind: 'int', value } : { kind: 'float', value };
  if (typeof value === 'bigint') return { kind: 'int', value: Number(value) };
  if (typeof value === 'boolean') return { kind: 'name', value: String(value) };
  if (typeof value === 'string') {
    const t = value.trim();
    if (t.length === 0) return null;
    if (/^[+-]?\d+$/.test(t)) return { kind: 'int', value: Number(t) };
    if (/^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$/.test(t)) return { kind: 'float', value: Number(t) };
    return { kind: 'name', value: t };
  }
  return null;
}

function textOf(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return null;
}

/** The label list a training split implies (see the file comment). */
export function labelsFromRows(raw: readonly RawLabel[], file: string): ClassificationLabels {
  if (raw.length === 0) throw new DatasetReadError(`${file}: no row has a usable label`, file);
  if (raw.some((r) => r.kind === 'float') && raw.every((r) => r.kind !== 'name'))
    return { problemType: 'regression', labels: [] };
  let labels: string[];
  if (raw.every((r) => r.kind === 'int')) {
    const max = Math.max(...raw.map((r) => r.value as number));
    labels = Array.from({ length: max + 1 }, (_, i) => String(i));
  } else {
    labels = [...new Set(raw.map((r) => String(r.value)))].sort();
  }
  if (labels.length < 2) {
    throw new DatasetReadError(
      `${file}: every row has the label "${labels[0]}"; a classifier needs at least two labels (list them in the run's classification.labels if this split lacks some)`,
      file,
    );
  }
  return { problemType: 'single_label_classification', labels };
}

export async function readClassificationDataset(
  path: string,
  section: ClassificationSection,
  options: ReadClassificationOptions = {},
): Promise<ClassificationDataset> {
  const file = basename(path);
  const rows: RawRow[] = [];
  const problems: DatasetProblem[] = [];
  for await (const item of readRows(path, { onProgress: options.onProgress, limit: options.limit })) {
    if (item.ok) rows.push(item.row);
    else problems.push(item.problem);
  }
  if (rows.length === 0)
    throw new DatasetReadError(`${file}: no readable rows${problems.length ? ` (${problems.length} bad)` : ''}`, path);
  const columns = new Set(rows.flatMap((r) => Object.keys(r.fields)));
  const have = [...columns].join(', ');
  const textColumn =
    section.text_column ?? (columns.has('sentence') ? 'sentence' : columns.has('text') ? 'text' : null);
  if (textColumn === null || !columns.has(textColumn)) {
    const which = textColumn === null ? 'a "sentence" or "text" column' : `the text column "${textColumn}"`;
    throw new DatasetReadError(
      `${file}: no ${which}; the file has ${have}. Set classification.text_column to the column with the text`,
      path,
    );
  }
  for (const [name, setting] of [
    [section.text_pair_column, 'text_pair_column'],
    [section.label_column, 'label_column'],
  ] as const) {
    if (name !== null && !columns.has(name)) {
      throw new DatasetReadError(
        `${file}: no column "${name}" (classification.${setting}); the file has ${have}`,
        path,
      );
    }
  }

  // each problem as a phrase beside its English (the wizard shows it in the UI's language; the CLI the English)
  const problem = (row: RawRow, field: string, message: Said, expected?: Said): void => {
    problems.push({
      file,
      line: row.line,
      row: row.row,
      field,
      message: message.message,
      phrase: message.phrase,
      ...(expected ? { expected: expected.message, expectedPhrase: expected.phrase } : {}),
    });
  };
  const read: Array<{ row: RawRow; text: string; pair: string | null; label: RawLabel }> = [];
  for (const row of rows) {
    const text = textOf(row.fields[textColumn]);
    if (text === null || text.trim().length === 0) {
      problem(
        row,
        textColumn,
        text === null ? say('taskProblem.textMissing', { value: JSON.stringify(row.fields[textColumn] ?? null) }) : say('taskProblem.textEmpty'),
        say('taskExpected.text'),
      );
      continue;
    }
    let pair: string | null = null;
    if (section.text_pair_column !== null) {
      pair = textOf(row.fields[section.text_pair_column]);
      if (pair === null || pair.trim().length === 0) {
        problem(row, section.text_pair_column, say('taskProblem.pairMissing'), say('taskExpected.pair'));
        continue;
      }
    }
    const value = row.fields[section.label_column];
    const label = rawLabel(value);
    if (label === null) {
      problem(
        row,
        section.label_column,
        say('taskProblem.noLabel', { value: JSON.stringify(value ?? null) }),
        say('taskExpected.label'),
      );
      continue;
    }
    if (label.kind === 'int' && label.value < 0) {
      problem(
        row,
        section.label_column,
        say('taskProblem.negativeLabel', { label: label.value }),
        say('taskExpected.classFromZero'),
      );
      continue;
    }
    read.push({ row, text, pair, label });
  }

  const given: ClassificationLabels | null =
    options.labels ?? (section.labels ? { problemType: 'single_label_classification', labels: section.labels } : null);
  const resolved =
    given ??
    labelsFromRows(
      read.map((r) => r.label),
      file,
    );
  const index = new Map(resolved.labels.map((l, i) => [l, i]));
  const known =
    resolved.labels.length <= 12
      ? resolved.labels.join(', ')
      : `${resolved.labels.slice(0, 12).join(', ')}, … (${resolved.labels.length})`;
  const examples: ClassificationExample[] = [];
  for (const { row, text, pair, label } of read) {
    let id: number | undefined;
    if (resolved.problemType === 'regression') {
      if (label.kind === 'name') {
        problem(
          row,
          section.label_column,
          say('taskProblem.labelNotNumber', { label: label.value }),
          say('taskExpected.number'),
        );
        continue;
      }
      id = label.value;
    } else if (label.kind === 'name') {
      id = index.get(label.value);
    } else {
      // A class number: the label of that name when there is one ("0", "1"), else its position in the list.
      id =
        index.get(String(label.value)) ??
        (label.kind === 'int' && label.value < resolved.labels.length ? label.value : undefined);
    }
    if (id === undefined) {
      problem(
        row,
        section.label_column,
        say('taskProblem.unknownLabel', {
          label: JSON.stringify(label.value),
          from: options.labels ? 'training' : section.labels ? 'setting' : 'labels',
        }),
        say('taskExpected.knownLabel', { known, count: resolved.labels.length }),
      );
      continue;
    }
    examples.push({
      text,
      textPair: pair,
      label: id,
      row: row.row,
      ...(row.line !== undefined ? { line: row.line } : {}),
    });
  }
  if (examples.length === 0) {
    throw new DatasetReadError(
      `${file}: no usable row (${problems.length} problems; the first: ${problems[0]?.message ?? 'none'})`,
      path,
    );
  }
  return {
    file,
    examples,
    problems,
    problemType: resolved.problemType,
    labels: resolved.labels,
    textColumn,
    textPairColumn: section.text_pair_column,
    labelColumn: section.label_column,
    id2label: Object.fromEntries(resolved.labels.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(resolved.labels.map((l, i) => [l, i])),
  };
}
