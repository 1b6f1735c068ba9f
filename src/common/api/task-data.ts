// An encoder task's dataset as the wizard shows it before a run starts (issue 14): what `train --task` will read
// from the file with the same settings — the columns found, the label list with its counts (or a regression
// target's range), the SQuAD layout, and the rows it will leave out, each with file, line and field — plus the
// encoder model and task datasets that ship with the studio (the wizard's cards). The run reads the file itself
// (RunConfig.dataset.path): nothing is imported or copied.
import { z } from 'zod';
import { DatasetProblem } from './datasets.ts';
import { ClassificationSection, QuestionAnsweringSection } from './runs.ts';

/** The encoder families the engine trains tasks on (BaseModel.family). */
export const ENCODER_FAMILIES = ['bert', 'distilbert', 'roberta', 'electra'] as const;
export type EncoderFamily = (typeof ENCODER_FAMILIES)[number];

export function isEncoderFamily(family: string): family is EncoderFamily {
  return (ENCODER_FAMILIES as readonly string[]).includes(family);
}

/**
 * PEFT's default LoRA targets for each encoder family (TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING): the
 * attention's query and value projections, named as each family names them (DistilBERT: q_lin / v_lin).
 */
export const ENCODER_DEFAULT_TARGETS: Record<EncoderFamily, string[]> = {
  bert: ['query', 'value'],
  roberta: ['query', 'value'],
  electra: ['query', 'value'],
  distilbert: ['q_lin', 'v_lin'],
};

/** Hub ids of encoders the wizard offers for the tasks (the canonical ids the Hub redirects the short ones to). */
export const SUGGESTED_ENCODER_REPOS = [
  'distilbert/distilbert-base-uncased',
  'google-bert/bert-base-uncased',
  'klue/bert-base',
  'klue/roberta-base',
  'FacebookAI/xlm-roberta-base',
] as const;

export const EncoderTask = z.enum(['classification', 'question-answering']);
export type EncoderTask = z.infer<typeof EncoderTask>;

export const TaskDataRequest = z.strictObject({
  task: EncoderTask,
  path: z.string().min(1).describe('The dataset file (JSONL, JSON, CSV/TSV, Parquet; SQuAD’s nested JSON for QA).'),
  classification: ClassificationSection.prefault({}).describe('Classification: the columns and labels, as the run has them.'),
  question_answering: QuestionAnsweringSection.prefault({}).describe('QA: the columns, as the run has them.'),
  labels: z
    .array(z.string())
    .nullable()
    .default(null)
    .describe('An eval file: read with the training file’s label list (a label it lacks is a problem).'),
});
export type TaskDataRequest = z.infer<typeof TaskDataRequest>;

const Count = z.number().int().min(0);

export const TaskDataReport = z.object({
  task: EncoderTask,
  path: z.string(),
  file: z.string(),
  columns: z.array(z.string()).describe('The columns of the rows (for SQuAD’s nested layout: its fields).'),
  examples: Count.describe('Usable rows (classification) or questions (QA).'),
  problems: z.array(DatasetProblem).describe('The rows left out, with file, line and field (at most 200 listed).'),
  problemCount: Count,
  classification: z
    .object({
      textColumn: z.string(),
      textPairColumn: z.string().nullable(),
      labelColumn: z.string(),
      problemType: z.enum(['single_label_classification', 'regression']),
      labelKind: z.enum(['names', 'numbers', 'floats']).describe('How the file writes its labels.'),
      labels: z.array(z.object({ name: z.string(), count: Count })).describe('Label names in class-id order with their rows.'),
      target: z
        .object({ min: z.number(), max: z.number(), mean: z.number() })
        .nullable()
        .describe('Regression: the range of the target values.'),
    })
    .nullable(),
  questionAnswering: z
    .object({
      layout: z.enum(['squad-nested', 'flat']),
      unanswerable: Count,
      answers: Count.describe('Answer spans across the usable questions.'),
      contexts: Count.describe('Distinct contexts.'),
    })
    .nullable(),
});
export type TaskDataReport = z.infer<typeof TaskDataReport>;

export const TaskDataSuggestion = z.object({
  task: EncoderTask,
  name: z.string(),
  description: z.string(),
  path: z.string(),
  evalPath: z.string().nullable(),
});
export type TaskDataSuggestion = z.infer<typeof TaskDataSuggestion>;

export const TaskSuggestions = z.object({
  encoderPath: z.string().nullable().describe('The bundled encoder (BertForMaskedLM pretrained by the engine), when installed.'),
  datasets: z.array(TaskDataSuggestion),
  hubRepos: z.array(z.string()),
});
export type TaskSuggestions = z.infer<typeof TaskSuggestions>;

export const taskDataMethods = {
  'taskData.inspect': {
    input: TaskDataRequest,
    output: TaskDataReport,
    doc: 'Read an encoder task’s dataset as a run would: columns, the label list with counts (or regression range), the SQuAD layout, and the rows left out.',
  },
  'taskData.suggestions': {
    input: z.strictObject({}),
    output: TaskSuggestions,
    doc: 'The bundled encoder and task datasets (SST-2 and SQuAD layouts), and Hub encoders to offer, for the wizard’s task paths.',
  },
};
