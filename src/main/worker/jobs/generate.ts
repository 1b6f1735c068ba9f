// The `generate` job: answer one conversation in one or more panes (base and tuned side by side), streaming the
// text through JobContext.output; the result holds every pane's final answer.
import { GENERATE_JOB_KIND, GenerateJobParams } from '../../../common/api/chat.ts';
import { defineJobKind, JobCancelled } from '../job-kind.ts';

export const generateJob = defineJobKind({
  name: GENERATE_JOB_KIND,
  doc: 'Answer a conversation with a model, with or without adapters, in one or more panes; text streams as it is produced.',
  params: GenerateJobParams,
  async run(params, ctx) {
    const { answerPanes } = await import('../../engine/generate/answer-panes.ts'); // on demand, as in train.ts
    const result = await answerPanes(params, { output: (o) => ctx.output?.(o), log: (line) => ctx.log(line), signal: ctx.signal });
    if (ctx.signal.aborted) throw new JobCancelled();
    return result;
  },
});
