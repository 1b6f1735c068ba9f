// taskData.*: an encoder task's dataset as a run would read it (label list with counts, SQuAD layout, the rows left
// out) and the bundled encoder and task datasets for the wizard's cards. Reading a file the size of SST-2 or SQuAD
// takes well under a second; a larger one is read by the same streaming readers the run uses.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SUGGESTED_ENCODER_REPOS, type TaskDataSuggestion } from '../../../../common/api/task-data.ts';
import { DatasetReadError } from '../../../formats/dataset/read.ts';
import { inspectTaskData } from '../../../formats/dataset/tasks/index.ts';
import { BUNDLED_ENCODER_DATA_DIR, BUNDLED_ENCODER_DIR } from '../../bundled.ts';
import { StudioError } from '../../errors.ts';
import { requireExisting } from './datasets.ts';
import type { HandlerGroup } from './types.ts';

function bundledTaskData(): TaskDataSuggestion[] {
  const out: TaskDataSuggestion[] = [];
  const sst2 = join(BUNDLED_ENCODER_DATA_DIR, 'sst2/train.jsonl');
  const sst2Eval = join(BUNDLED_ENCODER_DATA_DIR, 'sst2/validation.jsonl');
  if (existsSync(sst2))
    out.push({
      task: 'classification',
      name: 'Sentiment (SST-2 layout)',
      description: 'Short sentences labelled 0 (negative) or 1 (positive), with a validation file.',
      path: sst2,
      evalPath: existsSync(sst2Eval) ? sst2Eval : null,
    });
  const squad = join(BUNDLED_ENCODER_DATA_DIR, 'squad/train-v1.1.json');
  const squadDev = join(BUNDLED_ENCODER_DATA_DIR, 'squad/dev-v1.1.json');
  if (existsSync(squad))
    out.push({
      task: 'question-answering',
      name: 'Short stories (SQuAD v1.1 layout)',
      description: 'Questions about short paragraphs, answered by a span of the paragraph, with a dev file.',
      path: squad,
      evalPath: existsSync(squadDev) ? squadDev : null,
    });
  return out;
}

export const taskDataHandlers: HandlerGroup<'taskData'> = {
  'taskData.inspect': async (input) => {
    requireExisting(input.path, 'file', 'path');
    try {
      return await inspectTaskData(input);
    } catch (err) {
      if (err instanceof DatasetReadError)
        throw new StudioError('invalid_input', err.phrase ? { message: err.message, phrase: err.phrase } : err.message, { field: 'path' });
      throw err;
    }
  },
  'taskData.suggestions': () => ({
    encoderPath: existsSync(join(BUNDLED_ENCODER_DIR, 'config.json')) ? BUNDLED_ENCODER_DIR : null,
    datasets: bundledTaskData(),
    hubRepos: [...SUGGESTED_ENCODER_REPOS],
  }),
};
