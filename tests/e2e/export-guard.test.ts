// The export form refuses a target that would destroy an input, in headless Chromium against a real `serve`: a
// merged model aimed at the folder that holds the base model (replace ticked) is refused with the core's reason
// naming the base model; a folder of someone else's files is refused naming what is in it; nothing is touched.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectPageErrors, newStudioContext, screenshot, tr, studioPerFile } from './harness.ts';
import { openPage, tinyModelAndData, trainTinyRun } from './tiny-runs.ts';

const studio = studioPerFile();

/** The guard's sentence (the core's phrase, in the tests' language) after the target path, up to its first clause's end. */
function afterPath(key: 'core.guard.holdsInput' | 'core.guard.notOurs', params: Record<string, string>): string {
  const said = (tr as (k: string, p: unknown) => string)(key, { out: '\u0000', ...params });
  return said.split('\u0000')[1]!.split(/;|\. /)[0]!;
}

describe('Export form: never over an input', () => {
  it('refuses the folder holding the base model and a folder the studio did not write, saying why', async () => {
    const project = await studio.serve.invoke<{ id: string }>('projects.create', { name: 'Guard check' });
    const files = await tinyModelAndData(studio.serve);
    // The base model in a folder of its own, beside the user's other files.
    await trainTinyRun(studio.serve, project.id, files, 'guarded r4');
    const context = await newStudioContext(studio.browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await openPage(page, studio.serve, 'Guard check', tr('nav.exports'));

    await page.getByRole('radio', { name: tr('exports.format.hf'), exact: true }).check();
    const holdsBase = dirname(files.model); // the data dir: holds the base model (and everything else)
    await page.getByLabel(tr('exports.outPath')).fill(holdsBase);
    await page.getByText(tr('exports.replaceIfExists')).waitFor({ timeout: 60_000 });
    await page.getByText(tr('exports.replaceIfExists')).click();
    await page.getByRole('button', { name: tr('exports.start') }).click();
    const banner = page.getByText(tr('exports.notStarted'));
    await banner.waitFor({ timeout: 60_000 });
    await page.getByText(afterPath('core.guard.holdsInput', { role: 'base model', input: files.model }), { exact: false }).waitFor();
    await screenshot(page, 'export-guard-base.png');

    const mine = mkdtempSync(join(tmpdir(), 'my-notes-'));
    writeFileSync(join(mine, 'todo.txt'), 'keep me');
    await page.getByLabel(tr('exports.outPath')).fill(mine);
    await page.getByRole('button', { name: tr('exports.start') }).click();
    await page.getByText(afterPath('core.guard.notOurs', { holds: 'todo.txt', shape: 'folder' }), { exact: false }).waitFor();
    await screenshot(page, 'export-guard-foreign.png');

    expect(readFileSync(join(mine, 'todo.txt'), 'utf8')).toBe('keep me');
    rmSync(mine, { recursive: true, force: true });
    expect(existsSync(join(files.model, 'config.json'))).toBe(true);
    expect(await studio.serve.invoke<unknown[]>('exports.list', { projectId: project.id })).toEqual([]);
    // Only the two refused starts failed (the browser logs their 400 and 409).
    expect(
      errors.every((e) => /status of (400|409)/.test(e)),
      errors.join('\n'),
    ).toBe(true);
    await context.close();
  });
});
