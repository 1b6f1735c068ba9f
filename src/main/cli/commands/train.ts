// `lora-studio train`: start (or resume) a run from a config file and/or flags, follow it with a progress bar,
// and print a summary; plus `lora-studio runs list|show|metrics` to look at runs afterwards. The run is
// recorded in the store through the core, exactly as when the UI starts it.
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Command } from 'commander';
import type { z } from 'zod';
import type { Job } from '../../../common/api/jobs.ts';
import { describeSchemaIssues } from '../../../common/api/schema-walk.ts';
import type { Project } from '../../../common/api/projects.ts';
import { RunConfig, type Run, type RunConfigInput, type RunMetric } from '../../../common/api/runs.ts';
import { StudioError, type StudioCore } from '../../core/index.ts';
import { printJson, printTable, shortTime, withCore } from '../context.ts';
import { formatDuration, ProgressBar } from '../progress.ts';
import { parseStrictNumber } from '../numbers.ts';

export interface TrainFlags {
  config?: string;
  project?: string;
  name?: string;
  model?: string;
  dataset?: string;
  template?: string;
  method?: string;
  device?: string;
  fromScratch?: boolean;
  doubleQuant?: boolean;
  baseDtype?: string;
  epochs?: string;
  maxSteps?: string;
  lr?: string;
  batchSize?: string;
  gradAccum?: string;
  maxLength?: string;
  r?: string;
  alpha?: string;
  dropout?: string;
  targets?: string;
  seed?: string;
  evalRatio?: string;
  evalFile?: string;
  skipBadRows?: boolean;
  evalSteps?: string;
  saveSteps?: string;
  scheduler?: string;
  warmupSteps?: string;
  trainOn?: string;
  packing?: boolean;
  task?: string;
  textColumn?: string;
  textPairColumn?: string;
  labelColumn?: string;
  labels?: string;
  questionColumn?: string;
  contextColumn?: string;
  answersColumn?: string;
  docStride?: string;
  squadV2?: boolean;
  resume?: string;
  acceptDatasetChange?: boolean;
  json?: boolean;
}

function number(flag: string, value: string): number {
  try {
    return parseStrictNumber(`--${flag}`, value);
  } catch (err) {
    throw new StudioError('invalid_input', (err as Error).message);
  }
}

function describeIssues(where: string, issues: readonly z.core.$ZodIssue[]): string {
  return `${where} is not a valid run config:\n${describeSchemaIssues(RunConfig, issues)
    .map((f) => `  - ${f.path === '(input)' ? '(top level)' : f.path}: ${f.message}`)
    .join('\n')}`;
}

/** The run config from a JSON file (paths inside it relative to the file) overlaid with flags (paths relative to the cwd). */
export async function buildRunConfig(flags: TrainFlags, cwd = process.cwd()): Promise<RunConfig> {
  let base: Record<string, unknown> = {};
  let fileDir = cwd;
  if (flags.config) {
    const path = resolve(cwd, flags.config);
    fileDir = dirname(path);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new StudioError('invalid_input', `${path}: cannot read the run config (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    try {
      base = JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      throw new StudioError('invalid_input', `${path}: not valid JSON (${(err as Error).message})`);
    }
    if (base === null || typeof base !== 'object' || Array.isArray(base)) throw new StudioError('invalid_input', `${path}: a run config is a JSON object`);
  }
  const input = structuredClone(base) as RunConfigInput & Record<string, unknown>;
  const dataset = (input.dataset ?? {}) as Record<string, unknown>;
  const lora = (input.lora ?? {}) as Record<string, unknown>;
  const fromFile = (p: unknown) => (typeof p === 'string' && !isAbsolute(p) ? resolve(fileDir, p) : p);
  if (input.model !== undefined) input.model = fromFile(input.model) as string;
  if (dataset.path !== undefined) dataset.path = fromFile(dataset.path);
  const evalSplit = dataset.eval_split as Record<string, unknown> | undefined;
  if (evalSplit?.kind === 'file') evalSplit.path = fromFile(evalSplit.path);

  if (flags.model) input.model = resolve(cwd, flags.model);
  if (flags.dataset) dataset.path = resolve(cwd, flags.dataset);
  if (flags.template) dataset.template = { kind: flags.template };
  if (flags.evalRatio) dataset.eval_split = number('eval-ratio', flags.evalRatio) === 0 ? { kind: 'none' } : { kind: 'ratio', ratio: number('eval-ratio', flags.evalRatio) };
  if (flags.evalFile) {
    if (flags.evalRatio) throw new StudioError('invalid_input', 'give --eval-ratio (a held-out share) or --eval-file (a separate eval file), not both');
    dataset.eval_split = { kind: 'file', path: resolve(cwd, flags.evalFile) };
  }
  if (flags.skipBadRows !== undefined) dataset.skip_bad_rows = flags.skipBadRows;
  if (flags.method) input.method = flags.method as RunConfig['method'];
  if (flags.device) input.executor = flags.device as RunConfig['executor']; // checked by the contract like every field
  if (flags.fromScratch !== undefined) input.from_scratch = flags.fromScratch;
  if (flags.doubleQuant !== undefined) input.bnb_4bit_use_double_quant = flags.doubleQuant;
  if (flags.baseDtype) input.base_dtype = flags.baseDtype as RunConfig['base_dtype']; // checked by the contract
  if (flags.epochs) input.num_train_epochs = number('epochs', flags.epochs);
  if (flags.maxSteps) input.max_steps = number('max-steps', flags.maxSteps);
  if (flags.lr) input.learning_rate = number('lr', flags.lr);
  if (flags.batchSize) input.micro_batch_size = number('batch-size', flags.batchSize);
  if (flags.gradAccum) input.gradient_accumulation_steps = number('grad-accum', flags.gradAccum);
  if (flags.maxLength) input.max_seq_length = number('max-length', flags.maxLength);
  if (flags.seed) input.seed = number('seed', flags.seed);
  if (flags.evalSteps) input.eval_steps = number('eval-steps', flags.evalSteps);
  if (flags.saveSteps) input.save_steps = number('save-steps', flags.saveSteps);
  if (flags.warmupSteps) input.warmup_steps = number('warmup-steps', flags.warmupSteps);
  if (flags.scheduler) input.lr_scheduler_type = flags.scheduler as RunConfig['lr_scheduler_type'];
  if (flags.trainOn) input.train_on = flags.trainOn as RunConfig['train_on'];
  if (flags.packing !== undefined) input.packing = flags.packing;
  if (flags.r) lora.r = number('r', flags.r);
  if (flags.alpha) lora.lora_alpha = number('alpha', flags.alpha);
  if (flags.dropout) lora.lora_dropout = number('dropout', flags.dropout);
  if (flags.targets) lora.target_modules = flags.targets === 'all-linear' ? 'all-linear' : flags.targets.split(',').map((s) => s.trim()).filter(Boolean);
  input.dataset = dataset as RunConfigInput['dataset'];
  input.lora = lora as RunConfigInput['lora'];
  taskFlags(flags, input);

  const parsed = RunConfig.safeParse(input);
  if (!parsed.success) throw new StudioError('invalid_input', describeIssues(flags.config ? resolve(cwd, flags.config) : 'the command line', parsed.error.issues));
  return parsed.data;
}

/** --task and its section's flags (a section is only written when one of its flags is given: the contract refuses a
 *  section for another task, naming it). */
function taskFlags(flags: TrainFlags, input: RunConfigInput & Record<string, unknown>): void {
  if (flags.task) input.task = flags.task as RunConfig['task'];
  const section = (key: 'classification' | 'question_answering', values: Record<string, unknown>) => {
    const given = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
    if (Object.keys(given).length) input[key] = { ...((input[key] as Record<string, unknown> | undefined) ?? {}), ...given };
  };
  section('classification', {
    text_column: flags.textColumn,
    text_pair_column: flags.textPairColumn,
    label_column: flags.labelColumn,
    labels: flags.labels?.split(',').map((l) => l.trim()).filter(Boolean),
  });
  section('question_answering', {
    question_column: flags.questionColumn,
    context_column: flags.contextColumn,
    answers_column: flags.answersColumn,
    doc_stride: flags.docStride === undefined ? undefined : number('doc-stride', flags.docStride),
    version_2_with_negative: flags.squadV2,
  });
}

/** A project by id or name; without one, the project named "default" (created on first use). */
export async function resolveProject(core: StudioCore, ref: string | undefined): Promise<Project> {
  const all = (await core.invoke('projects.list', {})) as Project[];
  if (ref) {
    const match = all.find((p) => p.id === ref) ?? all.find((p) => p.name.toLowerCase() === ref.toLowerCase());
    if (!match) throw new StudioError('not_found', `no project with id or name "${ref}" (see \`lora-studio projects list\`)`);
    return match;
  }
  return all.find((p) => p.name === 'default') ?? ((await core.invoke('projects.create', { name: 'default', description: 'Runs started from the command line' })) as Project);
}

/** Follow a job to its end: a progress bar, its log lines (and per-step metrics, if asked) above the bar. Ctrl-C cancels it. */
export async function followJob(core: StudioCore, jobId: string, label: string, options: { onMetric?: (step: number, values: Record<string, number>) => void; cancel: () => Promise<unknown> }): Promise<Job> {
  const bar = new ProgressBar(label);
  const offs = [
    core.on('job.progress', (e) => e.jobId === jobId && bar.update(e.progress, e.message, e.etaSeconds ?? null)),
    // Debug lines (each checkpoint saved, …) stay in the job's log, not on the terminal.
    core.on('job.log', (e) => e.jobId === jobId && e.level !== 'debug' && bar.log(e.level === 'warn' || e.level === 'error' ? `${e.level}: ${e.line}` : e.line)),
    core.on('job.metric', (e) => e.jobId === jobId && options.onMetric?.(e.step, e.values)),
  ];
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) return; // a second Ctrl-C waits for the same cancel
    interrupted = true;
    bar.log('cancelling (the last checkpoint stays usable)…');
    void options.cancel();
  };
  process.on('SIGINT', onSigint);
  try {
    const job = await core.jobs.waitFor(jobId);
    bar.done(job.status);
    return job;
  } finally {
    process.off('SIGINT', onSigint);
    for (const off of offs) off();
  }
}

function fmt(x: number | null | undefined, digits = 4): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits);
}

/** An encoder task's metrics on one line: "accuracy 0.9120 · macro_f1 0.9118" (the eval_ prefix dropped). */
export function formatTaskMetrics(metrics: Record<string, number>): string {
  return Object.entries(metrics)
    .filter(([key]) => key !== 'eval_loss')
    .map(([key, value]) => `${key.replace(/^eval_/, '')} ${fmt(value)}`)
    .join(' · ');
}

export function printRunSummary(run: Run, lastPoint?: RunMetric): void {
  const s = run.summary;
  const lines = [
    `run "${run.name}" (${run.id}): ${run.status}${run.error ? ` — ${run.error}` : ''}`,
    `  model:        ${run.config.model}`,
    `  dataset:      ${run.config.dataset.path}`,
  ];
  if (s) {
    lines.push(
      `  steps:        ${s.steps}/${s.totalSteps} (epoch ${s.epoch.toFixed(2)})`,
      `  train loss:   ${fmt(s.trainLoss)}`,
      `  eval loss:    ${fmt(s.evalLoss)}   perplexity ${fmt(s.evalPerplexity, 3)}`,
      `  tokens:       ${s.trainedTokens.toLocaleString('en-US')} trained in ${formatDuration(s.seconds)}`,
      `  trainable:    ${s.trainableParameters === null ? '-' : s.trainableParameters.toLocaleString('en-US')} parameters`,
      `  peak memory:  ${s.peakRssBytes === null ? '-' : `${(s.peakRssBytes / 2 ** 20).toFixed(0)} MiB`}`,
      `  adapter:      ${s.adapterPath ?? '-'}`,
    );
    if (s.evalMetrics) lines.push(`  eval metrics: ${formatTaskMetrics(s.evalMetrics)}`);
    if (s.best) lines.push(`  best:         ${s.best.metric} ${fmt(s.best.value)} at step ${s.best.step} (kept in ${s.best.path})`);
  }
  if (!s && lastPoint) lines.push(`  last step:    ${lastPoint.step}, loss ${fmt(lastPoint.values.loss)}`);
  if (run.status === 'cancelled' || run.status === 'failed') lines.push(`  resume with:  lora-studio train --resume ${run.id}`);
  process.stdout.write(lines.join('\n') + '\n');
}

async function lastTrainPoint(core: StudioCore, runId: string): Promise<RunMetric | undefined> {
  const points = (await core.invoke('runs.metrics', { id: runId })) as RunMetric[];
  return points.filter((p) => p.values.loss !== undefined).at(-1);
}

export async function runAndFollow(core: StudioCore, run: Run, json: boolean | undefined): Promise<void> {
  if (!run.jobId) throw new StudioError('internal', `run ${run.id} has no job`);
  const job = await followJob(core, run.jobId, `train ${run.name}`, { cancel: () => core.invoke('runs.cancel', { id: run.id }) });
  const finished = (await core.invoke('runs.get', { id: run.id })) as Run;
  if (json) printJson(finished);
  else printRunSummary(finished, await lastTrainPoint(core, run.id));
  if (job.status === 'failed') process.exitCode = 1;
  if (job.status === 'cancelled') process.exitCode = 130;
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('Fine-tune a model with LoRA: from a run config file and/or flags; follows the run and prints a summary')
    .option('-c, --config <file>', 'run config JSON (see RunConfig in src/common/api/runs.ts); flags override its fields')
    .option('-p, --project <project>', 'project id or name (default: a project named "default")')
    .option('--name <name>', 'a name for the run')
    .option('--model <dir>', 'base model: a Hugging Face folder')
    .option('--dataset <file>', 'dataset file (JSONL, JSON, CSV/TSV, Parquet)')
    .option('--template <kind>', 'auto | chat | plain')
    .option('--method <method>', 'lora | qlora (4-bit NF4 base + LoRA) | full (every weight; writes a model folder)')
    .option('--device <executor>', 'auto (the GPU when the CUDA addon sees one, else the CPU) | cpu | cuda')
    .option('--from-scratch', 'with --method full: random weights from the model folder\'s config.json (pretraining)')
    .option('--no-double-quant', 'with --method qlora: keep the 4-bit blocks\' scales in float32')
    .option('--base-dtype <type>', 'how the CPU holds the frozen base: auto (the checkpoint\'s type) | f32 (exact) | f16 | bf16 (half the memory)')
    .option('--epochs <n>', 'passes over the data')
    .option('--max-steps <n>', 'stop after this many updates (overrides epochs)')
    .option('--lr <rate>', 'learning rate (1e-4 safe, 2e-4 typical)')
    .option('--batch-size <n>', 'micro batch size')
    .option('--grad-accum <n>', 'gradient accumulation steps')
    .option('--max-length <n>', 'max sequence length in tokens')
    .option('--r <n>', 'LoRA rank')
    .option('--alpha <n>', 'LoRA alpha')
    .option('--dropout <p>', 'LoRA dropout')
    .option('--targets <list>', 'comma-separated target modules, or all-linear')
    .option('--seed <n>', 'seed')
    .option('--eval-ratio <share>', 'held-out share for evaluation (0 = none)')
    .option('--eval-file <file>', 'a separate eval file (instead of --eval-ratio)')
    .option('--skip-bad-rows', 'train without the rows the dataset readers list as problems (else the run stops on them)')
    .option('--eval-steps <n>', 'eval loss every n updates')
    .option('--save-steps <n>', 'checkpoint every n updates')
    .option('--scheduler <type>', 'constant | linear | cosine')
    .option('--warmup-steps <n>', 'warm-up updates')
    .option('--train-on <what>', 'completion | all')
    .option('--packing', 'pack several short examples per sequence')
    .option('--task <task>', 'causal-lm (default: chat, instructions, text) | classification | question-answering (encoders: BERT, DistilBERT, RoBERTa)')
    .option('--text-column <name>', 'classification: the text column (default: sentence or text)')
    .option('--text-pair-column <name>', 'classification: the second text of a pair')
    .option('--label-column <name>', 'classification: the label column (default: label)')
    .option('--labels <list>', 'classification: comma-separated label names in class order, e.g. negative,positive')
    .option('--question-column <name>', 'question-answering: the question column (default: question)')
    .option('--context-column <name>', 'question-answering: the context column (default: context)')
    .option('--answers-column <name>', 'question-answering: the answers column (default: answers)')
    .option('--doc-stride <n>', 'question-answering: tokens shared by neighbouring windows of a long context (default 128)')
    .option('--squad-v2', 'question-answering: some questions have no answer (SQuAD v2)')
    .option('--resume <run>', 'continue a cancelled or failed run from its last checkpoint (other options are ignored)')
    .option('--accept-dataset-change', 'with --resume: continue although the dataset file changed since the checkpoint (recorded)')
    .option('--json', 'print the finished run as JSON')
    .action(async (flags: TrainFlags, command: Command) => {
      // Validate before opening the store, so a typo costs nothing.
      const config = flags.resume ? null : await buildRunConfig(flags);
      await withCore(command, async (core) => {
        if (flags.resume) {
          const run = (await core.invoke('runs.resume', { id: flags.resume, acceptDatasetChange: flags.acceptDatasetChange === true })) as Run;
          return runAndFollow(core, run, flags.json);
        }
        const project = await resolveProject(core, flags.project);
        const run = (await core.invoke('runs.start', { projectId: project.id, name: flags.name, config: config! })) as Run;
        process.stderr.write(`run "${run.name}" (${run.id}) in project "${project.name}"; output in ${run.outputDir}\n`);
        return runAndFollow(core, run, flags.json);
      });
    });

  const runs = program.command('runs').description('Fine-tuning runs: list, show, metrics, rename, delete');
  runs
    .command('list')
    .description('List runs, newest first')
    .option('-p, --project <project>', 'only this project (id or name)')
    .option('--json', 'print JSON')
    .action(async (opts: { project?: string; json?: boolean }, command: Command) =>
      withCore(command, async (core) => {
        const projectId = opts.project ? (await resolveProject(core, opts.project)).id : undefined;
        const list = (await core.invoke('runs.list', projectId ? { projectId } : {})) as Run[];
        if (opts.json) return printJson(list);
        if (list.length === 0) return void process.stdout.write('No runs yet. Start one: lora-studio train --config run.json\n');
        printTable(
          ['NAME', 'ID', 'STATUS', 'STEPS', 'EVAL LOSS', 'CREATED'],
          list.map((r) => [r.name, r.id, r.status, r.summary ? `${r.summary.steps}/${r.summary.totalSteps}` : '-', fmt(r.summary?.evalLoss), shortTime(r.createdAt)]),
        );
      }),
    );
  runs
    .command('show')
    .description('Show a run: status, summary, adapter')
    .argument('<run>', 'run id')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }, command: Command) =>
      withCore(command, async (core) => {
        const run = (await core.invoke('runs.get', { id })) as Run;
        if (opts.json) return printJson(run);
        printRunSummary(run, await lastTrainPoint(core, id));
      }),
    );
  runs
    .command('metrics')
    .description('Print the logged points of a run (loss, lr, grad norm, speed, eval loss)')
    .argument('<run>', 'run id')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }, command: Command) =>
      withCore(command, async (core) => {
        const points = (await core.invoke('runs.metrics', { id })) as RunMetric[];
        if (opts.json) return printJson(points);
        printTable(
          ['STEP', 'LOSS', 'LR', 'GRAD NORM', 'TOKENS/S', 'EVAL LOSS'],
          points.map((p) => [String(p.step), fmt(p.values.loss), p.values.lr === undefined ? '-' : p.values.lr.toExponential(2), fmt(p.values.grad_norm, 3), fmt(p.values.tokens_per_second, 0), fmt(p.values.eval_loss)]),
        );
      }),
    );
  runs
    .command('rename')
    .description('Give a run another name')
    .argument('<run>', 'run id')
    .argument('<new-name>', 'the new name')
    .action(async (id: string, name: string, _opts: unknown, command: Command) =>
      withCore(command, async (core) => {
        const before = await core.call('runs.get', { id });
        const renamed = await core.call('runs.rename', { id, name });
        process.stdout.write(`Renamed "${before.name}" to "${renamed.name}"\n`);
      }),
    );
  runs
    .command('delete')
    .description('Delete a finished run and its folder (checkpoints, adapter); evaluations keep their numbers')
    .argument('<run>', 'run id')
    .option('-y, --yes', 'do not ask for confirmation (required when not on a terminal)')
    .action(async (id: string, opts: { yes?: boolean }, command: Command) =>
      withCore(command, async (core) => {
        const run = await core.call('runs.get', { id });
        if (!opts.yes) {
          if (!process.stdin.isTTY) throw new StudioError('invalid_input', `refusing to delete run "${run.name}" and ${run.outputDir} without confirmation: add --yes`);
          const { createInterface } = await import('node:readline/promises');
          const rl = createInterface({ input: process.stdin, output: process.stderr });
          const answer = await rl.question(`Delete run "${run.name}" and its folder ${run.outputDir}? [y/N] `);
          rl.close();
          if (!/^y(es)?$/i.test(answer.trim())) return void process.stderr.write('Not deleted.\n');
        }
        const result = await core.call('runs.delete', { id });
        process.stdout.write(`Deleted run "${run.name}"${result.removedFolder ? ` and ${result.removedFolder}` : ''}\n`);
      }),
    );
}
