// Keyboard use of the New fine-tune wizard in headless Chromium against `serve`: Next (pressed with Enter), Back
// and a step button each leave focus on the new step's heading, not on <body>, so the next Tab reaches the step's
// first control instead of starting over at the sidebar.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { makeTinyModel } from '../fixtures/tiny-models.ts';
import { collectPageErrors, newStudioContext, screenshot, studioPerFile, tr } from './harness.ts';

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
    await page.getByRole('table', { name: tr('nav.projects') }).waitFor();
    await page
      .getByRole('navigation', { name: tr('app.navLabel') })
      .getByRole('link', { name: tr('nav.new'), exact: true })
      .click();
    await page.getByRole('heading', { name: tr('wizard.title.model') }).waitFor();
    await page.getByLabel(tr('wizard.modelFolder'), { exact: true }).fill(modelDir);
    await page.getByRole('button', { name: tr('wizard.open'), exact: true }).click();
    await page
      .getByRole('region', { name: tr('wizard.selectedModel') })
      .getByText('LlamaForCausalLM')
      .waitFor({ timeout: 30_000 });

    // Next, pressed from the keyboard.
    await page.getByRole('button', { name: tr('wizard.next', { step: tr('wizard.step.dataset') }) }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: tr('wizard.title.dataset') }).waitFor();
    await expect.poll(() => focused(page)).toEqual({ tag: 'H2', text: tr('wizard.title.dataset') });
    // The next Tab lands inside the step (its first control), not back at the sidebar.
    await page.keyboard.press('Tab');
    const afterTab = await page.evaluate(() => Boolean(document.activeElement?.closest('.card')));
    expect(afterTab).toBe(true);
    await screenshot(page, 'wizard-focus-dataset.png');

    await page.getByLabel(tr('datasets.file'), { exact: true }).fill(dataPath);
    await page.getByRole('button', { name: tr('datasets.import'), exact: true }).click();
    await page.getByRole('region', { name: tr('wizard.selectedDataset') }).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: tr('wizard.next', { step: tr('wizard.step.template') }) }).click();
    await expect.poll(() => focused(page)).toEqual({ tag: 'H2', text: tr('wizard.title.template') });

    // Back, and a step button in the step list.
    await page.getByRole('button', { name: tr('wizard.back'), exact: true }).click();
    await expect.poll(() => focused(page)).toEqual({ tag: 'H2', text: tr('wizard.title.dataset') });
    await page
      .getByRole('navigation', { name: tr('wizard.stepsLabel') })
      .getByRole('button', { name: tr('wizard.step.model') })
      .click();
    await expect.poll(() => focused(page)).toEqual({ tag: 'H2', text: tr('wizard.title.model') });

    // A reload keeps the browser's own starting point (no focus is stolen on load).
    await page.reload();
    await page.getByRole('heading', { name: tr('wizard.title.model') }).waitFor();
    expect((await focused(page)).tag).toBe('BODY');
    expect(errors).toEqual([]);
    await context.close();
  });
});
