// `lora-studio compare-methods`: LoRA vs full fine-tuning from one recipe (the `train` flags or a run config file),
// two runs from the same base on the same data, one after the other; `lora-studio sweep --r 2,4,8 [--targets a,b
// --targets a,b,c,d]`: one LoRA run per rank × target set. Both follow the runs in order and print the members side
// by side (metric, training time, trainable parameters, peak memory, size on disk); `lora-studio compare list|show`
// prints groups started earlier (also from the studio). Ctrl-C cancels the whole group.
import type { Command } from 'commander';
import type { RunGroup, RunGroupReport, RunGroupStarted } from '../../../common/api/compare.ts';
import { StudioError, type StudioCore } from '../../core/index.ts';
import { printJson, printTable, withCore } from '../context.ts';
import { parseStrictNumber } from '../numbers.ts';
import { formatDuration } from '../progress.ts';
import { buildRunConfig, followJob, resolveProject, type TrainFlags } from './train.ts';

interface CompareFlags extends Omit<TrainFlags, 'r' | 'targets' | 'resume' | 'acceptDatasetChange'> {
  fullLr?: string;
  r?: string;
  targets?: string[];
}

/** The recipe's flags: the same names and meanings as `lora-studio train`. */
function recipeOptions(command: Command, sweep: boolean): Command {
  return command
    .option('-c, --config <file>', 'run config JSON (the recipe); flags override its fields')
    .option('-p, --project <project>', 'project id or name (default: a project named "default")')
    .option('--name <name>', 'a name for the group (its runs are named after it)')
    .option('--model <dir>', 'base model: a Hugging Face folder')
    .option('--dataset <file>', 'dataset file (JSONL, JSON, CSV/TSV, Parquet)')
    .option('--template <kind>', 'auto | chat | plain')
    .option('--method <method>', sweep ? 'lora | qlora' : 'the LoRA side: lora | qlora (the other side is always full)')
    .option('--device <executor>', 'auto | cpu | cuda')
    .option('--epochs <n>', 'passes over the data')
    .option('--max-steps <n>', 'stop after this many updates (overrides epochs)')
    .option('--lr <rate>', 'learning rate')
    .option('--batch-size <n>', 'micro batch size')
    .option('--grad-accum <n>', 'gradient accumulation steps')
    .option('--max-length <n>', 'max sequence length in tokens')
    .option('--alpha <n>', sweep ? 'LoRA alpha at the first rank; the other ranks keep alpha / r' : 'LoRA alpha')
    .option('--dropout <p>', 'LoRA dropout')
    .option('--seed <n>', 'seed (the same for every run)')
    .option('--eval-ratio <share>', 'held-out share for evaluation (0 = none)')
    .option('--eval-steps <n>', 'evaluate every n updates')
    .option('--save-steps <n>', 'checkpoint every n updates')
    .option('--scheduler <type>', 'constant | linear | cosine')
    .option('--warmup-steps <n>', 'warm-up updates')
    .option('--train-on <what>', 'completion | all')
    .option('--task <task>', 'causal-lm | classification | question-answering')
    .option('--text-column <name>', 'classification: the text column')
    .option('--text-pair-column <name>', 'classification: the second text of a pair')
    .option('--label-column <name>', 'classification: the label column')
    .option('--labels <list>', 'classification: comma-separated label names in class order')
    .option('--question-column <name>', 'question-answering: the question column')
    .option('--context-column <name>', 'question-answering: the context column')
    .option('--answers-column <name>', 'question-answering: the answers column')
    .option('--doc-stride <n>', 'question-answering: tokens shared by neighbouring windows')
    .option('--json', 'print the finished group as JSON');
}

/** `--r 2,4,8` → ranks; each a positive integer, named in the error otherwise. */
export function parseRanks(value: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  return parts.map((p) => {
    let n: number;
    try {
      n = parseStrictNumber('--r', p);
    } catch (err) {
      throw new StudioError('invalid_input', (err as Error).message);
    }
    if (!Number.isInteger(n) || n <= 0) throw new StudioError('invalid_input', `--r: "${p}" is not a rank; give positive whole numbers, e.g. --r 2,4,8`);
    return n;
  });
}

/** Each `--targets a,b` (repeatable) → one target set; "all-linear" alone is PEFT's every-linear choice. */
export function parseTargetSets(values: string[]): (string[] | 'all-linear')[] {
  return values.map((v) => {
    if (v.trim() === 'all-linear') return 'all-linear';
    const names = v.split(',').map((s) => s.trim()).filter(Boolean);
    if (names.length === 0) throw new StudioError('invalid_input', `--targets "${v}" names no module; give comma-separated names, e.g. --targets q_lin,v_lin`);
    return names;
  });
}

const MiB = (b: number | null) => (b === null ? '-' : `${(b / 2 ** 20).toFixed(1)} MiB`);
const num = (x: number | null, digits = 4) => (x === null || !Number.isFinite(x) ? '-' : x.toFixed(digits));

export function printGroup(report: RunGroupReport): void {
  const { group, rows } = report;
  process.stdout.write(`${group.name} (${group.id}): ${group.model} on ${group.dataset}\n`);
  printTable(
    ['RUN', 'STATUS', group.metric.name.toUpperCase(), 'TRAINING TIME', 'TRAINABLE PARAMS', 'PEAK MEMORY', 'SIZE ON DISK'],
    rows.map((r) => [
      r.label,
      r.status,
      num(r.metric),
      r.seconds === null ? '-' : formatDuration(r.seconds),
      r.trainableParameters === null ? '-' : r.trainableParameters.toLocaleString('en-US'),
      MiB(r.peakRssBytes),
      MiB(r.outputBytes),
    ]),
  );
  const key = group.metric.key.replace(/^eval_/, '');
  const values = rows.map((r) => `${group.kind === 'methods' ? (r.method === 'full' ? 'full' : r.method) : `r${r.r}:${Array.isArray(r.targets) ? r.targets.join('+') : r.targets}`}=${num(r.metric)}`);
  process.stdout.write(`compare group=${group.id} kind=${group.kind} metric=${key} ${values.join(' ')}\n`);
}

/** Follows each member in training order to its end; Ctrl-C cancels the group (the waiting members never start). */
async function followGroup(core: StudioCore, group: RunGroup): Promise<RunGroupReport> {
  const cancel = () => core.call('compare.cancel', { id: group.id });
  for (const [index, member] of group.members.entries()) {
    let run = await core.call('runs.get', { id: member.runId });
    if (run.status !== 'queued' && run.status !== 'running') continue; // ended earlier
    // the previous member's end starts this one (in this process): wait for its job
    while (!run.jobId && run.status === 'queued') {
      if ((await core.call('compare.get', { id: group.id })).stalled) {
        process.stderr.write(`a run of the group was cancelled, so the rest wait: continue with lora-studio compare resume ${group.id}\n`);
        return core.call('compare.get', { id: group.id });
      }
      await new Promise((r) => setTimeout(r, 200));
      run = await core.call('runs.get', { id: member.runId });
    }
    if (!run.jobId) continue; // cancelled before its turn
    await followJob(core, run.jobId, `${index + 1}/${group.members.length} ${member.label}`, { cancel });
  }
  return core.call('compare.get', { id: group.id });
}

async function startAndFollow(core: StudioCore, flags: CompareFlags, start: (projectId: string) => Promise<RunGroupStarted>): Promise<void> {
  const project = await resolveProject(core, flags.project);
  const started = await start(project.id);
  for (const w of started.warnings) process.stderr.write(`warning: ${w.message}\n`);
  process.stderr.write(
    `group "${started.group.name}" (${started.group.id}) in project "${project.name}": ${started.group.members.map((m) => m.label).join(' | ')} (one after the other)\n`,
  );
  finish(await followGroup(core, started.group), flags.json);
}

function finish(report: RunGroupReport, json: boolean | undefined): void {
  if (json) printJson(report);
  else printGroup(report);
  if (report.rows.some((r) => r.status === 'failed')) process.exitCode = 1;
  else if (report.rows.some((r) => r.status === 'cancelled')) process.exitCode = 130;
}

export function registerCompare(program: Command): void {
  recipeOptions(
    program
      .command('compare-methods')
      .description('LoRA vs full fine-tuning: two runs from the same base on the same data, one after the other, then their metric, time, parameters, memory and size side by side'),
    false,
  )
    .option('--r <n>', 'LoRA rank')
    .option('--targets <list>', 'comma-separated LoRA target modules, or all-linear')
    .option('--full-lr <rate>', 'learning rate of the full run (full usually wants a smaller one; default: --lr)')
    .action(async (flags: CompareFlags & { targets?: string }, command: Command) => {
      const config = await buildRunConfig(flags as TrainFlags);
      let fullLr: number | undefined;
      if (flags.fullLr !== undefined) {
        try {
          fullLr = parseStrictNumber('--full-lr', flags.fullLr);
        } catch (err) {
          throw new StudioError('invalid_input', (err as Error).message);
        }
      }
      await withCore(command, (core) =>
        startAndFollow(core, flags, (projectId) =>
          core.call('compare.methods', { projectId, name: flags.name, config, ...(fullLr !== undefined ? { full_learning_rate: fullLr } : {}) }),
        ),
      );
    });

  recipeOptions(
    program
      .command('sweep')
      .description('LoRA over several ranks and/or target sets: one run per rank × target set from the same base and data, one after the other, then side by side'),
    true,
  )
    .option('--r <list>', 'ranks to try, comma-separated, e.g. 2,4,8')
    .option('--targets <list>', 'a target set, comma-separated (repeat the flag for each set), e.g. --targets q_lin,v_lin --targets q_lin,k_lin,v_lin,out_lin', (v: string, all: string[] = []) => [...all, v])
    .action(async (flags: CompareFlags, command: Command) => {
      const ranks = flags.r !== undefined ? parseRanks(flags.r) : undefined;
      const sets = flags.targets !== undefined ? parseTargetSets(flags.targets) : undefined;
      // the recipe is the first rank and set (its alpha sets the alpha / r the other ranks keep)
      const first = sets?.[0];
      const config = await buildRunConfig({
        ...(flags as TrainFlags),
        r: ranks ? String(ranks[0]) : undefined,
        targets: first === undefined ? undefined : first === 'all-linear' ? 'all-linear' : first.join(','),
      });
      await withCore(command, (core) =>
        startAndFollow(core, flags, (projectId) =>
          core.call('compare.sweep', { projectId, name: flags.name, config, ...(ranks ? { r: ranks } : {}), ...(sets ? { target_modules: sets } : {}) }),
        ),
      );
    });

  const compare = program.command('compare').description('Comparison groups (LoRA vs full, sweeps): list, show, cancel');
  compare
    .command('list')
    .description('The groups of a project, newest first')
    .option('-p, --project <project>', 'project id or name (default: "default")')
    .option('--json', 'print JSON')
    .action(async (opts: { project?: string; json?: boolean }, command: Command) =>
      withCore(command, async (core) => {
        const project = await resolveProject(core, opts.project);
        const groups = await core.call('compare.list', { projectId: project.id });
        if (opts.json) return printJson(groups);
        if (groups.length === 0) return void process.stdout.write(`No comparison groups in "${project.name}" yet. Start one: lora-studio compare-methods --model … --dataset …\n`);
        printTable(
          ['NAME', 'ID', 'KIND', 'RUNS', 'DONE'],
          groups.map((g) => [g.group.name, g.group.id, g.group.kind, String(g.rows.length), g.done ? 'yes' : 'no']),
        );
      }),
    );
  compare
    .command('show')
    .description('One group side by side')
    .argument('<group>', 'group id')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }, command: Command) =>
      withCore(command, async (core) => {
        const report = await core.call('compare.get', { id });
        if (opts.json) printJson(report);
        else printGroup(report);
      }),
    );
  compare
    .command('resume')
    .description('Continue a stalled group (its command or studio stopped mid-way): the waiting runs train, one after the other')
    .argument('<group>', 'group id')
    .option('--json', 'print the finished group as JSON')
    .action(async (id: string, opts: { json?: boolean }, command: Command) =>
      withCore(command, async (core) => {
        const report = await core.call('compare.resume', { id });
        finish(await followGroup(core, report.group), opts.json);
      }),
    );
  compare
    .command('cancel')
    .description('Stop a group: the training run is cancelled, the waiting ones never start')
    .argument('<group>', 'group id')
    .action(async (id: string, _opts: unknown, command: Command) =>
      withCore(command, async (core) => printGroup(await core.call('compare.cancel', { id }))),
    );
}
