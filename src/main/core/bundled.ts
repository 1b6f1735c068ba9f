// What ships with the studio: the default model and the demo dataset under resources/ (see their READMEs), found
// from the sources (src/main/core) or a build (out/main). The demo and the wizard's cards both start here.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DatasetSuggestion } from '../../common/api/datasets.ts';
import { say } from '../../common/api/phrases.ts';

const RESOURCES_DIR =
  [resolve(import.meta.dirname, '../../../resources'), resolve(import.meta.dirname, '../../resources')].find((dir) =>
    existsSync(dir),
  ) ?? resolve(import.meta.dirname, '../../../resources');

export const BUNDLED_MODEL_DIR = join(RESOURCES_DIR, 'default-model');
export const BUNDLED_DATASET_DIR = join(RESOURCES_DIR, 'demo-dataset');
/** The bundled encoder (BertForMaskedLM) and its task datasets (sst2/, squad/) for `demo --task`. */
export const BUNDLED_ENCODER_DIR = join(RESOURCES_DIR, 'encoder-model');
export const BUNDLED_ENCODER_DATA_DIR = join(RESOURCES_DIR, 'encoder-data');

/** The bundled demo dataset as a card: its train and eval files, when this install has them. */
export function bundledDatasets(): DatasetSuggestion[] {
  const train = join(BUNDLED_DATASET_DIR, 'train.jsonl');
  const evalFile = join(BUNDLED_DATASET_DIR, 'eval.jsonl');
  if (!existsSync(train)) return [];
  const rows = readFileSync(train, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '').length;
  const name = say('bundled.datasetName');
  const description = say('bundled.datasetDescription');
  return [
    {
      name: name.message,
      namePhrase: name.phrase,
      description: description.message,
      descriptionPhrase: description.phrase,
      path: train,
      evalPath: existsSync(evalFile) ? evalFile : null,
      format: 'chat',
      columns: { messages: 'messages' },
      rows,
    },
  ];
}
