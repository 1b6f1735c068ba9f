// tasks.predict / tasks.evaluate through the core: the contract refuses a request with no input, and a `task` job
// really runs in a worker — asked of a checkpoint with no task head and no adapter, its error comes back as the
// call's, naming what to give instead; asked of a decoder, it says encoders only.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStudioCore, type StudioCore } from '../../../src/main/core/index.ts';
import { BUNDLED_ENCODER_DIR, BUNDLED_MODEL_DIR } from '../../../src/main/core/bundled.ts';
import { buildPredictRequest } from '../../../src/main/cli/commands/predict.ts';

let dir: string;
let core: StudioCore;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tasks-api-'));
  core = createStudioCore({ dataDir: join(dir, 'data'), testJobs: false });
});
afterAll(async () => {
  await core.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('tasks.*', () => {
  it('refuses a prediction without an input, naming the field', async () => {
    await expect(core.invoke('tasks.predict', { model: BUNDLED_ENCODER_DIR })).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringContaining('input'),
    });
  });

  it('a masked-LM checkpoint alone has no head to predict with: the job’s error says to give an adapter or a tuned folder', async () => {
    await expect(
      core.invoke('tasks.predict', {
        model: BUNDLED_ENCODER_DIR,
        input: { kind: 'classification', text: 'What a lovely day!' },
      }),
    ).rejects.toMatchObject({
      code: 'failed',
      message: expect.stringMatching(/no classification or question-answering head.*--adapter/),
    });
  }, 60_000);

  it('a decoder is refused for task metrics', async () => {
    const request = {
      model: BUNDLED_MODEL_DIR,
      task: 'classification',
      dataset: { path: resolve(BUNDLED_ENCODER_DIR, '../encoder-data/sst2/validation.jsonl') },
    };
    await expect(core.invoke('tasks.evaluate', request)).rejects.toMatchObject({
      code: 'failed',
      message: expect.stringContaining('is a decoder'),
    });
  }, 60_000);
});

describe('lora-studio predict flags', () => {
  it('takes a text or a question with its context, not both, not half', () => {
    expect(buildPredictRequest({ model: 'm', text: 'fine', compareBase: true }).input).toEqual({
      kind: 'classification',
      text: 'fine',
      text_pair: null,
    });
    expect(buildPredictRequest({ model: 'm', question: 'q?', context: 'c.' }).input).toEqual({
      kind: 'question-answering',
      question: 'q?',
      context: 'c.',
    });
    expect(() => buildPredictRequest({ model: 'm', text: 't', question: 'q?', context: 'c' })).toThrow(/either --text/);
    expect(() => buildPredictRequest({ model: 'm', question: 'q?' })).toThrow(/--context/);
    expect(() => buildPredictRequest({ text: 't' })).toThrow(/--model/);
  });
});
