// Adapters → "Learn a combination" (issue 15) in Chromium against a real `serve`: two tiny runs' adapters picked
// on the Adapters page, the dialog refuses a bad step count in its own words, then starts a learned-weights run on
// a dataset; its run page follows it to the end like any run, and the learned combination is listed as a new
// adapter (mergeable). The run folder holds the comparison with each adapter alone and their uniform average.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectPageErrors, newStudioContext, screenshot, studioPerFile, tr } from './harness.ts';
import { dialogOverflows } from './layout-fits.ts';
import { openPage, tinyModelAndData, trainTinyRun, type TinyRun } from './tiny-runs.ts';

const studio = studioPerFile();

describe('Learn a combination in the browser', () => {
  it('picks two adapters, learns their weights on a dataset as a run, and lists the result as an adapter', async () => {
    const { serve, browser } = studio;
    const project = await serve.invoke<{ id: string }>('projects.create', { name: 'Fusion check' });
    const files = await tinyModelAndData(serve);
    await trainTinyRun(serve, project.id, files, 'sums a');
    await trainTinyRun(serve, project.id, files, 'sums b', 2);

    const context = await newStudioContext(browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await openPage(page, serve, 'Fusion check', tr('nav.adapters'));
    const table = page.getByRole('table', { name: tr('nav.adapters') });
    await table.getByText('sums b', { exact: true }).waitFor();
    await page.getByLabel(tr('adapters.selectLabel', { name: 'sums a' })).check();
    await page.getByLabel(tr('adapters.selectLabel', { name: 'sums b' })).check();
    await page.getByRole('button', { name: tr('adapters.learnCombination') }).click();
    const dialog = page.getByRole('dialog', { name: tr('fusion.title') });
    await dialog.getByLabel(tr('fusion.dataset')).fill(files.dataset);
    // the steps follow the mode's default (the CLI's: 160 for attention, 60 for weights) until typed over
    await dialog.getByLabel(tr('fusion.modeAttention')).check();
    expect(await dialog.getByLabel(tr('fusion.steps')).inputValue()).toBe('160');
    await dialog.getByLabel(tr('fusion.modeWeights')).check();
    expect(await dialog.getByLabel(tr('fusion.steps')).inputValue()).toBe('60');
    await dialog.getByLabel(tr('fusion.steps')).fill('zero');
    await dialog.getByRole('button', { name: tr('fusion.start') }).click();
    await dialog.getByText(tr('fusion.stepsNotWhole')).waitFor();
    await dialog.getByLabel(tr('fusion.steps')).fill('4');
    // the corrected value takes the message about it away at once, not at the next Start
    await expect.poll(() => dialog.getByText(tr('fusion.stepsNotWhole')).count()).toBe(0);
    await dialog.getByLabel(tr('fusion.executor')).selectOption('cpu');
    // with a field focused (the browser scrolls it into view) the dialog fits its window: nothing wider than the
    // dialog (the 'Trains on' select was as wide as its longest option and pushed the form 24 px sideways), the
    // actions in view; in a shorter window the body scrolls inside the dialog, its actions still in view
    await dialog.getByLabel(tr('fusion.steps')).focus();
    expect(await dialogOverflows(page)).toEqual([]);
    await page.setViewportSize({ width: 1024, height: 560 });
    await dialog.getByLabel(tr('fusion.executor')).focus();
    expect(await dialogOverflows(page)).toEqual([]);
    await screenshot(page, 'fusion-dialog-short.png');
    await page.setViewportSize({ width: 1280, height: 800 });
    await dialog.getByLabel(tr('fusion.steps')).focus();
    await screenshot(page, 'fusion-dialog.png');
    // "What to learn" is a group like the dialog's other fields: no browser-default grey frame around its options
    expect(await dialog.locator('fieldset').evaluate((el) => getComputedStyle(el).borderTopStyle)).toBe('none');
    const weight = (selector: string) => dialog.locator(selector).first().evaluate((el) => getComputedStyle(el).fontWeight);
    expect(await weight('fieldset > legend')).toBe(await weight('.field-label:not(legend)'));
    await dialog.getByRole('button', { name: tr('fusion.start') }).click();
    await dialog.waitFor({ state: 'hidden' });
    // named after its adapters, like Combine's "a + b", and the way it combines them in lower case
    const runName = tr('fusion.runName', { names: 'sums b + sums a', mode: 'weights' }); // in the list's order, newest first
    expect(runName).not.toMatch(/Learned|: /);
    await page.getByText(tr('fusion.started', { name: runName })).waitFor();
    await page.getByRole('link', { name: tr('fusion.openRun') }).click();
    await page.getByRole('heading', { name: runName }).first().waitFor();

    const runs = await serve.invoke<TinyRun[]>('runs.list', { projectId: project.id });
    const fused = runs.find((r) => r.name === runName)!;
    const deadline = Date.now() + 150_000;
    let run = fused;
    while (run.status === 'running' || run.status === 'queued') {
      if (Date.now() > deadline) throw new Error('the fusion run did not finish in 150 s');
      await new Promise((r) => setTimeout(r, 500));
      run = await serve.invoke<TinyRun>('runs.get', { id: fused.id });
    }
    expect(run.status, run.error ?? '').toBe('succeeded');
    // the executor chosen in the dialog is the run's (a fusion trains where the run says, like any run)
    expect((run as unknown as { config: { executor: string } }).config.executor).toBe('cpu');
    await page.reload();
    await page.getByRole('heading', { name: runName }).first().waitFor();
    // the run says what it trained: a combination, not a LoRA of some rank
    const described = tr('fusion.describe', { count: 2, mode: tr('fusion.modeWeights') });
    await page.getByText(described, { exact: false }).first().waitFor();
    // what it learned, beside each adapter alone and their uniform average
    const compared = page.getByRole('table', { name: tr('fusion.compareTable') });
    await compared.getByText(tr('fusion.alone', { name: 'sums a' })).waitFor();
    await compared.getByText(tr('fusion.uniform')).waitFor();
    await compared.getByText(tr('fusion.learned')).waitFor();
    const learned = page.getByRole('table', { name: tr('fusion.weightsTable') });
    await learned.getByText(tr('fusion.allLayers')).waitFor();
    await learned.scrollIntoViewIfNeeded();
    await screenshot(page, 'fusion-run.png');

    const report = JSON.parse(readFileSync(join(run.summary!.adapterPath!, '..', 'fusion-report.json'), 'utf8'));
    expect(report.comparison.single).toHaveLength(2);
    expect(report.weights['*']).toHaveLength(2);

    await openPage(page, serve, 'Fusion check', tr('nav.adapters'));
    await table.getByText(runName, { exact: true }).waitFor();
    await screenshot(page, 'fusion-adapters.png');
    expect(errors).toEqual([]);
    await context.close();
  }, 600_000);
});
