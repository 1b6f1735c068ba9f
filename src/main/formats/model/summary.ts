// What the studio records about a base model folder: the folder is opened the way training opens it (config
// through the registry, every weight checked against the architecture's table, the tokenizer loaded), so a
// model that would fail later fails here, with the same message. Used by the core (a local folder) and the
// model.pull job (a Hub snapshot).
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { HfTokenizer } from '../tokenizer/tokenizer.ts';
import { openModelFolder } from './folder.ts';
import { parameterCount } from './tensors.ts';

export interface ModelFolderSummary {
  path: string;
  architecture: string;
  family: string;
  parameterCount: number;
  dtype: string;
  sizeBytes: number;
  layers: number;
  hiddenSize: number;
  vocabSize: number;
  maxPositions: number;
  chatTemplate: string | null;
  tokenizerFiles: string[];
}

export async function summarizeModelFolder(dir: string): Promise<ModelFolderSummary> {
  const folder = await openModelFolder(dir);
  try {
    const spec = folder.spec;
    const dtypes = [...new Set(folder.weights.names().map((n) => folder.weights.info(n).dtype))].sort();
    let sizeBytes = 0;
    for (const file of folder.weights.fileNames) sizeBytes += (await stat(join(dir, file))).size;
    // Loading the tokenizer checks it as training will (tokenizer.json present and readable).
    const tokenizer = HfTokenizer.load(dir);
    return {
      path: dir,
      architecture: spec.architecture,
      family: spec.family,
      parameterCount: parameterCount(spec),
      dtype: dtypes.join(', '),
      sizeBytes,
      layers: spec.numLayers,
      hiddenSize: spec.hiddenSize,
      vocabSize: spec.vocabSize,
      maxPositions: spec.maxPositions,
      chatTemplate: tokenizer.chatTemplate,
      tokenizerFiles: folder.tokenizerFiles,
    };
  } finally {
    await folder.close();
  }
}
