// The `fusion.evaluate` job: a combination run against each of its adapters alone and their uniform average, on its
// eval split or on eval files (one table each), written to <run>/fusion-eval.json (engine/trainer/evaluate-fusion.ts).
import { FUSION_EVAL_JOB_KIND, FusionEvalJobParams } from '../../../common/api/fusion-eval.ts';
import { defineJobKind } from '../job-kind.ts';
import { reporterFor } from './train.ts';

export const fusionEvalJob = defineJobKind({
  name: FUSION_EVAL_JOB_KIND,
  doc: 'Perplexity of each adapter alone, their uniform average and the learned combination of a fusion run, per eval set.',
  params: FusionEvalJobParams,
  async run(params, ctx) {
    const { evaluateFusionRun } = await import('../../engine/trainer/evaluate-fusion.ts'); // on demand, as in train.ts
    return evaluateFusionRun({ params, signal: ctx.signal, reporter: reporterFor(ctx) });
  },
});
