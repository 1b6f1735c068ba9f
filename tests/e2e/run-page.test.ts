// The run page's defects from issue 11, in Chromium against serve on a tiny model: live figures and the Runs list's
// loss while training; Cancel asks first and saves a checkpoint; Resume names its step and the resumed run's live
// view moves (also after a reload); rename; delete with the run's folder after a confirmation; a run that stopped
// before any checkpoint offers no Resume and shows no stack trace; a template that cannot render blocks Next.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
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
import { importDataset, tinyModelAndData, type TinyRun } from './tiny-runs.ts';

let serve: ServeProcess;
let browser: Browser;
let projectId: string;
let files: { model: string; dataset: string };

beforeAll(async () => {
  buildRenderer();
  serve = await startServe();
  projectId = (await serve.invoke<{ id: string }>('projects.create', { name: 'Run page' })).id;
  files = await tinyModelAndData(serve);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

const config = (steps: number) => ({
  model: files.model,
  dataset: { path: files.dataset, template: { kind: 'plain' }, eval_split: { kind: 'ratio', ratio: 0.25 } },
  lora: { r: 4, lora_alpha: 8 },
  max_steps: steps,
  micro_batch_size: 2,
  gradient_accumulation_steps: 1,
  learning_rate: 5e-3,
  max_seq_length: 32,
});

async function openStudio(page: Page, hash: string): Promise<void> {
  await page.goto(serve.url);
  await page.getByLabel(tr('app.currentProject'), { exact: true }).selectOption({ label: 'Run page' });
  await page.goto(`${serve.url}${hash}`);
}

/** The step the run page's status line shows (the core's progress phrase: "step 12/3000 · …", "12/3,000 스텝 · …"). */
async function shownStep(page: Page): Promise<number> {
  const text = (await page.locator('.run-status-progress .muted').textContent()) ?? '';
  const m = new RegExp(`(?:^|· )(?:step )?([\\d,]+)/[\\d,]+|^([\\d,]+) / [\\d,]+ ${STEPS_WORD}`).exec(text);
  return m ? Number((m[1] ?? m[2]).replace(/,/g, '')) : -1;
}

/** The word after "N / M" in the status line ("steps", "스텝"). */
const STEPS_WORD = tr('runs.steps', { steps: 1, total: 2 }).replace('1 / 2', '').trim();
const escapeRe = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A catalogue message as a pattern: its one slot (filled with `slot`) matching `re`. */
const messagePattern = (message: string, slot: string, re: string) => escapeRe(message).replace(escapeRe(slot), re);
/** The training progress line as the page says it in the tests' language, its total grouped ("step 840/1,000,000",
 *  "840/1,000,000 스텝"): the step and loss slots left open. */
const progressLine = (total: number) =>
  new RegExp(
    messagePattern(tr('core.progress.step', { step: 7, total, loss: 1.2345 }), '1.2345', '[\\d.]+').replace('7', '[\\d,]+'),
  );

describe('the run page', () => {
  it('cancel asks first and checkpoints; resume says its step and its live view moves, also after a reload; rename; delete', async () => {
    // The tiny model trains hundreds of steps a second: logging every 20th keeps the stored history small.
    const run = await serve.invoke<TinyRun>('runs.start', {
      projectId,
      name: 'long',
      config: { ...config(1_000_000), save_steps: null, logging_steps: 20 },
    });
    const context = await newStudioContext(browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);

    // The Runs list shows the loss while the run trains.
    await openStudio(page, '#/runs');
    const row = page.getByRole('row').filter({ hasText: 'long' });
    await expect
      .poll(async () => (await row.locator('td').nth(3).textContent())?.trim(), { timeout: 60_000 })
      .toMatch(/^\d+\.\d+$/);
    // and its progress line in the UI's language, the million steps grouped (it showed "step 840/1000000", in English
    // on the Korean page too)
    await expect.poll(() => row.locator('.run-progress-text').textContent()).toMatch(progressLine(1_000_000));

    await page.goto(`${serve.url}#/runs/${run.id}`);
    await expect
      .poll(() => shownStep(page), { timeout: 60_000 })
      .toBeGreaterThan(2)
      .catch(async (err: unknown) => {
        await screenshot(page, 'run-page-failure.png');
        throw new Error(`${String(err)}\npage errors: ${errors.join('\n')}`);
      });
    await expect.poll(() => page.locator('.run-status-progress .muted').textContent()).toMatch(progressLine(1_000_000));
    const stat = (label: string) =>
      page
        .locator('.stat')
        .filter({ has: page.getByText(label, { exact: true }) })
        .locator('dd');
    await expect.poll(() => stat(tr('run.trainableParameters')).textContent()).toMatch(/^[\d,]+$/);
    await expect.poll(() => stat(tr('compare.peakMemory')).textContent()).toMatch(/MiB$/);

    // Cancel asks first; keeping it keeps it running.
    await screenshot(page, 'run-page-training.png');
    await page.getByRole('button', { name: tr('run.cancelRun') }).click();
    const dialog = page.getByRole('dialog', { name: tr('run.cancelTitle') });
    await dialog.getByText(tr('run.cancelBody'), { exact: false }).waitFor();
    await screenshot(page, 'run-page-cancel-confirm.png');
    await dialog.getByRole('button', { name: tr('run.keepTraining') }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect((await serve.invoke<TinyRun>('runs.get', { id: run.id })).status).toBe('running');
    await page.getByRole('button', { name: tr('run.cancelRun') }).click();
    await dialog.getByRole('button', { name: tr('run.cancelRun') }).click();
    const resume = page.getByRole('button', {
      name: new RegExp(`^${messagePattern(tr('runs.resumeFrom', { step: 0 }), '0', '[\\d,]+')}$`),
    });
    await resume.waitFor({ timeout: 30_000 });
    const stopped = await serve.invoke<{ checkpointStep: number | null; status: string }>('runs.get', { id: run.id });
    expect(stopped.status).toBe('cancelled');
    expect(stopped.checkpointStep).toBeGreaterThan(2);
    await expect(resume.textContent()).resolves.toBe(tr('runs.resumeFrom', { step: stopped.checkpointStep! }));
    await screenshot(page, 'run-page-cancelled.png');

    // Resume: the live view moves on from the checkpoint, and again after a reload.
    await resume.click();
    await expect.poll(() => shownStep(page), { timeout: 60_000 }).toBeGreaterThan(stopped.checkpointStep! + 2);
    const before = await shownStep(page);
    await expect.poll(() => shownStep(page), { timeout: 30_000 }).toBeGreaterThan(before);
    await page.reload();
    const afterReload = await (async () => {
      await expect.poll(() => shownStep(page), { timeout: 30_000 }).toBeGreaterThan(before);
      return shownStep(page);
    })();
    await expect.poll(() => shownStep(page), { timeout: 30_000 }).toBeGreaterThan(afterReload);
    await expect(page.locator('.run-status-progress .muted').textContent()).resolves.toMatch(
      // tokens/s in the language's digit grouping
      new RegExp(
        [
          messagePattern(tr('run.left', { left: 'X' }), 'X', '.+'),
          messagePattern(tr('run.tokensPerSecond', { rate: 0 }), '0', '[\\d,]+'),
          messagePattern(tr('run.runningFor', { time: 'X' }), 'X', '.+'),
        ].join(' · '),
      ),
    );
    await screenshot(page, 'run-page-resumed.png');
    await page.getByRole('button', { name: tr('run.cancelRun') }).click();
    await dialog.getByRole('button', { name: tr('run.cancelRun') }).click();
    await page
      .getByRole('button', { name: new RegExp(`^${messagePattern(tr('runs.resumeFrom', { step: 0 }), '0', '[\\d,]+')}$`) })
      .waitFor({ timeout: 30_000 });

    // Rename, then delete with the folder.
    await page.getByRole('button', { name: tr('projects.rename') }).click();
    const renaming = page.getByRole('dialog', { name: tr('run.renameTitle') });
    await renaming.getByLabel(tr('run.name')).fill('renamed run');
    await renaming.getByRole('button', { name: tr('projects.rename') }).click();
    await page.getByRole('heading', { level: 1, name: 'renamed run' }).waitFor();
    const folder = (await serve.invoke<{ outputDir: string }>('runs.get', { id: run.id })).outputDir;
    expect(existsSync(folder)).toBe(true);
    await page.getByRole('button', { name: tr('projects.delete'), exact: true }).click();
    const deleting = page.getByRole('dialog', { name: tr('run.deleteTitle') });
    await deleting.getByText(folder).waitFor();
    await screenshot(page, 'run-page-delete-confirm.png');
    await deleting.getByRole('button', { name: tr('run.deleteRunAndFiles') }).click();
    await page.getByRole('heading', { level: 1, name: tr('nav.runs') }).waitFor();
    expect(existsSync(folder)).toBe(false);
    expect((await serve.invoke<TinyRun[]>('runs.list', { projectId })).map((r) => r.id)).not.toContain(run.id);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('a run that stopped before any checkpoint offers no Resume and shows its error without a stack trace', async () => {
    const broken = join(serve.dataDir, 'broken.jsonl');
    writeFileSync(broken, 'this is not JSON\n');
    const run = await serve.invoke<TinyRun>('runs.start', {
      projectId,
      name: 'broken data',
      config: { ...config(10), dataset: { path: broken, template: { kind: 'plain' } } },
    });
    for (let i = 0; i < 200 && (await serve.invoke<TinyRun>('runs.get', { id: run.id })).status !== 'failed'; i++)
      await new Promise((r) => setTimeout(r, 200));
    const context = await newStudioContext(browser);
    const page = await context.newPage();
    await openStudio(page, `#/runs/${run.id}`);
    await page.getByText(tr('run.noCheckpoint')).waitFor();
    expect(
      await page
        .getByRole('button', {
          name: tr('runs.resumeFrom', { step: 0 })
            .replace(/\S*0\S*/, '')
            .trim(),
        })
        .count(),
    ).toBe(0);
    const error = await page
      .getByRole('alert')
      .filter({ hasText: tr('run.failed') })
      .textContent();
    expect(error).toMatch(/broken\.jsonl/);
    expect(error).not.toMatch(/\n\s+at |\.ts:\d+/);
    // the Log card reads the job's log file, which holds the stack: the message shows there, never the frames
    const log = page.getByLabel(tr('run.lastLogLines'));
    await log.getByText(/broken\.jsonl/).first().waitFor();
    expect(await log.innerText()).not.toMatch(/^\s*at \S|\.ts:\d+:\d+|ProblemError/m);
    await screenshot(page, 'run-page-no-checkpoint.png');
    await context.close();
  });

  it('a template that cannot render the example blocks Next, saying why', async () => {
    await serve.invoke('models.open', { path: files.model });
    await importDataset(serve, projectId, files.dataset);
    const context = await newStudioContext(browser);
    const page = await context.newPage();
    await openStudio(page, '#/new');
    await page.getByLabel(tr('wizard.pickOpened')).selectOption({ index: 1 });
    await page.getByRole('button', { name: tr('wizard.next', { step: tr('wizard.step.dataset') }) }).click();
    await page.getByLabel(tr('wizard.pickProjectDataset')).selectOption({ index: 1 });
    await page.getByRole('button', { name: tr('wizard.next', { step: tr('wizard.step.template') }) }).click();
    await page.getByRole('radio', { name: tr('wizard.promptTemplateTitle') }).check();
    await page.getByLabel(tr('wizard.promptTemplate'), { exact: true }).fill('Question: {question}\nAnswer: ');
    const why = page.locator('.wizard-nav [role="alert"]');
    await expect
      .poll(() => why.textContent(), { timeout: 30_000 })
      .toMatch(new RegExp(`${messagePattern(tr('wizard.cannotRender', { error: 'X', example: 1 }), 'X', '.*question.*')}`));
    // said once, beside Next, with what to do: the example's place no longer repeats the same error
    await page.getByText(tr('wizard.exampleNotShown')).waitFor();
    expect(await page.getByText('"question"').count()).toBe(1);
    expect(await page.locator('.field-error').count()).toBe(1);
    await expect(
      page.getByRole('button', { name: tr('wizard.next', { step: tr('wizard.step.method') }) }).isDisabled(),
    ).resolves.toBe(true);
    await screenshot(page, 'wizard-template-blocked.png');
    await page.getByLabel(tr('wizard.promptTemplate'), { exact: true }).fill('Question: {prompt}\nAnswer: ');
    await expect
      .poll(
        () => page.getByRole('button', { name: tr('wizard.next', { step: tr('wizard.step.method') }) }).isDisabled(),
        { timeout: 30_000 },
      )
      .toBe(false);
    await context.close();
  });
});
