// The wizard's path on a fresh project with what the studio ships: the bundled model's card, the demo dataset with
// its eval file, the rendered template, Balanced (the demo's recipe on this model), review, Start. Each step is
// checked, photographed as <shots>-N-….png and, in the Korean run, checked for English left on the page.
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { expectNoEnglishLeft, screenshot, tr } from './harness.ts';

/** Walks New fine-tune from the navigation to Start on the bundled model and data; `maxSteps` overrides Balanced's 120. */
export async function startBundledRunFromWizard(
  page: Page,
  { shots, maxSteps }: { shots: string; maxSteps?: number },
): Promise<void> {
  // 1. The bundled model, as a card with its size and architecture.
  await page
    .getByRole('navigation', { name: tr('app.navLabel') })
    .getByRole('link', { name: tr('nav.new'), exact: true })
    .click();
  await page.getByRole('heading', { name: tr('wizard.title.model') }).waitFor();
  const bundledModel = tr('core.bundled.modelName');
  const card = page.getByRole('listitem', { name: bundledModel });
  await expect(card.textContent()).resolves.toMatch(/LlamaForCausalLM · /);
  await expect(card.textContent()).resolves.toContain(tr('suggest.parameters', { count: '' }).trim());
  await screenshot(page, `${shots}-1-model-cards.png`);
  await expectNoEnglishLeft(page);
  await card.getByRole('button', { name: tr('suggest.use', { name: bundledModel }) }).click();
  await page.getByRole('region', { name: tr('wizard.selectedModel') }).waitFor();
  await card.getByRole('button', { name: tr('suggest.isSelected', { name: bundledModel }) }).waitFor();
  await page.getByRole('button', { name: tr('wizard.next', { step: tr('wizard.step.dataset') }) }).click();

  // 2. The bundled demo dataset, imported in one click with its eval file.
  await page.getByRole('heading', { name: tr('wizard.title.dataset') }).waitFor();
  await page.getByRole('button', { name: tr('suggest.use', { name: tr('core.bundled.datasetName') }) }).click();
  await page.getByRole('region', { name: tr('wizard.selectedDataset') }).waitFor({ timeout: 60_000 });
  await expect(page.getByRole('radio', { name: tr('wizard.evalFileTitle') }).isChecked()).resolves.toBe(true);
  await expect(page.getByLabel(tr('wizard.evalFile'), { exact: true }).inputValue()).resolves.toMatch(
    /resources\/demo-dataset\/eval\.jsonl$/,
  );
  await screenshot(page, `${shots}-2-dataset.png`);
  await expectNoEnglishLeft(page);
  await page.getByRole('button', { name: tr('wizard.next', { step: tr('wizard.step.template') }) }).click();

  // 3. The template renders the example.
  await page.getByRole('heading', { name: tr('wizard.title.template') }).waitFor();
  await page
    .getByRole('region', { name: tr('wizard.renderedExample') })
    .waitFor()
    .catch(() => page.getByText('Ahoy, matey!').first().waitFor());
  await screenshot(page, `${shots}-3-template.png`);
  await expectNoEnglishLeft(page);
  await page.getByRole('button', { name: tr('wizard.next', { step: tr('wizard.step.method') }) }).click();

  // 4. Balanced on the bundled model is the demo's recipe.
  await page.getByRole('heading', { name: tr('wizard.title.method') }).waitFor();
  await expect(page.getByRole('radio', { name: tr('wizard.preset.balanced') }).isChecked()).resolves.toBe(true);
  await expect(page.getByLabel(tr('quick.maxSeqLength'), { exact: true }).inputValue()).resolves.toBe('128');
  await expect(page.getByLabel(tr('quick.maxSteps'), { exact: true }).inputValue()).resolves.toBe('120');
  await screenshot(page, `${shots}-4-method.png`);
  await expectNoEnglishLeft(page);
  if (maxSteps !== undefined) await page.getByLabel(tr('quick.maxSteps'), { exact: true }).fill(String(maxSteps));
  await page.getByRole('button', { name: tr('wizard.next', { step: tr('wizard.step.review') }) }).click();

  // 5. Review and start.
  await page.getByRole('heading', { name: tr('wizard.title.reviewStart') }).waitFor();
  await page
    .getByText(tr('wizard.reviewLora', { method: 'LoRA', r: 8, alpha: 16, modules: 28, layers: 4 }), { exact: false })
    .waitFor();
  await page.getByText(tr('wizard.howEstimates')).click(); // the memory parts and formulas, said by the core
  await screenshot(page, `${shots}-5-review.png`);
  await expectNoEnglishLeft(page);
  await page.getByRole('button', { name: tr('quick.start') }).click();
}
