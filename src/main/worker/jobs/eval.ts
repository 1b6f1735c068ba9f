// The `eval` job: perplexity before (base) and after (base + adapter) on an eval split, per example.
import { EVAL_JOB_KIND, EvalJobParams } from '../../../common/api/runs.ts';
import { defineJobKind } from '../job-kind.ts';
import { reporterFor } from './train.ts';

export const evalJob = defineJobKind({
  name: EVAL_JOB_KIND,
  doc: 'Measure perplexity of a base model and of base + adapter on an eval split, keeping per-example NLL.',
  params: EvalJobParams,
  async run(params, ctx) {
    const { evaluateRun } = await import('../../engine/trainer/evaluate-run.ts'); // on demand, as in train.ts
    const { ggufCacheDir } = await import('../../engine/generate/llama-cpp.ts');
    return evaluateRun({ params, signal: ctx.signal, reporter: reporterFor(ctx), ggufCacheDir: ggufCacheDir(ctx.dataDir) });
  },
});
