// The wizard's encoder-task paths (issue 14) in Chromium against a real `serve`: "Classify text" and "Answer questions
// from a text" walked on the bundled encoder and bundled data (SST-2 and SQuAD layouts) — the label list with rows per
// label as counted here from the file, SQuAD's nested layout, the family's attention modules as LoRA targets and a
// target the model lacks named with the modules it has, the review's trainable count (LoRA + head + the created
// pooler, by hand), Start → the run page, and each short run finishing with its metric; the run config equals what
// `lora-studio train --task …` builds from the same choices; a decoder refused for a task (and the encoder for chat).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { makeTinyModel } from '../fixtures/tiny-models.ts';
import { buildRunConfig } from '../../src/main/cli/commands/train.ts';
import { INTL_TAGS } from '../../src/renderer/src/i18n/locale.ts';
import { collectPageErrors, E2E_LOCALE, expectNoEnglishLeft, newStudioContext, REPO_ROOT, screenshot, studioPerFile, tr } from './harness.ts';
import { waitForRun } from './tiny-runs.ts';

const ENCODER = join(REPO_ROOT, 'resources/encoder-model');
const DATA = join(REPO_ROOT, 'resources/encoder-data');
const studio = studioPerFile();

interface FinishedRun {
  id: string;
  name: string;
  status: string;
  error: string | null;
  jobId: string | null;
  config: Record<string, unknown>;
  summary: { trainLoss: number; evalLoss: number | null; evalPerplexity: number | null; adapterPath: string | null; seconds: number; evalMetrics?: Record<string, number> | null; trainableParameters: number | null } | null;
}

/** A count as the review shows thousands (33.2K). */
const thousands = (n: number) => `${(n / 1e3).toFixed(1)}K`;
const number = (n: number) => new Intl.NumberFormat(INTL_TAGS[E2E_LOCALE]).format(n);
/** The review's first figure: trainable parameters. */
const trainableShown = (page: Page) => page.locator(`dl[aria-label="${tr('wizard.runEstimate')}"] dd`).first().innerText();

// the review's sentence writes its figures grouped (6,901 / 6.901 / …): a run of four digits is a number left raw
const rawNumbersInReview = async (page: Page, task: 'classification' | 'question-answering') =>
  (await page.locator('p', { hasText: tr('wizard.task.reviewHead', { task, full: false }) }).innerText()).match(/\d{4,}/g) ?? [];

const next = (page: Page, step: 'dataset' | 'method' | 'review') =>
  page.getByRole('button', { name: tr('wizard.next', { step: tr(`wizard.step.${step}`) }) });

async function chooseBundledEncoder(page: Page): Promise<void> {
  const name = tr('wizard.task.bundledEncoder');
  const card = page.getByRole('listitem', { name });
  await card.getByRole('button', { name: tr('suggest.use', { name }) }).click();
  await card.getByRole('button', { name: tr('suggest.isSelected', { name }) }).waitFor();
  await page.getByRole('region', { name: tr('wizard.selectedModel') }).getByText('BertForMaskedLM').first().waitFor();
}

/** From Start to the finished run's page: the run id from the address, the run waited on through the core. */
async function startAndFinish(page: Page, name: string): Promise<FinishedRun> {
  await page.getByLabel(tr('run.name'), { exact: true }).fill(name);
  await page.getByRole('button', { name: tr('quick.start') }).click();
  await page.waitForURL(/#\/runs\/[^/]+$/);
  const id = decodeURIComponent(page.url().split('#/runs/')[1]!);
  await page.getByRole('heading', { name }).first().waitFor();
  const { serve } = studio;
  return (await waitForRun(serve, id, name, 420)) as unknown as FinishedRun;
}

describe('the wizard for encoder tasks', () => {
  it('classifies text: labels with counts, targets, review, a started run that finishes with its accuracy', async () => {
    const { serve, browser } = studio;
    await serve.invoke('projects.create', { name: 'Task wizard' });
    const context = await newStudioContext(browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(serve.url);
    await page.getByRole('table', { name: tr('nav.projects') }).waitFor({ timeout: 60_000 });
    await page.getByLabel(tr('app.currentProject'), { exact: true }).selectOption({ label: 'Task wizard' });
    await page.getByRole('navigation', { name: tr('app.navLabel') }).getByRole('link', { name: tr('nav.new'), exact: true }).click();
    await page.getByRole('heading', { name: tr('wizard.title.model') }).waitFor();

    // 1. What to teach, then the bundled encoder
    await page.getByRole('radio', { name: tr('wizard.task.classification.title') }).check();
    await page.getByRole('region', { name: tr('wizard.task.encodersLabel') }).getByRole('button', { name: 'klue/bert-base' }).waitFor();
    await chooseBundledEncoder(page);
    await screenshot(page, 'wizard-task-1-model.png');
    await expectNoEnglishLeft(page);
    await next(page, 'dataset').click();

    // 2. The bundled SST-2 file: the label list with rows per label, counted here from the file
    await page.getByRole('heading', { name: tr('wizard.task.title.dataset') }).waitFor();
    const sst2 = tr('wizard.task.bundledSst2');
    await page.getByRole('listitem', { name: sst2 }).getByRole('button', { name: tr('suggest.use', { name: sst2 }) }).click();
    const labels = page.getByRole('table', { name: tr('wizard.task.labelList') });
    await labels.waitFor({ timeout: 60_000 });
    const rows = readFileSync(join(DATA, 'sst2/train.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { label: number }).label);
    const count = (c: number) => rows.filter((l) => l === c).length;
    const cells = async () => (await labels.locator('tbody tr').allInnerTexts()).map((row) => row.split(/\s+/).join(' '));
    await expect.poll(cells).toEqual([`0 negative ${number(count(0))}`, `1 positive ${number(count(1))}`]);
    await expect(page.getByRole('radio', { name: tr('wizard.evalFileTitle') }).isChecked()).resolves.toBe(true);
    await page.getByRole('region', { name: tr('wizard.task.evalRows') }).getByText(tr('wizard.task.evalSummary', { examples: 600, file: 'validation.jsonl', qa: false })).waitFor();
    await page.getByRole('region', { name: tr('wizard.task.found') }).scrollIntoViewIfNeeded();
    await screenshot(page, 'wizard-task-2-labels.png');
    await expectNoEnglishLeft(page);
    await next(page, 'method').click();

    // 3. LoRA on the family's attention modules; a module BERT lacks is named with the ones it has
    await page.getByRole('heading', { name: tr('wizard.task.title.method') }).waitFor();
    const targets = page.getByLabel(tr('wizard.field.targetModules'), { exact: true });
    await expect(targets.inputValue()).resolves.toBe('query, value');
    await targets.fill('q_lin, value');
    const targetWarning = page.getByRole('list', { name: tr('wizard.task.targetWarnings') });
    await targetWarning.getByText(/"q_lin"|“q_lin”|q_lin/).first().waitFor({ timeout: 60_000 });
    await expect(targetWarning.innerText()).resolves.toMatch(/query.*key.*value/s);
    await targetWarning.scrollIntoViewIfNeeded();
    await screenshot(page, 'wizard-task-3-targets.png');
    await expectNoEnglishLeft(page);
    await targets.fill('query, value');
    await expect.poll(() => targetWarning.count()).toBe(0);
    await page.getByLabel(tr('quick.maxSteps'), { exact: true }).fill('60');
    await page.getByLabel(tr('wizard.task.evalSteps'), { exact: true }).fill('30');
    await next(page, 'review').click();

    // 4. Review: LoRA A/B on query and value of 4 layers (hidden 128, r 8) + the head (128·2 + 2) + the pooler the
    //    masked-LM checkpoint lacks (128·128 + 128)
    await page.getByRole('heading', { name: tr('wizard.task.title.reviewStart') }).waitFor();
    const trainable = 4 * 2 * 8 * (128 + 128) + (128 * 2 + 2) + (128 * 128 + 128);
    await expect.poll(() => trainableShown(page), { timeout: 60_000 }).toBe(thousands(trainable));
    await page.getByText(tr('wizard.task.reviewHead', { task: 'classification', full: false }), { exact: false }).waitFor();
    await expect(rawNumbersInReview(page, 'classification')).resolves.toEqual([]);
    await screenshot(page, 'wizard-task-4-review.png');
    await expectNoEnglishLeft(page);
    const run = await startAndFinish(page, 'sentiment from the wizard');

    // the run: its config is the CLI's for the same choices, and it finished with an accuracy
    const cli = await buildRunConfig({
      model: ENCODER,
      dataset: join(DATA, 'sst2/train.jsonl'),
      task: 'classification',
      labels: 'negative,positive',
      r: '8',
      alpha: '32',
      dropout: '0.1',
      targets: 'query,value',
      lr: '0.003',
      epochs: '2',
      maxSteps: '60',
      evalSteps: '30',
      batchSize: '16',
      gradAccum: '1',
      maxLength: '64',
      evalFile: join(DATA, 'sst2/validation.jsonl'),
    });
    expect(run.config).toEqual(cli);
    const accuracy = run.summary!.evalMetrics!.eval_accuracy!;
    expect(accuracy).toBeGreaterThanOrEqual(0);
    expect(accuracy).toBeLessThanOrEqual(1);
    expect(run.summary!.trainableParameters).toBe(trainable); // the engine's count equals the review's
    await page.reload();
    await page.getByRole('heading', { name: 'sentiment from the wizard' }).first().waitFor();
    await expect.poll(() => page.getByText(tr('run.loadingMetrics')).count(), { timeout: 60_000 }).toBe(0);
    await screenshot(page, 'wizard-task-5-run.png');
    expect(errors).toEqual([]);
    await context.close();
  }, 600_000);

  it('refuses a decoder for a task and the encoder for chat, then answers questions: SQuAD layout, doc stride, a run with its F1', async () => {
    const { serve, browser } = studio;
    const llama = join(serve.dataDir, 'task-llama');
    await makeTinyModel(llama, 'llama', { seed: 4 });
    const context = await newStudioContext(browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(serve.url);
    await page.getByRole('table', { name: tr('nav.projects') }).waitFor({ timeout: 60_000 });
    await page.getByLabel(tr('app.currentProject'), { exact: true }).selectOption({ label: 'Task wizard' });
    await page.getByRole('navigation', { name: tr('app.navLabel') }).getByRole('link', { name: tr('nav.new'), exact: true }).click();
    await page.getByRole('heading', { name: tr('wizard.title.model') }).waitFor();

    // a decoder for question answering: said in one sentence, and Next waits
    await page.getByRole('radio', { name: tr('wizard.task.question-answering.title') }).check();
    await page.getByLabel(tr('wizard.modelFolder'), { exact: true }).fill(llama);
    await page.getByRole('button', { name: tr('wizard.open'), exact: true }).click();
    const refusal = tr('wizard.task.needsEncoder', { architecture: 'LlamaForCausalLM', task: tr('wizard.task.question-answering.title') });
    await page.getByText(refusal).waitFor();
    await expect(next(page, 'dataset').isDisabled()).resolves.toBe(true);
    await page.getByText(refusal).scrollIntoViewIfNeeded();
    await screenshot(page, 'wizard-task-refused.png');
    await expectNoEnglishLeft(page);
    // the same model for chat is fine; the encoder for chat is refused the other way
    await page.getByRole('radio', { name: tr('wizard.task.causal-lm.title') }).check();
    await expect(page.getByText(refusal).count()).resolves.toBe(0);
    await expect(next(page, 'dataset').isDisabled()).resolves.toBe(false);
    await page.getByRole('radio', { name: tr('wizard.task.question-answering.title') }).check();
    await chooseBundledEncoder(page);
    await page.getByRole('radio', { name: tr('wizard.task.causal-lm.title') }).check();
    await page.getByText(tr('wizard.task.needsDecoder', { architecture: 'BertForMaskedLM' })).waitFor();
    await expect(next(page, 'dataset').isDisabled()).resolves.toBe(true);
    await page.getByRole('radio', { name: tr('wizard.task.question-answering.title') }).check();
    await next(page, 'dataset').click();

    // a flat file whose second answer is not at its answer_start: listed like every dataset problem, by line and field
    await page.getByRole('heading', { name: tr('wizard.task.title.datasetQa') }).waitFor();
    const flat = join(serve.dataDir, 'qa-flat.jsonl');
    const story = 'Mia went to the river with her dad.';
    writeFileSync(
      flat,
      [
        { id: 'a', question: 'Where did Mia go?', context: story, answers: { text: ['the river'], answer_start: [12] } },
        { id: 'b', question: 'Who went with Mia?', context: story, answers: { text: ['her dad'], answer_start: [3] } },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n') + '\n',
    );
    await page.getByLabel(tr('wizard.task.trainFile'), { exact: true }).fill(flat);
    const problems = page.getByRole('list', { name: tr('datasets.problemsList') });
    await problems.waitFor({ timeout: 60_000 });
    const problem = await problems.innerText();
    expect(problem).toContain(tr('datasets.line', { line: 2 }));
    expect(problem).toContain('answers.answer_start[0]');
    // the reader's problem in the UI's language (in Korean it stayed English: the readers sent no code)
    expect(problem).toContain(tr('core.taskProblem.answerNotAt', { answer: 'her dad', start: 3, there: ' went t', found: 27 }));
    expect(problem).toContain(tr('core.taskExpected.answerAt'));
    await page.getByRole('region', { name: tr('wizard.task.found') }).getByText(tr('wizard.task.layoutFlat')).waitFor();
    await problems.scrollIntoViewIfNeeded();
    await screenshot(page, 'wizard-task-qa-problems.png');

    // SQuAD's nested file with its dev file
    const squad = tr('wizard.task.bundledSquad');
    await page.getByRole('listitem', { name: squad }).getByRole('button', { name: tr('suggest.use', { name: squad }) }).click();
    const found = page.getByRole('region', { name: tr('wizard.task.found') });
    await found.getByText(tr('wizard.task.layoutNested')).waitFor({ timeout: 60_000 });
    const data = JSON.parse(readFileSync(join(DATA, 'squad/train-v1.1.json'), 'utf8')) as { data: { paragraphs: { context: string; qas: { answers: unknown[] }[] }[] }[] };
    const paragraphs = data.data.flatMap((d) => d.paragraphs);
    const answers = paragraphs.flatMap((p) => p.qas).reduce((n, q) => n + q.answers.length, 0);
    await found.getByText(tr('wizard.task.qaSummary', { answers, contexts: new Set(paragraphs.map((p) => p.context)).size, unanswerable: 0 })).waitFor();
    await found.scrollIntoViewIfNeeded();
    await screenshot(page, 'wizard-task-qa-2-dataset.png');
    await expectNoEnglishLeft(page);
    await next(page, 'method').click();

    // max length and doc stride from the bundled recipe (128 / 32)
    await page.getByRole('heading', { name: tr('wizard.task.title.method') }).waitFor();
    await expect(page.getByLabel(tr('quick.maxSeqLength'), { exact: true }).inputValue()).resolves.toBe('128');
    await expect(page.getByLabel(tr('wizard.task.docStride'), { exact: true }).inputValue()).resolves.toBe('32');
    await page.getByLabel(tr('quick.maxSteps'), { exact: true }).fill('30');
    await screenshot(page, 'wizard-task-qa-3-method.png');
    await next(page, 'review').click();
    await page.getByRole('heading', { name: tr('wizard.task.title.reviewStart') }).waitFor();
    // QA: no pooler (BertForQuestionAnswering has none), a start/end head of 128·2 + 2
    await expect.poll(() => trainableShown(page), { timeout: 60_000 }).toBe(thousands(4 * 2 * 8 * 256 + 258));
    await expect(rawNumbersInReview(page, 'question-answering')).resolves.toEqual([]);
    await screenshot(page, 'wizard-task-qa-4-review.png');
    await expectNoEnglishLeft(page);
    const run = await startAndFinish(page, 'questions from the wizard');
    expect(run.config).toMatchObject({ task: 'question-answering', question_answering: { doc_stride: 32 }, max_seq_length: 128, max_steps: 30 });
    const f1 = run.summary!.evalMetrics!.eval_f1!;
    expect(f1).toBeGreaterThanOrEqual(0);
    expect(f1).toBeLessThanOrEqual(1);
    expect(Number.isFinite(run.summary!.evalMetrics!.eval_exact_match)).toBe(true);
    await page.reload();
    await page.getByRole('heading', { name: 'questions from the wizard' }).first().waitFor();
    await expect.poll(() => page.getByText(tr('run.loadingMetrics')).count(), { timeout: 60_000 }).toBe(0);
    await screenshot(page, 'wizard-task-qa-5-run.png');
    expect(errors.filter((e) => !/status of 400/.test(e))).toEqual([]);
    await context.close();
  }, 600_000);
});
