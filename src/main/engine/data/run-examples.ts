// A run's dataset as tokenized training and eval examples: import the file (formats/dataset), split it with
// the run's seed, render every row with the run's template and masking (formats/tokenizer). The result is
// what BatchPlan consumes, plus the numbers a user should see (truncated rows, bad rows, the content hash).
import type { DatasetConfig, RunConfig } from '../../../common/api/runs.ts';
import { toFormatsMapping } from '../../../common/api/datasets.ts';
import { importDataset, type DatasetExample, type ImportedDataset } from '../../formats/dataset/import.ts';
import type { ColumnMapping, DatasetFormat } from '../../formats/dataset/schema.ts';
import { splitByRatio } from '../../formats/dataset/split.ts';
import { formatProblem } from '../../formats/dataset/problems.ts';
import { ExampleRenderer, type HfTokenizer, type TemplateSpec } from '../../formats/tokenizer/index.ts';
import type { TokenizedExample } from './batches.ts';

export interface RenderedRow extends TokenizedExample {
  row: number; // row of the source file
  text: string;
}

export interface RunExamples {
  train: RenderedRow[];
  eval: RenderedRow[];
  template: TemplateSpec;
  padId: number;
  datasetHash: string;
  mappingReason: string;
  truncated: number; // rows cut to max_seq_length (train + eval)
  untrained: number; // rows left with no trained token (dropped: they would teach nothing)
  problems: string[]; // bad rows, as sentences (file, row, field, expectation)
  overlap: number; // eval rows whose content also appears in train
  warnings: string[];
}

/** The contract's column mapping in the dataset module's terms (the core's own conversion); undefined = detect. */
export function columnMapping(dataset: DatasetConfig): ColumnMapping | undefined {
  return toFormatsMapping(dataset.format, dataset.columns) as ColumnMapping | undefined;
}

/** The run's template in the tokenizer module's terms. "auto": the model's chat template when it has one. */
export function templateSpec(dataset: DatasetConfig, format: DatasetFormat, tokenizer: HfTokenizer): TemplateSpec {
  const t = dataset.template;
  switch (t.kind) {
    case 'chat':
      return { type: 'chat' };
    case 'chat_template':
      return { type: 'chat', template: t.template };
    case 'prompt':
      return { type: 'prompt', template: t.template };
    case 'plain':
      return { type: 'plain' };
    case 'auto':
      if (format === 'text') return { type: 'plain' };
      return Object.keys(tokenizer.chatTemplates).length > 0 ? { type: 'chat' } : { type: 'plain' };
  }
}

async function importOrThrow(path: string, dataset: DatasetConfig, mapping: ColumnMapping | undefined): Promise<ImportedDataset> {
  const imported = await importDataset(path, { mapping, onProblem: dataset.skip_bad_rows ? 'skip' : 'stop' });
  if (imported.examples.length === 0) throw new Error(`${path}: no usable rows (${imported.problemCount} bad rows)`);
  return imported;
}

export interface LoadRunExamplesOptions {
  config: Pick<RunConfig, 'dataset' | 'max_seq_length' | 'train_on' | 'seed'>;
  tokenizer: HfTokenizer;
}

export async function loadRunExamples({ config, tokenizer }: LoadRunExamplesOptions): Promise<RunExamples> {
  const dataset = config.dataset;
  const imported = await importOrThrow(dataset.path, dataset, columnMapping(dataset));
  let trainRows: DatasetExample[] = imported.examples;
  let evalRows: DatasetExample[] = [];
  let overlap = 0;
  let datasetHash = imported.contentHash;
  const problems = imported.problems.map(formatProblem);
  if (dataset.eval_split.kind === 'ratio') {
    const split = splitByRatio(imported.examples, { evalRatio: dataset.eval_split.ratio, seed: config.seed });
    trainRows = split.train;
    evalRows = split.eval;
    overlap = split.overlap;
  } else if (dataset.eval_split.kind === 'file') {
    const evalImported = await importOrThrow(dataset.eval_split.path, dataset, imported.mapping);
    evalRows = evalImported.examples;
    datasetHash = `${imported.contentHash}+${evalImported.contentHash}`;
  }
  const template = templateSpec(dataset, imported.mapping.format, tokenizer);
  const renderer = new ExampleRenderer(tokenizer, template, { maxLength: config.max_seq_length, trainOn: config.train_on });
  const warnings = new Set<string>();
  let truncated = 0;
  let untrained = 0;
  const render = (rows: DatasetExample[]): RenderedRow[] => {
    const out: RenderedRow[] = [];
    for (const { row, example } of rows) {
      const r = renderer.render(example);
      for (const w of r.warnings) warnings.add(w);
      if (r.truncated) truncated++;
      // A target needs a token before it (labels are shifted), so only trained tokens after the first count.
      let targets = 0;
      for (let t = 1; t < r.trained.length; t++) targets += r.trained[t];
      if (targets === 0) {
        untrained++;
        continue;
      }
      out.push({ row, ids: r.ids, trained: r.trained, truncated: r.truncated, text: r.text });
    }
    return out;
  };
  const train = render(trainRows);
  const evalSet = render(evalRows);
  if (train.length === 0) throw new Error(`${dataset.path}: no training row has a token to learn after rendering (all answers truncated away by max_seq_length ${config.max_seq_length}?)`);
  const pad = tokenizer.special.pad ?? tokenizer.special.eos;
  if (!pad) throw new Error(`${tokenizer.dir}: the tokenizer has neither a pad nor an EOS token to pad batches with`);
  return {
    train,
    eval: evalSet,
    template,
    padId: pad.id,
    datasetHash,
    mappingReason: imported.mappingReason,
    truncated,
    untrained,
    problems,
    overlap,
    warnings: [...warnings],
  };
}
