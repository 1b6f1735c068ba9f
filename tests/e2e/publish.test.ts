// Publish… in headless Chromium against a real `serve` whose HF_ENDPOINT is the local Hub (mock-hub-push.ts):
// without a token the dialog says so before anything starts; with the token stored in Settings an imported
// adapter is pushed with progress and the Hub ends up holding its folder byte for byte plus the card; a repo
// in someone else's namespace fails with the Hub's refusal in words; a PEFT export is published from the
// Exports page.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { makeChatFixture } from '../engine/generate/fixtures.ts';
import { MockPushHub, WRITE_TOKEN, sha256 } from '../formats/hub/mock-hub-push.ts';
import {
  buildRenderer,
  collectPageErrors,
  E2E_LOCALE,
  launchChromium,
  newStudioContext,
  screenshot,
  startServe,
  tr,
  type ServeProcess,
} from './harness.ts';
import { openPage } from './tiny-runs.ts';
import { PHRASES } from '../../src/common/api/phrases.ts';

let hub: MockPushHub;
let serve: ServeProcess;
let browser: Browser;

beforeAll(async () => {
  buildRenderer();
  hub = new MockPushHub();
  await hub.start();
  // HF_HOME of its own: no token saved by `huggingface-cli login` on this machine can reach the push.
  serve = await startServe({
    env: {
      HF_ENDPOINT: hub.endpoint,
      HF_TOKEN: '',
      HF_HUB_OFFLINE: '',
      HF_HOME: mkdtempSync(join(tmpdir(), 'hf-home-')),
    },
  });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  await hub?.stop();
});

describe('Publish… in the browser', () => {
  it('asks for a token first, then pushes an adapter with its card; a foreign namespace fails in words; an export publishes too', async () => {
    const project = await serve.invoke<{ id: string }>('projects.create', { name: 'Publish check' });
    const fx = await makeChatFixture(join(serve.dataDir, 'fixture'));
    const adapter = await serve.invoke<{ id: string; path: string }>('adapters.import', {
      projectId: project.id,
      path: fx.adapters[0],
      name: 'Style',
      model: fx.model.dir,
    });

    const context = await newStudioContext(browser);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await openPage(page, serve, 'Publish check', tr('nav.adapters'));

    // No token anywhere: the dialog says so before anything starts, and a push fails with what to do.
    await page.getByRole('button', { name: tr('publish.adapterLabel', { name: 'Style' }) }).click();
    const dialog = page.getByRole('dialog', { name: tr('publish.titleAdapter', { name: 'Style' }) });
    await dialog.getByText(tr('publish.noTokenTitle')).waitFor();
    await screenshot(page, 'publish-no-token.png');
    await dialog.getByLabel(tr('publish.repoLabel')).fill('alice/style-lora');
    await dialog.getByRole('button', { name: tr('publish.publish'), exact: true }).click();
    await dialog
      .getByText(/pushing to the Hub needs a Hugging Face token with write access/)
      .waitFor({ timeout: 60_000 });
    expect(hub.log).toEqual([]); // refused before any request
    await dialog.getByRole('button', { name: tr('common.cancel'), exact: true }).click();

    await serve.invoke('settings.setHubToken', { token: WRITE_TOKEN });
    await page.getByRole('button', { name: tr('publish.adapterLabel', { name: 'Style' }) }).click();
    await dialog.getByLabel(tr('publish.repoLabel')).fill('not a repo');
    await dialog.getByRole('button', { name: tr('publish.publish'), exact: true }).click();
    await dialog.getByText('a Hub repo looks like "user/name"').waitFor();

    await dialog.getByLabel(tr('publish.repoLabel')).fill('alice/style-lora');
    await dialog.getByRole('button', { name: tr('publish.publish'), exact: true }).click();
    await dialog.getByTestId('publish-result').waitFor({ timeout: 60_000 });
    // the outcome in the UI's language, the count with its plural and the size in KiB like the rest of the UI
    // (it was the job's English log line in both languages: "3 file(s) committed (…), 15.8 KB uploaded")
    const result = (await dialog.getByTestId('publish-result').textContent()) ?? '';
    const shape = outcomeText({ url: 'URL', files: 55, commit: 'c0mm1t', uploaded: 1024 });
    const escape = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const pattern = escape(shape)
      .replace('URL', escape(`${hub.endpoint}/alice/style-lora`))
      .replace('55', '\\d+')
      .replace('c0mm1t', '[0-9a-f]{40}')
      .replace(escape('1.0 KiB'), '[\\d.]+ (B|KiB|MiB)');
    expect(result).toMatch(new RegExp(`^${pattern}$`));
    expect(result).not.toMatch(/\(s\)|\bKB\b/);
    await screenshot(page, 'publish-done.png');
    // The 40-character commit hash breaks inside the banner: it ran past the banner's right border.
    const body = await dialog.getByTestId('publish-result').evaluate((el) => {
      const box = el.closest('.banner-body')!;
      return { scroll: box.scrollWidth, client: box.clientWidth };
    });
    expect(body.scroll).toBeLessThanOrEqual(body.client + 1);

    const held = hub.filesOf('alice/style-lora');
    for (const f of readdirSync(adapter.path))
      expect(sha256(held.get(f)!), f).toBe(sha256(readFileSync(join(adapter.path, f))));
    const card = held.get('README.md')!.toString();
    expect(parseYaml(/^---\n([\s\S]*?)\n---\n/.exec(card)![1])).toMatchObject({
      library_name: 'peft',
      pipeline_tag: 'text-generation',
    });
    expect(hub.repos.get('alice/style-lora')!.private).toBe(true); // the dialog's default
    await dialog.getByRole('button', { name: tr('common.close'), exact: true }).click();

    // A stalled commit: Cancel push stops it; Push again resumes and ends with the same files.
    hub.inject(/^POST \/api\/models\/alice\/style-stalled\/commit\//, 'hold');
    await page.getByRole('button', { name: tr('publish.adapterLabel', { name: 'Style' }) }).click();
    await dialog.getByLabel(tr('publish.repoLabel')).fill('alice/style-stalled');
    await dialog.getByRole('button', { name: tr('publish.publish'), exact: true }).click();
    await dialog.getByRole('progressbar').waitFor();
    await expect.poll(() => hub.held, { timeout: 60_000 }).toBe(1);
    await screenshot(page, 'publish-progress.png');
    await dialog.getByRole('button', { name: tr('publish.cancelPush') }).click();
    await dialog.getByText(tr('publish.cancelledTitle')).waitFor({ timeout: 60_000 });
    expect(hub.filesOf('alice/style-stalled').has('adapter_config.json')).toBe(false);
    await dialog.getByRole('button', { name: tr('publish.pushAgain') }).click();
    await dialog.getByTestId('publish-result').waitFor({ timeout: 60_000 });
    const resumed = hub.filesOf('alice/style-stalled');
    for (const f of readdirSync(adapter.path))
      expect(sha256(resumed.get(f)!), f).toBe(sha256(readFileSync(join(adapter.path, f))));
    await dialog.getByRole('button', { name: tr('common.close'), exact: true }).click();

    // Someone else's namespace: the Hub's 403, in the studio's words, and a way to try again.
    await page.getByRole('button', { name: tr('publish.adapterLabel', { name: 'Style' }) }).click();
    await dialog.getByLabel(tr('publish.repoLabel')).fill('bob/style-lora');
    await dialog.getByRole('button', { name: tr('publish.publish'), exact: true }).click();
    await dialog.getByText(tr('publish.failedTitle')).waitFor({ timeout: 60_000 });
    await dialog.getByText(/the token may not write to bob\/style-lora \(403/).waitFor();
    await dialog.getByRole('button', { name: tr('publish.pushAgain') }).waitFor();
    await screenshot(page, 'publish-refused.png');
    await dialog.getByRole('button', { name: tr('common.cancel'), exact: true }).click();

    // From the Exports page: a PEFT copy, published to a second repo.
    const exported = await serve.invoke<{ id: string; jobId: string; path: string }>('exports.start', {
      adapterId: adapter.id,
      format: 'peft',
    });
    for (let i = 0; ; i++) {
      const e = await serve.invoke<{ status: string; error: string | null }>('exports.get', { id: exported.id });
      if (e.status === 'succeeded') break;
      expect(['queued', 'running'], e.error ?? '').toContain(e.status);
      if (i > 300) throw new Error('the PEFT export did not finish');
      await new Promise((r) => setTimeout(r, 200));
    }
    await openPage(page, serve, 'Publish check', tr('nav.exports'));
    await page.getByRole('button', { name: tr('publish.exportLabel', { format: tr('exports.format.peft') }) }).click();
    const exportDialog = page.getByRole('dialog', {
      name: tr('publish.titleExport', { format: tr('exports.format.peft') }),
    });
    await exportDialog.getByLabel(tr('publish.repoLabel')).fill('alice/style-peft');
    await exportDialog.getByLabel(tr('publish.private')).uncheck();
    await exportDialog.getByRole('button', { name: tr('publish.publish'), exact: true }).click();
    await exportDialog.getByTestId('publish-result').waitFor({ timeout: 60_000 });
    expect(hub.repos.get('alice/style-peft')!.private).toBe(false);
    const peft = hub.filesOf('alice/style-peft');
    expect(sha256(peft.get('adapter_model.safetensors')!)).toBe(
      sha256(readFileSync(join(exported.path, 'adapter_model.safetensors'))),
    );
    expect(peft.get('README.md')!.toString()).toBe(
      readFileSync(join(exported.path, 'README.md'), 'utf8')
        .replace(JSON.stringify(exported.path), '"alice/style-peft"')
        .replace(/^# .*$/m, '# style-peft'),
    );
    await screenshot(page, 'publish-export.png');
    await exportDialog.getByRole('button', { name: tr('common.close'), exact: true }).click();

    // A GGUF export: the page shows the ollama create command for the Modelfile written beside it.
    const ggufExport = await serve.invoke<{ id: string; path: string }>('exports.start', {
      adapterId: adapter.id,
      format: 'gguf',
      type: 'q8_0',
    });
    await page.getByTestId('ollama-create').waitFor({ timeout: 120_000 });
    const modelfile = ggufExport.path.replace(/\.gguf$/, '.Modelfile');
    expect(await page.getByTestId('ollama-create').textContent()).toBe(
      `Ollama: ollama create ${basename(ggufExport.path, '.gguf')} -f ${modelfile}`,
    );
    expect(readFileSync(modelfile, 'utf8')).toContain(`FROM ./${basename(ggufExport.path)}\n`);
    await screenshot(page, 'publish-exports-ollama.png');
    expect(errors).toEqual([]);
    await context.close();
  }, 240_000);
});

/** Publish…'s outcome banner text in the tests' language. */
function outcomeText(p: { url: string; files: number; commit: string; uploaded: number }): string {
  return E2E_LOCALE === 'en' ? PHRASES['progress.pushCommitted'](p) : tr('core.progress.pushCommitted', p);
}
