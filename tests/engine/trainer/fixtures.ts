// Shared fixtures for the trainer tests: a small synthetic "language" whose answers follow a rule the bigram
// double can learn (next = (3·x + 1) mod V), with untrained prompt tokens of random length before them.
import type { TokenizedExample } from '../../../src/main/engine/data/batches.ts';
import { SeededRandom } from '../../../src/main/engine/data/random.ts';

export const VOCAB = 12;
export const PAD = 0;

export function makeExamples(count: number, seed: number): TokenizedExample[] {
  const random = new SeededRandom(seed);
  const examples: TokenizedExample[] = [];
  for (let n = 0; n < count; n++) {
    const promptLength = 1 + random.below(3);
    const answerLength = 2 + random.below(5);
    const ids: number[] = [];
    const trained: number[] = [];
    for (let i = 0; i < promptLength; i++) {
      ids.push(1 + random.below(VOCAB - 1));
      trained.push(0);
    }
    for (let i = 0; i < answerLength; i++) {
      ids.push((3 * ids[ids.length - 1] + 1) % VOCAB);
      trained.push(1);
    }
    examples.push({ ids: Int32Array.from(ids), trained: Uint8Array.from(trained) });
  }
  return examples;
}

import { RunConfig } from '../../../src/common/api/runs.ts';
import type { TrainerHyperparameters } from '../../../src/main/engine/trainer/trainer.ts';

/** Settings shared by the kill -9 test and its child process. */
export function killTestHyperparameters(): TrainerHyperparameters {
  const defaults = RunConfig.parse({ model: 'm', dataset: { path: 'd' } });
  return { ...defaults, learning_rate: 5e-2, gradient_accumulation_steps: 2, warmup_ratio: 0.1, max_steps: 20, save_steps: 5, save_total_limit: null };
}
