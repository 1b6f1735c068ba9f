// The `hub.push` job: the files of a publication (folder or GGUF, model card, loss curve, Modelfile) pushed to
// the Hugging Face Hub with byte progress. HF_TOKEN / HF_ENDPOINT / HF_HUB_OFFLINE come from the environment
// (the core puts the stored token there), so a token never lands in the job's stored params. Running the
// same push again resumes: the Hub is not sent what it already holds.
import { HUB_PUSH_JOB_KIND, HubPushJobParams, type HubPushResult } from '../../../common/api/hub.ts';
import { countOf, say } from '../../../common/api/phrases.ts';
import { publishFiles } from '../../formats/card/index.ts';
import { resolveEndpoint } from '../../formats/hub/index.ts';
import { pushToHub } from '../../formats/hub/push.ts';
import { defineJobKind, JobCancelled } from '../job-kind.ts';

const WHAT = { adapter: 'adapter', model: 'model', gguf: 'GGUF' } as const;

export const hubPushJob = defineJobKind({
  name: HUB_PUSH_JOB_KIND,
  doc: 'Push an adapter folder, a model folder or a GGUF file to a Hugging Face Hub repo with a model card.',
  params: HubPushJobParams,
  async run(params, ctx): Promise<HubPushResult> {
    ctx.progress(null, say('progress.pushPreparing', { source: params.source }));
    const set = await publishFiles(params.kind, params.source, params.repo, params.card);
    ctx.log(
      `pushing ${countOf(set.files.length, 'file')} to ${params.repo}@${params.revision}: ${set.files.map((f) => f.path).join(', ')}`,
    );
    let last = 0;
    let outcome;
    try {
      outcome = await pushToHub({
        repo: params.repo,
        files: set.files,
        private: params.private,
        revision: params.revision,
        message: params.message ?? `Upload ${WHAT[params.kind]} with LoRA Studio`,
        replace: params.replace,
        offline: params.offline || undefined,
        signal: ctx.signal,
        onProgress: (p) => {
          const now = Date.now();
          if (p.phase === 'retrying' && p.message) return ctx.log(p.message, 'warn');
          if (p.phase === 'hashing' && now - last < 250) return;
          last = now;
          const fraction = p.totalBytes > 0 ? Math.min(1, p.bytes / p.totalBytes) : null;
          const files = { done: p.filesDone, total: p.filesTotal };
          const said =
            p.phase === 'checking'
              ? say('progress.pushChecking', { repo: params.repo, ...files })
              : p.phase === 'hashing'
                ? say('progress.pushHashing', { file: p.file ?? '', ...files })
                : p.phase === 'committing'
                  ? say('progress.pushCommitting', files)
                  : say('progress.pushSending', {
                      bytes: p.bytes,
                      total: p.totalBytes,
                      file: p.file ?? '',
                      done: p.filesDone,
                      totalFiles: p.filesTotal,
                    });
          ctx.progress(p.phase === 'done' ? 1 : fraction, said);
        },
      });
    } catch (err) {
      if (ctx.signal.aborted) throw new JobCancelled();
      throw err;
    }
    // Ollama pulls GGUF repos from huggingface.co only (hf.co/<user>/<repo>:<quant>).
    const onHuggingFace = new URL(resolveEndpoint(undefined)).host === 'huggingface.co';
    const ollama =
      set.ggufFile && onHuggingFace ? `ollama run hf.co/${params.repo}${set.quant ? `:${set.quant}` : ''}` : null;
    // Where the files are now: the log's last word for the CLI and the log file, and the job's last progress phrase,
    // which Publish… shows in the UI's language when the job ends.
    const done = outcome.commit
      ? say('progress.pushCommitted', { url: outcome.url, files: outcome.sent.length, commit: outcome.commit, uploaded: outcome.uploadedBytes })
      : say('progress.pushUnchanged', { url: outcome.url });
    ctx.log(done.message);
    if (ollama) ctx.log(`Run it with Ollama: ${ollama}`);
    ctx.progress(1, done);
    return {
      repo: params.repo,
      url: outcome.url,
      revision: outcome.revision,
      commit: outcome.commit,
      files: set.files.map((f) => ({ path: f.path, sizeBytes: f.size })),
      uploadedBytes: outcome.uploadedBytes,
      ollama,
    };
  },
});
