// Adapters in headless Chromium against a real `serve`: a tiny fine-tune's adapter listed with its config and
// size, a PEFT folder imported from the page (a bad path refused with the core's words), two adapters combined
// with weights into a new one, and a merge started from the page finishing on the Exports page with its path.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openModelFolder } from '../../src/main/formats/model/folder.ts';
import {
  defaultLoraConfig,
  initLoraAdapter,
  matchTargetModules,
  writeAdapter,
} from '../../src/main/formats/peft/index.ts';
import { seededRandom } from '../fixtures/tiny-models.ts';
import {
  buildRenderer,
  collectPageErrors,
  launchChromium,
  newStudioContext,
  screenshot,
  startServe,
  tr,
  type ServeProcess,
} from './harness.ts';
import { openPage, tinyModelAndData, trainTinyRun } from './tiny-runs.ts';
import { progressPattern, recordedProgressLines, recordProgressLines } from './progress-lines.ts';

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

/** A PEFT adapter for the tiny model with non-zero B, as another tool would have saved it. */
async function handmadeAdapter(modelDir: string, dir: string): Promise<void> {
  const model = await openModelFolder(modelDir);
  try {
    const config = defaultLoraConfig({ r: 2, lora_alpha: 4, target_modules: ['q_proj', 'v_proj'] });
    const random = seededRandom(9);
    const adapter = initLoraAdapter(matchTargetModules(model.spec, config).targets, config, random);
    for (const l of adapter.layers.values()) for (let j = 0; j < l.B.length; j++) l.B[j] = (random() - 0.5) * 0.2;
    await writeAdapter(dir, adapter);
  } finally {
    await model.close();
  }
}

interface AdapterRow {
  id: string;
  name: string;
  source: string;
  r: number;
  path: string;
}

describe('Adapters in the browser', () => {
  it('lists a run’s adapter, imports one, combines them with weights and merges one into its base model', async () => {
    const project = await serve.invoke<{ id: string }>('projects.create', { name: 'Adapters check' });
    const files = await tinyModelAndData(serve);
    await trainTinyRun(serve, project.id, files, 'sums r4');
    const handmade = join(serve.dataDir, 'handmade-adapter');
    await handmadeAdapter(files.model, handmade);

    const context = await newStudioContext(browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await openPage(page, serve, 'Adapters check', tr('nav.adapters'));
    const table = page.getByRole('table', { name: tr('nav.adapters') });
    await table.getByText('sums r4', { exact: true }).waitFor();
    await table
      .getByText(
        tr('adapters.source.run') + tr('adapters.onBase', { model: 'tiny-llama' }) + tr('adapters.atStep', { step: 4 }),
        { exact: true },
      )
      .waitFor();
    await table.getByText('4 / 8', { exact: true }).waitFor();
    await table.getByText('k_proj, o_proj, q_proj, v_proj', { exact: true }).waitFor();
    await page.getByRole('button', { name: tr('adapters.detailsLabel', { name: 'sums r4' }) }).click();
    await page
      .getByLabel(tr('adapters.configOf', { name: 'sums r4' }))
      .getByText('"lora_alpha": 8', { exact: false })
      .waitFor();
    await screenshot(page, 'adapters-list.png');
    // The table fits its card at 1280 px: the row's last action (Publish) was cut off at the card's right edge.
    const tableWrap = await table.evaluate((el) => {
      const wrap = el.closest('.table-wrap')!;
      return { scroll: wrap.scrollWidth, client: wrap.clientWidth };
    });
    expect(tableWrap.scroll).toBeLessThanOrEqual(tableWrap.client + 1);
    await page.getByRole('button', { name: tr('publish.adapterLabel', { name: 'sums r4' }) }).waitFor();
    await page.getByRole('button', { name: tr('adapters.detailsLabel', { name: 'sums r4' }) }).click();

    // Import: a wrong folder is refused with the core's message; the real one is checked and listed.
    await page.getByRole('button', { name: tr('adapters.import') }).click();
    const importDialog = page.getByRole('dialog', { name: tr('adapters.importTitle') });
    await importDialog.getByLabel(tr('adapters.adapterFolder')).fill(join(serve.dataDir, 'nowhere'));
    await importDialog.getByRole('button', { name: tr('datasets.import') }).click();
    await importDialog.getByText('is not a folder', { exact: false }).waitFor();
    await importDialog.getByLabel(tr('adapters.adapterFolder')).fill(handmade);
    await importDialog.getByLabel(tr('projects.name')).fill('handmade');
    await importDialog.getByLabel(tr('exports.baseFolder')).fill(files.model);
    await importDialog.getByRole('button', { name: tr('datasets.import') }).click();
    await importDialog.waitFor({ state: 'hidden' });
    await table.getByText('handmade', { exact: true }).waitFor();
    await table
      .getByText(tr('adapters.source.imported') + tr('adapters.onBase', { model: 'tiny-llama' }), { exact: true })
      .waitFor();

    // Combine both with weights: a new adapter of rank 4 + 2.
    await page.getByLabel(tr('adapters.selectLabel', { name: 'sums r4' })).check();
    await page.getByLabel(tr('adapters.selectLabel', { name: 'handmade' })).check();
    await page.getByRole('button', { name: tr('adapters.combineSelected', { count: 2 }) }).click();
    const combineDialog = page.getByRole('dialog', { name: tr('adapters.combineTitle') });
    await combineDialog.getByLabel(tr('adapters.newName')).fill('blend');
    await combineDialog.getByLabel(tr('adapters.weightOf', { name: 'sums r4' })).fill('0.5');
    await combineDialog.getByLabel(tr('adapters.weightOf', { name: 'handmade' })).fill('two');
    await combineDialog.getByRole('button', { name: tr('adapters.combine') }).click();
    await combineDialog.getByText(tr('adapters.weightOfNotNumber', { name: 'handmade' })).waitFor();
    await combineDialog.getByLabel(tr('adapters.weightOf', { name: 'handmade' })).fill('1');
    // corrected: the message about the bad weight goes with the edit (Dialog's onEdit), not at the next Combine
    await expect.poll(() => combineDialog.getByText(tr('adapters.weightOfNotNumber', { name: 'handmade' })).count()).toBe(0);
    await screenshot(page, 'adapters-combine.png');
    await recordProgressLines(page, '.run-progress-text');
    await combineDialog.getByRole('button', { name: tr('adapters.combine') }).click();
    await page.getByText(tr('adapters.combineReady', { name: 'blend' })).waitFor({ timeout: 60_000 });
    // Its progress lines were the job's phrases in the UI's language (the Korean page showed the core's English
    // "reading …" / "combining"), or the page's own "Combining …" before the job said anything.
    const combineLines = await recordedProgressLines(page);
    const phrases = [progressPattern('core.progress.mergeReading', { file: 'FILE' }, ['FILE']), progressPattern('core.progress.mergeCombining')];
    expect(combineLines.filter((line) => phrases.some((re) => re.test(line))).length, combineLines.join(' | ')).toBeGreaterThan(0);
    expect(combineLines.filter((line) => line !== tr('adapters.combining', { name: 'blend' }) && !phrases.some((re) => re.test(line)))).toEqual([]);
    await table.getByText('blend', { exact: true }).waitFor();
    await table.getByText('6 / 6', { exact: true }).waitFor();
    // The combined adapter says what it was made of, in the list and in its details.
    await expect
      .poll(() => table.getByTestId('parts-blend').innerText())
      .toBe(tr('adapters.madeOfLine', { parts: '1 × handmade + 0.5 × sums r4' })); // in the list's order
    // The details open directly under their own row (a row of the table), not under the whole table, and are
    // reached by keyboard: Details takes Enter and says it is expanded and which region it opened.
    const blendDetails = page.getByRole('button', { name: tr('adapters.detailsLabel', { name: 'blend' }) });
    await blendDetails.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => blendDetails.getAttribute('aria-expanded')).toBe('true');
    const region = page.getByRole('region', { name: tr('adapters.detailsOf', { name: 'blend' }) });
    await region.waitFor();
    expect(
      await blendDetails.evaluate((button) => {
        const row = button.closest('tr')!;
        const detail = row.nextElementSibling;
        const controlled = document.getElementById(button.getAttribute('aria-controls') ?? '');
        return {
          underItsRow: !!detail && detail.classList.contains('table-detail-row') && !!detail.querySelector('.adapter-details'),
          inTable: !!controlled && controlled.closest('table') === row.closest('table') && detail === controlled.parentElement,
          nextRowIsAnotherAdapter: !!detail?.nextElementSibling?.querySelector('input[type="checkbox"]'),
        };
      }),
    ).toEqual({ underItsRow: true, inTable: true, nextRowIsAnotherAdapter: true });
    const partList = page.getByRole('list', { name: tr('adapters.partsOf', { name: 'blend' }) });
    await partList.getByText(tr('adapters.part', { name: 'sums r4', weight: 0.5 })).waitFor();
    await partList.getByText(tr('adapters.part', { name: 'handmade', weight: 1 })).waitFor();
    await screenshot(page, 'adapters-combined-parts.png');
    await page.getByRole('button', { name: tr('adapters.detailsLabel', { name: 'blend' }) }).click();
    const listed = await serve.invoke<AdapterRow[]>('adapters.list', { projectId: project.id });
    expect(listed.map((a) => [a.name, a.source, a.r])).toEqual([
      ['blend', 'combined', 6],
      ['handmade', 'imported', 2],
      ['sums r4', 'run', 4],
    ]);

    // Merge into the base model: followed on the Exports page, which shows where it went.
    await page.getByRole('button', { name: tr('adapters.mergeLabel', { name: 'sums r4' }) }).click();
    const mergeDialog = page.getByRole('dialog', { name: tr('adapters.mergeTitle', { name: 'sums r4' }) });
    await expect(mergeDialog.getByLabel(tr('exports.baseFolder')).inputValue()).resolves.toBe(files.model);
    await mergeDialog.getByRole('radio', { name: 'f16', exact: true }).check();
    await mergeDialog.getByRole('button', { name: tr('adapters.startMerge') }).click();
    const mergedPath = join(serve.dataDir, 'exports', 'sums-r4-hf-f16');
    const mergingNotice = page.getByText(tr('adapters.merging', { name: 'sums r4', path: mergedPath }));
    await mergingNotice.waitFor();
    // The notice lasts as long as its job: gone once the merge has finished.
    await expect
      .poll(
        async () => (await serve.invoke<{ status: string }[]>('exports.list', { projectId: project.id }))[0]?.status,
        { timeout: 60_000 },
      )
      .toBe('succeeded');
    await expect.poll(() => mergingNotice.count()).toBe(0);
    await page
      .getByRole('navigation', { name: tr('app.navLabel') })
      .getByRole('link', { name: tr('nav.exports'), exact: true })
      .click();
    const exportsTable = page.getByRole('table', { name: tr('nav.exports') });
    await exportsTable.getByText(`${tr('exports.format.hf')} · f16`, { exact: true }).waitFor();
    await exportsTable.getByText(tr('status.succeeded'), { exact: true }).waitFor({ timeout: 60_000 });
    await exportsTable.getByText(mergedPath, { exact: true }).waitFor();
    expect(existsSync(join(mergedPath, 'config.json'))).toBe(true);
    expect(existsSync(join(mergedPath, 'model.safetensors'))).toBe(true);
    // The merged folder downloads as a .tar that tar reads back to the same files.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page
        .getByRole('link', { name: tr('exports.downloadLabel', { format: tr('exports.format.hf'), tar: true }) })
        .click(),
    ]);
    expect(download.suggestedFilename()).toBe('sums-r4-hf-f16.tar');
    const tarFile = join(serve.dataDir, 'merged.tar');
    await download.saveAs(tarFile);
    const listing = spawnSync('tar', ['-tf', tarFile], { encoding: 'utf8' });
    expect(listing.status, listing.stderr).toBe(0);
    expect(listing.stdout.split('\n')).toEqual(
      expect.arrayContaining(['sums-r4-hf-f16/config.json', 'sums-r4-hf-f16/model.safetensors']),
    );
    // The one refused import is the only failed request (the browser logs its 400); nothing else went wrong.
    expect(errors).toEqual([
      'console: Failed to load resource: the server responded with a status of 400 (Bad Request)',
    ]);
    await context.close();

    const dark = await newStudioContext(browser, 'dark');
    const darkPage = await dark.newPage();
    await openPage(darkPage, serve, 'Adapters check', tr('nav.adapters'));
    await darkPage
      .getByRole('table', { name: tr('nav.adapters') })
      .getByText('blend', { exact: true })
      .waitFor();
    await darkPage.getByRole('button', { name: tr('adapters.detailsLabel', { name: 'blend' }) }).click();
    await darkPage.getByLabel(tr('adapters.configOf', { name: 'blend' })).waitFor();
    await screenshot(darkPage, 'adapters-dark.png');
    await dark.close();
  });
});
