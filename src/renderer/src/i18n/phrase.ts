// The core's sentences in the UI's language. The core sends each as English text plus a phrase (a stable code and
// its parameters, common/api/phrases.ts); in English the core's own text is shown as it came, in another language
// the catalogue's `core.<code>` entry renders the parameters, and a code the catalogue does not know (a newer
// core) falls back to the English text.
import { PHRASES, type Phrase } from '../../../common/api/phrases.ts';
import { currentLocale } from './locale.ts';
import { translate, type MessageKey } from './t.ts';

export function sayPhrase(phrase: Phrase | null | undefined, english: string): string {
  const locale = currentLocale();
  if (!phrase || locale === 'en' || !Object.hasOwn(PHRASES, phrase.code)) return english;
  return (translate as (l: typeof locale, key: MessageKey, params: unknown) => string)(
    locale,
    `core.${phrase.code}` as MessageKey,
    withNestedSaid(phrase.params),
  );
}

/**
 * The parameters with each nested sentence (common/api/phrases.ts `nested`: text under `name`, its phrase under
 * `name@…`) said in the UI's language first, so the entry puts a Korean problem inside a Korean sentence.
 */
function withNestedSaid(params: Phrase['params']): Phrase['params'] {
  const out: Phrase['params'] = {};
  for (const [key, value] of Object.entries(params)) if (!key.includes('@')) out[key] = value;
  for (const name of Object.keys(out)) {
    const code = params[`${name}@`];
    if (typeof code !== 'string' || typeof out[name] !== 'string') continue;
    const inner: Phrase['params'] = {};
    for (const [key, value] of Object.entries(params))
      if (key.startsWith(`${name}@`) && key !== `${name}@`) inner[key.slice(name.length + 1)] = value;
    out[name] = sayPhrase({ code, params: inner }, out[name]);
  }
  return out;
}

/** The contract's own field checks (zod messages written from the phrase table) by their English text. */
const CODE_OF_MESSAGE = new Map(
  Object.entries(PHRASES)
    .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
    .map(([code, text]) => [text, code]),
);

/** A zod issue's message in the UI's language when it is one of the contract's phrases; otherwise as it came. */
export function sayIssueMessage(message: string): string {
  const code = CODE_OF_MESSAGE.get(message);
  return code ? sayPhrase({ code, params: {} }, message) : message;
}
