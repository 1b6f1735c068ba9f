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
