// Keyboard use of the New fine-tune wizard in headless Chromium against `serve`: Next (pressed with Enter), Back
// and a step button each leave focus on the new step's heading, not on <body>, so the next Tab reaches the step's
// first control instead of starting over at the sidebar.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { makeTinyModel } from '../fixtures/tiny-models.ts';
import { collectPageErrors, newStudioContext, screenshot, studioPerFile } from './harness.ts';

const session = studioPerFile();

/** The focused element's tag and text, as a person with a screen reader would hear it announced. */
const focused = (page: Page) =>
  page.evaluate(() => ({
    tag: document.activeElement?.tagName ?? '',
    text: document.activeElement?.textContent?.trim() ?? '',
  }));

describe('wizard keyboard focus', () => {
  it('moves focus to the new step’s heading after Next, Back and a step button', async () => {
    await session.serve.invoke('projects.create', { name: 'Focus check' });
    const modelDir = join(session.serve.dataDir, 'focus-llama');
    await makeTinyModel(modelDir, 'llama', { seed: 3 });
    const dataPath = join(session.serve.dataDir, 'focus.jsonl');
    writeFileSync(
      dataPath,
      Array.from({ length: 8 }, (_, i) => JSON.stringify({ prompt: `Q${i}?`, completion: ` A${i}.` })).join('\n') +
        '\n',
    );

    const context = await newStudioContext(session.browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(session.serve.url);
    await page.getByRole('table', { name: 'Projects' }).waitFor();
    await page
      .getByRole('navigation', { name: 'Studio' })
      .getByRole('link', { name: 'New fine-tune', exact: true })
      .click();
    await page.getByRole('heading', { name: '1. Base model' }).waitFor();
    await page.getByLabel('Model folder', { exact: true }).fill(modelDir);
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    await page
      .getByRole('region', { name: 'Selected base model' })
      .getByText('LlamaForCausalLM')
      .waitFor({ timeout: 30_000 });

    // Next, pressed from the keyboard.
    await page.getByRole('button', { name: 'Next: Dataset' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: '2. Dataset' }).waitFor();
    await expect.poll(() => focused(page)).toEqual({ tag: 'H2', text: '2. Dataset' });
    // The next Tab lands inside the step (its first control), not back at the sidebar.
    await page.keyboard.press('Tab');
    const afterTab = await page.evaluate(() => Boolean(document.activeElement?.closest('.card')));
    expect(afterTab).toBe(true);
    await screenshot(page, 'wizard-focus-dataset.png');

    await page.getByLabel('Dataset file', { exact: true }).fill(dataPath);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.getByRole('region', { name: 'Selected dataset' }).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Next: Template' }).click();
    await expect.poll(() => focused(page)).toEqual({ tag: 'H2', text: '3. Template' });

    // Back, and a step button in the step list.
    await page.getByRole('button', { name: 'Back', exact: true }).click();
    await expect.poll(() => focused(page)).toEqual({ tag: 'H2', text: '2. Dataset' });
    await page
      .getByRole('navigation', { name: 'Wizard steps' })
      .getByRole('button', { name: /Base model/ })
      .click();
    await expect.poll(() => focused(page)).toEqual({ tag: 'H2', text: '1. Base model' });

    // A reload keeps the browser's own starting point (no focus is stolen on load).
    await page.reload();
    await page.getByRole('heading', { name: '1. Base model' }).waitFor();
    expect((await focused(page)).tag).toBe('BODY');
    expect(errors).toEqual([]);
    await context.close();
  });
});
