// Step counts read like every other number in the UI: grouped. The training progress line comes from the core's phrase
// (the CLI prints its English, the pages render it in their language), so "step 840/1000000" was ungrouped in all three.
import { afterAll, describe, expect, it } from 'vitest';
import { say } from '../../src/common/api/phrases.ts';
import { setCurrentLocale } from '../../src/renderer/src/i18n/locale.ts';
import { sayPhrase } from '../../src/renderer/src/i18n/phrase.ts';
import { translate } from '../../src/renderer/src/i18n/t.ts';

afterAll(() => setCurrentLocale('en'));

describe('step numbers', () => {
  it('groups the steps of a training progress line in the core, the CLI and both languages ("step 840/1,000,000")', () => {
    const said = say('progress.step', { step: 840, total: 1_000_000, loss: 2.5 });
    expect(said.message).toBe('step 840/1,000,000 · loss 2.5000'); // what the CLI prints and the English page shows
    expect(say('progress.evalBatch', { side: 'adapter', batch: 1200, total: 12_500 }).message).toBe('with adapter: batch 1,200/12,500');
    setCurrentLocale('ko');
    expect(sayPhrase(said.phrase, said.message)).toBe('840/1,000,000 스텝 · 손실 2.5000');
    setCurrentLocale('en');
    expect(sayPhrase(said.phrase, said.message)).toBe(said.message);
    expect(translate('en', 'run.stepLabel', { step: 12_000 })).toBe('Step 12,000');
    expect(translate('ko', 'run.stepLabel', { step: 12_000 })).toBe('12,000 스텝');
    expect(translate('en', 'runs.resumeFrom', { step: 1500 })).toBe('Resume from step 1,500');
    expect(translate('en', 'taskRun.bestAt', { value: '91.2%', step: 2000 })).toBe('91.2% at step 2,000');
  });
});
