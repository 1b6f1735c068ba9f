// `lora-studio push --adapter DIR | --model DIR | --gguf FILE --repo user/name`: publish to the Hugging Face
// Hub with a model card, through the same `hub.push` job as Publish… in the UI (progress bar, Ctrl-C
// cancels, running it again resumes). HF_TOKEN / the token stored in Settings, HF_ENDPOINT and
// HF_HUB_OFFLINE apply.
import type { Command } from 'commander';
import { HubPushResult, type PublishKind } from '../../../common/api/hub.ts';
import type { Job } from '../../../common/api/jobs.ts';
import { countOf } from '../../../common/api/phrases.ts';
import { StudioError } from '../../core/index.ts';
import { printJson, withCore } from '../context.ts';
import { followJob } from './train.ts';

interface PushOpts {
  adapter?: string;
  model?: string;
  gguf?: string;
  repo: string;
  private?: boolean;
  revision?: string;
  message?: string;
  replace?: boolean;
  json?: boolean;
}

export function registerPush(program: Command): void {
  program
    .command('push')
    .description(
      'Push an adapter folder, a merged model folder or a GGUF file to the Hugging Face Hub with a model card; run it again to resume. ' +
        'Uses HF_TOKEN or the token stored in Settings (it needs write access), HF_ENDPOINT and HF_HUB_OFFLINE',
    )
    .option('--adapter <dir>', 'a PEFT adapter folder')
    .option('--model <dir>', 'a model folder (a merged export)')
    .option('--gguf <file>', 'a GGUF file (named <repo>-<QUANT>.gguf on the Hub)')
    .requiredOption('--repo <user/name>', 'the Hub repo (created when missing)')
    .option('--private', 'create the repo private')
    .option('--revision <branch>', 'branch to commit to (created from main when missing)', 'main')
    .option('--message <text>', 'commit message')
    .option(
      '--replace',
      'push into a repo that already holds other files (same names are replaced, nothing is deleted)',
    )
    .option('--json', 'print JSON')
    .action(async (opts: PushOpts, command: Command) => {
      const given = (['adapter', 'model', 'gguf'] as const).filter((k) => opts[k] !== undefined);
      if (given.length !== 1) {
        throw new StudioError(
          'invalid_input',
          `give exactly one of --adapter DIR, --model DIR or --gguf FILE${given.length > 1 ? ` (got ${given.map((g) => `--${g}`).join(' and ')})` : ''}`,
        );
      }
      const kind: PublishKind = given[0]!;
      await withCore(command, async (core) => {
        const job = (await core.invoke('hub.push', {
          path: opts[kind]!,
          kind,
          repo: opts.repo,
          private: opts.private ?? false,
          revision: opts.revision ?? 'main',
          ...(opts.message ? { message: opts.message } : {}),
          replace: opts.replace ?? false,
        })) as Job;
        const ended = await followJob(core, job.id, `push ${opts.repo}`, {
          cancel: () => core.invoke('jobs.cancel', { id: job.id }),
        });
        if (ended.status === 'cancelled') {
          process.stderr.write(
            `cancelled; run the same command again to resume (what reached the Hub is not sent again)\n`,
          );
          process.exitCode = 130;
          return;
        }
        if (ended.status !== 'succeeded')
          throw new StudioError('failed', ended.error ?? `the push ended ${ended.status}`);
        const record = core.store.jobs.get(job.id);
        const result = HubPushResult.parse(record?.result);
        if (opts.json) return printJson(result);
        const lines = [
          result.commit
            ? `Pushed ${countOf(result.files.length, 'file')} to ${result.url} (commit ${result.commit.slice(0, 12)})`
            : `${result.url} already holds exactly these files`,
          ...result.files.map((f) => `  ${f.path}`),
        ];
        if (result.ollama) lines.push(`Run it with Ollama: ${result.ollama}`);
        process.stdout.write(lines.join('\n') + '\n');
      });
    });
}
