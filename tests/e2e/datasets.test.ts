// The Datasets page in headless Chromium against a real `lora-studio serve`: a JSONL with bad rows and one
// long row imported as a job; the list; the previewer with the rendered training text (special tokens as
// chips, trained tokens coloured), the token-length histogram with the max-length cut-off and the truncated
// share, paging, and the bad rows with their lines — in light and dark.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTinyModel } from '../fixtures/tiny-models.ts';
import {
  E2E_LOCALE,
  buildRenderer,
  collectPageErrors,
  expectNoEnglishLeft,
  launchChromium,
  newStudioContext,
  screenshot,
  startServe,
  tr,
  type ServeProcess,
} from './harness.ts';

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

async function openProject(page: Page, name: string): Promise<void> {
  await page.goto(serve.url);
  await page.getByRole('table', { name: tr('nav.projects') }).waitFor();
  await page.getByLabel(tr('app.currentProject'), { exact: true }).selectOption({ label: name });
}

describe('Datasets page', () => {
  it('imports a file as a job, lists it, and previews rows as coloured training tokens with the length histogram and the bad rows', async () => {
    await serve.invoke('projects.create', { name: 'Data check' });
    const modelDir = join(serve.dataDir, 'data-llama');
    await makeTinyModel(modelDir, 'llama', { seed: 5 });
    await serve.invoke('models.open', { path: modelDir });
    const dataPath = join(serve.dataDir, 'chats.jsonl');
    const chat = (i: number, answer: string) =>
      JSON.stringify({
        messages: [
          { role: 'user', content: `Question ${i}?` },
          { role: 'assistant', content: answer },
        ],
      });
    const lines = Array.from({ length: 24 }, (_, i) => chat(i, `Answer ${i}.`));
    lines.push(chat(24, 'A long answer '.repeat(30)));
    lines.splice(3, 0, JSON.stringify({ messages: [{ role: 'robot', content: 'beep' }] })); // line 4: unknown role
    lines.splice(8, 0, 'not json at all'); // line 9
    writeFileSync(dataPath, lines.join('\n') + '\n');

    const context = await newStudioContext(browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await openProject(page, 'Data check');
    await page
      .getByRole('navigation', { name: tr('app.navLabel') })
      .getByRole('link', { name: tr('nav.datasets'), exact: true })
      .click();
    await page.getByRole('heading', { name: tr('datasets.none', { project: 'Data check' }) }).waitFor();
    await screenshot(page, 'datasets-empty.png');

    // A file whose columns the studio cannot place fails its import with the reason in the UI's language.
    const unplaced = join(serve.dataDir, 'columns.jsonl');
    writeFileSync(unplaced, '{"foo": "a", "bar": "b"}\n');
    await page.getByLabel(tr('datasets.file'), { exact: true }).fill(unplaced);
    await page.getByRole('button', { name: tr('datasets.import'), exact: true }).click();
    await page.getByText(tr('datasets.importFailed'), { exact: true }).waitFor({ timeout: 30_000 });
    await page.getByText(tr('core.dataset.formatUnknown', { file: 'columns.jsonl', columns: 'foo, bar' })).waitFor(); // the banner's body, under its title
    await screenshot(page, 'datasets-import-failed.png');

    // "Stop at the first bad row" fails at line 4 (the unknown role), the row's problem said in the UI's language.
    await page.getByLabel(tr('datasets.stopBad')).check();
    await page.getByLabel(tr('datasets.file'), { exact: true }).fill(dataPath);
    await page.getByRole('button', { name: tr('datasets.import'), exact: true }).click();
    const stopped = page.getByText(
      E2E_LOCALE === 'ko'
        ? /chats\.jsonl:4 \(3번 행\), "messages\[0\]\.role" 필드: 알 수 없는 역할 "robot" \(기대한 값: /
        : /chats\.jsonl:4 \(row 3\), field "messages\[0\]\.role": unknown role "robot" \(expected: /,
    );
    await stopped.waitFor({ timeout: 30_000 });
    await screenshot(page, 'datasets-import-stopped.png');
    await page.getByLabel(tr('datasets.skipBad')).check();

    await page.getByLabel(tr('datasets.file'), { exact: true }).fill(dataPath);
    await page.getByRole('button', { name: tr('datasets.import'), exact: true }).click();
    const table = page.getByRole('table', { name: tr('nav.datasets') });
    await table.getByRole('link', { name: 'chats.jsonl' }).waitFor({ timeout: 30_000 });
    await table.getByText('chat (jsonl)').waitFor();
    await screenshot(page, 'datasets-list.png');

    await table.getByRole('link', { name: 'chats.jsonl' }).click();
    const histogram = page.locator(
      `.histogram[role="img"][aria-label^="${tr('preview.histogramLabel', { count: 25, min: 0, max: 0, median: 0, truncated: 0, cut: null }).split(':')[0]}"]`,
    );
    await histogram.waitFor({ timeout: 30_000 });
    // Row 0 rendered with the model's chat template: markers as special chips, the assistant's answer trained.
    const text = page.getByRole('group', { name: tr('datasets.renderedText') });
    await text.locator('.tok-special').first().waitFor();
    const trained = (await text.locator('.tok-trained').allInnerTexts()).join('');
    expect(trained).toContain('Answer 0.');
    expect(trained).not.toContain('Question');
    expect(await text.locator('.tok-masked').allInnerTexts()).toEqual(
      expect.arrayContaining([expect.stringContaining('Question')]),
    );
    // The problems, each with its line.
    const problems = page.getByRole('list', { name: tr('datasets.problemsList') });
    await problems.getByText(tr('datasets.line', { line: 4 })).waitFor();
    await problems.getByText(tr('datasets.line', { line: 9 })).waitFor();
    await screenshot(page, 'datasets-preview.png');
    await expectNoEnglishLeft(page); // the bad rows' messages and expectations too, not only the page's labels

    // A short max length cuts the long row: the histogram's caption says so and its last bar holds it.
    await page.getByLabel(tr('datasets.maxLength')).fill('40');
    await page.getByText(tr('preview.truncated', { count: 1, share: 0.04, cut: 40 })).waitFor();
    expect(await page.locator('.histogram-bar-over').count()).toBe(1);
    await page.getByRole('button', { name: tr('datasets.nextPage') }).click();
    await page.getByText(tr('datasets.pageOf', { from: 11, to: 20, total: 25 })).waitFor();
    await page.getByRole('button', { name: tr('datasets.nextPage') }).click();
    await page.getByText(tr('datasets.pageOf', { from: 21, to: 25, total: 25 })).waitFor();
    await page.getByRole('button', { name: tr('datasets.showRow', { row: 26 }) }).click();
    await page
      .getByText(new RegExp(tr('preview.cutFrom', { length: 987654 }).replace(/^ — /, '').replace('987,654', '\\d+')))
      .waitFor();
    await screenshot(page, 'datasets-preview-cut.png');
    expect(errors).toEqual([]);
    await context.close();

    const dark = await newStudioContext(browser, 'dark');
    const darkPage = await dark.newPage();
    await openProject(darkPage, 'Data check');
    const id = (
      await serve.invoke<{ id: string }[]>('datasets.list', {
        projectId: (await serve.invoke<{ id: string; name: string }[]>('projects.list', {})).find(
          (p) => p.name === 'Data check',
        )!.id,
      })
    )[0].id;
    await darkPage.goto(`${serve.origin}/#/datasets/${id}`);
    await darkPage
      .getByRole('group', { name: tr('datasets.renderedText') })
      .locator('.tok-trained')
      .first()
      .waitFor({ timeout: 30_000 });
    await screenshot(darkPage, 'datasets-preview-dark.png');
    await dark.close();
  });
});
