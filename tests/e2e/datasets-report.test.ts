// What the Datasets page reports about a file, in headless Chromium against `serve`: 3 bad lines holding 4
// problems read as 3 rows (problems listed under their line), the exact duplicate lines named, and the warning,
// with its cost, when the model's tokenizer spends far more tokens per character than usual (Korean text on a
// tokenizer with no Hangul merges).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeTinyModel } from '../fixtures/tiny-models.ts';
import { E2E_LOCALE, collectPageErrors, newStudioContext, screenshot, studioPerFile, tr } from './harness.ts';
import { INTL_TAGS } from '../../src/renderer/src/i18n/locale.ts';

const session = studioPerFile();

describe('Datasets page report', () => {
  it('counts bad rows, lists duplicates, and warns about a tokenizer that does not know the text’s script', async () => {
    const project = await session.serve.invoke<{ id: string }>('projects.create', { name: 'Report check' });
    const modelDir = join(session.serve.dataDir, 'report-llama');
    await makeTinyModel(modelDir, 'llama', { seed: 5 });
    await session.serve.invoke('models.open', { path: modelDir });
    const row = (i: number) =>
      JSON.stringify({
        prompt: `질문 ${i}: 서울의 날씨는 어떤가요?`,
        completion: ` 오늘 서울은 맑고 따뜻합니다 ${i}.`,
      });
    const lines = Array.from({ length: 12 }, (_, i) => row(i));
    lines.splice(2, 0, '{"prompt": 5, "completion": 7}'); // line 3: two problems
    lines.splice(3, 0, '{"prompt": "혼자"}'); // line 4: one
    lines.splice(4, 0, 'not json'); // line 5: one
    lines.push(row(0), row(1)); // lines 16 and 17 repeat lines 1 and 2
    const file = join(session.serve.dataDir, 'korean.jsonl');
    writeFileSync(file, lines.join('\n') + '\n');
    const job = await session.serve.invoke<{ id: string }>('datasets.import', { projectId: project.id, path: file });
    await expect
      .poll(async () => (await session.serve.invoke<{ status: string }>('jobs.get', { id: job.id })).status, {
        timeout: 30_000,
      })
      .toBe('succeeded');
    const [dataset] = await session.serve.invoke<
      { id: string; badRows: number; problemCount: number; examples: number }[]
    >('datasets.list', { projectId: project.id });
    expect([dataset.badRows, dataset.problemCount, dataset.examples]).toEqual([3, 4, 14]);

    const context = await newStudioContext(session.browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(session.serve.url);
    await page.getByRole('table', { name: tr('nav.projects') }).waitFor();
    await page.goto(`${session.serve.origin}/#/datasets/${dataset.id}`);

    // Rows, not problems; the two problems of line 3 under it.
    await page.getByText(tr('datasets.badRowsSummary', { rows: 3, problems: 4 })).waitFor({ timeout: 30_000 });
    const problems = page.getByRole('list', { name: tr('datasets.problemsList') });
    expect(await problems.locator(':scope > li').count()).toBe(3);
    const line3 = problems.locator(':scope > li').filter({ hasText: tr('datasets.line', { line: 3 }) });
    expect(await line3.locator('.problem-items > li').count()).toBe(2);

    // The duplicates, where they are.
    const duplicates = page.getByRole('list', { name: tr('datasets.duplicatesList') });
    await duplicates
      .getByText(
        tr('datasets.duplicateOf', {
          first: tr('datasets.line', { line: 1 }),
          repeats: tr('datasets.line', { line: 16 }),
        }),
      )
      .waitFor();
    await duplicates
      .getByText(
        tr('datasets.duplicateOf', {
          first: tr('datasets.line', { line: 2 }),
          repeats: tr('datasets.line', { line: 17 }),
        }),
      )
      .waitFor();

    // The tokenizer warning with its figures, the same the core measured.
    const preview = await session.serve.invoke<{
      stats: { tokensPerCharacter: number; mean: number; heavyTokenization: boolean };
    }>('datasets.preview', {
      id: dataset.id,
      model: modelDir,
    });
    expect(preview.stats.heavyTokenization).toBe(true);
    const warning = page.getByTestId('heavy-tokenization');
    await warning.waitFor();
    await page.getByText(tr('datasets.heavyTitle')).waitFor();
    const shown = await warning.innerText();
    const number = (value: number, digits = 0) =>
      new Intl.NumberFormat(INTL_TAGS[E2E_LOCALE], { maximumFractionDigits: digits }).format(value);
    expect(shown).toContain(number(preview.stats.tokensPerCharacter, 2));
    expect(shown).toContain(number(Math.round(preview.stats.mean * 14)));
    await screenshot(page, 'datasets-report.png');
    await page.getByRole('list', { name: tr('datasets.duplicatesList') }).scrollIntoViewIfNeeded();
    await screenshot(page, 'datasets-report-lists.png');
    expect(errors).toEqual([]);
    await context.close();
  });
});
