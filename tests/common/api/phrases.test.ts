// The core's sentences travel as English text plus a phrase (code + parameters): the phrase must say exactly
// what the English text says (the CLI prints the text, the UI renders the phrase), and the UI in Korean must
// render every phrase the analyst meets on the journey in Korean, falling back to the English text for a code
// it does not know.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PHRASES, type Phrase } from '../../../src/common/api/phrases.ts';
import { RunConfig } from '../../../src/common/api/runs.ts';
import { createStudioCore, type StudioCore } from '../../../src/main/core/index.ts';
import type { StudioError } from '../../../src/main/core/errors.ts';
import { checkOutputTarget } from '../../../src/main/core/output-targets.ts';
import { setCurrentLocale } from '../../../src/renderer/src/i18n/locale.ts';
import { sayIssueMessage, sayPhrase } from '../../../src/renderer/src/i18n/phrase.ts';
import { makeTinyModel, type TinyModel } from '../../fixtures/tiny-models.ts';

let dir: string;
let core: StudioCore;
let tiny: TinyModel;
let dataPath: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lora-phrases-'));
  core = createStudioCore({ dataDir: join(dir, 'data') });
  tiny = await makeTinyModel(join(dir, 'model'), 'llama', { seed: 3 });
  dataPath = join(dir, 'pairs.jsonl');
  writeFileSync(
    dataPath,
    Array.from({ length: 20 }, (_, i) => JSON.stringify({ prompt: `What is ${i} + 1?`, completion: ` ${i + 1}` })).join(
      '\n',
    ) + '\n',
  );
});
afterAll(async () => {
  setCurrentLocale('en');
  await core.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The English text a phrase stands for, from the one table both sides read. */
function english(phrase: Phrase): string {
  const entry = PHRASES[phrase.code as keyof typeof PHRASES] as string | ((p: unknown) => string);
  return typeof entry === 'string' ? entry : entry(phrase.params);
}
const HANGUL = /[\uac00-\ud7a3]/;

describe('the core’s sentences as phrases', () => {
  it('a plan’s warnings, memory parts and formulas each carry a phrase saying exactly their English text, rendered in Korean', async () => {
    const config = RunConfig.parse({
      model: tiny.dir,
      dataset: { path: dataPath },
      lora: { r: 4, lora_alpha: 64 },
      learning_rate: 0.5,
      max_seq_length: 4096,
    });
    const plan = await core.call('models.plan', { config });
    const codes = plan.warnings.map((w) => w.phrase?.code);
    expect(codes).toEqual(
      expect.arrayContaining(['plan.fewExamples', 'plan.learningRate', 'plan.beyondPositions', 'plan.alphaRatio']),
    );
    const said = [
      ...plan.warnings.map((w) => ({ text: w.message, phrase: w.phrase })),
      ...plan.memory.parts.map((p) => ({ text: p.label, phrase: p.labelPhrase })),
      { text: plan.memory.formula, phrase: plan.memory.formulaPhrase },
      { text: plan.time.formula, phrase: plan.time.formulaPhrase },
    ];
    for (const { text, phrase } of said) {
      expect(phrase, text).toBeDefined();
      expect(english(phrase!)).toBe(text);
      setCurrentLocale('ko');
      const korean = sayPhrase(phrase, text);
      setCurrentLocale('en');
      expect(korean, text).toMatch(HANGUL);
      expect(korean).not.toBe(text);
      expect(sayPhrase(phrase, text)).toBe(text); // English: the core's own words
    }
  });

  it('errors the analyst meets (missing model, invalid field, a write into an input) carry their phrase beside the unchanged English', async () => {
    const missing = join(dir, 'no-such-model');
    const planned = await core.invokeSafe('models.plan', { config: { model: missing, dataset: { path: dataPath } } });
    expect(planned.ok).toBe(false);
    if (planned.ok) return;
    expect(planned.error.message).toBe(
      `model: nothing at ${missing}; check the path (the folder must be on the machine running the studio)`,
    );
    expect(planned.error.phrase).toEqual({
      code: 'error.nothingAt',
      params: { field: 'model', path: missing, what: 'folder' },
    });

    const invalid = await core.invokeSafe('projects.create', { name: 'x', colour: 'red' });
    expect(invalid.ok).toBe(false);
    if (invalid.ok) return;
    expect(invalid.error.phrase?.code).toBe('error.invalidInput');
    expect(english(invalid.error.phrase!)).toBe(invalid.error.message);

    // what exports, merges and splits check before they record anything
    const guarded = await checkOutputTarget(
      { out: dataPath, kind: 'dataset-split', inputs: [{ path: dataPath, role: 'dataset' }] },
      join(dir, 'data'),
      'trainOut',
    ).then(
      () => null,
      (err: unknown) => err as StudioError,
    );
    expect(guarded?.toShape()).toMatchObject({
      code: 'invalid_input',
      message: `trainOut: ${dataPath} is the dataset ${dataPath}: an output never replaces an input of the same operation; choose another path`,
    });
    expect(guarded?.phrase?.code).toBe('guard.sameAsInput');
    setCurrentLocale('ko');
    expect(sayPhrase(guarded?.phrase, guarded!.message)).toMatch(/데이터셋.*다른 경로를 고르세요/);
    setCurrentLocale('en');
  });

  it('the UI falls back to the English text for a code it does not know, and translates the contract’s field checks', () => {
    setCurrentLocale('ko');
    expect(sayPhrase({ code: 'plan.fromANewerCore', params: {} }, 'said in English')).toBe('said in English');
    expect(sayPhrase(undefined, 'plain English')).toBe('plain English');
    expect(sayIssueMessage(PHRASES['input.projectName'])).toMatch(HANGUL);
    expect(sayIssueMessage('Too small: expected string to have >=1 characters')).toBe(
      'Too small: expected string to have >=1 characters',
    );
    setCurrentLocale('en');
    expect(sayIssueMessage(PHRASES['input.projectName'])).toBe(PHRASES['input.projectName']);
  });
});
