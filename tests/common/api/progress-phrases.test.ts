// Progress lines of the dataset-import, merge, run-bundle, model-pull and Hub-push jobs as phrases: the English a
// job used to write (the CLI and the log still show it) is the phrase's English word for word, and the UI in
// Korean renders each from the catalogue.
import { afterAll, describe, expect, it } from 'vitest';
import { PHRASES, say, type PhraseCode, type Said } from '../../../src/common/api/phrases.ts';
import { setCurrentLocale } from '../../../src/renderer/src/i18n/locale.ts';
import { sayPhrase } from '../../../src/renderer/src/i18n/phrase.ts';
import { HANGUL, korean } from './phrase-check.ts';

afterAll(() => setCurrentLocale('en'));

/** Each job's line as it was written before phrases (the expected text), beside its phrase. */
const LINES: Array<[Said, string]> = [
  [say('progress.rowsRead', { rows: 123456 }), '123,456 rows read'],
  [say('progress.mergeReading', { file: 'adapter-a' }), 'reading adapter-a'],
  [say('progress.mergeCombining'), 'combining'],
  [say('progress.bundleRendering'), 'rendering the dataset as the run trains on it'],
  [say('progress.bundleWriting'), 'writing the bundle'],
  [
    say('progress.pullResolving', { repo: 'HuggingFaceTB/SmolLM2-135M', revision: 'main' }),
    'resolving HuggingFaceTB/SmolLM2-135M@main',
  ],
  [
    say('progress.pullBytes', { bytes: 1_234_567, total: 5_000_000_000, file: 'model.safetensors' }),
    '1.2 MB of 5.0 GB (model.safetensors)',
  ],
  [say('progress.pullBytes', { bytes: 512, total: 900, file: '' }), '512 B of 900 B'],
  [say('progress.pullChecking'), 'checking the model folder'],
  [say('progress.pushPreparing', { source: '/tmp/adapter' }), 'preparing /tmp/adapter'],
  [say('progress.pushChecking', { repo: 'me/tuned', done: 0, total: 4 }), 'checking me/tuned · 0 of 4 files'],
  [
    say('progress.pushHashing', { file: 'adapter_model.safetensors', done: 1, total: 4 }),
    'hashing adapter_model.safetensors · 1 of 4 files',
  ],
  [say('progress.pushCommitting', { done: 4, total: 4 }), 'committing · 4 of 4 files'],
  [
    say('progress.pushSending', { bytes: 2_000_000, total: 8_100_000, file: 'model.gguf', done: 2, totalFiles: 4 }),
    '2.0 MB of 8.1 MB sent (model.gguf) · 2 of 4 files',
  ],
  [say('progress.pushPublished', { repo: 'me/tuned' }), 'published to me/tuned'],
];

describe('job progress lines as phrases', () => {
  it('say the English each job wrote before, and render in Korean', () => {
    for (const [said, before] of LINES) {
      expect(said.message).toBe(before);
      expect(sayPhrase(said.phrase, said.message)).toBe(before); // English: the core's own words
      const ko = korean(said.phrase, said.message);
      expect(ko, before).toMatch(HANGUL);
      expect(ko).not.toBe(before);
    }
    expect(korean(LINES[6][0].phrase, LINES[6][0].message)).toBe('5.0 GB 중 1.2 MB (model.safetensors)');
  });

  it('covers every progress code of these jobs', () => {
    const covered = new Set(LINES.map(([said]) => said.phrase.code));
    const codes = (Object.keys(PHRASES) as PhraseCode[]).filter((c) =>
      /^progress\.(rowsRead|merge|bundle|pull|push)/.test(c),
    );
    expect(codes.filter((c) => !covered.has(c))).toEqual([]);
  });
});
