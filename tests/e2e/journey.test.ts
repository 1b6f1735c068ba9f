// The analyst's whole path from the UI alone, on a fresh data dir and the bundled model, with no terminal step:
// a project → New fine-tune with the bundled model and the bundled demo dataset (its eval file) → train → the run
// page's Evaluate (base and tuned in one row, per-example table) → Chat with it → Merge/Export to GGUF. Zero console
// errors and zero HTTP errors along the way; a screenshot of every step under test-output/e2e/journey-*.png.
import { describe, expect, it } from 'vitest';
import { startBundledRunFromWizard } from './bundled-wizard.ts';
import {
  collectHttpErrors,
  collectPageErrors,
  expectNoEnglishLeft,
  newStudioContext,
  screenshot,
  tr,
  studioPerFile,
} from './harness.ts';

const studio = studioPerFile();

const TRAIN_STEPS = 30; // the Balanced recipe's 120 steps take minutes on 2 shared cores; 30 already change the style

describe('the whole journey from the UI', () => {
  it('install → bundled model → demo data → train → evaluate before/after → chat → merge/export', async () => {
    const context = await newStudioContext(studio.browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    const httpErrors = collectHttpErrors(page);
    await page.goto(studio.serve.url);

    // A project.
    await page.getByRole('button', { name: tr('projects.create') }).click();
    const dialog = page.getByRole('dialog', { name: tr('projects.new') });
    await dialog.getByLabel(tr('projects.name'), { exact: true }).fill('Pirate answers');
    await dialog.getByRole('button', { name: tr('projects.createButton') }).click();
    await page
      .getByRole('table', { name: tr('nav.projects') })
      .getByText('Pirate answers')
      .waitFor();

    // 1–5. The wizard on the bundled model and demo data (its eval file), Balanced, fewer steps.
    await startBundledRunFromWizard(page, { shots: 'journey', maxSteps: TRAIN_STEPS });

    // The run page, live: trainable parameters and tokens while it trains, then the next steps.
    await page
      .getByRole('heading', { level: 1 })
      .filter({ hasText: 'run 1' })
      .waitFor({ timeout: 60_000 }) // runs.start checks the inputs first
      .catch(async (err: unknown) => {
        await screenshot(page, 'journey-5-not-started.png');
        throw err;
      });
    const runUrl = page.url();
    const stat = (label: string) =>
      page
        .locator('.stat')
        .filter({ has: page.getByText(label, { exact: true }) })
        .locator('dd');
    await expect.poll(() => stat(tr('run.trainableParameters')).textContent(), { timeout: 60_000 }).not.toBe('—');
    await expect.poll(() => stat(tr('run.trainedTokens')).textContent(), { timeout: 60_000 }).not.toBe('—');
    await screenshot(page, 'journey-6-training.png');
    await expectNoEnglishLeft(page);
    const main = page.getByRole('main');
    await main.getByRole('link', { name: tr('nav.evaluate'), exact: true }).waitFor({ timeout: 170_000 });
    await screenshot(page, 'journey-7-run-finished.png');
    await expectNoEnglishLeft(page);

    // Evaluate: the run is picked with its held-out rows; one row holds base, tuned and the change.
    await main.getByRole('link', { name: tr('nav.evaluate'), exact: true }).click();
    await page.getByRole('form', { name: tr('evalStart.title') }).waitFor();
    await expect
      .poll(() => page.getByLabel(tr('compare.run'), { exact: true }).locator('option:checked').textContent())
      .toMatch(/^run 1 · default-model · /);
    await expect
      .poll(() => page.getByLabel(tr('evalStart.measuredOn'), { exact: true }).locator('option:checked').textContent())
      .toBe(tr('evalStart.heldOut', { label: tr('evalStart.evalFile', { file: 'eval.jsonl' }) }));
    await page.getByRole('button', { name: tr('evalStart.start') }).click();
    const evaluations = page.getByRole('table', { name: tr('evaluate.evaluations') });
    await evaluations.getByText(tr('status.succeeded')).waitFor({ timeout: 120_000 });
    const row = evaluations.locator('tbody tr').first();
    const cells = await row.locator('td').allInnerTexts();
    const [base, tuned] = [Number(cells[2]), Number(cells[3])];
    expect(base).toBeGreaterThan(tuned); // the fine-tune made the eval rows likelier
    expect(cells[4]).toMatch(/^−\d+(\.\d)?%$/); // a share as the UI writes one: "−41.9%"
    await screenshot(page, 'journey-8-evaluate.png');
    const examples = page
      .locator('table')
      .filter({ has: page.getByRole('columnheader', { name: tr('evaluate.tunedPerplexity') }) })
      .last();
    await examples.getByRole('columnheader', { name: tr('evaluate.basePerplexity') }).waitFor();
    await examples.getByRole('columnheader', { name: tr('evaluate.change') }).waitFor();
    await screenshot(page, 'journey-8-evaluate.png');
    await expectNoEnglishLeft(page);

    // Chat with it: the run's adapter in the tuned pane, base beside it.
    await page.goto(runUrl);
    await main.getByRole('link', { name: tr('run.chatWithIt') }).click();
    await page.getByLabel(tr('chat.messageLabel')).fill('What sound does a duck make?');
    await page.getByRole('button', { name: tr('chat.sendBoth') }).click();
    const answers = page.locator('.chat-assistant:not(.chat-streaming)');
    await expect.poll(() => answers.count(), { timeout: 90_000 }).toBe(2);
    await screenshot(page, 'journey-9-chat.png');
    await expectNoEnglishLeft(page);

    // Merge/Export: the run's adapter picked, merged into one GGUF file.
    await page.goto(runUrl);
    await main.getByRole('link', { name: tr('run.mergeExport') }).click();
    await page.getByRole('button', { name: tr('exports.start') }).click();
    const exportsTable = page.getByRole('table', { name: tr('nav.exports') });
    await exportsTable.getByText(tr('status.succeeded')).waitFor({ timeout: 120_000 });
    await screenshot(page, 'journey-10-export.png');
    await expectNoEnglishLeft(page);
    const exported = await studio.serve.invoke<{ format: string; status: string; sizeBytes: number }[]>(
      'exports.list',
      {
        projectId: (await studio.serve.invoke<{ id: string }[]>('projects.list', {}))[0]!.id,
      },
    );
    expect(exported.map((e) => [e.format, e.status])).toEqual([['gguf', 'succeeded']]);

    expect(errors).toEqual([]);
    expect(httpErrors).toEqual([]);
    await context.close();
  }, 600_000);
});
