// `lora-studio model pull <repo>`: download what a model needs (config, tokenizer files, safetensors) from
// the Hugging Face Hub into the shared cache, with a progress bar, resume, tokens and offline mode. It adds
// `pull` to the `model` command group (created here when the group is not registered yet).
import type { Command } from 'commander';
import { countOf } from '../../../common/api/phrases.ts';
import { formatBytes, pullModel } from '../../formats/hub/index.ts';
import { printJson } from '../context.ts';
import { ProgressBar } from '../progress.ts';
import { hubProgress } from './dataset.ts';

export function registerModelPull(program: Command): void {
  const model = program.commands.find((c) => c.name() === 'model') ?? program.command('model').description('Hugging Face models');
  model
    .command('pull')
    .argument('<repo>', 'Hub model id, e.g. HuggingFaceTB/SmolLM2-135M')
    .description(
      'Download a model (config, tokenizer, safetensors only) into the Hugging Face cache; resumes interrupted downloads. ' +
        'Honours HF_TOKEN, HF_ENDPOINT, HF_HOME / HF_HUB_CACHE and HF_HUB_OFFLINE',
    )
    .option('--revision <rev>', 'branch, tag or commit', 'main')
    .option('--token <token>', 'Hugging Face token for gated or private models (default: HF_TOKEN, then the saved login)')
    .option('--cache-dir <dir>', 'cache folder (default: HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub)')
    .option('--offline', 'resolve from the cache only, never touch the network')
    .option('--json', 'print JSON')
    .action(async (repo: string, opts: { revision: string; token?: string; cacheDir?: string; offline?: boolean; json?: boolean }) => {
      const bar = new ProgressBar('downloading');
      const pulled = await pullModel({
        repo,
        revision: opts.revision,
        token: opts.token,
        cacheDir: opts.cacheDir,
        offline: opts.offline || undefined,
        onProgress: hubProgress(bar),
      });
      bar.done(`${formatBytes(pulled.downloadedBytes)} downloaded, ${pulled.fromCache.length} of ${countOf(pulled.files.length, 'file')} already cached`);
      if (opts.json) return printJson(pulled);
      process.stdout.write(`${repo}@${pulled.revision} (${pulled.commit})\n${pulled.path}\n`);
    });
}
