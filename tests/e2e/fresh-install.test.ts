// A fresh install: `npm install` runs the install hook (native step, then the UI build) and `npm run serve` gives a
// working page with no build command. The UI goes to a temporary folder (LORA_STUDIO_RENDERER_DIR) so the shared
// out/renderer other browser tests load is never emptied under them.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { REPO_ROOT, collectPageErrors, expectNoEnglishLeft, launchChromium, newStudioContext, screenshot, startServe, tr } from './harness.ts';

let scratch: string;
let browser: Browser;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'lora-fresh-install-'));
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe('fresh install', () => {
  it('the install hook builds the UI after the native step', () => {
    const scripts = (
      JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    ).scripts;
    const steps = scripts.postinstall.split('&&').map((step) => step.trim());
    expect(steps).toEqual([
      'node scripts/build-native.mjs --if-wanted',
      'node scripts/build-renderer.mjs --if-possible',
    ]);

    const out = join(scratch, 'installed-ui');
    // npm runs exactly this script on install and on `npm ci`; LORA_STUDIO_BUILD_CUDA=0 keeps the native step a no-op.
    const started = Date.now();
    const result = spawnSync('npm', ['run', '--silent', 'postinstall'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { ...process.env, LORA_STUDIO_RENDERER_DIR: out, LORA_STUDIO_BUILD_CUDA: '0' },
    });
    expect(result.status, result.stderr).toBe(0);
    expect(existsSync(join(out, 'index.html'))).toBe(true);
    expect(result.stdout).toMatch(/build-renderer: built the UI/);
    expect(Date.now() - started).toBeLessThan(60_000); // quick enough to sit in every install
  });

  it('serve on a checkout without a built UI builds it once and serves the studio', async () => {
    const rendererDir = join(scratch, 'never-built');
    const serve = await startServe({ env: { LORA_STUDIO_RENDERER_DIR: rendererDir } });
    try {
      expect(existsSync(join(rendererDir, 'index.html'))).toBe(true);
      const context = await newStudioContext(browser);
      const page = await context.newPage();
      const errors = collectPageErrors(page);
      const response = await page.goto(serve.url);
      expect(response?.status()).toBe(200);
      // A fresh data dir: the Projects page, connected to the API, with nothing in it yet.
      await page.getByText(tr('projects.none')).waitFor();
      await page.getByRole('status').filter({ hasText: tr('connection.connected') }).waitFor();
      await screenshot(page, 'fresh-install-serve.png');
      await expectNoEnglishLeft(page);
      expect(errors).toEqual([]);
      await context.close();
    } finally {
      await serve.stop();
    }
  });

  it('keeps the "not built" page for a build that cannot succeed', async () => {
    const blocker = join(scratch, 'a-file');
    writeFileSync(blocker, 'not a folder');
    const serve = await startServe({ env: { LORA_STUDIO_RENDERER_DIR: join(blocker, 'renderer') } });
    try {
      const response = await fetch(serve.url);
      expect(response.status).toBe(503);
      expect(await response.text()).toMatch(/interface is not built/);
    } finally {
      await serve.stop();
    }
  });
});
