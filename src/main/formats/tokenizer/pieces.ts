/**
 * Token-by-token view of a rendered example for the dataset previewer: each piece is the text of one token
 * (or of a few tokens together when a character's UTF-8 bytes are split across them), whether it is a
 * training target, and whether it is a special token.
 */
import type { HfTokenizer } from './tokenizer.ts';

export interface TokenPiece {
  /** Index of the first token of the piece. */
  index: number;
  ids: number[];
  text: string;
  trained: boolean;
  special: boolean;
}

export function tokenPieces(tokenizer: HfTokenizer, ids: ArrayLike<number>, trained?: ArrayLike<number>): TokenPiece[] {
  const pieces: TokenPiece[] = [];
  let i = 0;
  while (i < ids.length) {
    const start = i;
    const group = [ids[i]];
    const isTrained = trained ? trained[i] === 1 : false;
    let text = tokenizer.decode(group);
    // A lone continuation byte decodes to U+FFFD: join following tokens (same mask) until the character is whole.
    while (text.includes('\uFFFD') && i + 1 < ids.length && group.length < 8 && (trained ? trained[i + 1] === trained[start] : true)) {
      i++;
      group.push(ids[i]);
      const joined = tokenizer.decode(group);
      if (!joined.includes('\uFFFD') || group.length === 8) {
        text = joined;
        break;
      }
      text = joined;
    }
    pieces.push({ index: start, ids: group, text, trained: isTrained, special: tokenizer.specialIds.has(ids[start]) });
    i++;
  }
  return pieces;
}
