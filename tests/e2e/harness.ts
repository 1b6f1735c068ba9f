// Shared by the browser tests: build the renderer, start `lora-studio serve` on a temporary data dir,
// launch Debian's Chromium through playwright-core, and collect console errors (CSP violations land there).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { currentLocale, INTL_TAGS, setCurrentLocale, type Locale } from '../../src/renderer/src/i18n/locale.ts';
import { formatPercent } from '../../src/renderer/src/i18n/format-number.ts';
import { translate, type MessageKey, type ParamsOf } from '../../src/renderer/src/i18n/t.ts';
import { sentence } from '../../src/renderer/src/validation.ts';
import { en as zodEn, ko as zodKo } from 'zod/locales';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const SCREENSHOT_DIR = join(REPO_ROOT, 'test-output/e2e');
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Builds src/renderer into out/renderer (a few seconds), so the tests never run against a stale build.
 * The e2e project's globalSetup builds once per run and sets LORA_STUDIO_E2E_RENDERER_BUILT: test files then
 * skip their own build, because a rebuild empties out/renderer under any other browser test still loading it.
 */
export function buildRenderer(): void {
  if (process.env.LORA_STUDIO_E2E_RENDERER_BUILT === '1') return;
  const vite = join(REPO_ROOT, 'node_modules/vite/bin/vite.js');
  const result = spawnSync(
    process.execPath,
    [vite, 'build', '--config', 'vite.renderer.config.ts', '--logLevel', 'warn'],
    {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    },
  );
  if (result.status !== 0)
    throw new Error(`building the renderer failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
}

export interface ServeProcess {
  /** e.g. http://127.0.0.1:41234 */
  origin: string;
  token: string;
  /** The line's URL, with ?token=… */
  url: string;
  port: number;
  dataDir: string;
  invoke<T = unknown>(method: string, input: unknown): Promise<T>;
  /** Stops the server; its data dir is removed unless keepData is set (to restart on the same store). */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

export interface ServeOptions {
  /** Reuse a data dir (default: a fresh temporary one). */
  dataDir?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Default: serve's own random token. */
  token?: string;
  /** Extra environment for the serve process. */
  env?: Record<string, string>;
}

const URL_LINE = /(http:\/\/127\.0\.0\.1:(\d+))\/\?token=([A-Za-z0-9._~-]+)/;

/** Starts `node bin/lora-studio.js serve` (by default on a free port and a fresh data dir) and waits for its URL line. */
export async function startServe(options: ServeOptions = {}): Promise<ServeProcess> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'lora-studio-e2e-'));
  const args = ['serve', '--port', String(options.port ?? 0), '--data-dir', dataDir, '--host', '127.0.0.1'];
  if (options.token !== undefined) args.push('--token', options.token);
  // A token or home from the developer's shell must not leak into the test's server.
  const env = { ...process.env, ...options.env };
  delete env.LORA_STUDIO_TOKEN;
  delete env.LORA_STUDIO_HOME;
  const child: ChildProcess = spawn(process.execPath, [join(REPO_ROOT, 'bin/lora-studio.js'), ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let output = '';
  const match = await new Promise<RegExpExecArray>((resolvePromise, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`serve printed no URL within 30 s. Output so far:\n${output}`)),
      30_000,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const found = URL_LINE.exec(output);
      if (found) {
        clearTimeout(timer);
        resolvePromise(found);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (code ${code}, signal ${signal}) before printing its URL. Output:\n${output}`));
    });
  });
  const [url, origin, port, token] = match;
  return {
    origin,
    token,
    url,
    port: Number(port),
    dataDir,
    async invoke<T>(method: string, input: unknown): Promise<T> {
      const response = await fetch(`${origin}/api/invoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ method, input }),
      });
      const body = (await response.json()) as { ok: boolean; result?: T; error?: { message: string } };
      if (!body.ok) throw new Error(`${method} failed: ${body.error?.message}`);
      return body.result as T;
    },
    async stop({ keepData = false } = {}) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      if (!keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts `serve` and Chromium once for a test file and stops both after it (the beforeAll/afterAll every browser
 * test needs). Read `session.serve` / `session.browser` inside tests, once beforeAll has run.
 */
export function studioPerFile(options: ServeOptions = {}): { serve: ServeProcess; browser: Browser } {
  const session = {} as { serve: ServeProcess; browser: Browser };
  beforeAll(async () => {
    buildRenderer();
    session.serve = await startServe(options);
    session.browser = await launchChromium();
  });
  afterAll(async () => {
    await session.browser?.close();
    await session.serve?.stop();
  });
  return session;
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * The UI language these tests run in: LORA_STUDIO_E2E_LOCALE (the `e2e-ko` project sets `ko`), else English.
 * The browser context reports it as its language, so the studio starts in it with nothing stored.
 */
export const E2E_LOCALE: Locale = process.env.LORA_STUDIO_E2E_LOCALE === 'ko' ? 'ko' : 'en';

/** The studio's own text for `key` in the tests' language: selectors follow the catalogue, not a copy of it. */
export function tr<K extends MessageKey>(key: K, ...params: ParamsOf<K>): string {
  return translate(E2E_LOCALE, key, ...params);
}

/** A share (0.568) as the pages write it, in the tests' language: the UI's one percent formatter ("56.8%"). */
export function percent(share: number): string {
  const previous = currentLocale();
  setCurrentLocale(E2E_LOCALE);
  try {
    return formatPercent(share);
  } finally {
    setCurrentLocale(previous);
  }
}

/** A screenshot name with the language in it when not English (`chat.png` → `chat.ko.png`). */
export function localized(name: string): string {
  return E2E_LOCALE === 'en' ? name : name.replace(/\.png$/, `.${E2E_LOCALE}.png`);
}

/** A fresh context at 1280×800 (the size the UI is designed to be readable at), in the tests' language. */
export async function newStudioContext(
  browser: Browser,
  colorScheme: 'light' | 'dark' = 'light',
): Promise<BrowserContext> {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    colorScheme,
    locale: INTL_TAGS[E2E_LOCALE],
  });
  context.setDefaultTimeout(20_000); // room for a loaded 2-core CI machine, yet a missing element fails well before the test timeout
  return context;
}

/** Records console errors and uncaught page errors, so a test can assert the page stayed clean. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  return errors;
}

/** Records responses of 400 and above, which a clean page never gets. */
export function collectHttpErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('response', (response) => {
    if (response.status() >= 400) errors.push(`${response.status()} ${response.url()}`);
  });
  return errors;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, localized(name)) });
}

/** A hole left in a catalogue sentence where a parameter goes, to cut it into its fixed parts. */
const HOLE = '\u0001';

/** The fixed parts of a catalogue entry: the string itself, or a sentence's text between its parameters. */
function fixedParts(entry: unknown): string[] {
  if (typeof entry === 'string') return [entry];
  if (typeof entry !== 'function') return [];
  try {
    const params = new Proxy({}, { get: () => HOLE });
    return String((entry as (p: unknown) => string)(params)).split(new RegExp(`${HOLE}|NaN`));
  } catch {
    return []; // a sentence that computes with its parameters (toFixed, …): its plain-string neighbours cover it
  }
}

let englishSentences: string[] | null = null;

/**
 * English the Korean UI must not show: every English catalogue entry (the UI's strings and the core's phrases) of
 * three words or more that the Korean catalogue does not itself contain (names such as “Ahoy, matey!” stay).
 */
async function englishOfCatalogue(): Promise<string[]> {
  if (englishSentences) return englishSentences;
  const { en } = await import('../../src/renderer/src/i18n/en.ts');
  const { ko } = await import('../../src/renderer/src/i18n/ko.ts');
  const korean = Object.values(ko).flatMap(fixedParts).join('\n');
  englishSentences = [
    ...new Set(
      Object.values(en)
        .flatMap(fixedParts)
        .map((part) => part.trim())
        .filter((part) => part.length >= 14 && /[A-Za-z]{2,}\W+[A-Za-z]{2,}\W+[A-Za-z]{2,}/.test(part) && !korean.includes(part)),
    ),
  ];
  return englishSentences;
}

/**
 * In the Korean run: the page's visible text is Korean and holds none of the catalogue's English sentences (a string
 * that skipped the catalogue, or a core message without its phrase, shows up here). Does nothing in English.
 */
export async function expectNoEnglishLeft(page: Page): Promise<void> {
  if (E2E_LOCALE === 'en') return;
  const text = await page.locator('body').innerText();
  if (!/[\uac00-\ud7a3]/.test(text)) throw new Error(`the page shows no Korean at all:\n${text.slice(0, 500)}`);
  const left = (await englishOfCatalogue()).filter((sentence) => text.includes(sentence));
  if (left.length > 0) throw new Error(`English left on the Korean page: ${left.map((s) => JSON.stringify(s)).join(', ')}`);
}

/** zod's own message for a field check, in the tests' language and as the UI's forms show it (a sentence). */
export function zodSentence(issue: { code: string } & Record<string, unknown>): string {
  const said = (E2E_LOCALE === 'ko' ? zodKo : zodEn)().localeError(issue as never);
  return sentence(typeof said === 'string' ? said : (said?.message ?? ''));
}
