// "What you will ship" in headless Chromium against a real `serve`. Evaluate: a tiny run's adapter evaluated from
// the page with the exported GGUF at Q4_K_M measured by llama.cpp; the table shows its perplexity next to the tuned
// model's, with the warning exactly when quantizing gives back more than the set share of the gain. Chat: a third
// pane answered by that GGUF, beside the base and the tuned model.
import { beforeAll, describe, expect, it } from 'vitest';
import { SHIP_COST_WARNING_SHARE, shipCost, type Evaluation } from '../../src/common/api/runs.ts';
import { formatMetric, perplexityChange } from '../../src/renderer/src/format.ts';
import { collectPageErrors, newStudioContext, percent, screenshot, studioPerFile, tr } from './harness.ts';
import { overflows } from './layout-fits.ts';
import { openPage, tinyModelAndData, trainTinyRun } from './tiny-runs.ts';

const studio = studioPerFile();
let projectId: string;

beforeAll(async () => {
  projectId = (await studio.serve.invoke<{ id: string }>('projects.create', { name: 'Ship' })).id;
  await trainTinyRun(studio.serve, projectId, await tinyModelAndData(studio.serve), 'sums r4', 4, 6);
}, 180_000);

describe('Evaluate: what you will ship', () => {
  it('measures the Q4_K_M GGUF beside the tuned model and warns only when it costs too much of the gain', async () => {
    const { serve, browser } = studio;
    const context = await newStudioContext(browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(serve.url);
    await page.getByLabel(tr('app.currentProject'), { exact: true }).selectOption({ label: 'Ship' });
    await page.goto(`${serve.url}#/evaluate`);
    const form = page.getByRole('form', { name: tr('evalStart.title') });
    await form.getByLabel(tr('evalStart.ship'), { exact: true }).selectOption('q4_k_m');
    await form.getByRole('button', { name: tr('evalStart.start') }).click();

    const deadline = Date.now() + 170_000;
    let evaluation: Evaluation | undefined;
    for (;;) {
      [evaluation] = await serve.invoke<Evaluation[]>('evaluations.list', { projectId });
      if (evaluation && evaluation.status !== 'running' && evaluation.status !== 'queued') break;
      if (Date.now() > deadline) throw new Error('the evaluation did not end in 170 s');
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(evaluation!.status, `the evaluation ended ${evaluation!.status}: ${evaluation!.error}`).toBe('succeeded');
    expect(evaluation).toMatchObject({
      ship: 'q4_k_m',
      shipPerplexity: expect.any(Number),
      adapterPerplexity: expect.any(Number),
    });

    const table = page.getByRole('table', { name: tr('evaluate.evaluations') });
    await table.getByRole('columnheader', { name: tr('evaluate.shipPerplexity') }).waitFor();
    const row = table.locator('tbody tr').first();
    const shipped = tr('evaluate.shipValue', { value: formatMetric(evaluation!.shipPerplexity), quant: 'Q4_K_M' });
    await expect.poll(() => row.textContent(), { timeout: 15_000 }).toContain(shipped);
    expect(await row.textContent()).toContain(formatMetric(evaluation!.adapterPerplexity));
    const change = perplexityChange(evaluation!)!;
    expect(await row.locator('td').nth(5).innerText()).toBe(`${change < 0 ? '−' : '+'}${percent(Math.abs(change))}`);
    const cost = shipCost(evaluation!);
    const warning = row.getByRole('note');
    if (cost !== null && cost > SHIP_COST_WARNING_SHARE)
      await expect
        .poll(() => warning.textContent())
        .toContain(tr('evaluate.shipWarning', { quant: 'Q4_K_M', share: cost }));
    else expect(await warning.count()).toBe(0);
    // eight columns with the shipped GGUF's, all inside the card: Created was cut off at its edge, the rest of the
    // table only reachable by scrolling it sideways
    await table.getByRole('columnheader', { name: tr('projects.created') }).waitFor();
    await screenshot(page, 'evaluate-ship.png');
    expect(await overflows(page, ['.evaluations-card'])).toEqual([]);
    expect(await table.evaluate((el) => el.parentElement!.scrollWidth - el.parentElement!.clientWidth)).toBeLessThanOrEqual(0);
    expect(await page.locator('.banner').count()).toBe(0); // no error banner anywhere on the page
    expect(errors).toEqual([]);
    await context.close();
  }, 240_000);

  it('Chat answers in a third pane with the shipped GGUF, and says what answered it', async () => {
    const { serve, browser } = studio;
    const context = await newStudioContext(browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await openPage(page, serve, 'Ship', tr('nav.chat'));
    await expect
      .poll(() => page.getByLabel(tr('chat.adapter')).locator('option:checked').textContent(), { timeout: 20_000 })
      .toBe(tr('chat.adapterOption', { name: 'sums r4', r: 4 }));
    await page.getByLabel(tr('chat.addShipPane'), { exact: true }).selectOption('q4_k_m');
    const shippedLabel = tr('chat.shipPane', { quant: 'Q4_K_M' });
    const shipped = page.getByRole('region', { name: tr('chat.paneAnswers', { pane: shippedLabel }) });
    await shipped.waitFor();
    await page.getByText(tr('chat.sampling'), { exact: true }).click();
    await page.getByRole('slider', { name: tr('chat.maxTokens') }).press('Home');
    // three panes answer: the composer and its button count them ("all three", never "both")
    const composer = page.getByLabel(tr('chat.messageLabelAll', { count: 3 }), { exact: true });
    expect(await composer.getAttribute('placeholder')).toBe(tr('chat.placeholderAll', { count: 3 }));
    await page.getByRole('button', { name: tr('chat.sendAll', { count: 3 }), exact: true }).waitFor();
    expect(await page.getByRole('button', { name: tr('chat.sendBoth'), exact: true }).count()).toBe(0);
    expect(await page.getByLabel(tr('chat.messageLabel'), { exact: true }).count()).toBe(0);
    await composer.fill('Q: what is 3 plus one?\nA:');
    await composer.press('Enter');
    for (const label of [tr('chat.paneBase'), tr('chat.paneTuned'), shippedLabel])
      await page
        .getByRole('region', { name: tr('chat.paneAnswers', { pane: label }) })
        .locator('.chat-assistant:not(.chat-streaming)')
        .waitFor({ timeout: 90_000 });
    await page.getByText('sums r4 × 1.00 · GGUF Q4_K_M · llama.cpp', { exact: true }).waitFor();
    // the stored answer says it came from the shipped GGUF, through llama.cpp
    const sessions = await serve.invoke<{ id: string }[]>('chat.list', { projectId });
    const { messages } = await serve.invoke<{ messages: { pane: string | null; meta: Record<string, unknown> }[] }>(
      'chat.get',
      { id: sessions[0]!.id },
    );
    expect(messages.find((m) => m.pane === 'shipped')?.meta).toMatchObject({ backend: 'llama.cpp' });
    await page.getByText(tr('chat.sampling'), { exact: true }).click(); // fold the settings away again
    await page.evaluate(() => window.scrollTo(0, 0));
    await shipped.scrollIntoViewIfNeeded();
    await screenshot(page, 'chat-ship.png');
    expect(await page.locator('.banner').count()).toBe(0);
    expect(errors).toEqual([]);
    await context.close();
  }, 240_000);
});
