// Child process for the kill -9 resume test: trains the bigram double, printing each finished checkpoint,
// slowed down so the parent can kill it in the middle of a later step.
import { BatchPlan } from '../../../src/main/engine/data/batches.ts';
import { train } from '../../../src/main/engine/trainer/trainer.ts';
import { BigramLoraDouble } from './bigram-lora-double.ts';
import { killTestHyperparameters, makeExamples, PAD, VOCAB } from './fixtures.ts';

const outputDir = process.argv[2];
const session = new BigramLoraDouble({ vocab: VOCAB, rank: 4, alpha: 8, dropout: 0.1, seed: 9 });
const microStep = session.microStep.bind(session);
session.microStep = async (batch, options) => {
  await new Promise((resolve) => setTimeout(resolve, 40));
  return microStep(batch, options);
};
await train({
  session,
  hyperparameters: killTestHyperparameters(),
  train: new BatchPlan(makeExamples(40, 1), { seed: 42, microBatchSize: 2, maxLength: 16, padId: PAD }),
  outputDir,
  onCheckpoint: (_dir, step) => console.log(`checkpoint ${step}`),
});
