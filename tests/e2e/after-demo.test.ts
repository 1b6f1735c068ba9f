// After `lora-studio demo` (its core part, shortened, on the bundled model), serving the same data dir: every page
// of the studio opens with zero console errors, zero HTTP errors and no error banner. The demo's records are what
// the pages read, so a record written outside the API would show here as a failed list.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { createStudioCore } from '../../src/main/core/index.ts';
import type { DemoResult } from '../../src/main/cli/commands/demo.ts';
import { runShortDemo } from '../fixtures/short-demo.ts';
import {
  buildRenderer,
  collectHttpErrors,
  collectPageErrors,
  launchChromium,
  newStudioContext,
  screenshot,
  startServe,
  tr,
  type ServeProcess,
} from './harness.ts';

let serve: ServeProcess;
let browser: Browser;
let demo: DemoResult;

beforeAll(async () => {
  buildRenderer();
  const dataDir = mkdtempSync(join(tmpdir(), 'lora-after-demo-'));
  const core = createStudioCore({ dataDir });
  try {
    demo = await runShortDemo(core, dataDir);
  } finally {
    await core.close();
  }
  serve = await startServe({ dataDir });
  browser = await launchChromium();
}, 300_000);
afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

describe('every page after the demo', () => {
  it('opens with zero console errors, zero HTTP errors and no error banner', async () => {
    const context = await newStudioContext(browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    const httpErrors = collectHttpErrors(page);
    await page.goto(serve.url);
    await page.getByRole('table', { name: tr('nav.projects') }).waitFor();
    await page.getByLabel(tr('app.currentProject'), { exact: true }).selectOption({ label: 'Demo' });

    const pages: [string, string, () => Promise<unknown>][] = [
      [
        'projects',
        '#/projects',
        () =>
          page
            .getByRole('table', { name: tr('nav.projects') })
            .getByText('Demo', { exact: true })
            .waitFor(),
      ],
      ['new', '#/new', () => page.getByRole('listitem', { name: tr('core.bundled.modelName') }).waitFor()],
      ['new-quick', '#/new/quick', () => page.getByRole('heading', { level: 1 }).waitFor()],
      [
        'new-config',
        '#/new/config',
        () => page.getByRole('heading', { level: 1, name: tr('wizard.editorTitle') }).waitFor(),
      ],
      ['datasets', '#/datasets', () => page.getByText('demo: pirate answers').first().waitFor()],
      ['runs', '#/runs', () => page.getByText('demo lora').first().waitFor()],
      [
        'run',
        `#/runs/${demo.runId}`,
        () =>
          page
            .getByRole('main')
            .getByRole('link', { name: tr('nav.evaluate'), exact: true })
            .waitFor(),
      ],
      [
        'evaluate',
        '#/evaluate',
        () =>
          page
            .getByRole('table', { name: tr('evaluate.evaluations') })
            .getByText(tr('status.succeeded'))
            .waitFor(),
      ],
      ['compare', '#/compare', () => page.getByRole('heading', { level: 1 }).waitFor()],
      ['chat', '#/chat', () => page.getByRole('heading', { level: 1, name: tr('nav.chat') }).waitFor()],
      ['adapters', '#/adapters', () => page.getByText('demo lora').first().waitFor()],
      ['exports', '#/exports', () => page.getByRole('table', { name: tr('nav.exports') }).waitFor()],
      ['settings', '#/settings', () => page.getByRole('heading', { level: 1, name: tr('nav.settings') }).waitFor()],
    ];
    for (const [name, hash, ready] of pages) {
      await page.goto(`${serve.url}${hash}`);
      await ready();
      await page.waitForTimeout(500); // let the page's other queries answer
      await screenshot(page, `after-demo-${name}.png`);
      expect(await page.locator('.banner-error').allInnerTexts(), `error banner on ${hash}`).toEqual([]);
    }
    // The evaluation row holds both numbers and the change.
    await page.goto(`${serve.url}#/evaluate`);
    await page
      .getByRole('table', { name: tr('evaluate.evaluations') })
      .getByText(tr('status.succeeded'))
      .waitFor();
    const cells = await page
      .getByRole('table', { name: tr('evaluate.evaluations') })
      .locator('tbody tr')
      .first()
      .locator('td')
      .allInnerTexts();
    const shown = (text: string) => Number(text.replace(/,/g, ''));
    expect(shown(cells[2]!)).toBeCloseTo(demo.pplBefore, 0);
    expect(shown(cells[3]!)).toBeCloseTo(demo.pplAfter, 0);
    expect(cells[4]).toMatch(/^−\d+(\.\d)?%$/); // a share as the UI writes one: "−41.9%"
    expect(errors).toEqual([]);
    expect(httpErrors).toEqual([]);
    await context.close();
  });
});
