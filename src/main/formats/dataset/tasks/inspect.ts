/**
 * An encoder task's dataset summarised as the wizard shows it: the same readers a task run uses
 * (readClassificationDataset / readQaDataset, with the run's settings), so the label list, its order and the rows
 * left out are exactly the run's. Adds what a person checks before training: rows per label, how the labels are
 * written, a regression target's range, SQuAD's layout and answer counts.
 */
import type { ClassificationSection, QuestionAnsweringSection } from '../../../../common/api/runs.ts';
import type { TaskDataReport } from '../../../../common/api/task-data.ts';
import { formatProblem, type DatasetProblem } from '../problems.ts';
import { readRows } from '../read.ts';
import { readClassificationDataset } from './classification.ts';
import { readQaDataset } from './squad.ts';

/** How many problems travel to the UI (the count says how many there are). */
const LISTED_PROBLEMS = 200;

export interface InspectTaskDataOptions {
  task: 'classification' | 'question-answering';
  path: string;
  classification: ClassificationSection;
  question_answering: Pick<
    QuestionAnsweringSection,
    'question_column' | 'context_column' | 'answers_column' | 'id_column' | 'version_2_with_negative'
  >;
  /** An eval file: read with the training file's label list. */
  labels?: string[] | null;
}

const listed = (problems: DatasetProblem[]) =>
  problems.slice(0, LISTED_PROBLEMS).map((p) => ({ ...p, text: formatProblem(p) }));

/** Column names of the first rows (enough to offer them as choices). */
async function columnsOf(path: string): Promise<string[]> {
  const seen = new Set<string>();
  for await (const item of readRows(path, { limit: 200 })) if (item.ok) for (const k of Object.keys(item.row.fields)) seen.add(k);
  return [...seen];
}

export async function inspectTaskData(o: InspectTaskDataOptions): Promise<TaskDataReport> {
  return (await readTaskData(o)).report;
}

/** The report and the texts a model reads (text + pair, or question + context), for counting tokens. */
export interface TaskDataRead {
  report: TaskDataReport;
  texts: Array<[string, string | null]>;
}

export async function readTaskData(o: InspectTaskDataOptions): Promise<TaskDataRead> {
  if (o.task === 'classification') {
    const given = o.labels ? { problemType: 'single_label_classification' as const, labels: o.labels } : undefined;
    const data = await readClassificationDataset(o.path, o.classification, given ? { labels: given } : {});
    const counts = new Array<number>(data.labels.length).fill(0);
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    for (const e of data.examples) {
      if (data.problemType === 'regression') {
        min = Math.min(min, e.label);
        max = Math.max(max, e.label);
        sum += e.label;
      } else counts[e.label]++;
    }
    const labelKind =
      data.problemType === 'regression' ? 'floats' : data.labels.every((l, i) => l === String(i)) ? 'numbers' : 'names';
    const report: TaskDataReport = {
      task: o.task,
      path: o.path,
      file: data.file,
      columns: await columnsOf(o.path),
      examples: data.examples.length,
      problems: listed(data.problems),
      problemCount: data.problems.length,
      classification: {
        textColumn: data.textColumn,
        textPairColumn: data.textPairColumn,
        labelColumn: data.labelColumn,
        problemType: data.problemType,
        labelKind,
        labels: data.labels.map((name, i) => ({ name, count: counts[i] })),
        target: data.problemType === 'regression' ? { min, max, mean: sum / data.examples.length } : null,
      },
      questionAnswering: null,
    };
    return { report, texts: data.examples.map((e) => [e.text, e.textPair]) };
  }
  const data = await readQaDataset(o.path, o.question_answering);
  const columns =
    data.layout === 'squad-nested' ? ['title', 'context', 'question', 'id', 'answers'] : await columnsOf(o.path);
  const report: TaskDataReport = {
    task: o.task,
    path: o.path,
    file: data.file,
    columns,
    examples: data.examples.length,
    problems: listed(data.problems),
    problemCount: data.problems.length,
    classification: null,
    questionAnswering: {
      layout: data.layout,
      unanswerable: data.unanswerable,
      answers: data.examples.reduce((n, e) => n + e.answers.text.length, 0),
      contexts: new Set(data.examples.map((e) => e.context)).size,
    },
  };
  return { report, texts: data.examples.map((e) => [e.question, e.context]) };
}
