import type { Phrase } from '../../../common/api/phrases.ts';

/** A row that could not be used, said precisely enough to find and fix it. */
export interface DatasetProblem {
  /** File name (not the full path, which may be private). */
  file: string;
  /** 1-based line where the row starts, for line-based formats. */
  line?: number;
  /** 0-based row index among the file's data rows. */
  row: number;
  /** The field, in path form: `messages[2].role`. */
  field?: string;
  message: string;
  /** The message as a phrase, for a UI in another language (common/api/phrases.ts). */
  phrase?: Phrase;
  /** What was expected instead. */
  expected?: string;
  expectedPhrase?: Phrase;
}

/** `chat.jsonl:14 (row 13), field "messages[2].role": unknown role "robot" (expected: one of system, user, assistant, tool)` */
export function formatProblem(p: DatasetProblem): string {
  const where = p.line !== undefined ? `${p.file}:${p.line} (row ${p.row})` : `${p.file} row ${p.row}`;
  const field = p.field ? `, field "${p.field}"` : '';
  const expected = p.expected ? ` (expected: ${p.expected})` : '';
  return `${where}${field}: ${p.message}${expected}`;
}

export class DatasetProblemError extends Error {
  constructor(readonly problem: DatasetProblem) {
    super(formatProblem(problem));
    this.name = 'DatasetProblemError';
  }
}
