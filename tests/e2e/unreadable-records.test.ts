// A stored record that no longer validates (what the old demo wrote) does not take a page down: the model list in
// New fine-tune still loads, the Projects page names the record with its reason, and Remove (after a confirmation)
// takes it away.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { createStudioCore } from '../../src/main/core/index.ts';
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

let serve: ServeProcess;
let browser: Browser;

beforeAll(async () => {
  buildRenderer();
  serve = await startServe();
  await serve.invoke('projects.create', { name: 'Old data' });
  // A second process on the same data dir, as the CLI would be: write the record the old demo wrote.
  const core = createStudioCore({ dataDir: serve.dataDir });
  core.store.baseModels.insert({
    source: 'bundled:default-model',
    sourceKind: 'local',
    localPath: '/old/default-model',
    architecture: 'LlamaForCausalLM',
    config: { model_type: 'llama' },
  });
  await core.close();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

describe('unreadable stored records', () => {
  it('are named on the Projects page and removed after a confirmation; lists keep working', async () => {
    expect(await serve.invoke('models.list', {})).toEqual([]);
    const context = await newStudioContext(browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(serve.url);
    const list = page.getByRole('list', { name: tr('unreadable.list') });
    await list.getByText('/old/default-model').first().waitFor();
    // which field, what it should hold, what it holds and what to do, in the UI's language: no raw validator
    // message ("Invalid input: expected string, received undefined") and no JSON path dump
    const [stale] = await serve.invoke<{ id: string; field: string; file: string }[]>('system.unreadable', {});
    const said = tr('core.unreadable.stale', { kind: 'model', id: stale.id, field: stale.field, expected: 'string', choices: '', found: 'missing' });
    const text = (await list.textContent()) ?? '';
    expect(text).toContain(said);
    expect(text).toContain(tr('unreadable.fix.model', { file: '/old/default-model' }));
    expect(text).not.toMatch(/Invalid input|received|\[\{|"path"/);
    await screenshot(page, 'unreadable-records.png');
    await list
      .getByRole('button', {
        name: tr('unreadable.removeLabel', {
          kind: tr('unreadable.kind.model').toLowerCase(),
          name: '/old/default-model',
        }),
      })
      .click();
    await list.getByRole('button', { name: tr('unreadable.yesRemove') }).click();
    await list.waitFor({ state: 'detached' });
    expect(await serve.invoke('system.unreadable', {})).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });
});
