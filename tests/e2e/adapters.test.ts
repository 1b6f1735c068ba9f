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
    await openPage(page, serve, 'Adapters check', 'Adapters');
    const table = page.getByRole('table', { name: 'Adapters' });
    await table.getByText('sums r4', { exact: true }).waitFor();
    await table.getByText('from a run · on tiny-llama · step 4', { exact: true }).waitFor();
    await table.getByText('4 / 8', { exact: true }).waitFor();
    await table.getByText('k_proj, o_proj, q_proj, v_proj', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Details of sums r4' }).click();
    await page.getByLabel('adapter_config.json of sums r4').getByText('"lora_alpha": 8', { exact: false }).waitFor();
    await screenshot(page, 'adapters-list.png');
    await page.getByRole('button', { name: 'Details of sums r4' }).click();

    // Import: a wrong folder is refused with the core's message; the real one is checked and listed.
    await page.getByRole('button', { name: 'Import adapter' }).click();
    const importDialog = page.getByRole('dialog', { name: 'Import a PEFT adapter' });
    await importDialog.getByLabel('Adapter folder').fill(join(serve.dataDir, 'nowhere'));
    await importDialog.getByRole('button', { name: 'Import' }).click();
    await importDialog.getByText('is not a folder', { exact: false }).waitFor();
    await importDialog.getByLabel('Adapter folder').fill(handmade);
    await importDialog.getByLabel('Name').fill('handmade');
    await importDialog.getByLabel('Base model folder').fill(files.model);
    await importDialog.getByRole('button', { name: 'Import' }).click();
    await importDialog.waitFor({ state: 'hidden' });
    await table.getByText('handmade', { exact: true }).waitFor();
    await table.getByText('imported · on tiny-llama', { exact: true }).waitFor();

    // Combine both with weights: a new adapter of rank 4 + 2.
    await page.getByLabel('Select sums r4 to combine').check();
    await page.getByLabel('Select handmade to combine').check();
    await page.getByRole('button', { name: 'Combine selected (2)' }).click();
    const combineDialog = page.getByRole('dialog', { name: 'Combine adapters' });
    await combineDialog.getByLabel('New adapter name').fill('blend');
    await combineDialog.getByLabel('Weight of sums r4').fill('0.5');
    await combineDialog.getByLabel('Weight of handmade').fill('two');
    await combineDialog.getByRole('button', { name: 'Combine' }).click();
    await combineDialog.getByText('The weight of “handmade” is not a number.').waitFor();
    await combineDialog.getByLabel('Weight of handmade').fill('1');
    await screenshot(page, 'adapters-combine.png');
    await combineDialog.getByRole('button', { name: 'Combine' }).click();
    await page.getByText('“blend” is ready: it is listed below as a new adapter.').waitFor({ timeout: 60_000 });
    await table.getByText('blend', { exact: true }).waitFor();
    await table.getByText('6 / 6', { exact: true }).waitFor();
    // The combined adapter says what it was made of, in the list and in its details.
    await expect
      .poll(() => table.getByTestId('parts-blend').innerText())
      .toBe(tr('adapters.madeOfLine', { parts: '1 × handmade + 0.5 × sums r4' })); // in the list's order
    await page.getByRole('button', { name: 'Details of blend' }).click();
    const partList = page.getByRole('list', { name: tr('adapters.partsOf', { name: 'blend' }) });
    await partList.getByText(tr('adapters.part', { name: 'sums r4', weight: 0.5 })).waitFor();
    await partList.getByText(tr('adapters.part', { name: 'handmade', weight: 1 })).waitFor();
    await screenshot(page, 'adapters-combined-parts.png');
    await page.getByRole('button', { name: 'Details of blend' }).click();
    const listed = await serve.invoke<AdapterRow[]>('adapters.list', { projectId: project.id });
    expect(listed.map((a) => [a.name, a.source, a.r])).toEqual([
      ['blend', 'combined', 6],
      ['handmade', 'imported', 2],
      ['sums r4', 'run', 4],
    ]);

    // Merge into the base model: followed on the Exports page, which shows where it went.
    await page.getByRole('button', { name: 'Merge sums r4' }).click();
    const mergeDialog = page.getByRole('dialog', { name: 'Merge “sums r4” into its base model' });
    await expect(mergeDialog.getByLabel('Base model folder').inputValue()).resolves.toBe(files.model);
    await mergeDialog.getByRole('radio', { name: 'f16', exact: true }).check();
    await mergeDialog.getByRole('button', { name: 'Start merge' }).click();
    const mergedPath = join(serve.dataDir, 'exports', 'sums-r4-hf-f16');
    const mergingNotice = page.getByText(`Merging “sums r4” into ${mergedPath}. Follow it on the Exports page.`);
    await mergingNotice.waitFor();
    // The notice lasts as long as its job: gone once the merge has finished.
    await expect
      .poll(
        async () => (await serve.invoke<{ status: string }[]>('exports.list', { projectId: project.id }))[0]?.status,
        { timeout: 60_000 },
      )
      .toBe('succeeded');
    await expect.poll(() => mergingNotice.count()).toBe(0);
    await page.getByRole('navigation', { name: 'Studio' }).getByRole('link', { name: 'Exports', exact: true }).click();
    const exportsTable = page.getByRole('table', { name: 'Exports' });
    await exportsTable.getByText('Hugging Face folder · f16', { exact: true }).waitFor();
    await exportsTable.getByText('Finished', { exact: true }).waitFor({ timeout: 60_000 });
    await exportsTable.getByText(mergedPath, { exact: true }).waitFor();
    expect(existsSync(join(mergedPath, 'config.json'))).toBe(true);
    expect(existsSync(join(mergedPath, 'model.safetensors'))).toBe(true);
    // The merged folder downloads as a .tar that tar reads back to the same files.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download the Hugging Face folder export as a .tar archive' }).click(),
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
    await openPage(darkPage, serve, 'Adapters check', 'Adapters');
    await darkPage.getByRole('table', { name: 'Adapters' }).getByText('blend', { exact: true }).waitFor();
    await darkPage.getByRole('button', { name: 'Details of blend' }).click();
    await darkPage.getByLabel('adapter_config.json of blend').waitFor();
    await screenshot(darkPage, 'adapters-dark.png');
    await dark.close();
  });
});
