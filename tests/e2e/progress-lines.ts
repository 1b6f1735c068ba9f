// A job's progress lines as a page shows them, for checking they are said in the tests' language (the job's phrase
// through the catalogue, never the core's English on the Korean page). A quick job's lines come and go within a
// second, so a page records every text its progress line ever held (a MutationObserver set up before the job starts).
import type { Page } from 'playwright-core';
import type { MessageKey } from '../../src/renderer/src/i18n/t.ts';
import { tr } from './harness.ts';

const escapeRe = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A `core.progress.*` line as a pattern in the tests' language: `params` fill the message, the numbers (7, 8, 9, …)
 * matched as any grouped number and the strings named in `open` as any text.
 */
export function progressPattern(key: MessageKey & `core.progress.${string}`, params?: Record<string, unknown>, open: string[] = []): RegExp {
  const text = (tr as (k: MessageKey, p?: unknown) => string)(key, params);
  let re = escapeRe(text);
  for (const value of Object.values(params ?? {}))
    if (typeof value === 'number') re = re.replace(escapeRe(String(value)), '[\\d,]+');
  for (const slot of open) re = re.replace(escapeRe(slot), '.+');
  return new RegExp(`^${re}$`);
}

/** Starts recording the texts of every element matching `selector` (run it before the job starts). */
export async function recordProgressLines(page: Page, selector: string): Promise<void> {
  await page.evaluate((sel) => {
    const seen: string[] = [];
    (window as unknown as { __progressLines: string[] }).__progressLines = seen;
    const look = () => {
      for (const el of document.querySelectorAll(sel)) {
        const text = el.textContent?.trim() ?? '';
        if (text && seen.at(-1) !== text && !seen.includes(text)) seen.push(text);
      }
    };
    new MutationObserver(look).observe(document.body, { subtree: true, childList: true, characterData: true });
    look();
  }, selector);
}

/** The distinct texts recorded so far, in the order they appeared. */
export function recordedProgressLines(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __progressLines?: string[] }).__progressLines ?? []);
}
