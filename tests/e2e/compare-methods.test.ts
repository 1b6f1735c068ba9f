// "LoRA vs full fine-tuning" as one action, in Chromium against a real `serve` (issue 14): from the Runs page the
// start dialog takes the bundled encoder's SST-2 recipe (a few steps), both runs train one after the other, and
// Compare runs draws the group as bars — training time, trainable parameters, peak memory, size on disk and accuracy.
// Each bar's value is checked against the run records (and the size against the output folder read back here), and
// each bar's height against the value over the largest of its chart.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectPageErrors, expectNoEnglishLeft, newStudioContext, screenshot, studioPerFile, tr } from './harness.ts';
import { dialogOverflows } from './layout-fits.ts';

const studio = studioPerFile();

interface RunRecord {
  id: string;
  status: string;
  startedAt: string;
  endedAt: string;
  config: { model: string; method: string; dataset: unknown; seed: number };
  summary: {
    seconds: number;
    trainableParameters: number;
    peakRssBytes: number;
    adapterPath: string;
    evalMetrics: Record<string, number>;
  };
}

function bytesUnder(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce(
    (n, e) => n + (e.isDirectory() ? bytesUnder(join(dir, e.name)) : statSync(join(dir, e.name)).size),
    0,
  );
}

describe('Compare: LoRA vs full fine-tuning', () => {
  it('starts both runs from the Runs page and draws their recorded figures as bars', async () => {
    const { serve, browser } = studio;
    await serve.invoke('projects.create', { name: 'Compare check' });
    const suggestions = await serve.invoke<{ datasets: { task: string; name: string }[] }>('taskData.suggestions', {});
    const sst2 = suggestions.datasets.find((d) => d.task === 'classification')!;

    const context = await newStudioContext(browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(serve.url);
    await page.getByRole('table', { name: tr('nav.projects') }).waitFor({ timeout: 60_000 });
    await page.getByLabel(tr('app.currentProject'), { exact: true }).selectOption({ label: 'Compare check' });
    await page.goto(`${serve.url}#/runs`);
    await page.getByRole('button', { name: tr('compare.start.button') }).first().click();
    const dialog = page.getByRole('dialog', { name: tr('compare.start.title') });
    await dialog.waitFor();
    await dialog.getByLabel(tr('compare.start.kindMethods')).check();
    await dialog.getByLabel(tr('compare.start.recipe')).selectOption({ label: tr('compare.start.bundled', { name: sst2.name }) });
    // the recipe's LoRA settings are shown, ready to change
    await expect.poll(() => dialog.getByLabel(tr('compare.start.targets'), { exact: true }).inputValue()).toBe('query, value');
    expect(await dialog.getByLabel(tr('compare.start.r'), { exact: true }).inputValue()).toBe('8');
    await dialog.getByLabel(tr('compare.start.maxSteps'), { exact: true }).fill('3');
    await dialog.getByLabel(tr('compare.start.name'), { exact: true }).fill('sst2 quick');
    await screenshot(page, 'compare-methods-dialog.png');
    // the kind of comparison is a group like the dialog's other fields: no browser-default grey frame around it
    expect(await dialog.locator('fieldset').evaluate((el) => getComputedStyle(el).borderTopStyle)).toBe('none');
    const weight = (selector: string) => dialog.locator(selector).first().evaluate((el) => getComputedStyle(el).fontWeight);
    expect(await weight('fieldset > legend')).toBe(await weight('.field-label:not(legend)'));
    // The settings sit two by two with the form's gaps (rank beside alpha), and the dialog still fits its window: they
    // were one column with each label flush under the field above it.
    const [rank, alpha] = await Promise.all(
      [tr('compare.start.r'), tr('compare.start.alpha')].map(
        async (label) => (await dialog.getByLabel(label, { exact: true }).boundingBox())!,
      ),
    );
    expect(Math.abs(rank.y - alpha.y)).toBeLessThan(2);
    expect(alpha.x).toBeGreaterThan(rank.x + rank.width);
    expect(await dialogOverflows(page)).toEqual([]);
    await dialog.getByRole('button', { name: tr('compare.start.startMethods') }).click();

    // Compare runs opens on the group; the bars fill in as the runs end, one after the other
    await page.waitForURL(/#\/compare\/[0-9a-f-]+$/);
    const groupId = decodeURIComponent(page.url().split('/').at(-1)!);
    const group = page.getByTestId('compare-group');
    await group.waitFor();
    type Report = { done: boolean; stalled: boolean; rows: { runId: string; method: string; status: string }[] };
    // both runs train one after the other (minutes on a loaded 2-core machine); a failed one fails here, by its error
    let report = await serve.invoke<Report>('compare.get', { id: groupId });
    for (let waited = 0; !report.done && waited < 900; waited += 2) {
      expect(report.stalled, 'the group stalled').toBe(false);
      await new Promise((r) => setTimeout(r, 2000));
      report = await serve.invoke<Report>('compare.get', { id: groupId });
    }
    for (const row of report.rows)
      if (row.status !== 'succeeded')
        throw new Error(`run ${row.method} ${row.status}: ${(await serve.invoke<{ error: string | null }>('runs.get', { id: row.runId })).error}`);
    await expect.poll(() => group.locator('rect.compare-bar').count(), { timeout: 60_000, interval: 1000 }).toBe(10);
    expect(report.rows.map((r) => r.method)).toEqual(['lora', 'full']);
    const runs = await Promise.all(report.rows.map((r) => serve.invoke<RunRecord>('runs.get', { id: r.runId })));
    for (const run of runs) expect(run.status).toBe('succeeded');
    expect(runs[0].config.model).toBe(runs[1].config.model);
    expect(runs[0].config.dataset).toEqual(runs[1].config.dataset);
    expect(Date.parse(runs[1].startedAt)).toBeGreaterThanOrEqual(Date.parse(runs[0].endedAt)); // one after the other

    const recorded: Record<string, number[]> = {
      seconds: runs.map((r) => r.summary.seconds),
      trainableParameters: runs.map((r) => r.summary.trainableParameters),
      peakRssBytes: runs.map((r) => r.summary.peakRssBytes),
      outputBytes: runs.map((r) => bytesUnder(r.summary.adapterPath)),
      metric: runs.map((r) => r.summary.evalMetrics.eval_accuracy),
    };
    for (const [figure, values] of Object.entries(recorded)) {
      const bars = group.locator(`figure[data-figure="${figure}"] rect.compare-bar`);
      const shown = await Promise.all([0, 1].map((i) => bars.nth(i).getAttribute('data-value').then(Number)));
      const heights = await Promise.all([0, 1].map((i) => bars.nth(i).getAttribute('height').then(Number)));
      expect(shown, figure).toEqual(values);
      const max = Math.max(...values);
      const tallest = Math.max(...heights);
      for (const i of [0, 1]) expect(heights[i] / tallest, `${figure} bar ${i}`).toBeCloseTo(values[i] / max, 4);
    }
    // what the comparison is about: LoRA trains and writes far less than the whole model
    expect(recorded.trainableParameters[0]).toBeLessThan(recorded.trainableParameters[1] / 5);
    expect(recorded.outputBytes[0]).toBeLessThan(recorded.outputBytes[1] / 2);

    await group.scrollIntoViewIfNeeded();
    await screenshot(page, 'compare-methods-bars.png');
    await expectNoEnglishLeft(page);
    expect(errors).toEqual([]);
    await context.close();
  }, 1_500_000);
});
