// The analyst's whole path from the UI alone, on a fresh data dir and the bundled model, with no terminal step:
// a project → New fine-tune with the bundled model and the bundled demo dataset (its eval file) → train → the run
// page's Evaluate (base and tuned in one row, per-example table) → Chat with it → Merge/Export to GGUF. Zero console
// errors and zero HTTP errors along the way; a screenshot of every step under test-output/e2e/journey-*.png.
import { describe, expect, it } from 'vitest';
import { collectHttpErrors, collectPageErrors, newStudioContext, screenshot, tr, studioPerFile } from './harness.ts';

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
    await page.getByLabel(tr('projects.name'), { exact: true }).fill('Pirate answers');
    await page.getByRole('button', { name: tr('projects.createButton') }).click();
    await page
      .getByRole('table', { name: tr('nav.projects') })
      .getByText('Pirate answers')
      .waitFor();

    // 1. The bundled model, as a card with its size and architecture.
    await page
      .getByRole('navigation', { name: tr('app.navLabel') })
      .getByRole('link', { name: tr('nav.new'), exact: true })
      .click();
    await page.getByRole('heading', { name: '1. Base model' }).waitFor();
    const card = page.getByRole('listitem', { name: 'LoRA Studio default model (bundled)' });
    await expect(card.textContent()).resolves.toMatch(/LlamaForCausalLM · 3\.\dM parameters · [\d.]+ MiB/);
    await screenshot(page, 'journey-1-model-cards.png');
    await card.getByRole('button', { name: 'Use LoRA Studio default model (bundled)' }).click();
    await page.getByRole('region', { name: 'Selected base model' }).waitFor();
    await card.getByRole('button', { name: 'LoRA Studio default model (bundled) is selected' }).waitFor();
    await page.getByRole('button', { name: /^Next: Dataset/ }).click();

    // 2. The bundled demo dataset, imported in one click with its eval file.
    await page.getByRole('heading', { name: '2. Dataset' }).waitFor();
    await page.getByRole('button', { name: 'Use Demo: pirate answers' }).click();
    await page.getByRole('region', { name: 'Selected dataset' }).waitFor({ timeout: 60_000 });
    await expect(page.getByRole('radio', { name: /A separate eval file/ }).isChecked()).resolves.toBe(true);
    await expect(page.getByLabel('Eval file', { exact: true }).inputValue()).resolves.toMatch(
      /resources\/demo-dataset\/eval\.jsonl$/,
    );
    await screenshot(page, 'journey-2-dataset.png');
    await page.getByRole('button', { name: /^Next: Template/ }).click();

    // 3. The template renders the example.
    await page.getByRole('heading', { name: '3. Template' }).waitFor();
    await page
      .getByRole('region', { name: 'Rendered training example' })
      .waitFor()
      .catch(() => page.getByText('Ahoy, matey!').first().waitFor());
    await page.getByRole('button', { name: /^Next: Method/ }).click();

    // 4. Balanced on the bundled model is the demo's recipe.
    await page.getByRole('heading', { name: '4. Method and settings' }).waitFor();
    await expect(page.getByRole('radio', { name: /Balanced \(recommended\)/ }).isChecked()).resolves.toBe(true);
    await page.getByText(/The demo’s recipe for this small model/).waitFor();
    await expect(page.getByLabel('Max sequence length', { exact: true }).inputValue()).resolves.toBe('128');
    await expect(page.getByLabel('Max steps', { exact: true }).inputValue()).resolves.toBe('120');
    await screenshot(page, 'journey-4-method.png');
    await page.getByLabel('Max steps', { exact: true }).fill(String(TRAIN_STEPS));
    await page.getByRole('button', { name: /^Next: Review/ }).click();

    // 5. Review and start.
    await page.getByRole('heading', { name: '5. Review and start' }).waitFor();
    await page.getByText(/on 28 modules in 4 layers/).waitFor();
    await screenshot(page, 'journey-5-review.png');
    await page.getByRole('button', { name: 'Start fine-tune' }).click();

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
    await expect.poll(() => stat('Trainable parameters').textContent(), { timeout: 60_000 }).not.toBe('—');
    await expect.poll(() => stat('Trained tokens').textContent(), { timeout: 60_000 }).not.toBe('—');
    await screenshot(page, 'journey-6-training.png');
    const main = page.getByRole('main');
    await main.getByRole('link', { name: 'Evaluate', exact: true }).waitFor({ timeout: 170_000 });
    await screenshot(page, 'journey-7-run-finished.png');

    // Evaluate: the run is picked with its held-out rows; one row holds base, tuned and the change.
    await main.getByRole('link', { name: 'Evaluate', exact: true }).click();
    await page.getByRole('form', { name: 'Start an evaluation' }).waitFor();
    await expect
      .poll(() => page.getByLabel('Run', { exact: true }).locator('option:checked').textContent())
      .toBe('run 1 · default-model · 30 steps');
    await expect
      .poll(() => page.getByLabel('Measured on', { exact: true }).locator('option:checked').textContent())
      .toMatch(/held-out rows: its eval file \(eval\.jsonl\)/);
    await page.getByRole('button', { name: 'Evaluate before/after' }).click();
    const evaluations = page.getByRole('table', { name: 'Evaluations' });
    await evaluations.getByText('Finished').waitFor({ timeout: 120_000 });
    const row = evaluations.locator('tbody tr').first();
    const cells = await row.locator('td').allInnerTexts();
    const [base, tuned] = [Number(cells[2]), Number(cells[3])];
    expect(base).toBeGreaterThan(tuned); // the fine-tune made the eval rows likelier
    expect(cells[4]).toMatch(/^−\d+\.\d %$/);
    await screenshot(page, 'journey-8-evaluate.png');
    const examples = page.getByRole('table', { name: /^Examples of run 1/ });
    await examples.getByRole('columnheader', { name: 'Base perplexity' }).waitFor();
    await examples.getByRole('columnheader', { name: 'Tuned perplexity' }).waitFor();
    await examples.getByRole('columnheader', { name: 'Change' }).waitFor();
    await screenshot(page, 'journey-8-evaluate.png');

    // Chat with it: the run's adapter in the tuned pane, base beside it.
    await page.goto(runUrl);
    await main.getByRole('link', { name: 'Chat with it' }).click();
    await page.getByLabel(tr('chat.messageLabel')).fill('What sound does a duck make?');
    await page.getByRole('button', { name: tr('chat.sendBoth') }).click();
    const answers = page.locator('.chat-assistant:not(.chat-streaming)');
    await expect.poll(() => answers.count(), { timeout: 90_000 }).toBe(2);
    await screenshot(page, 'journey-9-chat.png');

    // Merge/Export: the run's adapter picked, merged into one GGUF file.
    await page.goto(runUrl);
    await main.getByRole('link', { name: 'Merge / Export' }).click();
    await page.getByRole('button', { name: 'Start export' }).click();
    const exportsTable = page.getByRole('table', { name: 'Exports' });
    await exportsTable.getByText('Finished').waitFor({ timeout: 120_000 });
    await screenshot(page, 'journey-10-export.png');
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
