import { nested, say, type Phrase, type Said } from '../../../common/api/phrases.ts';

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
  return problemSaid(p).message;
}

/** The problem as one sentence with its phrase: the message and the expectation ride inside it as nested phrases. */
export function problemSaid(p: DatasetProblem): Said {
  return say('dataset.problem', {
    ...nested('problem', { message: p.message, phrase: p.phrase }),
    ...nested('expected', { message: p.expected ?? '', phrase: p.expected === undefined ? undefined : p.expectedPhrase }),
    file: p.file,
    line: p.line ?? 0,
    row: p.row,
    field: p.field ?? '',
    problem: p.message,
    expected: p.expected ?? '',
  });
}

/** Import with onProblem 'stop': the first bad row, said as the problem's sentence (with its phrase, for the UI). */
export class DatasetProblemError extends Error {
  readonly phrase: Phrase;
  constructor(readonly problem: DatasetProblem) {
    const said = problemSaid(problem);
    super(said.message);
    this.name = 'DatasetProblemError';
    this.phrase = said.phrase;
  }
}
