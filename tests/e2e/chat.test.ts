// Chat in headless Chromium against a real `serve`: a tiny model fine-tuned through the API, then one prompt
// sent from the page is answered in the base and tuned panes, each streamed to the browser as chat.delta
// frames and ending as the saved answer; the conversation is listed and reopens from its link.
import type { Browser, Page, WebSocket } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import { makeTinyModel } from '../fixtures/tiny-models.ts';
import { join } from 'node:path';
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

/**
 * Does the composer's placeholder fit? Measured with the placeholder as the input's text (the same font and width):
 * no sideways scroll, and one row of text does not grow past one row's height.
 */
function placeholderFit(page: Page): Promise<{ placeholder: string; sideways: boolean; oneLine: boolean }> {
  return page.locator('#chat-prompt').evaluate((el: HTMLTextAreaElement) => {
    const rows = el.rows;
    el.rows = 1;
    el.value = 'x';
    const oneRow = el.scrollHeight;
    el.value = el.placeholder;
    const fit = { placeholder: el.placeholder, sideways: el.scrollWidth > el.clientWidth, oneLine: el.scrollHeight <= oneRow };
    el.value = '';
    el.rows = rows;
    return fit;
  });
}

interface StoredMessage {
  role: string;
  pane: string | null;
  content: string;
}

describe('Chat in the browser', () => {
  it('streams the base and the tuned answer to one prompt side by side, and keeps the conversation', async () => {
    const project = await serve.invoke<{ id: string }>('projects.create', { name: 'Chat check' });
    const files = await tinyModelAndData(serve);
    const run = await trainTinyRun(serve, project.id, files, 'sums r4');
    // A second model in the studio, to put the adapter on a base it was not trained on.
    const otherModel = join(serve.dataDir, 'other-llama');
    await makeTinyModel(otherModel, 'llama', { seed: 9, std: 0.3 });
    await serve.invoke('models.open', { path: otherModel });
    const baseLabel = tr('chat.paneBase');
    const tunedLabel = tr('chat.paneTuned');

    for (const scheme of ['light', 'dark'] as const) {
      const context = await newStudioContext(browser, scheme);
      const page = await context.newPage();
      const errors = collectPageErrors(page);
      // Count the chat.delta frames the browser receives per pane: the answers must arrive in pieces.
      const deltas = new Map<string, number>();
      page.on('websocket', (ws: WebSocket) => {
        ws.on('framereceived', ({ payload }) => {
          const frame = JSON.parse(String(payload)) as { topic: string; payload: { pane: string } };
          if (frame.topic === 'chat.delta') deltas.set(frame.payload.pane, (deltas.get(frame.payload.pane) ?? 0) + 1);
        });
      });
      await openPage(page, serve, 'Chat check', tr('nav.chat'));
      // The run's adapter is picked for the tuned side, with its base model.
      await expect
        .poll(() => page.getByLabel(tr('chat.adapter')).locator('option:checked').textContent(), {
          timeout: 20_000,
        })
        .toBe(tr('chat.adapterOption', { name: 'sums r4', r: 4 }));
      await expect
        .poll(() => page.getByLabel(tr('chat.baseModel'), { exact: true }).inputValue(), { timeout: 20_000 })
        .toBe(files.model);
      // The composer's placeholder reads whole, on one line of the input at 1280 px (the long one with the keys in it
      // wrapped, and its second line was cut off by the box); the keys are said under the input instead.
      await expect(placeholderFit(page)).resolves.toEqual({
        placeholder: tr('chat.placeholderBoth'),
        sideways: false,
        oneLine: true,
      });
      await page.getByText(tr('chat.keysHint'), { exact: true }).waitFor();
      await page.getByText(tr('chat.sampling'), { exact: true }).click(); // the sampling settings fold open
      await page.getByRole('slider', { name: tr('chat.temperature') }).press('Home'); // greedy: the same answer every time
      await page.getByRole('slider', { name: tr('chat.maxTokens') }).press('Home');
      await page.getByRole('slider', { name: tr('chat.maxTokens') }).press('ArrowRight'); // 16 tokens
      await page.getByRole('slider', { name: tr('chat.scale') }).press('End'); // 2 × the adapter
      await expect(page.getByRole('slider', { name: tr('chat.scale') }).inputValue()).resolves.toBe('2');

      await page.getByLabel(tr('chat.messageLabel')).fill('Q: what is 3 plus one?\nA:');
      await page.getByRole('button', { name: tr('chat.sendBoth') }).click();
      const base = page.getByRole('region', { name: tr('chat.paneAnswers', { pane: baseLabel }) });
      const tuned = page.getByRole('region', { name: tr('chat.paneAnswers', { pane: tunedLabel }) });
      await base.locator('.chat-assistant:not(.chat-streaming)').waitFor({ timeout: 60_000 });
      await tuned.locator('.chat-assistant:not(.chat-streaming)').waitFor({ timeout: 60_000 });

      // What the panes show is what the core saved, and each arrived as a stream of deltas.
      const sessionId = decodeURIComponent(new URL(page.url()).hash.split('/')[2] ?? '');
      const stored = await serve.invoke<{
        session: {
          panes: { id: string; adapters: { path: string; weight: number }[] }[];
          sampling: { temperature: number; maxNewTokens: number };
        };
        messages: StoredMessage[];
      }>('chat.get', { id: sessionId });
      expect(stored.session.sampling).toMatchObject({ temperature: 0, maxNewTokens: 16 });
      expect(stored.session.panes[1].adapters[0]).toMatchObject({ path: run.summary!.adapterPath, weight: 2 });
      const answers = stored.messages.filter((m) => m.role === 'assistant');
      expect(answers.map((m) => m.pane).sort()).toEqual(['base', 'tuned']);
      for (const [pane, region] of [
        ['base', base],
        ['tuned', tuned],
      ] as const) {
        const answer = answers.find((m) => m.pane === pane)!;
        expect(answer.content.length, `${pane} answered nothing`).toBeGreaterThan(0);
        await expect(region.locator('.chat-assistant').last().textContent()).resolves.toContain(answer.content.trim());
        expect(deltas.get(pane) ?? 0, `${pane} deltas`).toBeGreaterThan(1);
      }
      await base.getByText('Q: what is 3 plus one?', { exact: false }).waitFor();
      await page.getByText(tr('chat.sampling'), { exact: true }).click();
      const summary = (temperature: number) =>
        tr('chat.samplingSummary', { temperature, topP: 0.9, topK: 50, maxNewTokens: 16 });
      await page.getByText(summary(0)).waitFor();
      // Each answer says what it was written with.
      const tunedWith = tr('chat.answeredWithAdapter', { adapters: 'sums r4 × 2.00', model: 'tiny-llama' });
      await tuned.locator('.chat-answered-with').getByText(tunedWith, { exact: true }).waitFor();
      await base
        .locator('.chat-answered-with')
        .getByText(tr('chat.answeredWithBase', { model: 'tiny-llama' }), { exact: true })
        .waitFor();
      await screenshot(page, `chat-${scheme}.png`);

      if (scheme === 'light') {
        // Changing the scale afterwards does not re-label the answer already given.
        await page.getByRole('slider', { name: tr('chat.scale') }).press('Home');
        await tuned.getByText('sums r4 × 0.00', { exact: true }).waitFor(); // the pane's next answers
        expect(await tuned.locator('.chat-answered-with').allInnerTexts()).toEqual([tunedWith]);

        // Sampling is kept with the conversation as soon as it changes, without sending.
        await page.getByText(tr('chat.sampling'), { exact: true }).click(); // fold open again
        await page.getByRole('slider', { name: tr('chat.temperature') }).press('ArrowRight');
        await expect
          .poll(
            async () =>
              (await serve.invoke<{ session: { sampling: { temperature: number } } }>('chat.get', { id: sessionId }))
                .session.sampling.temperature,
          )
          .toBe(0.05);

        // An adapter on a base it was not trained on is called out, with the way back.
        await page.getByLabel(tr('chat.baseModel'), { exact: true }).selectOption(otherModel);
        const warning = page.getByRole('status').filter({ hasText: tr('chat.baseMismatchTitle') });
        await warning.waitFor();
        await warning
          .getByText(tr('chat.baseMismatch', { adapter: 'sums r4', trained: 'tiny-llama', chosen: 'other-llama' }))
          .waitFor();
        await screenshot(page, 'chat-base-mismatch.png');
        await warning.getByRole('button', { name: tr('chat.useTrainedBase') }).click();
        await expect.poll(() => page.getByLabel(tr('chat.baseModel'), { exact: true }).inputValue()).toBe(files.model);
        expect(await warning.count()).toBe(0);
        await page.getByText(tr('chat.sampling'), { exact: true }).click(); // and closed, as the reopened page shows it
      }

      // Saved and listed: a new conversation empties the panes, the saved one reopens with its answers.
      const history = page.getByRole('list', { name: tr('chat.savedList') });
      await history.getByRole('link').first().waitFor();
      await page.getByRole('link', { name: tr('chat.newConversation') }).click();
      await expect.poll(() => base.locator('.chat-assistant').count(), { timeout: 20_000 }).toBe(0);
      await history.getByRole('link').first().click();
      await base.locator('.chat-assistant').first().waitFor();
      await expect(base.locator('.chat-assistant').first().textContent()).resolves.toContain(
        answers.find((m) => m.pane === 'base')!.content.trim(),
      );
      // Reopened with its own sampling (the light run moved the temperature after sending).
      await page.getByText(summary(scheme === 'light' ? 0.05 : 0)).waitFor();
      if (scheme === 'dark') {
        // The same first question twice: two conversations, two distinct titles.
        const titles = (await serve.invoke<{ title: string }[]>('chat.list', { projectId: project.id })).map(
          (s) => s.title,
        );
        expect(titles).toHaveLength(2);
        expect(new Set(titles).size).toBe(2);
        await history.getByText(titles.find((title) => title.endsWith('(2)'))!).waitFor();
      }
      expect(errors).toEqual([]);
      await context.close();
    }
  });
});
