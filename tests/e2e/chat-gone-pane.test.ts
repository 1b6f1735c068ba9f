// A conversation outlives the adapter it was answered with: after the run (and its adapter) is deleted, the reopened
// conversation still shows the tuned pane's answers, read-only, saying the adapter is gone, instead of dropping them
// from view with the pane; a new question then goes to the base alone.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRenderer, collectPageErrors, launchChromium, newStudioContext, screenshot, startServe, tr, type ServeProcess } from './harness.ts';
import { makeTinyModel } from '../fixtures/tiny-models.ts';
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

interface Stored {
  session: { panes: { id: string }[] };
  messages: { role: string; pane: string | null; content: string }[];
}

describe('Chat after its adapter is deleted', () => {
  it('keeps the deleted adapter’s answers in their own pane and answers new questions with the base', async () => {
    const project = await serve.invoke<{ id: string }>('projects.create', { name: 'Gone pane' });
    const files = await tinyModelAndData(serve);
    const run = await trainTinyRun(serve, project.id, files, 'sums r4');
    const tunedLabel = tr('chat.paneTuned');
    const session = await serve.invoke<{ id: string }>('chat.create', {
      projectId: project.id,
      model: files.model,
      title: 'before the delete',
      panes: [
        { id: 'base', label: tr('chat.paneBase'), adapters: [] },
        { id: 'tuned', label: tunedLabel, adapters: [{ path: run.summary!.adapterPath, weight: 1, name: 'sums r4' }] },
      ],
      sampling: { temperature: 0, maxNewTokens: 8 },
    });
    await serve.invoke('chat.send', { sessionId: session.id, content: 'Q: what is 3 plus one?\nA:' });
    const answered = async () =>
      (await serve.invoke<Stored>('chat.get', { id: session.id })).messages.filter((m) => m.role === 'assistant');
    await expect.poll(async () => (await answered()).length, { timeout: 60_000 }).toBe(2);
    const tunedAnswer = (await answered()).find((m) => m.pane === 'tuned')!;
    expect(tunedAnswer.content.length).toBeGreaterThan(0);

    await serve.invoke('runs.delete', { id: run.id });

    const context = await newStudioContext(browser, 'light');
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await openPage(page, serve, 'Gone pane', tr('nav.chat'));
    await page.goto(`${serve.url}#/chat/${encodeURIComponent(session.id)}`);
    const tuned = page.getByRole('region', { name: tr('chat.paneAnswers', { pane: tunedLabel }) });
    await tuned.locator('.chat-assistant').first().waitFor({ timeout: 20_000 });
    await expect(tuned.locator('.chat-assistant').first().textContent()).resolves.toContain(tunedAnswer.content.trim());
    await tuned.getByText(tr('chat.paneDeleted', { what: 'sums r4 × 1.00' }), { exact: true }).waitFor();
    await tuned.getByText(tr('chat.paneDeletedNote'), { exact: true }).waitFor();
    await screenshot(page, 'chat-gone-pane.png');

    // The next question goes to the panes that can answer: the base alone; the deleted adapter's pane stays as it was.
    // one pane answers now: the composer says so, not "both"
    expect(await page.getByLabel(tr('chat.messageLabel'), { exact: true }).count()).toBe(0);
    await expect(page.getByLabel(tr('chat.messageLabelBase'), { exact: true }).getAttribute('placeholder')).resolves.toBe(
      tr('chat.placeholderBase'),
    );
    await page.getByLabel(tr('chat.messageLabelBase'), { exact: true }).fill('Q: what is 5 plus one?\nA:');
    await page.getByRole('button', { name: tr('chat.send'), exact: true }).click();
    await expect.poll(async () => (await answered()).length, { timeout: 60_000 }).toBe(3);
    expect((await answered()).map((m) => m.pane)).toEqual(expect.arrayContaining(['base', 'tuned', 'base']));
    const base = page.getByRole('region', { name: tr('chat.paneAnswers', { pane: tr('chat.paneBase') }) });
    await expect.poll(() => base.locator('.chat-assistant:not(.chat-streaming)').count(), { timeout: 30_000 }).toBe(2);
    await expect(tuned.locator('.chat-assistant').count()).resolves.toBe(1);

    // A pane whose answer fails says so in the UI's language, with the core's reason after it.
    const broken = join(serve.dataDir, 'broken-llama');
    await makeTinyModel(broken, 'llama', { seed: 6 });
    writeFileSync(join(broken, 'model.safetensors'), 'not a safetensors file');
    const failing = await serve.invoke<{ id: string }>('chat.create', {
      projectId: project.id,
      model: broken,
      title: 'broken weights',
      panes: [{ id: 'base', label: tr('chat.paneBase'), adapters: [] }],
      sampling: { temperature: 0, maxNewTokens: 4 },
    });
    await page.goto(`${serve.url}#/chat/${encodeURIComponent(failing.id)}`);
    await page.getByLabel(tr('chat.messageLabelBase'), { exact: true }).fill('Q: what is 1 plus one?\nA:');
    await page.getByRole('button', { name: tr('chat.send'), exact: true }).click();
    const failed = page.getByRole('region', { name: tr('chat.paneAnswers', { pane: tr('chat.paneBase') }) }).locator('.chat-pane-error');
    await failed.waitFor({ timeout: 60_000 });
    const said = (await failed.textContent()) ?? '';
    expect(said.startsWith(tr('chat.paneFailed', { error: '' }))).toBe(true);
    expect(said).toContain('model.safetensors');
    expect(said).not.toMatch(/\n\s+at /); // no stack trace
    await screenshot(page, 'chat-pane-failed.png');
    expect(errors).toEqual([]);
    await context.close();
  });
});
