// The `model.pull` job: download a model's files from the Hugging Face Hub into the shared cache with byte
// progress (resuming interrupted downloads), then open the snapshot as training will and send back its summary;
// the core records the base model from that. HF_TOKEN / HF_HUB_OFFLINE / HF_ENDPOINT come from the environment,
// so a token never lands in the job's stored params.
import { MODEL_PULL_JOB_KIND, ModelPullJobParams, type ModelPullJobResult } from '../../../common/api/models.ts';
import { countOf, say } from '../../../common/api/phrases.ts';
import { formatBytes, pullModel } from '../../formats/hub/index.ts';
import { summarizeModelFolder } from '../../formats/model/summary.ts';
import { defineJobKind, JobCancelled } from '../job-kind.ts';

export const modelPullJob = defineJobKind({
  name: MODEL_PULL_JOB_KIND,
  doc: 'Download a model (config, tokenizer, safetensors) from the Hugging Face Hub and check it opens.',
  params: ModelPullJobParams,
  async run(params, ctx): Promise<ModelPullJobResult> {
    let lastReport = 0;
    let pulled;
    try {
      pulled = await pullModel({
        repo: params.repo,
        revision: params.revision,
        offline: params.offline || undefined,
        signal: ctx.signal,
        onProgress: (p) => {
          const now = Date.now();
          if (p.phase === 'downloading' && now - lastReport < 250) return; // a few reports a second is plenty
          lastReport = now;
          if (p.phase === 'resolving') return ctx.progress(null, say('progress.pullResolving', { repo: params.repo, revision: params.revision }));
          const fraction = p.totalBytes > 0 ? Math.min(1, p.bytes / p.totalBytes) : null;
          ctx.progress(fraction, say('progress.pullBytes', { bytes: p.bytes, total: p.totalBytes, file: p.file ?? '' }));
        },
      });
    } catch (err) {
      if (ctx.signal.aborted) throw new JobCancelled();
      throw err;
    }
    ctx.log(`${params.repo}@${pulled.revision} (${pulled.commit}): ${formatBytes(pulled.downloadedBytes)} downloaded, ${pulled.fromCache.length} of ${countOf(pulled.files.length, 'file')} from the cache`);
    ctx.progress(1, say('progress.pullChecking'));
    const summary = await summarizeModelFolder(pulled.path);
    return { repo: params.repo, revision: pulled.revision, commit: pulled.commit, summary };
  },
});
