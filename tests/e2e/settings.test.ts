// The Settings page in headless Chromium against a real `lora-studio serve`: the data folder from doctor,
// threads and offline mode saved by the core (checked through the API), the Hub token write-only (a bad one
// refused with the reason, a good one stored in a 0600 file and never shown back, then removed).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Settings } from '../../src/common/api/settings.ts';
import {
  buildRenderer,
  collectPageErrors,
  launchChromium,
  newStudioContext,
  screenshot,
  startServe,
  tr,
  E2E_LOCALE,
  type ServeProcess,
} from './harness.ts';
import { INTL_TAGS } from '../../src/renderer/src/i18n/locale.ts';
import { translate } from '../../src/renderer/src/i18n/t.ts';

let serve: ServeProcess;
let browser: Browser;
const saved = {
  HF_TOKEN: process.env.HF_TOKEN,
  HUGGING_FACE_HUB_TOKEN: process.env.HUGGING_FACE_HUB_TOKEN,
  HF_HUB_OFFLINE: process.env.HF_HUB_OFFLINE,
};

beforeAll(async () => {
  // The server inherits this environment: a token or offline flag from the developer's shell would change what the page says.
  delete process.env.HF_TOKEN;
  delete process.env.HUGGING_FACE_HUB_TOKEN;
  delete process.env.HF_HUB_OFFLINE;
  buildRenderer();
  serve = await startServe();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  for (const [key, value] of Object.entries(saved)) if (value !== undefined) process.env[key] = value;
});

describe('Settings in the browser', () => {
  it('saves threads and offline mode, and stores the Hub token write-only', async () => {
    const context = await newStudioContext(browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(serve.url);
    await page.getByRole('link', { name: tr('nav.settings') }).click();
    await page.getByRole('heading', { level: 1, name: tr('nav.settings') }).waitFor();
    const { cpuThreads } = await serve.invoke<Settings>('settings.get', {});

    // The data folder, read-only, from the doctor report.
    await page.getByText(serve.dataDir, { exact: true }).waitFor();
    await page.getByText(tr('settings.noToken'), { exact: false }).waitFor();

    // Threads: out of range is refused in the form; a valid count is saved by the core.
    const threads = page.getByLabel(tr('settings.threads'));
    await threads.fill('100000');
    await page.getByRole('button', { name: tr('settings.saveThreads') }).click();
    await page.getByText(tr('settings.threadsRange', { max: cpuThreads })).waitFor();
    await threads.fill('1');
    await page.getByRole('button', { name: tr('settings.saveThreads') }).click();
    await page.getByText(tr('settings.threadsHint', { now: 1, max: cpuThreads })).waitFor();
    expect((await serve.invoke<Settings>('settings.get', {})).threads).toBe(1);

    // Offline mode.
    const offline = page.getByLabel(tr('settings.offlineCheck'));
    expect(await offline.isChecked()).toBe(false);
    await offline.click(); // the box follows the saved setting, so it ticks once the core has answered
    await expect.poll(() => offline.isChecked()).toBe(true);
    await expect.poll(async () => (await serve.invoke<Settings>('settings.get', {})).offline).toBe(true);

    // How long a chat model stays loaded in its worker: 10 minutes unless changed; 0 unloads after each answer.
    const keepAlive = page.getByLabel(tr('settings.keepAlive'), { exact: true });
    expect(await keepAlive.inputValue()).toBe('10');
    await keepAlive.selectOption({ label: tr('settings.keepAliveNone') });
    await expect.poll(async () => (await serve.invoke<Settings>('settings.get', {})).modelKeepAliveMinutes).toBe(0);

    // The token: a malformed one comes back with the reason; a valid one is stored and never shown again.
    const tokenField = page.getByRole('textbox', { name: tr('settings.token') });
    await tokenField.fill('not-a-token');
    await page.getByRole('button', { name: tr('settings.saveToken') }).click();
    await page.getByRole('alert').filter({ hasText: 'starts with "hf_"' }).waitFor();
    const token = 'hf_e2eSecretToken0123456789';
    await tokenField.fill(token);
    await page.getByRole('button', { name: tr('settings.saveToken') }).click();
    const storedStatus = tr('settings.tokenStored', {
      where: tr('settings.tokenFile', { file: join(serve.dataDir, 'secrets', 'hf_token') }),
    });
    await page.getByText(storedStatus, { exact: false }).waitFor();
    expect(await tokenField.inputValue()).toBe('');
    expect(await page.content()).not.toContain(token);
    const file = join(serve.dataDir, 'secrets', 'hf_token');
    expect(readFileSync(file, 'utf8')).toBe(token);
    if (process.platform !== 'win32') expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.stringify(await serve.invoke('settings.get', {}))).not.toContain(token);
    await screenshot(page, 'settings.png');

    // Everything survives a reload (it is the core's state, not the page's).
    await page.reload();
    await page.getByText(storedStatus, { exact: false }).waitFor();
    expect(await page.getByLabel(tr('settings.offlineCheck')).isChecked()).toBe(true);
    await page.getByText(tr('settings.threadsHint', { now: 1, max: cpuThreads })).waitFor();

    await page.getByRole('button', { name: tr('settings.removeToken') }).click();
    await page.getByText(tr('settings.noToken'), { exact: false }).waitFor();
    expect(existsSync(file)).toBe(false);

    // The refused token's 400 is the only console error the page may log.
    expect(errors.filter((e) => !/status of 400/.test(e))).toEqual([]);
    await context.close();
  });

  it('switches the whole UI to the other language, keeps the choice across a reload, and formats dates in it', async () => {
    const other = E2E_LOCALE === 'en' ? 'ko' : 'en';
    await serve.invoke('projects.create', { name: 'Language check' });
    const context = await newStudioContext(browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${serve.url}#/settings`);
    await page.getByRole('heading', { level: 1, name: tr('nav.settings') }).waitFor();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe(E2E_LOCALE);

    const radio = page.getByRole('radio', { name: other === 'ko' ? '한국어' : 'English' });
    await radio.check();
    await page.getByRole('heading', { level: 1, name: translate(other, 'nav.settings') }).waitFor();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe(other);
    await page.getByRole('link', { name: translate(other, 'nav.chat') }).waitFor();
    await page.getByText(translate(other, 'settings.languageHint')).waitFor();
    await screenshot(page, `settings-language-${other}.png`);

    // Kept in the browser: a reload comes back in the chosen language, and dates follow it (Projects' table).
    await page.reload();
    await page.getByRole('heading', { level: 1, name: translate(other, 'nav.settings') }).waitFor();
    await page.getByRole('link', { name: translate(other, 'nav.projects') }).click();
    const [project] = await serve.invoke<{ createdAt: string }[]>('projects.list', {});
    // (the date part only: Node's own ICU may lack the Korean AM/PM words Chromium writes)
    const created = new Intl.DateTimeFormat(INTL_TAGS[other], { dateStyle: 'medium' }).format(
      new Date(project.createdAt),
    );
    await page.getByRole('cell', { name: created }).first().waitFor();
    if (other === 'ko') expect(await page.getByRole('table').innerText()).toMatch(/오[전후] \d/);

    // And back.
    await page.getByRole('link', { name: translate(other, 'nav.settings') }).click();
    await page.getByRole('radio', { name: E2E_LOCALE === 'ko' ? '한국어' : 'English' }).check();
    await page.getByRole('heading', { level: 1, name: tr('nav.settings') }).waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });
});
