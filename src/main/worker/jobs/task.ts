// The `task` job: an encoder task's predictions (a text → labels; a question + context → the answer span) or its
// metrics on an eval set, for the tuned model and its base (engine/trainer/task-infer.ts).
import { say } from '../../../common/api/phrases.ts';
import { TASK_JOB_KIND, TaskJobParams } from '../../../common/api/tasks.ts';
import { defineJobKind } from '../job-kind.ts';

export const taskJob = defineJobKind({
  name: TASK_JOB_KIND,
  doc: 'Predict with, or evaluate, a tuned encoder (classification or extractive QA), and its base to compare.',
  params: TaskJobParams,
  async run(params, ctx) {
    const { predictTask, evaluateTaskModel } = await import('../../engine/trainer/task-infer.ts'); // on demand, as in train.ts
    if (params.mode === 'predict') return predictTask(params.request);
    ctx.progress(null, say('progress.taskMeasuring'), null);
    return evaluateTaskModel(params.request, ctx.signal);
  },
});
