// `lora-studio eval`: perplexity of the base model and of base + adapter on an eval split, with the examples
// that got most better and most worse. By run (its model, adapter and held-out rows) or by paths.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ShipQuant } from '../../../common/api/chat.ts';
import { SHIP_COST_WARNING_SHARE, shipCost, type Evaluation, type EvaluationExample } from '../../../common/api/runs.ts';
import { StudioError } from '../../core/index.ts';
import { printJson, withCore } from '../context.ts';
import { parseStrictNumber } from '../numbers.ts';
import { followJob, resolveProject } from './train.ts';
import { adapterTaskOf, evalTaskFiles, evalTaskRun } from './predict.ts';
import { evalFusionSingles } from './eval-fusion.ts';
import type { Run } from '../../../common/api/runs.ts';

interface EvalFlags {
  run?: string;
  model?: string;
  adapter?: string;
  dataset?: string;
  project?: string;
  maxLength?: string;
  batchSize?: string;
  noBase?: boolean;
  base?: boolean;
  top?: string;
  ship?: string;
  json?: boolean;
  singles?: boolean;
  taskEval: string[];
}

const fmt = (x: number | null, digits = 4) => (x === null || !Number.isFinite(x) ? '-' : x.toFixed(digits));

function preview(text: string, width = 70): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat;
}

export function printEvaluation(evaluation: Evaluation, examples: EvaluationExample[], top: number): void {
  const lines = [
    `evaluation ${evaluation.id}: ${evaluation.status}${evaluation.error ? ` — ${evaluation.error}` : ''}`,
    `  examples:     ${evaluation.examples} (${evaluation.tokens.toLocaleString('en-US')} scored tokens)`,
    `  base:         loss ${fmt(evaluation.baseLoss)}   perplexity ${fmt(evaluation.basePerplexity, 3)}`,
  ];
  if (evaluation.adapterPath) lines.push(`  with adapter: loss ${fmt(evaluation.adapterLoss)}   perplexity ${fmt(evaluation.adapterPerplexity, 3)}`);
  if (evaluation.ship) {
    lines.push(`  shipped GGUF ${evaluation.ship.toUpperCase()}: loss ${fmt(evaluation.shipLoss)}   perplexity ${fmt(evaluation.shipPerplexity, 3)} (llama.cpp)`);
    const cost = shipCost(evaluation);
    if (cost !== null && cost > SHIP_COST_WARNING_SHARE)
      lines.push(`  warning: ${evaluation.ship.toUpperCase()} gives back ${(cost * 100).toFixed(0)}% of the fine-tune's gain (over ${SHIP_COST_WARNING_SHARE * 100}%); ship a larger type (q6_k, q8_0)`);
  }
  const paired = examples.filter((e) => e.baseNll !== null && e.adapterNll !== null && e.tokens > 0);
  if (paired.length && top > 0) {
    const change = (e: EvaluationExample) => (e.adapterNll! - e.baseNll!) / e.tokens;
    const sorted = [...paired].sort((a, b) => change(a) - change(b));
    lines.push('  most improved (NLL per token, base → adapter):');
    for (const e of sorted.slice(0, top)) lines.push(`    #${e.index} ${fmt(e.baseNll! / e.tokens, 3)} → ${fmt(e.adapterNll! / e.tokens, 3)}  ${preview(e.text)}`);
    lines.push('  most worsened:');
    for (const e of sorted.slice(-top).reverse()) lines.push(`    #${e.index} ${fmt(e.baseNll! / e.tokens, 3)} → ${fmt(e.adapterNll! / e.tokens, 3)}  ${preview(e.text)}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('Perplexity before (base) and after (base + adapter) on an eval split, per example')
    .option('--run <run>', "a run id: its model, final adapter and held-out eval rows")
    .option('--model <dir>', 'base model folder (without --run)')
    .option('--adapter <dir>', 'PEFT adapter folder')
    .option('--dataset <file>', 'dataset to measure (every row; with --run, overrides its eval split)')
    .option('-p, --project <project>', 'project id or name (default: the run’s, else "default")')
    .option('--max-length <n>', 'max sequence length in tokens')
    .option('--batch-size <n>', 'sequences per forward pass', '4')
    .option('--no-base', 'skip measuring the base model')
    .option('--top <n>', 'how many most improved / worsened examples to list', '3')
    .option('--ship <type>', `also measure the exported GGUF at this quantization through llama.cpp (${ShipQuant.options.join(', ')})`)
    .option('--json', 'print JSON')
    .option('--singles', 'with --run of a fusion run: each adapter alone, their uniform average and the learned combination')
    .option('--task-eval <file>', 'with --singles: an eval file measured whole, one table each (repeat per task)', (v: string, prev: string[]) => [...prev, v], [])
    .action(async (flags: EvalFlags, command: Command) => {
      if (flags.singles || flags.taskEval.length) {
        if (!flags.run) throw new StudioError('invalid_input', '--singles needs --run <id> of a fusion run');
        const files = [...(flags.dataset ? [flags.dataset] : []), ...flags.taskEval];
        return withCore(command, (core) => evalFusionSingles(core, flags.run!, files, flags.json === true));
      }
      if (!flags.run && !flags.model) throw new StudioError('invalid_input', 'give --run <id>, or --model <dir> with --dataset <file> (and --adapter <dir>)');
      if (!flags.run && !flags.dataset) throw new StudioError('invalid_input', '--model needs --dataset <file> to measure');
      const ship = flags.ship === undefined ? undefined : ShipQuant.safeParse(flags.ship.toLowerCase());
      if (ship && !ship.success) throw new StudioError('invalid_input', `--ship: expected one of ${ShipQuant.options.join(', ')}, got "${flags.ship}"`);
      await withCore(command, async (core) => {
        // A classification / question-answering run is measured by its task's metrics, not perplexity.
        const run = flags.run ? ((await core.invoke('runs.get', { id: flags.run })) as Run) : null;
        if (run && run.config.task !== 'causal-lm') return evalTaskRun(core, run, { adapter: flags.adapter, dataset: flags.dataset, compareBase: flags.base !== false, worst: parseStrictNumber('--top', flags.top ?? '3'), json: flags.json });
        // without a run, a task adapter (or an encoder AdapterFusion folder) is measured by its task's metrics too
        const task = !run && flags.adapter ? await adapterTaskOf(resolve(flags.adapter)) : null;
        if (task)
          return evalTaskFiles(core, task, { model: flags.model!, adapter: flags.adapter!, dataset: flags.dataset!, maxLength: flags.maxLength, compareBase: flags.base !== false, worst: parseStrictNumber('--top', flags.top ?? '3'), json: flags.json });
        const projectId = flags.run
          ? ((await core.invoke('runs.get', { id: flags.run })) as { projectId: string }).projectId
          : (await resolveProject(core, flags.project)).id;
        const dataset = flags.dataset ? { path: resolve(flags.dataset), eval_split: { kind: 'none' as const } } : undefined;
        const evaluation = (await core.invoke('evaluations.start', {
          projectId,
          runId: flags.run,
          model: flags.model ? resolve(flags.model) : undefined,
          adapterPath: flags.adapter ? resolve(flags.adapter) : undefined,
          dataset,
          max_seq_length: flags.maxLength ? parseStrictNumber('--max-length', flags.maxLength) : undefined,
          batch_size: parseStrictNumber('--batch-size', flags.batchSize ?? '4'),
          compareBase: flags.base !== false,
          ship: ship?.data,
        })) as Evaluation;
        const job = await followJob(core, evaluation.jobId!, 'eval', { cancel: () => core.invoke('jobs.cancel', { id: evaluation.jobId! }) });
        const done = (await core.invoke('evaluations.get', { id: evaluation.id })) as { evaluation: Evaluation; examples: EvaluationExample[] };
        if (flags.json) printJson(done);
        else printEvaluation(done.evaluation, done.examples, parseStrictNumber('--top', flags.top ?? '3'));
        if (job.status !== 'succeeded') process.exitCode = job.status === 'cancelled' ? 130 : 1;
      });
    });
}
