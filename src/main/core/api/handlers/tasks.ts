// tasks.predict / tasks.evaluate: start a `task` job and answer with its result (a prediction takes a second or
// two on a small encoder; the face waits as it would for any call). A failed job's error is the call's.
import { PredictResult, TASK_JOB_KIND, TaskEvaluateResult, type TaskJobParams } from '../../../../common/api/tasks.ts';
import { say } from '../../../../common/api/phrases.ts';
import { isFusionFolder } from '../../../formats/fusion/index.ts';
import { StudioError } from '../../errors.ts';
import type { CoreContext, HandlerGroup } from './types.ts';

function runTaskJob(ctx: CoreContext, params: TaskJobParams): Promise<unknown> {
  return new Promise((resolve, reject) => {
    ctx.jobs.start(TASK_JOB_KIND, params, {
      hooks: {
        onEnd: (ended) => {
          if (ended.status === 'succeeded') resolve(ended.result);
          else
            reject(
              new StudioError('failed', ended.error ?? `the ${params.mode} job ${ended.status}`, { jobId: ended.id }),
            );
        },
      },
    });
  });
}

export const taskHandlers: HandlerGroup<'tasks'> = {
  'tasks.predict': async (request, ctx) => {
    // AdapterFusion combines decoder adapters (chat, eval); encoder task adapters cannot be fused yet
    if (request.adapterPath && isFusionFolder(request.adapterPath))
      throw new StudioError('invalid_input', say('predict.fusionEncoder', { path: request.adapterPath }), { field: 'adapterPath' });
    return PredictResult.parse(await runTaskJob(ctx, { mode: 'predict', request }));
  },
  'tasks.evaluate': async (request, ctx) =>
    TaskEvaluateResult.parse(await runTaskJob(ctx, { mode: 'evaluate', request })),
};
