// tasks.predict / tasks.evaluate: start a `task` job and answer with its result (a prediction takes a second or
// two on a small encoder; the face waits as it would for any call). A failed job's error is the call's.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PredictResult, TASK_JOB_KIND, TaskEvaluateResult, type TaskJobParams } from '../../../../common/api/tasks.ts';
import { say } from '../../../../common/api/phrases.ts';
import { FUSION_CONFIG, isFusionFolder } from '../../../formats/fusion/index.ts';
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

/**
 * An AdapterFusion folder answers predict / task evaluation when it combines encoder task adapters (its config
 * names the trained task head); a combination of decoder adapters is for chat and eval: said before any job starts.
 * An unreadable config is left to the job, which names what is wrong with it.
 */
function refuseDecoderFusion(adapterPath: string | null): void {
  if (!adapterPath || !isFusionFolder(adapterPath)) return;
  let config: unknown;
  try {
    config = JSON.parse(readFileSync(join(adapterPath, FUSION_CONFIG), 'utf8'));
  } catch {
    return;
  }
  if (config && typeof config === 'object' && !('task_head' in config && config.task_head))
    throw new StudioError('invalid_input', say('predict.fusionDecoder', { path: adapterPath }), { field: 'adapterPath' });
}

export const taskHandlers: HandlerGroup<'tasks'> = {
  'tasks.predict': async (request, ctx) => {
    refuseDecoderFusion(request.adapterPath);
    return PredictResult.parse(await runTaskJob(ctx, { mode: 'predict', request }));
  },
  'tasks.evaluate': async (request, ctx) => {
    refuseDecoderFusion(request.adapterPath);
    return TaskEvaluateResult.parse(await runTaskJob(ctx, { mode: 'evaluate', request }));
  },
};
