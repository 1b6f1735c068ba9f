// Progress lines of the dataset-import, merge, run-bundle, model-pull and Hub-push jobs as phrases: the English a
// job used to write (the CLI and the log still show it) is the phrase's English word for word, and the UI in
// Korean renders each from the catalogue.
import { afterAll, describe, expect, it } from 'vitest';
import { countOf, formatBytes, PHRASES, say, type PhraseCode, type Said } from '../../../src/common/api/phrases.ts';
import { formatBytes as rendererFormatBytes } from '../../../src/renderer/src/format.ts';
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
    '1.2 MiB of 4.7 GiB (model.safetensors)',
  ],
  [say('progress.pullBytes', { bytes: 512, total: 900, file: '' }), '512 B of 900 B'],
  [say('progress.pullChecking'), 'checking the model folder'],
  [say('progress.taskMeasuring'), 'measuring the eval set'],
  [say('progress.pushPreparing', { source: '/tmp/adapter' }), 'preparing /tmp/adapter'],
  [say('progress.pushChecking', { repo: 'me/tuned', done: 0, total: 4 }), 'checking me/tuned · 0 of 4 files'],
  [
    say('progress.pushHashing', { file: 'adapter_model.safetensors', done: 1, total: 4 }),
    'hashing adapter_model.safetensors · 1 of 4 files',
  ],
  [say('progress.pushCommitting', { done: 4, total: 4 }), 'committing · 4 of 4 files'],
  [
    say('progress.pushSending', { bytes: 2_000_000, total: 8_100_000, file: 'model.gguf', done: 2, totalFiles: 4 }),
    '1.9 MiB of 7.7 MiB sent (model.gguf) · 2 of 4 files',
  ],
  [say('progress.pushCommitting', { done: 1, total: 1 }), 'committing · 1 of 1 file'],
  [
    say('progress.pushCommitted', { url: 'https://hf.co/me/tuned', files: 3, commit: 'abc123', uploaded: 16_179 }),
    'Published to https://hf.co/me/tuned: 3 files committed (abc123), 15.8 KiB uploaded',
  ],
  [
    say('progress.pushCommitted', { url: 'https://hf.co/me/tuned', files: 1, commit: 'abc123', uploaded: 0 }),
    "Published to https://hf.co/me/tuned: 1 file committed (abc123), the large files were already in the Hub's storage",
  ],
  [say('progress.pushUnchanged', { url: 'https://hf.co/me/tuned' }), 'Published to https://hf.co/me/tuned: it already held exactly these files, nothing was sent'],
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
    expect(korean(LINES[6][0].phrase, LINES[6][0].message)).toBe('4.7 GiB 중 1.2 MiB (model.safetensors)');
  });

  it('covers every progress code of these jobs', () => {
    const covered = new Set(LINES.map(([said]) => said.phrase.code));
    const codes = (Object.keys(PHRASES) as PhraseCode[]).filter((c) =>
      /^progress\.(rowsRead|merge|bundle|pull|push|task)/.test(c),
    );
    expect(codes.filter((c) => !covered.has(c))).toEqual([]);
  });

  it('sizes are in binary units and counts say "1 file" / "3 files", in the core, the CLI and the pages alike', () => {
    expect(formatBytes(16_179)).toBe('15.8 KiB'); // "15.8 KB uploaded" beside the pages' KiB before
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(150 * 1024 * 1024)).toBe('150 MiB');
    expect(rendererFormatBytes).toBe(formatBytes);
    expect(countOf(1, 'file')).toBe('1 file');
    expect(countOf(3, 'file')).toBe('3 files');
    expect(korean(LINES.at(-3)![0].phrase, LINES.at(-3)![0].message)).toBe(
      'https://hf.co/me/tuned에 게시했습니다: 파일 3개를 커밋했습니다 (abc123), 15.8 KiB 올림',
    );
  });
});
