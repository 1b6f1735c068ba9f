// `lora-studio predict`: a tuned encoder's answer — a text's label with every label's probability, or a question's
// answer span in a context with its score — beside the base model's (--compare-base); and the task half of
// `lora-studio eval` (a classification / QA run's metrics: accuracy and macro-F1 with the confusion matrix, or
// SQuAD exact match and F1; the worst examples). Both go through the core's tasks.* methods (a `task` job).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Run } from '../../../common/api/runs.ts';
import { taskEvaluationOfRun as sharedTaskEvaluationOfRun } from '../../../common/api/task-runs.ts';
import type {
  PredictRequest,
  PredictResult,
  TaskAnswer,
  TaskEvaluateRequest,
  TaskEvaluateResult,
} from '../../../common/api/tasks.ts';
import { StudioError, type StudioCore } from '../../core/index.ts';
import { printJson, withCore } from '../context.ts';
import { parseStrictNumber } from '../numbers.ts';

interface PredictFlags {
  model?: string;
  adapter?: string;
  text?: string;
  pair?: string;
  question?: string;
  context?: string;
  compareBase?: boolean;
  maxLength?: string;
  json?: boolean;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export function describeAnswer(a: TaskAnswer): string[] {
  if (a.kind === 'classification')
    return [
      `${a.label} (${pct(a.probabilities[0].probability)})`,
      ...a.probabilities.map((p) => `    ${p.label.padEnd(16)} ${pct(p.probability)}`),
    ];
  if (!a.text) return ['(no answer)'];
  return [
    `"${a.text}" at characters ${a.start}–${a.end} (score ${a.score.toFixed(3)}, ${pct(a.probability)} of the n best)`,
  ];
}

export function printPrediction(result: PredictResult): void {
  const lines = [`model: ${result.model}`];
  const [first, ...rest] = describeAnswer(result.tuned);
  lines.push(`  tuned: ${first}`, ...rest);
  if (result.base) {
    const [b, ...brest] = describeAnswer(result.base);
    lines.push(`  base:  ${b}`, ...brest);
  }
  for (const w of result.warnings) lines.push(`  note: ${w}`);
  process.stdout.write(lines.join('\n') + '\n');
}

export function buildPredictRequest(flags: PredictFlags): PredictRequest {
  if (!flags.model)
    throw new StudioError(
      'invalid_input',
      'give --model <dir> (the base, with --adapter <dir>, or a fine-tuned task model folder)',
    );
  const classify = flags.text !== undefined;
  const qa = flags.question !== undefined || flags.context !== undefined;
  if (classify === qa)
    throw new StudioError(
      'invalid_input',
      'give either --text "…" (classification) or --question "…" with --context "…" (question answering)',
    );
  if (qa && (!flags.question || !flags.context))
    throw new StudioError('invalid_input', 'question answering needs both --question "…" and --context "…"');
  return {
    model: resolve(flags.model),
    adapterPath: flags.adapter ? resolve(flags.adapter) : null,
    compareBase: flags.compareBase === true,
    maxLength: flags.maxLength ? parseStrictNumber('--max-length', flags.maxLength) : 384,
    docStride: 128,
    maxAnswerLength: 30,
    input: classify
      ? { kind: 'classification', text: flags.text!, text_pair: flags.pair ?? null }
      : { kind: 'question-answering', question: flags.question!, context: flags.context! },
  };
}

const f4 = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(4));

export function printTaskEvaluation(r: TaskEvaluateResult): void {
  const keys = r.task === 'classification' ? ['eval_accuracy', 'eval_macro_f1'] : ['eval_exact_match', 'eval_f1'];
  const row = (name: string, m: Record<string, number>) =>
    `  ${name.padEnd(6)} ${keys.map((k) => `${k.slice(5)} ${f4(m[k])}`).join('   ')}   loss ${f4(m.eval_loss)}`;
  const lines = [`${r.task} evaluation of ${r.model} on ${r.examples} examples`, row('tuned', r.tuned.metrics)];
  if (r.base) lines.push(row('base', r.base.metrics));
  if (r.tuned.confusionMatrix) {
    const width = Math.max(6, ...r.labels.map((l) => l.length)) + 1;
    lines.push(
      '  confusion matrix (rows: gold, columns: predicted):',
      `    ${''.padEnd(width)}${r.labels.map((l) => l.padStart(width)).join('')}`,
    );
    r.tuned.confusionMatrix.forEach((counts, g) =>
      lines.push(`    ${r.labels[g].padEnd(width)}${counts.map((c) => String(c).padStart(width)).join('')}`),
    );
  }
  if (r.worst.length) {
    lines.push('  worst examples:');
    for (const w of r.worst)
      lines.push(
        `    #${w.index} ${r.task === 'classification' ? `gold ${w.gold}, predicted ${w.predicted}` : `gold "${w.gold}", predicted "${w.predicted}"`} (${w.score.toFixed(2)})  ${w.text}`,
      );
  }
  for (const w of r.warnings) lines.push(`  note: ${w}`);
  process.stdout.write(lines.join('\n') + '\n');
}

/** The evaluation request of an encoder-task run: its model, its final (or given) adapter, its eval split — built by
 *  the same function the studio's Evaluate uses, so both report the same numbers. */
export function taskEvaluationOfRun(
  run: Run,
  o: { adapter?: string; dataset?: string; compareBase: boolean; worst: number },
): TaskEvaluateRequest {
  const built = sharedTaskEvaluationOfRun(run, {
    adapterPath: o.adapter ? resolve(o.adapter) : null,
    evalFile: o.dataset ? resolve(o.dataset) : null,
    compareBase: o.compareBase,
    worst: o.worst,
  });
  if (built.ok) return built.request;
  if (built.problem === 'not-a-task-run') throw new StudioError('invalid_input', `run ${run.id} is a causal-lm run`);
  throw new StudioError(
    'invalid_input',
    `run ${run.id} has no final adapter yet (status ${run.status}): give --adapter <dir> (e.g. its best/ folder)`,
  );
}

/**
 * The task an adapter folder answers: a task adapter's head (task_head.json) or an encoder AdapterFusion folder's
 * (fusion_config.json's task_head) — classification with its labels, or question answering; null = a language-model
 * adapter or combination (measured by perplexity).
 */
export async function adapterTaskOf(dir: string): Promise<{ task: 'classification'; labels: string[] } | { task: 'question-answering' } | null> {
  const fusion = join(dir, 'fusion_config.json');
  const file = existsSync(fusion) ? fusion : join(dir, 'task_head.json');
  if (!existsSync(file)) return null;
  let head: { architecture?: string; id2label?: Record<string, string> | null } | null | undefined;
  try {
    const json = JSON.parse(await readFile(file, 'utf8')) as { task_head?: typeof head };
    head = file === fusion ? json.task_head : (json as typeof head);
  } catch (e) {
    throw new StudioError('invalid_input', `--adapter: ${file} is not readable JSON (${(e as Error).message})`);
  }
  if (!head || typeof head.architecture !== 'string') return null;
  if (head.architecture.endsWith('ForQuestionAnswering')) return { task: 'question-answering' };
  const id2label = head.id2label ?? {};
  return { task: 'classification', labels: Object.keys(id2label).sort((a, b) => Number(a) - Number(b)).map((k) => id2label[k]) };
}

/** `lora-studio eval --model <dir> --adapter <task adapter or encoder fusion folder> --dataset <file>`: every row of
 *  the file measured by the adapter's task metrics (as an eval file: the file's columns as a run reads them). */
export async function evalTaskFiles(
  core: StudioCore,
  task: NonNullable<Awaited<ReturnType<typeof adapterTaskOf>>>,
  o: { model: string; adapter: string; dataset: string; maxLength?: string; compareBase: boolean; worst: number; json?: boolean },
): Promise<void> {
  const dataset = resolve(o.dataset);
  const request = {
    model: resolve(o.model),
    adapterPath: resolve(o.adapter),
    compareBase: o.compareBase,
    task: task.task,
    dataset: { path: dataset, eval_split: { kind: 'file' as const, path: dataset } },
    ...(task.task === 'classification' ? { classification: { labels: task.labels } } : {}),
    ...(o.maxLength ? { maxLength: parseStrictNumber('--max-length', o.maxLength) } : {}),
    worst: o.worst,
  };
  const result = (await core.invoke('tasks.evaluate', request)) as TaskEvaluateResult;
  if (o.json) printJson(result);
  else printTaskEvaluation(result);
}

/** `lora-studio eval --run <id>` for an encoder-task run. */
export async function evalTaskRun(
  core: StudioCore,
  run: Run,
  o: { adapter?: string; dataset?: string; compareBase: boolean; worst: number; json?: boolean },
): Promise<void> {
  const result = (await core.invoke('tasks.evaluate', taskEvaluationOfRun(run, o))) as TaskEvaluateResult;
  if (o.json) printJson(result);
  else printTaskEvaluation(result);
}

export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description(
      'Classify a text, or answer a question from a context, with a tuned encoder (and its base with --compare-base)',
    )
    .option('--model <dir>', 'the base model folder (with --adapter), or a fully fine-tuned task model folder')
    .option('--adapter <dir>', 'a task adapter (a classification / question-answering run’s adapter or best/ folder), or a fusion folder of such adapters (fuse --mode attention)')
    .option('--text <text>', 'classification: the text')
    .option('--pair <text>', 'classification: the second text of a pair')
    .option('--question <text>', 'question answering: the question')
    .option('--context <text>', 'question answering: the text the answer is in')
    .option('--compare-base', 'also answer with the base model alone')
    .option('--max-length <n>', 'longest input in tokens (a longer context is read in windows)')
    .option('--json', 'print JSON')
    .action(async (flags: PredictFlags, command: Command) => {
      const request = buildPredictRequest(flags); // checked before the store opens
      await withCore(command, async (core) => {
        const result = (await core.invoke('tasks.predict', request)) as PredictResult;
        if (flags.json) printJson(result);
        else printPrediction(result);
      });
    });
}
