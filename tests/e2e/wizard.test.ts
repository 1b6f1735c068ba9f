// The New fine-tune wizard and the config editor in headless Chromium against a real `lora-studio serve`:
// a tiny generated model and a small JSONL walked through every step (a wrong path answered at its field,
// detected columns and bad rows, the split, a rendered example with trained tokens, presets, the review's
// counts and warnings) to a started run whose page receives chart points; then the run's config duplicated
// in the config editor, edited on both sides, with schema errors at the field.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTinyModel } from '../fixtures/tiny-models.ts';
import { buildRenderer, collectPageErrors, launchChromium, newStudioContext, screenshot, startServe, tr, zodSentence, type ServeProcess } from './harness.ts';

let serve: ServeProcess;
let browser: Browser;

beforeAll(async () => {
  buildRenderer();
  serve = await startServe();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

// Waits on the core (a worker job, a tokenizing preview) get 30 s: the machine is shared and may be loaded.
/** Chromium logs every 4xx answer as a console error; the ones the test provokes on purpose are expected. */
const unexpected = (errors: string[]) => errors.filter((e) => !/status of 400/.test(e));

async function openProject(page: Page, name: string): Promise<void> {
  await page.goto(serve.url);
  await page.getByRole('table', { name: tr('nav.projects') }).waitFor();
  await page.getByLabel(tr('app.currentProject'), { exact: true }).selectOption({ label: name });
}

describe('New fine-tune wizard', () => {
  it('walks model → dataset → template → method → review to a started run that receives chart points, then duplicates its config in the editor', async () => {
    await serve.invoke('projects.create', { name: 'Wizard check' });
    const modelDir = join(serve.dataDir, 'wizard-llama');
    await makeTinyModel(modelDir, 'llama', { seed: 11 });
    const dataPath = join(serve.dataDir, 'capitals.jsonl');
    const lines = Array.from({ length: 20 }, (_, i) => JSON.stringify({ prompt: `Capital of land ${i}?`, completion: ` City ${i}.` }));
    lines.splice(5, 0, '{"prompt": "half a row"'); // line 6: not JSON
    writeFileSync(dataPath, lines.join('\n') + '\n');

    const context = await newStudioContext(browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await openProject(page, 'Wizard check');
    await page.getByRole('navigation', { name: tr('app.navLabel') }).getByRole('link', { name: tr('nav.new'), exact: true }).click();
    await page.getByRole('heading', { name: tr('wizard.title.model') }).waitFor();

    // 1. Base model: a wrong path is answered at the field; the real folder shows what was read.
    await page.getByLabel(tr('wizard.modelFolder'), { exact: true }).fill(join(serve.dataDir, 'no-such-model'));
    await page.getByRole('button', { name: tr('wizard.open'), exact: true }).click();
    await page.getByText(tr('core.error.nothingAt', { field: 'path', path: join(serve.dataDir, 'no-such-model'), what: 'folder' })).waitFor();
    await page.getByLabel(tr('wizard.modelFolder'), { exact: true }).fill(modelDir);
    await page.getByRole('button', { name: tr('wizard.open'), exact: true }).click();
    const modelSummary = page.getByRole('region', { name: tr('wizard.selectedModel') });
    await modelSummary.getByText('LlamaForCausalLM').waitFor({ timeout: 30_000 });
    await modelSummary.getByText('F32').waitFor();
    await screenshot(page, 'wizard-1-model.png');

    // The draft survives a reload.
    await page.reload();
    await page.getByRole('region', { name: tr('wizard.selectedModel') }).getByText('LlamaForCausalLM').waitFor();
    await page.getByRole('button', { name: tr('wizard.next', { step: tr('wizard.step.dataset') }) }).click();

    // 2. Dataset: imported as a job; detected columns, the bad row with its line, the split the run will make.
    await page.getByLabel(tr('datasets.file'), { exact: true }).fill(dataPath);
    await page.getByRole('button', { name: tr('datasets.import'), exact: true }).click();
    const datasetSummary = page.getByRole('region', { name: tr('wizard.selectedDataset') });
    await datasetSummary.getByText(tr('core.mapping.pair', { prompt: 'prompt', completion: 'completion' }), { exact: false }).waitFor({ timeout: 30_000 });
    await datasetSummary.getByRole('list', { name: tr('datasets.problemsList') }).getByText(tr('datasets.line', { line: 6 })).waitFor();
    await page.getByLabel(tr('quick.evalShare'), { exact: true }).fill('0.2');
    await page.getByText(tr('wizard.splitCounts').replace('{train}', '16').replace('{eval}', '4')).waitFor({ timeout: 30_000 });
    await screenshot(page, 'wizard-2-dataset.png');
    await page.getByRole('button', { name: tr('wizard.next', { step: tr('wizard.step.template') }) }).click();

    // 3. Template: one example rendered with the chat template, then with a prompt template; trained tokens marked.
    const example = page.getByRole('group', { name: tr('wizard.renderedExample') });
    await example.locator('.tok-special').first().waitFor({ timeout: 30_000 });
    expect((await example.locator('.tok-trained').allInnerTexts()).join('')).toContain('City 0.');
    await page.getByRole('radio', { name: tr('wizard.promptTemplateTitle') }).check();
    await page.getByLabel(tr('wizard.promptTemplate'), { exact: true }).fill('Q: {prompt}\nA:');
    await page.getByRole('button', { name: tr('wizard.nextExample') }).click();
    await page.getByText(tr('wizard.exampleOf', { index: 2, total: 20 })).waitFor();
    const trainedText = async () => (await example.locator('.tok-trained').allInnerTexts()).join('');
    await expect.poll(trainedText).toContain('City 1.');
    expect(await trainedText()).not.toContain('Capital');
    expect(await example.innerText()).toContain('Q: Capital of land 1?');
    await screenshot(page, 'wizard-3-template.png');
    await page.getByRole('button', { name: tr('wizard.next', { step: tr('wizard.step.method') }) }).click();

    // 4. Method: presets fill the fields; an edit makes them custom; a bad value is named at its field.
    await page.getByRole('radio', { name: tr('wizard.preset.light') }).check();
    await expect.poll(() => page.getByLabel(tr('wizard.field.r'), { exact: true }).inputValue()).toBe('8');
    await page.getByLabel(tr('wizard.field.r'), { exact: true }).fill('4');
    await page.getByText(tr('wizard.custom')).waitFor();
    // (above the usual range even for a model this small: up to 1e-2 on models under 50M parameters)
    await page.getByLabel(tr('run.learningRate'), { exact: true }).fill('0.02');
    await page.getByLabel(tr('quick.maxSteps'), { exact: true }).fill('six');
    await page.getByText(zodSentence({ code: 'invalid_type', expected: 'number', input: 'six' })).waitFor();
    await page.getByLabel(tr('quick.maxSteps'), { exact: true }).fill('6');
    await page.getByLabel(tr('quick.maxSeqLength'), { exact: true }).fill('48');
    await page.getByLabel(tr('wizard.field.gradAccum'), { exact: true }).fill('1');
    await screenshot(page, 'wizard-4-method.png');
    await page.getByRole('button', { name: tr('wizard.next', { step: tr('wizard.step.review') }) }).click();

    // 5. Review: the core's counts, estimates and warnings; then start.
    const estimate = page.getByRole('definition').filter({ hasText: /%$/ });
    await estimate.first().waitFor({ timeout: 30_000 });
    const warnings = page.getByRole('region', { name: tr('wizard.warnings') });
    await warnings.getByText(tr('core.plan.fewExamples', { count: 16 })).waitFor();
    await warnings.getByText(tr('core.plan.learningRate', { lr: 0.02, lo: 1e-5, hi: 1e-2, method: 'lora', high: 1 })).waitFor();
    await page.getByText(tr('wizard.howEstimates')).click();
    await page.getByText(tr('wizard.memoryFormula', { formula: tr('core.plan.memoryFormula') }), { exact: false }).waitFor();
    await screenshot(page, 'wizard-5-review.png');
    await page.getByLabel(tr('run.name'), { exact: true }).fill('from the wizard');
    await page.getByRole('button', { name: tr('quick.start') }).click();

    await page.getByRole('heading', { level: 1, name: 'from the wizard' }).waitFor({ timeout: 30_000 });
    const runId = decodeURIComponent(new URL(page.url()).hash.split('/')[2] ?? '');
    const run = await serve.invoke<{ config: Record<string, unknown> }>('runs.get', { id: runId });
    expect(run.config).toMatchObject({
      model: modelDir,
      dataset: { path: dataPath, format: 'completion', template: { kind: 'prompt', template: 'Q: {prompt}\nA:' }, eval_split: { kind: 'ratio', ratio: 0.2 } },
      lora: { r: 4, lora_alpha: 16, target_modules: ['q_proj', 'v_proj'] },
      learning_rate: 0.02,
      max_steps: 6,
      max_seq_length: 48,
    });
    await page.getByRole('img', { name: tr('run.lossChart') }).locator('.recharts-line-curve').first().waitFor({ timeout: 120_000 });
    await screenshot(page, 'wizard-6-run.png');
    expect(unexpected(errors)).toEqual([]);
    await context.close();

    // The config editor, dark: duplicate the run's config; form and JSON stay in sync; errors at the field.
    const dark = await newStudioContext(browser, 'dark');
    const editor = await dark.newPage();
    const editorErrors = collectPageErrors(editor);
    await openProject(editor, 'Wizard check');
    await editor.goto(`${serve.origin}/#/new/config`);
    await editor.getByRole('heading', { level: 1, name: tr('wizard.editorTitle') }).waitFor();
    await editor.getByLabel(tr('editor.duplicate')).selectOption({ label: 'from the wizard (lora, r=4, lr=0.02)' });
    const json = editor.getByLabel(tr('editor.json'));
    await expect.poll(async () => JSON.parse(await json.inputValue()).max_steps).toBe(6);
    await expect.poll(() => editor.getByLabel(tr('wizard.field.r'), { exact: true }).inputValue()).toBe('4');
    await editor.getByLabel(tr('wizard.field.r'), { exact: true }).fill('32');
    await expect.poll(async () => JSON.parse(await json.inputValue()).lora.r).toBe(32);
    const text = JSON.parse(await json.inputValue());
    text.learning_rate = 2;
    await json.fill(JSON.stringify(text, null, 2));
    await expect.poll(() => editor.getByLabel(tr('editor.field.learning_rate'), { exact: true }).inputValue()).toBe('2');
    await editor.getByText(zodSentence({ code: 'too_big', origin: 'number', maximum: 1, inclusive: true, input: 2 })).waitFor();
    await json.fill('{ "model": ');
    await editor.getByText(tr('editor.notJson', { reason: '' }), { exact: false }).waitFor();
    text.learning_rate = 0.0002;
    await json.fill(JSON.stringify(text, null, 2));
    await editor.getByText(tr('editor.valid')).waitFor();
    await editor.getByLabel(tr('editor.presetName'), { exact: true }).fill('r32 quick');
    await editor.getByRole('button', { name: tr('editor.saveAsPreset') }).click();
    await editor.getByText(tr('editor.savedPreset', { name: 'r32 quick' })).waitFor();
    await screenshot(editor, 'config-editor-dark.png');
    expect(unexpected(editorErrors)).toEqual([]);
    await dark.close();
  });
});
