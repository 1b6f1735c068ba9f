// A learned AdapterFusion combination (issue 15) in Chromium against a real `serve`: two tiny runs' adapters, an
// attention-mode combination run over them; Chat lists it under the adapter picker and answers with it beside the
// base (greedy: the same text a chat created through the API gives), without a scale or a GGUF pane; Evaluate's
// "Combination vs each adapter" measures each adapter alone, the uniform average and the combination on two eval
// files in one job, one column per file, with the numbers fusionEval.get returns.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectPageErrors, newStudioContext, screenshot, studioPerFile, tr } from './harness.ts';
import { openPage, tinyModelAndData, trainTinyRun, waitForRun, type TinyRun } from './tiny-runs.ts';

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
    await fusedRegion.scrollIntoViewIfNeeded();
    await screenshot(page, 'fusion-chat.png');
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

    // ---- Evaluate: each adapter alone, the uniform average and the combination, per eval file
    const second = join(serve.dataDir, 'sums-two.jsonl');
    writeFileSync(second, Array.from({ length: 8 }, (_, i) => JSON.stringify({ prompt: `Q: what is ${i} plus two?\nA:`, completion: ` ${i + 2}` })).join('\n') + '\n');
    const page2 = await context.newPage(); // a fresh page: the chat page keeps its conversation's address
    const errors2 = collectPageErrors(page2);
    await openPage(page2, serve, 'Fusion use', tr('nav.evaluate'));
    const card = page2.locator('.card', { hasText: tr('fusionEval.title') });
    await card.waitFor();
    await card.getByLabel(tr('fusionEval.files')).fill(`${files.dataset}\n${second}`);
    await card.getByRole('button', { name: tr('fusionEval.start') }).click();
    const table = card.getByRole('table', { name: tr('fusionEval.table') });
    await table.waitFor({ timeout: 180_000 });
    const result = await serve.invoke<{ tables: { path: string; single: { perplexity: number }[]; uniform: number; learned: number }[] }>('fusionEval.get', { runId: fused.id });
    expect(result.tables.map((t) => t.path)).toEqual([files.dataset, second]);
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
