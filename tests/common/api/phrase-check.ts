// What the phrase tests ask of a sentence the core says: its English from the phrase table, and the UI's
// rendering of it in Korean.
import { PHRASES, type Phrase } from '../../../src/common/api/phrases.ts';
import { setCurrentLocale } from '../../../src/renderer/src/i18n/locale.ts';
import { sayPhrase } from '../../../src/renderer/src/i18n/phrase.ts';

/** The English text a phrase stands for, from the one table both sides read. */
export function english(phrase: Phrase): string {
  const entry = PHRASES[phrase.code as keyof typeof PHRASES] as string | ((p: unknown) => string);
  return typeof entry === 'string' ? entry : entry(phrase.params);
}

/** The sentence as the UI in Korean shows it (the English text for a code the catalogue does not know). */
export function korean(phrase: Phrase | undefined, text: string): string {
  setCurrentLocale('ko');
  try {
    return sayPhrase(phrase, text);
  } finally {
    setCurrentLocale('en');
  }
}

export const HANGUL = /[\uac00-\ud7a3]/;
