import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { en } from '../../src/renderer/src/i18n/en.ts';
import { ko } from '../../src/renderer/src/i18n/ko.ts';
import {
  LOCALE_STORAGE_KEY,
  localeFromLanguages,
  readLocale,
  writeLocale,
} from '../../src/renderer/src/i18n/locale.ts';
import { translate } from '../../src/renderer/src/i18n/t.ts';

function memoryStorage() {
  const data = new Map<string, string>();
  return {
    getItem: (k: string) => data.get(k) ?? null,
    setItem: (k: string, v: string) => void data.set(k, v),
    removeItem: (k: string) => void data.delete(k),
  };
}

describe('UI language', () => {
  it('follows the browser’s first language the studio speaks, English otherwise', () => {
    expect(localeFromLanguages(['ko-KR', 'en-US'])).toBe('ko');
    expect(localeFromLanguages(['fr-FR', 'KO'])).toBe('ko');
    expect(localeFromLanguages(['en-US', 'ko-KR'])).toBe('en');
    expect(localeFromLanguages(['ja-JP'])).toBe('en');
    expect(localeFromLanguages([])).toBe('en');
  });

  it('a stored choice wins over the browser, and a foreign stored value is ignored', () => {
    const storage = memoryStorage();
    expect(readLocale(storage, ['ko-KR'])).toBe('ko');
    writeLocale(storage, 'en');
    expect(readLocale(storage, ['ko-KR'])).toBe('en');
    storage.setItem(LOCALE_STORAGE_KEY, 'xx');
    expect(readLocale(storage, ['ko-KR'])).toBe('ko');
    expect(readLocale(null, ['ko'])).toBe('ko');
  });

  it('the Korean catalogue has exactly the English keys, none empty, and translates (not copies) the sentences', () => {
    expect(Object.keys(ko).sort()).toEqual(Object.keys(en).sort());
    const copied: string[] = [];
    for (const key of Object.keys(en) as (keyof typeof en)[]) {
      const value = ko[key];
      if (typeof value === 'string') {
        expect(value.trim(), key).not.toBe('');
        // Proper names and symbols stay as they are; a sentence left in English is a missed translation.
        if (value === en[key] && /[a-z]{3,} [a-z]{3,}/.test(value)) copied.push(key);
      } else expect(typeof en[key], key).toBe('function');
    }
    expect(copied).toEqual([]);
  });

  it('fills parameters and writes numbers in each language’s notation', () => {
    expect(translate('en', 'settings.cpuValue', { threads: 12345, memory: '8 GiB' })).toBe(
      '12,345 threads, 8 GiB memory',
    );
    expect(translate('ko', 'settings.cpuValue', { threads: 12345, memory: '8 GiB' })).toBe(
      '스레드 12,345개, 메모리 8 GiB',
    );
    expect(translate('ko', 'nav.chat')).toBe('채팅');
  });

  it('counts in the wizard’s dataset check read right for one and for many', () => {
    expect(translate('en', 'wizard.task.skipBadRows', { count: 1 })).toBe('Train without the 1 row listed');
    expect(translate('en', 'wizard.task.skipBadRows', { count: 1200 })).toBe('Train without the 1,200 rows listed');
    expect(translate('en', 'wizard.task.qaSummary', { answers: 1, contexts: 1, unanswerable: 1 })).toBe(
      '1 answer span in 1 context; 1 question without an answer.',
    );
    expect(translate('en', 'wizard.task.qaSummary', { answers: 2, contexts: 3, unanswerable: 0 })).toBe(
      '2 answer spans in 3 contexts.',
    );
    expect(translate('ko', 'wizard.task.skipBadRows', { count: 1200 })).toBe('나열된 행 1,200개를 빼고 학습');
  });

  it('the wizard’s review writes its dataset figures grouped, as the rest of the UI does', () => {
    expect(translate('en', 'wizard.reviewData', { examples: 6901, tokens: 1234 })).toBe(
      '6,901 training examples (≈1,234 tokens each)',
    );
    expect(translate('ko', 'wizard.reviewData', { examples: 6901, tokens: 1234 })).toBe('학습 예제 6,901개 (각 약 1,234 토큰)');
  });

  it('the Korean catalogue calls fine-tuning 파인튜닝 everywhere, never 미세 조정', () => {
    // the ship warning said "미세 조정" where the navigation, the wizard and Chat say "파인튜닝"
    // read as written (the file, not the transpiled functions): function entries' text counts too
    const source = readFileSync(fileURLToPath(new URL('../../src/renderer/src/i18n/ko.ts', import.meta.url)), 'utf8');
    const offending = source.split('\n').filter((line) => /미세\s*조정/.test(line));
    expect(offending).toEqual([]);
    expect(translate('ko', 'evaluate.shipWarning', { quant: 'Q4_K_M', share: 0.42 })).toBe('Q4_K_M가 파인튜닝으로 얻은 개선의 42%를 잃습니다');
  });

  it('the dataset preview writes its truncated share with the catalogue’s one percent formatter', () => {
    expect(translate('en', 'preview.truncated', { count: 1200, share: 0.04, cut: 2048 })).toBe('1,200 (4%) longer than 2,048 tokens: they will be cut');
    expect(translate('en', 'preview.truncated', { count: 3, share: 0.123, cut: 40 })).toBe('3 (12.3%) longer than 40 tokens: they will be cut');
    expect(translate('ko', 'preview.truncated', { count: 1200, share: 0.004, cut: 2048 })).toBe('1,200개(0.4%)가 2,048 토큰보다 길어 잘립니다');
  });

  it('a learned combination’s default name reads like Combine’s: the adapters’ names, the way in lower case after them', () => {
    // it was "combination: Learned weights" (the mode's radio label, capitalised mid-name)
    expect(translate('en', 'fusion.runName', { names: 'sums a + sums b', mode: 'weights' })).toBe('sums a + sums b (learned weights)');
    expect(translate('en', 'fusion.runName', { names: 'a + b', mode: 'attention' })).toBe('a + b (learned attention)');
    expect(translate('ko', 'fusion.runName', { names: 'sums a + sums b', mode: 'weights' })).toBe('sums a + sums b (학습된 가중치)');
    expect(translate('en', 'fusion.runName', { names: 'x', mode: 'weights' })).not.toMatch(/[a-z] [A-Z]/);
  });
});
