// Chat in headless Chromium against a real `serve`: a tiny model fine-tuned through the API, then one prompt
// sent from the page is answered in the base and tuned panes, each streamed to the browser as chat.delta
// frames and ending as the saved answer; the conversation is listed and reopens from its link.
import type { Browser, WebSocket } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildRenderer,
  collectPageErrors,
  launchChromium,
  newStudioContext,
  screenshot,
  startServe,
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
      await openPage(page, serve, 'Chat check', 'Chat');
      // The run's adapter is picked for the tuned side, with its base model.
      await expect
        .poll(() => page.getByLabel('Adapter (tuned side)').locator('option:checked').textContent(), {
          timeout: 20_000,
        })
        .toBe('sums r4 (r 4)');
      await expect
        .poll(() => page.getByLabel('Base model', { exact: true }).inputValue(), { timeout: 20_000 })
        .toBe(files.model);
      await page.getByText('Sampling', { exact: true }).click(); // the sampling settings fold open
      await page.getByRole('slider', { name: 'Temperature' }).press('Home'); // greedy: the same answer every time
      await page.getByRole('slider', { name: 'Max tokens' }).press('Home');
      await page.getByRole('slider', { name: 'Max tokens' }).press('ArrowRight'); // 16 tokens
      await page.getByRole('slider', { name: 'Adapter scale' }).press('End'); // 2 × the adapter
      await expect(page.getByRole('slider', { name: 'Adapter scale' }).inputValue()).resolves.toBe('2');

      await page.getByLabel('Message to both models').fill('Q: what is 3 plus one?\nA:');
      await page.getByRole('button', { name: 'Send to both' }).click();
      const base = page.getByRole('region', { name: 'Base model answers' });
      const tuned = page.getByRole('region', { name: 'Fine-tuned answers' });
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
      await page.getByText('Sampling', { exact: true }).click();
      await page.getByText('temperature 0.00 · top-p 0.90 · top-k 50 · 16 tokens').waitFor();
      await screenshot(page, `chat-${scheme}.png`);

      // Saved and listed: a new conversation empties the panes, the saved one reopens with its answers.
      const history = page.getByRole('list', { name: 'Saved conversations' });
      await history.getByRole('link').first().waitFor();
      await page.getByRole('link', { name: 'New conversation' }).click();
      await expect.poll(() => base.locator('.chat-assistant').count(), { timeout: 20_000 }).toBe(0);
      await history.getByRole('link').first().click();
      await base.locator('.chat-assistant').first().waitFor();
      await expect(base.locator('.chat-assistant').first().textContent()).resolves.toContain(
        answers.find((m) => m.pane === 'base')!.content.trim(),
      );
      expect(errors).toEqual([]);
      await context.close();
    }
  });
});
