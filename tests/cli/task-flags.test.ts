// `lora-studio train --task …` and the task's flags become the run config's task and its section; a section flag
// given with another task is refused by the contract naming both, and a config file's section is overlaid, not
// replaced.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildRunConfig, formatTaskMetrics } from '../../src/main/cli/commands/train.ts';

const base = { model: '/models/tiny-bert', dataset: '/data/sst2.jsonl' };

describe('train --task', () => {
  it('classification with its columns and label names', async () => {
    const config = await buildRunConfig({
      ...base,
      task: 'classification',
      textColumn: 'review',
      labels: 'negative, positive',
    });
    expect(config.task).toBe('classification');
    expect(config.classification).toEqual({
      text_column: 'review',
      text_pair_column: null,
      label_column: 'label',
      labels: ['negative', 'positive'],
    });
    expect(config.question_answering).toBeUndefined();
  });

  it('question answering with doc stride and SQuAD v2; no section when no flag of it is given', async () => {
    const config = await buildRunConfig({
      ...base,
      task: 'question-answering',
      maxLength: '384',
      docStride: '96',
      squadV2: true,
    });
    expect(config.question_answering).toMatchObject({
      doc_stride: 96,
      version_2_with_negative: true,
      question_column: 'question',
    });
    expect((await buildRunConfig({ ...base, task: 'question-answering' })).question_answering).toBeUndefined();
  });

  it('refuses a section flag for another task and an unknown task, naming the field', async () => {
    await expect(buildRunConfig({ ...base, labelColumn: 'y' })).rejects.toThrow(
      /classification: .*task "classification".*"causal-lm"/,
    );
    await expect(buildRunConfig({ ...base, task: 'translation' })).rejects.toThrow(/task: /);
    await expect(buildRunConfig({ ...base, task: 'question-answering', docStride: 'wide' })).rejects.toThrow(
      /--doc-stride/,
    );
  });

  it('overlays flags on a config file’s task section', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'task-flags-'));
    const file = join(dir, 'run.json');
    await writeFile(
      file,
      JSON.stringify({
        model: 'm',
        dataset: { path: 'd.jsonl' },
        task: 'classification',
        classification: { label_column: 'sentiment', labels: ['bad', 'good'] },
      }),
    );
    const config = await buildRunConfig({ config: file, textColumn: 'review' });
    expect(config.classification).toEqual({
      text_column: 'review',
      text_pair_column: null,
      label_column: 'sentiment',
      labels: ['bad', 'good'],
    });
  });

  it('prints task metrics without the eval_ prefix or the loss', () => {
    expect(formatTaskMetrics({ eval_loss: 0.3, eval_accuracy: 0.9125, eval_macro_f1: 0.91 })).toBe(
      'accuracy 0.9125 · macro_f1 0.9100',
    );
  });
});
