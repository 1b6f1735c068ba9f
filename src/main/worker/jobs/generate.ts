// The `generate` job: answer one conversation in one or more panes (base and tuned side by side), streaming the
// text through JobContext.output; the result holds every pane's final answer. Started as a resident job, its
// worker keeps the model loaded for the next turn (`kept`, this process's one set of loaded models).
import { GENERATE_JOB_KIND, GenerateJobParams, type GenerateJobOutput } from '../../../common/api/chat.ts';
import type { LoadedModels } from '../../engine/generate/loaded-models.ts';
import { defineJobKind, JobCancelled } from '../job-kind.ts';

let kept: LoadedModels | null = null;

export const generateJob = defineJobKind({
  name: GENERATE_JOB_KIND,
  doc: 'Answer a conversation with a model, with or without adapters, in one or more panes; text streams as it is produced.',
  params: GenerateJobParams,
  async run(params, ctx) {
    const { answerPanes } = await import('../../engine/generate/answer-panes.ts'); // on demand, as in train.ts
    const { LoadedModels } = await import('../../engine/generate/loaded-models.ts');
    const { ggufCacheDir } = await import('../../engine/generate/llama-cpp.ts');
    kept ??= new LoadedModels();
    const hooks = { output: (o: GenerateJobOutput) => ctx.output?.(o), log: (line: string) => ctx.log(line), signal: ctx.signal, ggufCacheDir: ggufCacheDir(ctx.dataDir) };
    const result = await answerPanes(params, hooks, kept);
    if (ctx.signal.aborted) throw new JobCancelled();
    return result;
  },
});
