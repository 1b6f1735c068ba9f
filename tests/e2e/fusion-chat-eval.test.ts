// A learned AdapterFusion combination (issue 15) in Chromium against a real `serve`: two tiny runs' adapters, an
// attention-mode combination run over them; Chat lists it under the adapter picker and answers with it beside the
// base (greedy: the same text a chat created through the API gives), without a scale or a GGUF pane, its pane and
// answer labelled with its name and adapters (never "× 1.00"); the page fits a 1280×800 and a 1024 px window (and a
// wider one) with two and three panes; Evaluate's "Combination vs each adapter" measures each adapter alone, the
// uniform average and the combination on a project dataset ticked in its picker and a typed file, in one job, one
// column per set, with the numbers fusionEval.get returns.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectPageErrors, newStudioContext, screenshot, studioPerFile, tr } from './harness.ts';
import { CHAT_BOXES, overflows } from './layout-fits.ts';
import { openPage, tinyModelAndData, trainTinyRun, waitForRun, type TinyRun } from './tiny-runs.ts';
import type { Page } from 'playwright-core';

const studio = studioPerFile();

interface Stored {
  session: { panes: { id: string; adapters: { path: string; weight: number }[]; ship?: string }[] };
  messages: { role: string; pane: string | null; content: string }[];
}

async function answers(serve: (typeof studio)['serve'], sessionId: string, count: number): Promise<Stored> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const s = await serve.invoke<Stored>('chat.get', { id: sessionId });
    if (s.messages.filter((m) => m.role === 'assistant').length >= count) return s;
    if (Date.now() > deadline) throw new Error(`chat ${sessionId}: no ${count} answers in 120 s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** At each window size: nothing sticks out of its box, the settings beside the panes (wide) or under them (1024), each
 *  pane wide enough to read; a screenshot of the top of the page and, when stacked, of the settings. */
async function checkChatLayout(page: Page, name: string, panes: number): Promise<void> {
  for (const [width, height, beside] of [
    [1280, 800, true],
    [1024, 768, false],
    [1680, 1050, true],
  ] as const) {
    await page.setViewportSize({ width, height });
    await expect.poll(() => overflows(page, CHAT_BOXES), { timeout: 10_000 }).toEqual([]);
    const main = (await page.locator('.chat-main').boundingBox())!;
    const side = (await page.locator('.chat-side').boundingBox())!;
    const cards = await Promise.all((await page.locator('.chat-side > .card').all()).map(async (c) => (await c.boundingBox())!));
    if (beside) {
      expect(side.x, `${width}: settings beside the panes`).toBeGreaterThanOrEqual(main.x + main.width);
      for (const c of cards) expect(c.width, `${width}: a settings card fills the column`).toBeCloseTo(side.width, 0);
    } else {
      expect(side.y, `${width}: settings under the composer`).toBeGreaterThanOrEqual(main.y + main.height);
      expect(cards[1]!.y, `${width}: the first two settings cards side by side`).toBeCloseTo(cards[0]!.y, 0);
      for (const c of cards) expect(c.width, `${width}: a settings card's width`).toBeGreaterThan(side.width / 2 - 20);
    }
    const widths = await Promise.all((await page.locator('.chat-pane').all()).map(async (p) => (await p.boundingBox())!.width));
    expect(widths).toHaveLength(panes);
    for (const w of widths) expect(w, `${width}: a pane's width`).toBeGreaterThan(panes === 2 ? 300 : 200);
    await page.locator('.chat-main').scrollIntoViewIfNeeded();
    await page.evaluate(() => document.querySelector('.main')?.scrollTo(0, 0));
    await screenshot(page, `${name}-${width}.png`);
    if (!beside) {
      await page.locator('.chat-side').scrollIntoViewIfNeeded();
      await screenshot(page, `${name}-${width}-settings.png`);
    }
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

describe('a learned AdapterFusion combination in Chat and Evaluate', () => {
  it('chats with it beside the base, and compares it with each adapter alone per eval file', async () => {
    const { serve, browser } = studio;
    const project = await serve.invoke<{ id: string }>('projects.create', { name: 'Fusion use' });
    const files = await tinyModelAndData(serve);
    const a = await trainTinyRun(serve, project.id, files, 'sums a');
    const b = await trainTinyRun(serve, project.id, files, 'sums b', 2);
    const started = await serve.invoke<TinyRun>('runs.start', {
      projectId: project.id,
      name: 'sums fused',
      config: {
        model: files.model,
        dataset: { path: files.dataset, template: { kind: 'plain' }, eval_split: { kind: 'ratio', ratio: 0.25 } },
        fusion: { adapters: [a.summary!.adapterPath!, b.summary!.adapterPath!], mode: 'attention', attention_dim: 8, value_rank: 2 },
        max_steps: 4,
        micro_batch_size: 2,
        gradient_accumulation_steps: 1,
        learning_rate: 5e-3,
        max_seq_length: 32,
      },
    });
    const fused = await waitForRun(serve, started.id, 'sums fused', 240);

    const context = await newStudioContext(browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);

    // ---- Chat: the combination is offered under the adapter picker and answers beside the base
    await openPage(page, serve, 'Fusion use', tr('nav.chat'));
    const picker = page.getByLabel(tr('chat.adapter'));
    await picker.locator('option', { hasText: 'sums fused' }).waitFor({ state: 'attached' });
    await picker.selectOption({ label: tr('chat.fusionOption', { name: 'sums fused', count: 2 }) });
    await page.getByText(tr('chat.fusionHint')).waitFor();
    expect(await page.getByRole('slider', { name: tr('chat.scale') }).count()).toBe(0); // it answers as trained
    expect(await page.getByLabel(tr('chat.addShipPane')).count()).toBe(0); // a fusion cannot be shipped as a GGUF
    await page.getByText(tr('chat.sampling'), { exact: true }).click(); // the sampling settings fold open
    await page.getByRole('slider', { name: tr('chat.temperature') }).press('Home'); // greedy
    await page.getByRole('slider', { name: tr('chat.maxTokens') }).press('Home');
    await page.getByRole('slider', { name: tr('chat.maxTokens') }).press('ArrowRight'); // 16 tokens
    await page.getByLabel(tr('chat.messageLabel')).fill('Q: what is 3 plus one?\nA:');
    await page.getByRole('button', { name: tr('chat.sendBoth') }).click();
    const fusedRegion = page.getByRole('region', { name: tr('chat.paneAnswers', { pane: tr('chat.paneFused') }) });
    await fusedRegion.locator('.chat-assistant:not(.chat-streaming)').waitFor({ timeout: 120_000 });
    await page.getByRole('region', { name: tr('chat.paneAnswers', { pane: tr('chat.paneBase') }) }).locator('.chat-assistant:not(.chat-streaming)').waitFor({ timeout: 120_000 });
    // the pane and its answer say what answered: the combination's name and the adapters its attention weighs
    const parts = 'sums a + sums b';
    const fusedHeader = fusedRegion.locator('.chat-pane-header');
    await fusedHeader.getByText(tr('chat.fusionSubtitle', { name: 'sums fused', adapters: parts }), { exact: true }).waitFor();
    const answeredWith = tr('chat.answeredWithFusion', { name: 'sums fused', adapters: parts, model: 'tiny-llama' });
    await fusedRegion.locator('.chat-answered-with').getByText(answeredWith, { exact: true }).waitFor();
    for (const shown of [await fusedHeader.innerText(), ...(await fusedRegion.locator('.chat-answered-with').allInnerTexts())])
      expect(shown).not.toMatch(/×\s*1\.00/); // a scale does not apply to a fusion
    await fusedRegion.scrollIntoViewIfNeeded();
    await screenshot(page, 'fusion-chat.png');
    await checkChatLayout(page, 'fusion-chat', 2);
    const sessionId = decodeURIComponent(new URL(page.url()).hash.split('/')[2] ?? '');
    const stored = await answers(serve, sessionId, 2);
    expect(stored.session.panes.map((p) => p.id)).toEqual(['base', 'tuned']);
    expect(stored.session.panes[1].adapters).toEqual([{ path: fused.summary!.adapterPath, weight: 1, name: 'sums fused' }]);
    const fusedAnswer = stored.messages.find((m) => m.role === 'assistant' && m.pane === 'tuned')!;
    expect(fusedAnswer.content.length).toBeGreaterThan(0);
    await expect(fusedRegion.locator('.chat-assistant').last().textContent()).resolves.toContain(fusedAnswer.content.trim());
    // the same conversation through the API alone (studio engine, greedy) gives the same text
    const viaApi = await serve.invoke<{ id: string }>('chat.create', {
      projectId: project.id, model: files.model, backend: 'studio',
      panes: [{ id: 'f', label: 'fused', adapters: [{ path: fused.summary!.adapterPath!, weight: 1 }] }],
      sampling: { temperature: 0, maxNewTokens: 16 },
    });
    await serve.invoke('chat.send', { sessionId: viaApi.id, content: 'Q: what is 3 plus one?\nA:' });
    expect((await answers(serve, viaApi.id, 1)).messages.find((m) => m.role === 'assistant')!.content).toBe(fusedAnswer.content);
    // llama.cpp cannot run the per-token attention: refused saying so, offering the learned-weights variant
    await expect(
      serve.invoke('chat.create', { projectId: project.id, model: files.model, backend: 'llama.cpp', panes: [{ id: 'f', label: 'f', adapters: [{ path: fused.summary!.adapterPath!, weight: 1 }] }] }),
    ).rejects.toThrow(/llama\.cpp cannot answer with the AdapterFusion combination.*fuse --mode weights/);

    // three panes (an adapter, and its GGUF as shipped) fit as well; nothing is sent
    await picker.selectOption({ label: tr('chat.adapterOption', { name: 'sums a', r: 4 }) });
    await page.getByLabel(tr('chat.addShipPane')).selectOption('q8_0');
    await expect.poll(() => page.locator('.chat-pane').count()).toBe(3);
    await checkChatLayout(page, 'chat-three-panes', 3);

    // ---- Evaluate: each adapter alone, the uniform average and the combination, per eval set: the project's dataset
    // ticked in the card's picker, and a file typed under "Another file…"
    const imported = await serve.invoke<{ id: string }>('datasets.import', { projectId: project.id, path: files.dataset, name: 'sums' });
    await expect.poll(async () => (await serve.invoke<{ status: string }>('jobs.get', { id: imported.id })).status, { timeout: 60_000 }).toBe('succeeded');
    const [dataset] = await serve.invoke<{ path: string; examples: number }[]>('datasets.list', { projectId: project.id });
    const second = join(serve.dataDir, 'sums-two.jsonl');
    writeFileSync(second, Array.from({ length: 8 }, (_, i) => JSON.stringify({ prompt: `Q: what is ${i} plus two?\nA:`, completion: ` ${i + 2}` })).join('\n') + '\n');
    const page2 = await context.newPage(); // a fresh page: the chat page keeps its conversation's address
    const errors2 = collectPageErrors(page2);
    await openPage(page2, serve, 'Fusion use', tr('nav.evaluate'));
    const card = page2.locator('.card', { hasText: tr('fusionEval.title') });
    await card.waitFor();
    await card.getByText(tr('fusionEval.dataHint', { split: tr('evalStart.heldOutShare', { percent: 25, file: 'sums.jsonl' }) })).waitFor();
    await card.getByLabel(tr('evalStart.everyRow', { name: 'sums', rows: dataset.examples })).check();
    await card.getByLabel(tr('taskEval.aFile')).check();
    await card.getByRole('button', { name: tr('fusionEval.start') }).click(); // no path typed yet: said, nothing started
    await card.getByText(tr('fusionEval.needFile')).waitFor();
    await card.getByLabel(tr('fusionEval.files')).fill(second);
    await screenshot(page2, 'fusion-evaluate-picker.png');
    // The card is spaced like the form above it: its intro, the run's label and Compare sat flush under one another.
    const gaps = await card.evaluate((el) => {
      const below = (upper: Element, lower: Element) =>
        lower.getBoundingClientRect().top - upper.getBoundingClientRect().bottom;
      const actions = el.querySelector('.row-actions')!;
      return {
        intro: below(el.querySelector('p.muted')!, el.querySelector('label[for="fusion-eval-run"]')!),
        actions: below(actions.previousElementSibling!, actions),
      };
    });
    expect(gaps.intro).toBeGreaterThanOrEqual(8);
    expect(gaps.actions).toBeGreaterThanOrEqual(8);
    await card.getByRole('button', { name: tr('fusionEval.start') }).click();
    const table = card.getByRole('table', { name: tr('fusionEval.table') });
    await table.waitFor({ timeout: 180_000 });
    const result = await serve.invoke<{ tables: { path: string; single: { perplexity: number }[]; uniform: number; learned: number }[] }>('fusionEval.get', { runId: fused.id });
    expect(result.tables.map((t) => t.path)).toEqual([dataset.path, second]);
    const headers = await table.locator('thead th').allTextContents(); // (CSS upper-cases headers: innerText would too)
    expect(headers.slice(1)).toEqual([tr('fusionEval.column', { set: 'sums.jsonl', examples: 24 }), tr('fusionEval.column', { set: 'sums-two.jsonl', examples: 8 })]);
    const rowValues = async (label: string) => (await table.getByRole('row').filter({ has: page2.getByRole('rowheader', { name: label, exact: true }) }).locator('td').allInnerTexts()).map((s) => Number.parseFloat(s));
    const expectClose = (shown: number[], want: number[]) => shown.forEach((v, i) => expect(Math.abs(v - want[i]) / want[i]).toBeLessThan(5e-3));
    expectClose(await rowValues(tr('fusion.uniform')), result.tables.map((t) => t.uniform));
    expectClose(await rowValues(tr('fusionEval.learned', { mode: 'attention' })), result.tables.map((t) => t.learned));
    expectClose(await rowValues(tr('fusion.alone', { name: 'sums a' })), result.tables.map((t) => t.single[0].perplexity));
    expect(await table.locator('td[data-best="true"]').count()).toBe(2); // one best per column
    await screenshot(page2, 'fusion-evaluate.png');
    expect(errors).toEqual([]);
    expect(errors2).toEqual([]);
    await context.close();
  }, 900_000);
});
