// What the wizard asks the core for an encoder task (issue 14): the task dataset read as the run reads it (labels in
// class order with rows per label counted here from the file itself, names vs class numbers vs regression, the
// SQuAD nested layout, an answer that is not at its answer_start as a problem with file, line and field), the
// bundled encoder and task data as cards, and models.plan for a task config: trainable parameters counted by hand
// (LoRA A/B on query/value, the classification or QA head and the pooler the masked-LM checkpoint lacks), a decoder
// refused in a blocking sentence, and a target DistilBERT does not have named with the modules it does have.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunConfig } from '../../../src/common/api/runs.ts';
import { BUNDLED_ENCODER_DATA_DIR, BUNDLED_ENCODER_DIR } from '../../../src/main/core/bundled.ts';
import { createStudioCore, type StudioCore } from '../../../src/main/core/index.ts';
import { writeTinyEncoder, TINY } from '../../fixtures/tiny-encoders.ts';
import { makeTinyModel } from '../../fixtures/tiny-models.ts';

let dir: string;
let core: StudioCore;
const SST2 = join(BUNDLED_ENCODER_DATA_DIR, 'sst2/train.jsonl');
const SQUAD = join(BUNDLED_ENCODER_DATA_DIR, 'squad/train-v1.1.json');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lora-task-data-'));
  core = createStudioCore({ dataDir: join(dir, 'data') });
});
afterAll(async () => {
  await core.close();
  rmSync(dir, { recursive: true, force: true });
});

const inspect = (input: Record<string, unknown>) => core.call('taskData.inspect', input as never);

describe('taskData.inspect', () => {
  it('counts the rows of each label of the bundled SST-2 file, class numbers in order', async () => {
    const report = await inspect({ task: 'classification', path: SST2 });
    const rows = readFileSync(SST2, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { label: number });
    const expected = [0, 1].map((c) => rows.filter((r) => r.label === c).length);
    expect(report.examples).toBe(rows.length);
    expect(report.problemCount).toBe(0);
    expect(report.columns.sort()).toEqual(['idx', 'label', 'sentence']);
    expect(report.classification).toMatchObject({ textColumn: 'sentence', labelColumn: 'label', problemType: 'single_label_classification', labelKind: 'numbers' });
    expect(report.classification!.labels).toEqual([
      { name: '0', count: expected[0] },
      { name: '1', count: expected[1] },
    ]);
    // names given for the class numbers: the run's id2label
    const named = await inspect({ task: 'classification', path: SST2, classification: { labels: ['negative', 'positive'] } });
    expect(named.classification!.labels.map((l) => [l.name, l.count])).toEqual([
      ['negative', expected[0]],
      ['positive', expected[1]],
    ]);
  });

  it('sorts label names, reads pairs, and lists a row without a label by line and field; one float label is regression', async () => {
    const file = join(dir, 'nli.jsonl');
    writeFileSync(
      file,
      [
        { premise: 'a cat sleeps', hypothesis: 'an animal rests', gold: 'entailment' },
        { premise: 'a cat sleeps', hypothesis: 'a dog barks', gold: 'neutral' },
        { premise: 'a cat sleeps', hypothesis: 'the cat runs', gold: 'contradiction' },
        { premise: 'a cat sleeps', hypothesis: 'nothing' },
        { premise: 'rain', hypothesis: 'wet', gold: 'entailment' },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n') + '\n',
    );
    const report = await inspect({ task: 'classification', path: file, classification: { text_column: 'premise', text_pair_column: 'hypothesis', label_column: 'gold' } });
    expect(report.classification!.labelKind).toBe('names');
    expect(report.classification!.labels).toEqual([
      { name: 'contradiction', count: 1 },
      { name: 'entailment', count: 2 },
      { name: 'neutral', count: 1 },
    ]);
    expect(report.problemCount).toBe(1);
    expect(report.problems[0]).toMatchObject({ file: 'nli.jsonl', line: 4, field: 'gold' });
    expect(report.problems[0]!.text).toMatch(/^nli\.jsonl:4 .*field "gold": no usable label/);

    const scores = join(dir, 'stsb.csv');
    writeFileSync(scores, 'sentence1,sentence2,label\nA man plays,A man is playing,4.8\nA dog,A cat,0.5\nTwo kids,Children,3.25\n');
    const regression = await inspect({ task: 'classification', path: scores, classification: { text_column: 'sentence1', text_pair_column: 'sentence2' } });
    expect(regression.classification).toMatchObject({ problemType: 'regression', labelKind: 'floats', labels: [] });
    expect(regression.classification!.target!.min).toBe(0.5);
    expect(regression.classification!.target!.max).toBe(4.8);
    expect(regression.classification!.target!.mean).toBeCloseTo((4.8 + 0.5 + 3.25) / 3, 12);
  });

  it('reads the bundled SQuAD nested file, and lists an answer that is not at its answer_start', async () => {
    const squad = JSON.parse(readFileSync(SQUAD, 'utf8')) as { data: { paragraphs: { context: string; qas: { answers: unknown[] }[] }[] }[] };
    const questions = squad.data.flatMap((d) => d.paragraphs.flatMap((p) => p.qas));
    const report = await inspect({ task: 'question-answering', path: SQUAD });
    expect(report.questionAnswering).toMatchObject({ layout: 'squad-nested', unanswerable: 0 });
    expect(report.examples).toBe(questions.length);
    expect(report.questionAnswering!.answers).toBe(questions.reduce((n, q) => n + q.answers.length, 0));
    expect(report.questionAnswering!.contexts).toBe(new Set(squad.data.flatMap((d) => d.paragraphs.map((p) => p.context))).size);

    const flat = join(dir, 'qa.jsonl');
    const context = 'Mia went to the river with her dad.';
    writeFileSync(
      flat,
      [
        { id: 'a', question: 'Where did Mia go?', context, answers: { text: ['the river'], answer_start: [12] } },
        { id: 'b', question: 'Who went with Mia?', context, answers: { text: ['her dad'], answer_start: [3] } },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n') + '\n',
    );
    const bad = await inspect({ task: 'question-answering', path: flat });
    expect(bad.questionAnswering!.layout).toBe('flat');
    expect(bad.examples).toBe(1);
    expect(bad.problems).toHaveLength(1);
    expect(bad.problems[0]).toMatchObject({ line: 2, field: 'answers.answer_start[0]' });
    expect(bad.problems[0]!.message).toContain('"her dad" is not in the context at answer_start 3');
  });

  it('refuses a file the run cannot read in one sentence naming the columns it has', async () => {
    await expect(inspect({ task: 'classification', path: join(BUNDLED_ENCODER_DATA_DIR, 'squad/dev-v1.1.json') })).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(inspect({ task: 'classification', path: SST2, classification: { label_column: 'stars' } })).rejects.toThrow(/no column "stars" \(classification\.label_column\); the file has sentence, label, idx/);
  });
});

describe('taskData.suggestions', () => {
  it('offers the bundled encoder, SST-2 and SQuAD with their eval files, and Hub encoders', async () => {
    const s = await core.call('taskData.suggestions', {});
    expect(s.encoderPath).toBe(BUNDLED_ENCODER_DIR);
    expect(s.datasets.map((d) => [d.task, d.path, d.evalPath])).toEqual([
      ['classification', SST2, join(BUNDLED_ENCODER_DATA_DIR, 'sst2/validation.jsonl')],
      ['question-answering', SQUAD, join(BUNDLED_ENCODER_DATA_DIR, 'squad/dev-v1.1.json')],
    ]);
    expect(s.hubRepos).toContain('klue/bert-base');
  });
});

describe('models.plan of a task run', () => {
  const config = (over: Record<string, unknown>) => RunConfig.parse({ model: BUNDLED_ENCODER_DIR, dataset: { path: SST2 }, task: 'classification', ...over });
  // the bundled encoder: 4 layers, hidden 128 (resources/encoder-model/config.json)
  const L = 4;
  const C = 128;

  it('counts LoRA on query/value, the head and the pooler the masked-LM checkpoint lacks', async () => {
    const lora = (r: number) => L * 2 * r * (C + C);
    const pooler = C * C + C;
    const plan = await core.call('models.plan', { config: config({ lora: { r: 8, target_modules: ['query', 'value'] } }) });
    expect(plan.model.architecture).toBe('BertForSequenceClassification');
    expect(plan.trainableParameters).toBe(lora(8) + (C * 2 + 2) + pooler);
    expect(plan.targetedModules).toBe(L * 2);
    expect(plan.targetedLayers).toBe(L);
    expect(plan.warnings.filter((w) => w.blocking)).toEqual([]);
    expect(plan.dataset!.examples).toBe(6000);
    expect(plan.dataset!.trainExamples).toBe(5400); // 10% held out
    expect(plan.dataset!.meanTokens).toBeGreaterThan(4);
    expect(plan.time.steps).toBe(Math.ceil(5400 / 4)); // micro batch 1 × accumulation 4, one epoch
    expect(plan.memory.formulaPhrase?.code).toBe('plan.memoryFormulaTask');

    // the decoder default list means the family's (as the run does): the same count
    const kept = await core.call('models.plan', { config: config({ lora: { r: 8 } }) });
    expect(kept.trainableParameters).toBe(plan.trainableParameters);
    // QA: a start and an end per token (BertForQuestionAnswering has no pooler, as in transformers)
    const qa = await core.call('models.plan', {
      config: RunConfig.parse({ model: BUNDLED_ENCODER_DIR, dataset: { path: SQUAD }, task: 'question-answering', question_answering: { doc_stride: 32 }, max_seq_length: 128, lora: { r: 4 } }),
    });
    expect(qa.model.architecture).toBe('BertForQuestionAnswering');
    expect(qa.trainableParameters).toBe(lora(4) + (C * 2 + 2));
    // full: every weight of the task model
    const full = await core.call('models.plan', { config: config({ method: 'full', learning_rate: 3e-4 }) });
    expect(full.trainableParameters).toBe(full.model.parameterCount);
    expect(full.trainableShare).toBe(1);
  });

  it('refuses a decoder for a task in a blocking sentence', async () => {
    const llama = await makeTinyModel(join(dir, 'llama'), 'llama', { seed: 2 });
    const plan = await core.call('models.plan', { config: RunConfig.parse({ model: llama.dir, dataset: { path: SST2 }, task: 'classification' }) });
    const refusal = plan.warnings.find((w) => w.field === 'model');
    expect(refusal).toMatchObject({ blocking: true, phrase: { code: 'plan.taskNeedsEncoder' } });
    expect(refusal!.message).toMatch(/^LlamaForCausalLM is a decoder \(llama\): task "classification" needs an encoder/);
  });

  it('names the modules DistilBERT has when a target does not match', async () => {
    const distil = await writeTinyEncoder(join(dir, 'distil'), 'distilbert', 'base');
    const plan = await core.call('models.plan', { config: config({ model: distil.dir, lora: { r: 2, target_modules: ['query', 'v_lin'] } }) });
    const ignored = plan.warnings.find((w) => w.phrase?.code === 'targets.ignored');
    expect(ignored!.message).toMatch(/"query" matches no module of DistilBertForSequenceClassification/);
    for (const name of ['q_lin', 'k_lin', 'v_lin', 'out_lin']) expect(ignored!.message).toContain(name);
    // v_lin alone: r·(C+C) per layer, the head (pre_classifier + classifier) in full
    const { C: c, L: l } = TINY;
    expect(plan.trainableParameters).toBe(l * 2 * (c + c) + (c * c + c) + (c * 2 + 2));
  });
});
