/**
 * Why JSON.parse refused a line, as a reason a person can act on and the character it points at. V8's own message
 * ("Expected ',' or '}' after property value in JSON at position 7") is English the UI cannot translate and
 * counts from 0; the reason travels as a phrase parameter (common/api/phrases.ts JSON_SYNTAX) and the character counts from 1.
 * A message this table does not know keeps V8's words (problem.malformedJson), so nothing is hidden.
 */
import type { JsonSyntaxReason } from '../../../common/api/phrases.ts';

export interface JsonSyntax {
  reason: JsonSyntaxReason;
  /** 1-based place in the line of the character JSON.parse stopped at; null when its message names none. */
  character: number | null;
}

/** V8's messages (Node 18's older "Unexpected token x in JSON at position n" too), first match wins. */
const RULES: [RegExp, JsonSyntaxReason][] = [
  [/Unexpected end of JSON input/, 'endsEarly'],
  [/Unterminated string/, 'unclosedString'],
  [/Bad control character in string literal/, 'controlInString'],
  [/Bad (?:escaped character|Unicode escape)/, 'badEscape'],
  [/Expected property name or '}'|Expected double-quoted property name/, 'propertyName'],
  [/Expected ':' after property name/, 'colon'],
  [/Expected ',' or '}' after property value/, 'commaOrBrace'],
  [/Expected ',' or ']' after array element/, 'commaOrBracket'],
  [/Unexpected non-whitespace character after JSON/, 'textAfter'],
  [/Exponent part is missing a number|Unterminated fractional number|No number after minus sign/, 'badNumber'],
  [/Unexpected token|Unexpected (?:number|string)|is not valid JSON/, 'unexpected'],
];

export function jsonSyntax(err: unknown, text: string): JsonSyntax | null {
  const message = err instanceof Error ? err.message : String(err);
  const rule = RULES.find(([pattern]) => pattern.test(message));
  if (!rule) return null;
  const at = /at position (\d+)/.exec(message);
  let character = at ? Number(at[1]) + 1 : null;
  // Node 20 names the token but not where it is ("Unexpected token '}', ..."b": }" is not valid JSON"): find it.
  if (character === null && rule[1] === 'unexpected') character = unexpectedTokenAt(text);
  if (rule[1] === 'endsEarly') character = text.trimEnd().length + 1; // just past the last thing written
  return { reason: rule[1], character };
}

/**
 * The 1-based place of the token JSON.parse calls unexpected: the shortest prefix of the text that fails the same way
 * ends with it. A shorter prefix only runs out of input (V8 then says "end of input" or an "Expected …" at its end,
 * never "Unexpected token"), a longer one fails at the same token, so the search halves; log2(length) parses, on the
 * error path only.
 */
function unexpectedTokenAt(text: string): number | null {
  const failsAtToken = (length: number) => {
    try {
      JSON.parse(text.slice(0, length));
      return false;
    } catch (err) {
      return /Unexpected token/.test((err as Error).message);
    }
  };
  if (!failsAtToken(text.length)) return null;
  let lo = 1;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (failsAtToken(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
