// Does a page's content fit its window? For the Chat page at 1024, 1280 and wider windows: nothing inside a box
// (a chat pane, a settings card, the composer) reaches past that box's edges, no box past the window's right edge,
// and the page does not scroll sideways. Measured with the boxes the browser laid out (getBoundingClientRect),
// so a select widened by a long option, or a grid track widened by its content, shows as the pixels it overflows.
import type { Page } from 'playwright-core';

export interface Overflow {
  /** The box that was overflowed (its selector) and what reached past it. */
  box: string;
  what: string;
  /** Pixels past the box's (or the window's) right edge; negative lefts count as overflow too. */
  by: number;
}

/** Everything that sticks out of its box (or of the window) under the given box selectors; [] when it all fits. */
export async function overflows(page: Page, boxes: string[]): Promise<Overflow[]> {
  return page.evaluate((selectors) => {
    const found: { box: string; what: string; by: number }[] = [];
    const name = (el: Element) =>
      `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className && typeof el.className === 'string' ? `.${el.className.trim().split(/\s+/).join('.')}` : ''}`;
    const width = document.documentElement.clientWidth;
    const main = document.querySelector('.main');
    if (main && main.scrollWidth > main.clientWidth + 1)
      found.push({ box: '.main', what: 'scrolls sideways', by: main.scrollWidth - main.clientWidth });
    for (const selector of selectors)
      for (const box of document.querySelectorAll(selector)) {
        const outer = box.getBoundingClientRect();
        if (outer.right > width + 1) found.push({ box: selector, what: 'the window', by: outer.right - width });
        for (const el of box.querySelectorAll('*')) {
          const r = el.getBoundingClientRect();
          const style = getComputedStyle(el);
          // the visually-hidden helpers are 1 px boxes clipped away; options have no box of their own
          if (r.width <= 1 || r.height <= 1 || style.position === 'absolute' || style.visibility === 'hidden') continue;
          const by = Math.max(r.right - outer.right, outer.left - r.left);
          if (by > 1) found.push({ box: selector, what: name(el), by: Math.round(by) });
        }
      }
    return found;
  }, boxes);
}

/** The Chat page's boxes. */
export const CHAT_BOXES = ['.chat-pane', '.chat-side .card', '.chat-composer'];

/**
 * Does the open dialog fit its window? [] when it does; else one line per flaw:
 * - it scrolls sideways (its scrollWidth past its clientWidth, or scrolled left: a focused field is scrolled into
 *   view, which `overflow-x: hidden` does not prevent) — or so does its form or its body;
 * - something inside its body reaches past the body's edges (a select as wide as its longest option, a grid track
 *   widened by its content), measured like `overflows`;
 * - the dialog reaches past the window, or its actions (Start, Cancel) are not inside the window and the dialog
 *   (a long body scrolls inside the dialog; the title and the actions stay in view).
 */
export async function dialogOverflows(page: Page): Promise<string[]> {
  const found = await page.evaluate(() => {
    const problems: string[] = [];
    const dialog = document.querySelector('dialog[open]');
    if (!dialog) return ['no open dialog'];
    for (const [what, el] of [
      ['the dialog', dialog],
      ['its form', dialog.querySelector('.dialog-form')],
      ['its body', dialog.querySelector('.dialog-body')],
    ] as const) {
      if (!el) continue;
      if (el.scrollWidth > el.clientWidth + 1)
        problems.push(`${what} scrolls sideways: ${el.scrollWidth} px of content in ${el.clientWidth} px`);
      if (el.scrollLeft !== 0) problems.push(`${what} is scrolled sideways by ${el.scrollLeft} px`);
    }
    const box = dialog.getBoundingClientRect();
    const width = document.documentElement.clientWidth;
    const height = window.innerHeight;
    if (box.left < 0 || box.right > width + 1 || box.top < 0 || box.bottom > height + 1)
      problems.push(`the dialog (${Math.round(box.width)}×${Math.round(box.height)}) is not inside the ${width}×${height} window`);
    const actions = dialog.querySelector('.dialog-actions')?.getBoundingClientRect();
    if (!actions) problems.push('no actions');
    else if (actions.top < Math.max(0, box.top) - 1 || actions.bottom > Math.min(height, box.bottom) + 1)
      problems.push(`the actions (${Math.round(actions.top)}–${Math.round(actions.bottom)} px) are not in view`);
    return problems;
  });
  const inside = await overflows(page, ['dialog[open] .dialog-body']);
  return [...found, ...inside.map((o) => `${o.what} reaches ${o.by} px past ${o.box}`)];
}
