// `lora-studio run-bundle --run ID | --config FILE --out DIR`: a job bundle for Axolotl / TRL + accelerate (see
// core/api/handlers/bundles.ts), written by a `run.bundle` job the command follows; and `lora-studio import-run
// DIR`: a trainer's output folder brought back as a run, with every difference from the bundle's record printed.
import type { Command } from 'commander';
import type { ImportedRunInfo, RunBundleJobResult } from '../../../common/api/bundles.ts';
import type { Run } from '../../../common/api/runs.ts';
import { StudioError, type StudioCore } from '../../core/index.ts';
import { printJson, withCore } from '../context.ts';
import { buildRunConfig, followJob, printRunSummary, resolveProject } from './train.ts';

interface BundleOpts {
  run?: string;
  config?: string;
  out: string;
  project?: string;
  overwrite?: boolean;
  json?: boolean;
}

interface ImportOpts {
  project?: string;
  name?: string;
  base?: string;
  record?: string;
  json?: boolean;
}

async function bundle(core: StudioCore, opts: BundleOpts): Promise<void> {
  if ((opts.run === undefined) === (opts.config === undefined))
    throw new StudioError('invalid_input', 'give exactly one of --run ID and --config FILE');
  const input = opts.run
    ? { runId: opts.run, outDir: opts.out, overwrite: opts.overwrite ?? false }
    : {
        config: await buildRunConfig({ config: opts.config }),
        projectId: (await resolveProject(core, opts.project)).id,
        outDir: opts.out,
        overwrite: opts.overwrite ?? false,
      };
  const started = (await core.invoke('bundles.create', input)) as { jobId: string; outDir: string };
  const job = await followJob(core, started.jobId, 'bundle', {
    cancel: () => core.invoke('jobs.cancel', { id: started.jobId }),
  });
  if (job.status !== 'succeeded')
    throw new StudioError(
      'failed',
      `the bundle was not written: ${job.error ?? job.status} (its log: ${job.id}.log in the data folder's logs/)`,
    );
  const result = core.store.jobs.get(job.id)?.result as RunBundleJobResult;
  if (opts.json) return printJson(result);
  process.stdout.write(
    `Wrote the bundle ${result.outDir}: ${result.trainRows} training and ${result.evalRows} eval rows (data ${result.datasetHash})\n` +
      result.files.map((f) => `  ${f}\n`).join('') +
      `Launch: see ${result.outDir}/README.md (accelerate launch train_trl.py, or axolotl train axolotl.yaml)\n`,
  );
}

export function printImportInfo(info: ImportedRunInfo): void {
  const lines = [`  imported from ${info.source} (${info.trainer}); adapter from ${info.adapterFrom}`];
  if (info.checkpoints.length) lines.push(`  checkpoints: ${info.checkpoints.join(', ')}`);
  lines.push(
    info.record === 'matched'
      ? '  reproducibility record: every checked setting matches'
      : info.record === 'absent'
        ? '  reproducibility record: none found, nothing checked'
        : `  reproducibility record: ${info.mismatches.length} mismatch${info.mismatches.length === 1 ? '' : 'es'}`,
  );
  for (const m of info.mismatches) lines.push(`    MISMATCH ${m.field}: expected ${m.expected}, found ${m.found}`);
  for (const w of info.warnings) lines.push(`  note: ${w}`);
  process.stdout.write(lines.join('\n') + '\n');
}

export function registerRunBundle(program: Command): void {
  program
    .command('run-bundle')
    .description(
      'Write a job bundle to train a run elsewhere with Axolotl or TRL + accelerate (FSDP, DeepSpeed ZeRO-3, Slurm)',
    )
    .option('--run <id>', 'the run to bundle')
    .option('--config <file>', 'a run config (JSON) to bundle instead of a run')
    .requiredOption('--out <dir>', 'a new or empty folder for the bundle')
    .option('--project <id-or-name>', 'with --config: the project the job is listed under (default: "default")')
    .option('--overwrite', 'replace a bundle already in --out')
    .option('--json', 'print JSON')
    .action(async (opts: BundleOpts, command: Command) => withCore(command, (core) => bundle(core, opts)));

  program
    .command('import-run')
    .description(
      "Import a trainer's output folder (PEFT adapter, trainer_state.json) as a run, checked against the base model and the bundle's record",
    )
    .argument('<dir>', "the trainer's output_dir")
    .option('--project <id-or-name>', 'project to add the run to (default: "default")')
    .option('--name <name>', 'name of the run')
    .option(
      '--base <dir>',
      "the base model folder here (default: the record's, or the adapter's base_model_name_or_path)",
    )
    .option('--record <file>', "the bundle's lora-studio-run.json (default: in the folder or beside it)")
    .option('--json', 'print JSON')
    .action(async (dir: string, opts: ImportOpts, command: Command) =>
      withCore(command, async (core) => {
        const project = await resolveProject(core, opts.project);
        const result = (await core.invoke('bundles.importRun', {
          projectId: project.id,
          path: dir,
          ...(opts.name ? { name: opts.name } : {}),
          ...(opts.base ? { model: opts.base } : {}),
          ...(opts.record ? { record: opts.record } : {}),
        })) as { run: Run; info: ImportedRunInfo };
        if (opts.json) return printJson(result);
        printRunSummary(result.run);
        printImportInfo(result.info);
      }),
    );
}
