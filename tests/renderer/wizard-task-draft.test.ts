// The wizard's encoder-task draft → run config (issue 14): the same choices typed as `lora-studio train --task …`
// flags give the same RunConfig (buildRunConfig is the CLI's own), for classification (pairs, label names, eval file,
// rows left out) and QA (columns, doc stride, SQuAD v2); a task run skips the template step; the recipe's targets
// are each family's attention modules; a doc stride not below max length is reported at its field.
import { describe, expect, it } from 'vitest';
import { RunConfig } from '../../src/common/api/runs.ts';
import { buildRunConfig, type TrainFlags } from '../../src/main/cli/commands/train.ts';
import {
  checkDraft,
  DEFAULT_DRAFT,
  loadDraft,
  stepsFor,
  taskDefaults,
  type WizardDraft,
} from '../../src/renderer/src/pages/wizard/draft.ts';

const MODEL = '/models/bert';

function draftOf(patch: Partial<WizardDraft>): WizardDraft {
  return { ...DEFAULT_DRAFT, ...patch };
}

async function cli(flags: TrainFlags): Promise<RunConfig> {
  return buildRunConfig({ model: MODEL, ...flags }, '/');
}

describe('the wizard’s task runs equal the CLI’s', () => {
  it('classification: defaults from the bundled recipe, label names, held-out share', async () => {
    const draft = draftOf({
      task: 'classification',
      ...taskDefaults('classification', { family: 'bert', bundled: true }),
      taskDataPath: '/data/sst2/train.jsonl',
      labelNames: 'negative, positive',
      maxSteps: '30',
      evalSteps: '10',
    });
    const check = checkDraft(draft, { model: MODEL, dataset: draft.taskDataPath });
    expect(check.fieldErrors).toEqual({});
    expect(check.otherErrors).toEqual([]);
    const fromCli = await cli({
      task: 'classification',
      dataset: '/data/sst2/train.jsonl',
      labels: 'negative,positive',
      r: '8',
      alpha: '32',
      dropout: '0.1',
      targets: 'query,value',
      lr: '0.003',
      epochs: '2',
      maxSteps: '30',
      batchSize: '16',
      gradAccum: '1',
      maxLength: '64',
      warmupSteps: '0',
      evalSteps: '10',
      seed: '42',
      evalRatio: '0.1',
    });
    expect(check.config).toEqual(fromCli);
    expect(check.config).toMatchObject({ task: 'classification', classification: { labels: ['negative', 'positive'] }, packing: false });
  });

  it('classification of pairs with named columns, an eval file and the rows left out', async () => {
    const draft = draftOf({
      task: 'classification',
      ...taskDefaults('classification', { family: 'distilbert', bundled: false }),
      method: 'full',
      learningRate: '0.00002',
      taskDataPath: '/data/nli.csv',
      textColumn: 'premise',
      textPairColumn: 'hypothesis',
      labelColumn: 'gold',
      evalKind: 'file',
      evalFile: '/data/nli-dev.csv',
      skipBadRows: true,
    });
    const config = checkDraft(draft, { model: MODEL, dataset: draft.taskDataPath }).config!;
    const fromCli = await cli({
      task: 'classification',
      method: 'full',
      dataset: '/data/nli.csv',
      textColumn: 'premise',
      textPairColumn: 'hypothesis',
      labelColumn: 'gold',
      lr: '0.00002',
      r: '8',
      alpha: '16',
      dropout: '0.1',
      targets: 'q_lin,v_lin',
      epochs: '3',
      batchSize: '8',
      gradAccum: '1',
      maxLength: '128',
      evalFile: '/data/nli-dev.csv',
      skipBadRows: true,
    });
    expect(config).toEqual(fromCli);
    expect(config.dataset).toMatchObject({ eval_split: { kind: 'file', path: '/data/nli-dev.csv' }, skip_bad_rows: true });
    expect(config.lora.target_modules).toEqual(['q_lin', 'v_lin']);
  });

  it('question answering: columns, doc stride and SQuAD v2', async () => {
    const draft = draftOf({
      task: 'question-answering',
      ...taskDefaults('question-answering', { family: 'roberta', bundled: false }),
      taskDataPath: '/data/qa.jsonl',
      questionColumn: 'q',
      contextColumn: 'passage',
      answersColumn: 'spans',
      docStride: '96',
      squadV2: true,
      evalRatio: '0.2',
    });
    const config = checkDraft(draft, { model: MODEL, dataset: draft.taskDataPath }).config!;
    const fromCli = await cli({
      task: 'question-answering',
      dataset: '/data/qa.jsonl',
      questionColumn: 'q',
      contextColumn: 'passage',
      answersColumn: 'spans',
      docStride: '96',
      squadV2: true,
      r: '8',
      alpha: '16',
      dropout: '0.1',
      targets: 'query,value',
      lr: '0.0005',
      epochs: '2',
      batchSize: '8',
      gradAccum: '1',
      maxLength: '384',
      evalRatio: '0.2',
    });
    expect(config).toEqual(fromCli);
    expect(config.question_answering).toMatchObject({ doc_stride: 96, version_2_with_negative: true, question_column: 'q' });
  });

  it('the CLI refuses a held-out share and an eval file together', async () => {
    await expect(cli({ dataset: '/d.jsonl', evalRatio: '0.1', evalFile: '/e.jsonl' })).rejects.toThrow(/--eval-ratio .* or --eval-file .*, not both/);
  });

  it('a doc stride not below max length is reported at its field, on the method step', () => {
    const draft = draftOf({ task: 'question-answering', ...taskDefaults('question-answering', { family: 'bert', bundled: true }), taskDataPath: '/d.json', docStride: '128' });
    const check = checkDraft(draft, { model: MODEL, dataset: draft.taskDataPath });
    expect(check.config).toBeNull();
    expect(check.fieldErrors.docStride).toMatch(/^Doc_stride \(128\) must be smaller than max_seq_length \(128\)/);
    expect(check.firstBadStep).toBe('method');
  });

  it('a blank training file is reported at the task file field; task runs skip the template step', () => {
    const check = checkDraft(draftOf({ task: 'classification' }), { model: MODEL, dataset: '' });
    expect(check.fieldErrors.taskDataPath).toBeTruthy();
    expect(check.firstBadStep).toBe('dataset');
    expect(stepsFor('classification').map((s) => s.id)).toEqual(['model', 'dataset', 'method', 'review']);
    expect(stepsFor('causal-lm').map((s) => s.id)).toEqual(['model', 'dataset', 'template', 'method', 'review']);
  });

  it('the recipe targets each family’s attention modules', () => {
    expect(taskDefaults('classification', { family: 'distilbert', bundled: false }).targetModules).toBe('q_lin, v_lin');
    expect(taskDefaults('classification', { family: 'bert', bundled: false }).targetModules).toBe('query, value');
    expect(taskDefaults('question-answering', { family: 'roberta', bundled: false }).targetModules).toBe('query, value');
  });

  it('a saved draft keeps its task; an unknown one falls back to chat', () => {
    const storage = (value: unknown) => ({ getItem: () => JSON.stringify(value) });
    expect(loadDraft(storage({ task: 'question-answering', docStride: '64' }), 'p').task).toBe('question-answering');
    expect(loadDraft(storage({ task: 'translation' }), 'p').task).toBe('causal-lm');
  });
});
