// Exports in headless Chromium against a real `serve`: from a tiny fine-tune's adapter, a GGUF (q8_0) and a
// merged Hugging Face folder are started from the form — each with its size estimate shown first — and finish in
// the list with their paths (parsed back / opened to check them); a second export to the same path is refused
// until "replace" is ticked; the path copies to the clipboard.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gguf } from '@huggingface/gguf';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatBytes } from '../../src/renderer/src/format.ts';
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

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

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

describe('Exports in the browser', () => {
  it('estimates, writes a GGUF and a merged Hugging Face folder, shows where they went, and never overwrites unasked', async () => {
    const project = await serve.invoke<{ id: string }>('projects.create', { name: 'Exports check' });
    const files = await tinyModelAndData(serve);
    await trainTinyRun(serve, project.id, files, 'sums r4');
    const [adapter] = await serve.invoke<{ id: string }[]>('adapters.list', { projectId: project.id });

    const context = await newStudioContext(browser);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: serve.origin });
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await openPage(page, serve, 'Exports check', tr('nav.exports'));

    // GGUF q8_0: the estimate the page shows is the core's, before anything is written.
    await page.getByRole('radio', { name: tr('exports.format.gguf'), exact: true }).check();
    // The K-quant types people ship are offered, each with its help line.
    for (const type of ['q6_k', 'q5_k_m', 'q4_k_m'] as const) {
      await page.getByLabel(tr('exports.type')).selectOption(type);
      await page.getByText(tr(`exports.typeHelp.${type}`)).waitFor();
    }
    await screenshot(page, 'exports-k-quant.png');
    await page.getByLabel(tr('exports.type')).selectOption('q8_0');
    const estimate = await serve.invoke<{ bytes: number; path: string }>('exports.estimate', {
      adapterId: adapter.id,
      format: 'gguf',
      type: 'q8_0',
    });
    await page
      .getByTestId('export-estimate')
      .getByText(`≈ ${formatBytes(estimate.bytes)}`)
      .waitFor();
    await page.getByText(tr('exports.typeHelp.q8_0')).waitFor();
    await screenshot(page, 'exports-form.png');
    await recordProgressLines(page, '.export-status .run-progress-text');
    await page.getByRole('button', { name: tr('exports.start') }).click();
    const table = page.getByRole('table', { name: tr('nav.exports') });
    await table.getByText(`${tr('exports.format.gguf')} · q8_0`, { exact: true }).waitFor();
    await table.getByText(estimate.path, { exact: true }).waitFor();
    await table.getByText(tr('status.succeeded'), { exact: true }).waitFor({ timeout: 60_000 });
    await table.getByText(formatBytes(statSync(estimate.path).size), { exact: true }).waitFor();
    // Whatever progress lines the row showed were the job's phrases in the UI's language (the Korean page showed the
    // core's English "writing … (3 of 12)"): a quick export may end before its row shows any.
    const exportPhrases = [
      progressPattern('core.progress.exportOpening'),
      ...(['merging', 'writing'] as const).map((verb) => progressPattern('core.progress.exportTensor', { verb, tensor: 'TENSOR', done: 7, total: 9 }, ['TENSOR'])),
      progressPattern('core.progress.exportWrote', { path: 'PATH' }, ['PATH']),
    ];
    const exportLines = await recordedProgressLines(page);
    expect(exportLines.filter((line) => !exportPhrases.some((re) => re.test(line)))).toEqual([]);
    const parsed = await gguf(estimate.path, { allowLocalFile: true });
    expect((parsed.metadata as unknown as Record<string, unknown>)['general.file_type']).toBe(7); // MOSTLY_Q8_0 (a key outside the reader's typed set)
    // The "Exporting…" notice went with its job.
    await expect.poll(() => page.getByText(tr('exports.exportingTo', { path: estimate.path })).count()).toBe(0);

    // Downloaded through the browser (token-protected link), byte for byte the file on disk.
    const downloadLink = page.getByRole('link', { name: tr('exports.downloadLabel', { format: 'GGUF', tar: false }) });
    await downloadLink.scrollIntoViewIfNeeded();
    await screenshot(page, 'exports-download.png');
    const [download] = await Promise.all([page.waitForEvent('download'), downloadLink.click()]);
    expect(download.suggestedFilename()).toBe('sums-r4-gguf-q8_0.gguf');
    const saved = join(serve.dataDir, 'downloaded.gguf');
    await download.saveAs(saved);
    expect(sha256(readFileSync(saved))).toBe(sha256(readFileSync(estimate.path)));
    // The link needs the token: without it the server refuses.
    const href = (await downloadLink.getAttribute('href')) ?? '';
    expect((await fetch(href.replace(/\?token=.*$/, ''))).status).toBe(401);

    // The same export again: refused with the core's reason until replacing is ticked.
    await page.getByText(tr('exports.existsReplace', { name: 'sums-r4-gguf-q8_0.gguf' })).waitFor();
    await page.getByRole('button', { name: tr('exports.start') }).click();
    await page
      .getByText(tr('core.guard.exists', { out: '\u0000' }).split('\u0000')[1]!, { exact: false })
      .waitFor();

    // A merged Hugging Face folder (f32) to a chosen folder.
    await page.getByRole('radio', { name: tr('exports.format.hf'), exact: true }).check();
    await page.getByLabel(tr('exports.type')).selectOption('f32');
    const hfPath = join(serve.dataDir, 'my-merged-model');
    await page.getByLabel(tr('exports.outPath')).fill(hfPath);
    await page.getByRole('button', { name: tr('exports.start') }).click();
    await table.getByText(`${tr('exports.format.hf')} · f32`, { exact: true }).waitFor();
    await table.getByText(hfPath, { exact: true }).waitFor();
    await expect
      .poll(
        async () =>
          (await serve.invoke<{ status: string }[]>('exports.list', { projectId: project.id })).map((e) => e.status),
        { timeout: 60_000 },
      )
      .toEqual(['succeeded', 'succeeded']);
    await expect
      .poll(() => table.getByText(tr('status.succeeded'), { exact: true }).count(), { timeout: 20_000 })
      .toBe(2);
    // Written outside the studio's exports folder: the path is offered, not a download.
    expect(
      await page
        .getByRole('link', { name: tr('exports.downloadLabel', { format: tr('exports.format.hf'), tar: true }) })
        .count(),
    ).toBe(0);
    await expect.poll(() => page.getByText(tr('exports.exportingTo', { path: hfPath })).count()).toBe(0);
    expect(existsSync(join(hfPath, 'config.json'))).toBe(true);
    expect(existsSync(join(hfPath, 'model.safetensors'))).toBe(true);

    const copy = page.getByRole('button', { name: tr('exports.copyLabel', { format: tr('exports.format.hf') }) });
    await copy.click();
    await copy.getByText(tr('exports.copied'), { exact: true }).waitFor();
    await expect(page.evaluate(() => navigator.clipboard.readText())).resolves.toBe(hfPath);
    await screenshot(page, 'exports-finished.png');
    // The refused start is the only failed request (the browser logs its 409).
    expect(errors).toEqual(['console: Failed to load resource: the server responded with a status of 409 (Conflict)']);
    await context.close();

    const dark = await newStudioContext(browser, 'dark');
    const darkPage = await dark.newPage();
    await openPage(darkPage, serve, 'Exports check', tr('nav.exports'));
    await darkPage
      .getByRole('table', { name: tr('nav.exports') })
      .getByText(hfPath, { exact: true })
      .waitFor();
    await screenshot(darkPage, 'exports-dark.png');
    await dark.close();
  });
});
