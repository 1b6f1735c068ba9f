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
import { buildRenderer, collectPageErrors, launchChromium, newStudioContext, screenshot, startServe, type ServeProcess } from './harness.ts';

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
  await page.getByRole('table', { name: 'Projects' }).waitFor();
  await page.getByLabel('Current project', { exact: true }).selectOption({ label: name });
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
    await page.getByRole('navigation', { name: 'Studio' }).getByRole('link', { name: 'New fine-tune', exact: true }).click();
    await page.getByRole('heading', { name: '1. Base model' }).waitFor();

    // 1. Base model: a wrong path is answered at the field; the real folder shows what was read.
    await page.getByLabel('Model folder', { exact: true }).fill(join(serve.dataDir, 'no-such-model'));
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    await page.getByText(/^path: nothing at .*no-such-model/).waitFor();
    await page.getByLabel('Model folder', { exact: true }).fill(modelDir);
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    const modelSummary = page.getByRole('region', { name: 'Selected base model' });
    await modelSummary.getByText('LlamaForCausalLM').waitFor({ timeout: 30_000 });
    await modelSummary.getByText('F32').waitFor();
    await screenshot(page, 'wizard-1-model.png');

    // The draft survives a reload.
    await page.reload();
    await page.getByRole('region', { name: 'Selected base model' }).getByText('LlamaForCausalLM').waitFor();
    await page.getByRole('button', { name: 'Next: Dataset' }).click();

    // 2. Dataset: imported as a job; detected columns, the bad row with its line, the split the run will make.
    await page.getByLabel('Dataset file', { exact: true }).fill(dataPath);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    const datasetSummary = page.getByRole('region', { name: 'Selected dataset' });
    await datasetSummary.getByText('columns "prompt" → "completion" (prompt and completion)', { exact: false }).waitFor({ timeout: 30_000 });
    await datasetSummary.getByRole('list', { name: 'Problems found at import' }).getByText('line 6').waitFor();
    await page.getByLabel('Evaluation share', { exact: true }).fill('0.2');
    await page.getByText(/16\s*rows to train on,\s*4\s*held out/).waitFor({ timeout: 30_000 });
    await screenshot(page, 'wizard-2-dataset.png');
    await page.getByRole('button', { name: 'Next: Template' }).click();

    // 3. Template: one example rendered with the chat template, then with a prompt template; trained tokens marked.
    const example = page.getByRole('group', { name: 'Rendered training example' });
    await example.locator('.tok-special').first().waitFor({ timeout: 30_000 });
    expect((await example.locator('.tok-trained').allInnerTexts()).join('')).toContain('City 0.');
    await page.getByRole('radio', { name: /A prompt template/ }).check();
    await page.getByLabel('Prompt template', { exact: true }).fill('Q: {prompt}\nA:');
    await page.getByRole('button', { name: 'Next example' }).click();
    await page.getByText('Example 2 of 20').waitFor();
    const trainedText = async () => (await example.locator('.tok-trained').allInnerTexts()).join('');
    await expect.poll(trainedText).toContain('City 1.');
    expect(await trainedText()).not.toContain('Capital');
    expect(await example.innerText()).toContain('Q: Capital of land 1?');
    await screenshot(page, 'wizard-3-template.png');
    await page.getByRole('button', { name: 'Next: Method' }).click();

    // 4. Method: presets fill the fields; an edit makes them custom; a bad value is named at its field.
    await page.getByRole('radio', { name: /^Light/ }).check();
    await expect.poll(() => page.getByLabel('Rank (r)', { exact: true }).inputValue()).toBe('8');
    await page.getByLabel('Rank (r)', { exact: true }).fill('4');
    await page.getByText('Custom settings (no preset matches these values).').waitFor();
    // (above the usual range even for a model this small: up to 1e-2 on models under 50M parameters)
    await page.getByLabel('Learning rate', { exact: true }).fill('0.02');
    await page.getByLabel('Max steps', { exact: true }).fill('six');
    await page.getByText('Invalid input: expected number, received string.').waitFor();
    await page.getByLabel('Max steps', { exact: true }).fill('6');
    await page.getByLabel('Max sequence length', { exact: true }).fill('48');
    await page.getByLabel('Gradient accumulation', { exact: true }).fill('1');
    await screenshot(page, 'wizard-4-method.png');
    await page.getByRole('button', { name: 'Next: Review' }).click();

    // 5. Review: the core's counts, estimates and warnings; then start.
    const estimate = page.getByRole('definition').filter({ hasText: /%$/ });
    await estimate.first().waitFor({ timeout: 30_000 });
    const warnings = page.getByRole('region', { name: 'Warnings' });
    await warnings.getByText(/only 16 training examples/).waitFor();
    await warnings.getByText(/learning rate 0.02 is outside/).waitFor();
    await page.getByText('How the estimates are made').click();
    await page.getByText(/^Memory: weights as the CPU executor holds them/).waitFor();
    await screenshot(page, 'wizard-5-review.png');
    await page.getByLabel('Run name', { exact: true }).fill('from the wizard');
    await page.getByRole('button', { name: 'Start fine-tune' }).click();

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
    await page.getByRole('img', { name: 'Training and evaluation loss by step' }).locator('.recharts-line-curve').first().waitFor({ timeout: 120_000 });
    await screenshot(page, 'wizard-6-run.png');
    expect(unexpected(errors)).toEqual([]);
    await context.close();

    // The config editor, dark: duplicate the run's config; form and JSON stay in sync; errors at the field.
    const dark = await newStudioContext(browser, 'dark');
    const editor = await dark.newPage();
    const editorErrors = collectPageErrors(editor);
    await openProject(editor, 'Wizard check');
    await editor.goto(`${serve.origin}/#/new/config`);
    await editor.getByRole('heading', { level: 1, name: 'Run config editor' }).waitFor();
    await editor.getByLabel('Duplicate a past run’s config').selectOption({ label: 'from the wizard (lora, r=4, lr=0.02)' });
    const json = editor.getByLabel('Run config as JSON');
    await expect.poll(async () => JSON.parse(await json.inputValue()).max_steps).toBe(6);
    await expect.poll(() => editor.getByLabel('Rank (r)', { exact: true }).inputValue()).toBe('4');
    await editor.getByLabel('Rank (r)', { exact: true }).fill('32');
    await expect.poll(async () => JSON.parse(await json.inputValue()).lora.r).toBe(32);
    const text = JSON.parse(await json.inputValue());
    text.learning_rate = 2;
    await json.fill(JSON.stringify(text, null, 2));
    await expect.poll(() => editor.getByLabel('Learning rate', { exact: true }).inputValue()).toBe('2');
    await editor.getByText('Too big: expected number to be <=1.').waitFor();
    await json.fill('{ "model": ');
    await editor.getByText(/^Not valid JSON yet/).waitFor();
    text.learning_rate = 0.0002;
    await json.fill(JSON.stringify(text, null, 2));
    await editor.getByText('The config is valid.').waitFor();
    await editor.getByLabel('Preset name', { exact: true }).fill('r32 quick');
    await editor.getByRole('button', { name: 'Save as preset' }).click();
    await editor.getByText('Saved preset “r32 quick”', { exact: false }).waitFor();
    await screenshot(editor, 'config-editor-dark.png');
    expect(unexpected(editorErrors)).toEqual([]);
    await dark.close();
  });
});
