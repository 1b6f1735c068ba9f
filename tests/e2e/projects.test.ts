// The studio in headless Chromium against a real `lora-studio serve`: the Projects page end to end
// (create, reload, rename, delete with confirmation), every other page's empty state, the token handling,
// and no console errors (which is where CSP violations would show).
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../src/renderer/src/routes.ts';
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

interface ProjectRow {
  id: string;
  name: string;
  description: string;
}

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

const heading = (page: Page, name: string) => page.getByRole('heading', { level: 1, name });
const projectTable = (page: Page) => page.getByRole('table', { name: tr('nav.projects') });

// These tests share one serve and run in order: the first three expect its store to be empty; the later
// ones create what they need.
describe('Projects in the browser', () => {
  it('opens from the printed URL, hides the token, and keeps working after a reload', async () => {
    const context = await newStudioContext(browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);

    await page.goto(serve.url);
    await expect(heading(page, tr('nav.projects')).isVisible()).resolves.toBe(true);
    await page.getByText(tr('projects.none')).waitFor();
    expect(page.url()).toBe(`${serve.origin}/`);
    // The built page carries its own strict CSP (no inline or eval'd script), besides serve's header.
    const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-eval');
    await page
      .getByRole('status')
      .filter({ hasText: tr('connection.connected') })
      .waitFor();

    await page.reload();
    await page.getByText(tr('projects.none')).waitFor();
    await page
      .getByRole('status')
      .filter({ hasText: tr('connection.connected') })
      .waitFor();
    await screenshot(page, 'projects-empty.png');

    expect(errors).toEqual([]);
    await context.close();
  });

  it('says which address to open when the page has no token', async () => {
    const context = await newStudioContext(browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${serve.origin}/`);
    await heading(page, tr('app.notConnected')).waitFor();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('?token=');
    await screenshot(page, 'no-token.png');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('shows each planned page’s honest empty state, asking for a project first', async () => {
    const context = await newStudioContext(browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(serve.url);
    for (const route of ROUTES.filter((r) => r.id !== 'projects' && r.id !== 'settings')) {
      await page
        .getByRole('navigation', { name: tr('app.navLabel') })
        .getByRole('link', { name: tr(`nav.${route.id}`), exact: true })
        .click();
      await heading(page, tr(`nav.${route.id}`)).waitFor();
      await page.getByRole('heading', { level: 2, name: tr('gate.createFirst') }).waitFor();
      expect(await page.title()).toBe(`${tr(`nav.${route.id}`)} · LoRA Studio`);
      await screenshot(page, `${route.id}-no-project.png`);
    }
    expect(errors).toEqual([]);
    await context.close();
  });

  it('creates, lists after a reload, renames and deletes a project with confirmation', async () => {
    const context = await newStudioContext(browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(serve.url);

    // Create: the form refuses an empty name with the contract's message, then accepts a real one.
    await page.getByRole('button', { name: tr('projects.create') }).click();
    const dialog = page.getByRole('dialog', { name: tr('projects.new') });
    await dialog.getByRole('button', { name: tr('projects.createButton') }).click();
    await dialog.getByText(tr('core.input.projectName')).waitFor(); // the contract's check, in the UI's language
    await dialog.getByLabel(tr('projects.name'), { exact: true }).fill('Support bot');
    await dialog.getByLabel(tr('projects.descriptionLabel')).fill('Answers questions about our product');
    await screenshot(page, 'projects-create-dialog.png');
    await dialog.getByRole('button', { name: tr('projects.createButton') }).click();
    await dialog.waitFor({ state: 'hidden' });
    await projectTable(page).getByText('Support bot', { exact: true }).waitFor();

    // A second project, and a duplicate name answered next to the field.
    await page.getByRole('button', { name: tr('projects.new') }).click();
    await dialog.getByLabel(tr('projects.name'), { exact: true }).fill('Legal summaries');
    await dialog.getByRole('button', { name: tr('projects.createButton') }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.getByRole('button', { name: tr('projects.new') }).click();
    await dialog.getByLabel(tr('projects.name'), { exact: true }).fill('Support bot');
    await dialog.getByRole('button', { name: tr('projects.createButton') }).click();
    await dialog.getByText(tr('projects.nameTaken', { name: 'Support bot' })).waitFor();
    await page.keyboard.press('Escape'); // Escape closes the dialog
    await dialog.waitFor({ state: 'hidden' });

    // Persisted: a reload lists both, newest first, and the store agrees.
    await page.reload();
    await projectTable(page).getByText('Legal summaries', { exact: true }).waitFor();
    const names = await projectTable(page).locator('.project-name').allTextContents();
    expect(names).toEqual(['Legal summaries', 'Support bot']);
    const stored = await serve.invoke<ProjectRow[]>('projects.list', {});
    expect(stored.map((p) => p.name).sort()).toEqual(['Legal summaries', 'Support bot']);
    expect(stored.find((p) => p.name === 'Support bot')?.description).toBe('Answers questions about our product');
    await screenshot(page, 'projects.png');

    // With a project, the other pages say what comes first instead of asking for a project.
    for (const route of ROUTES.filter((r) => r.id !== 'projects')) {
      await page
        .getByRole('navigation', { name: tr('app.navLabel') })
        .getByRole('link', { name: tr(`nav.${route.id}`), exact: true })
        .click();
      await heading(page, tr(`nav.${route.id}`)).waitFor();
      await expect(page.getByRole('heading', { name: tr('gate.createFirst') }).count()).resolves.toBe(0);
      if (route.id === 'settings') await page.getByText(tr('settings.dataFolder')).waitFor();
      await screenshot(page, `${route.id}.png`);
    }
    await page
      .getByRole('navigation', { name: tr('app.navLabel') })
      .getByRole('link', { name: tr('nav.projects'), exact: true })
      .click();

    // Rename inline: Escape cancels, Enter saves.
    await page.getByRole('button', { name: tr('projects.renameLabel', { name: 'Support bot' }) }).click();
    const renameField = page.getByLabel(tr('projects.newName', { name: 'Support bot' }));
    await renameField.fill('Throwaway');
    await renameField.press('Escape');
    await projectTable(page).getByText('Support bot', { exact: true }).waitFor();
    await page.getByRole('button', { name: tr('projects.renameLabel', { name: 'Support bot' }) }).click();
    await renameField.fill('Support bot v2');
    await screenshot(page, 'projects-rename.png');
    await renameField.press('Enter');
    await projectTable(page).getByText('Support bot v2', { exact: true }).waitFor();
    await page.reload();
    await projectTable(page).getByText('Support bot v2', { exact: true }).waitFor();
    expect((await serve.invoke<ProjectRow[]>('projects.list', {})).map((p) => p.name).sort()).toEqual([
      'Legal summaries',
      'Support bot v2',
    ]);

    // Delete: Cancel keeps it; confirming removes it, and it stays gone after a reload.
    await page.getByRole('button', { name: tr('projects.deleteLabel', { name: 'Support bot v2' }) }).click();
    const confirm = page.getByRole('dialog', { name: tr('projects.deleteTitle') });
    await confirm.getByText(tr('projects.deleteBody'), { exact: false }).waitFor();
    await screenshot(page, 'projects-delete-confirm.png');
    await confirm.getByRole('button', { name: tr('common.cancel') }).click();
    await confirm.waitFor({ state: 'hidden' });
    await projectTable(page).getByText('Support bot v2', { exact: true }).waitFor();
    await page.getByRole('button', { name: tr('projects.deleteLabel', { name: 'Support bot v2' }) }).click();
    await confirm.getByRole('button', { name: tr('projects.deleteButton') }).click();
    await confirm.waitFor({ state: 'hidden' });
    await projectTable(page).getByText('Support bot v2', { exact: true }).waitFor({ state: 'detached' });
    await page.reload();
    await projectTable(page).getByText('Legal summaries', { exact: true }).waitFor();
    await expect(projectTable(page).getByText('Support bot v2', { exact: true }).count()).resolves.toBe(0);
    expect((await serve.invoke<ProjectRow[]>('projects.list', {})).map((p) => p.name)).toEqual(['Legal summaries']);

    expect(errors).toEqual([]);
    await context.close();
  });

  it('is keyboard reachable: Tab reaches the actions, Enter opens the dialog, Escape closes it and returns focus', async () => {
    await serve.invoke('projects.create', { name: 'Keyboard check' });
    const context = await newStudioContext(browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(serve.url);
    await projectTable(page).waitFor();
    const focusedText = async () => String(await page.evaluate('document.activeElement?.textContent?.trim() ?? ""'));

    await page.keyboard.press('Tab');
    expect(await focusedText()).toBe(tr('app.skipToContent'));
    let reached = false;
    for (let presses = 0; presses < 40 && !reached; presses += 1) {
      await page.keyboard.press('Tab');
      reached = (await focusedText()) === tr('projects.new');
    }
    expect(reached).toBe(true);
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: tr('projects.new') });
    await dialog.waitFor();
    await page.keyboard.type('Typed without a mouse');
    await expect(dialog.getByLabel(tr('projects.name'), { exact: true }).inputValue()).resolves.toBe(
      'Typed without a mouse',
    );
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await focusedText()).toBe(tr('projects.new'));
    expect(errors).toEqual([]);
    await context.close();
  });

  it('renders the dark theme, from the system setting and from the toggle', async () => {
    await serve.invoke('projects.create', { name: 'Dark theme check' });
    const context = await newStudioContext(browser, 'dark');
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(serve.url);
    await projectTable(page).waitFor();
    // A string expression: it runs in the page, and the test files are type-checked without the DOM lib.
    const background = async () => String(await page.evaluate('getComputedStyle(document.body).backgroundColor'));
    const dark = await background();
    await screenshot(page, 'projects-dark.png');
    await page.getByRole('button', { name: tr('app.themeSwitch', { theme: 'light' }) }).click();
    const light = await background();
    expect(light).not.toBe(dark);
    expect(await page.locator('html').getAttribute('data-theme')).toBe('light');
    await page.reload(); // the pinned choice survives a reload
    await projectTable(page).waitFor();
    expect(await background()).toBe(light);
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('Connection to the core', () => {
  it('shows reconnecting while serve is down, the failed call’s message, and recovers when serve is back', async () => {
    const token = 'e2e-reconnect-token-0123456789';
    let first: ServeProcess | null = await startServe({ token });
    let second: ServeProcess | null = null;
    const context = await newStudioContext(browser);
    try {
      const page = await context.newPage();
      await page.goto(first.url);
      await page
        .getByRole('status')
        .filter({ hasText: tr('connection.connected') })
        .waitFor();

      const { port, dataDir } = first;
      await first.stop({ keepData: true });
      first = null;
      await page
        .getByRole('status')
        .filter({ hasText: tr('connection.reconnecting') })
        .waitFor();
      await page.getByRole('button', { name: tr('projects.create') }).click();
      const dialog = page.getByRole('dialog', { name: tr('projects.new') });
      await dialog.getByLabel(tr('projects.name'), { exact: true }).fill('Offline attempt');
      await dialog.getByRole('button', { name: tr('projects.createButton') }).click();
      // the client's own sentence, up to the browser's reason for the failure
      const unreachable = tr('client.unreachable', { base: `http://127.0.0.1:${port}`, reason: '\u0000' }).split('\u0000')[0]!;
      await dialog.getByText(unreachable, { exact: false }).waitFor();
      await screenshot(page, 'reconnecting.png');

      // Same port, token and store: the page reconnects by itself and the retry goes through.
      second = await startServe({ dataDir, port, token });
      await page
        .getByRole('status')
        .filter({ hasText: tr('connection.connected') })
        .waitFor({ timeout: 15_000 });
      await dialog.getByRole('button', { name: tr('projects.createButton') }).click();
      await dialog.waitFor({ state: 'hidden' });
      await projectTable(page).getByText('Offline attempt', { exact: true }).waitFor();
      expect((await second.invoke<ProjectRow[]>('projects.list', {})).map((p) => p.name)).toEqual(['Offline attempt']);
    } finally {
      await context.close();
      await first?.stop();
      await second?.stop();
    }
  });
});
