// `lora-studio fuse`: learn how to combine frozen LoRA adapters of one base model on a dataset (issue 15) — a run
// with a `fusion` section, recorded and followed like any run. --mode weights learns one weight per adapter
// (optionally per layer) and writes a new PEFT adapter that merges and exports like any other; --mode attention
// trains AdapterFusion's per-token attention and writes a fusion folder that evaluation loads (not mergeable; chat does not load it yet).
// Classification adapters of an encoder (task_type SEQ_CLS) make it a classification run over their labels, extractive
// QA adapters (QUESTION_ANS) a question-answering run: the head trains with the combination and the comparison is by
// accuracy, resp. F1 and exact match.
// The run's fusion-report.json compares the result with each adapter alone and their uniform average.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { FUSION_LEARNING_RATE, FUSION_STEPS, FusionSection } from '../../../common/api/fusion.ts';
import { RunConfig, type Run } from '../../../common/api/runs.ts';
import { describeSchemaIssues } from '../../../common/api/schema-walk.ts';
import { StudioError } from '../../core/index.ts';
import { withCore } from '../context.ts';
import { parseStrictNumber } from '../numbers.ts';
import { buildRunConfig, resolveProject, runAndFollow, type TrainFlags } from './train.ts';

/** The fusion run's default learning rates: the studio's dialog uses the same table (common/api/fusion.ts). */
export const FUSE_LEARNING_RATE = FUSION_LEARNING_RATE;

export interface FuseFlags {
  base: string;
  adapter: string[];
  dataset: string;
  evalFile?: string;
  evalRatio?: string;
  mode: string;
  perLayer?: boolean;
  unconstrained?: boolean;
  rank?: string;
  attentionDim?: string;
  maxSteps?: string;
  lr?: string;
  batchSize?: string;
  gradAccum?: string;
  maxLength?: string;
  seed?: string;
  template?: string;
  project?: string;
  name?: string;
  json?: boolean;
  labels?: string;
  textColumn?: string;
  labelColumn?: string;
  questionColumn?: string;
  contextColumn?: string;
  answersColumn?: string;
  device?: string;
}

const num = (flag: string, v: string) => {
  try {
    return parseStrictNumber(`--${flag}`, v);
  } catch (e) {
    throw new StudioError('invalid_input', (e as Error).message);
  }
};

/** The run config of a fuse command: the train flags it shares, then the fusion section (checked by the contract). */
export async function buildFuseConfig(flags: FuseFlags, cwd = process.cwd()): Promise<RunConfig> {
  if (flags.mode !== 'weights' && flags.mode !== 'attention')
    throw new StudioError('invalid_input', `--mode must be weights or attention, got "${flags.mode}"`);
  if (flags.adapter.length < 2)
    throw new StudioError(
      'invalid_input',
      `give at least two --adapter folders to combine (got ${flags.adapter.length})`,
    );
  for (const a of flags.adapter)
    if (!existsSync(join(resolve(cwd, a), 'adapter_config.json')))
      throw new StudioError(
        'invalid_input',
        `--adapter ${resolve(cwd, a)}: no adapter_config.json there (a PEFT adapter folder is expected)`,
      );
  if (flags.mode === 'attention' && (flags.perLayer || flags.unconstrained || flags.rank !== undefined))
    throw new StudioError(
      'invalid_input',
      '--per-layer, --unconstrained and --rank shape learned weights: they belong to --mode weights',
    );
  const task = await adaptersTask(flags.adapter.map((a) => resolve(cwd, a)));
  if (task.kind === 'other') throw new StudioError('invalid_input', task.reason);
  if (task.kind !== 'classification' && (flags.labels !== undefined || flags.textColumn !== undefined || flags.labelColumn !== undefined))
    throw new StudioError('invalid_input', `--labels, --text-column and --label-column are for classification adapters (these are ${task.kind} adapters)`);
  if (task.kind !== 'question-answering' && (flags.questionColumn !== undefined || flags.contextColumn !== undefined || flags.answersColumn !== undefined))
    throw new StudioError('invalid_input', `--question-column, --context-column and --answers-column are for question-answering adapters (these are ${task.kind} adapters)`);
  const train: TrainFlags = {
    model: flags.base,
    ...(task.kind === 'classification'
      ? {
          task: 'classification',
          // the dataset's labels by name; by default every adapter's labels, in the adapters' order
          labels: flags.labels ?? task.labels.join(','),
          textColumn: flags.textColumn,
          labelColumn: flags.labelColumn,
        }
      : task.kind === 'question-answering'
        ? { task: 'question-answering', questionColumn: flags.questionColumn, contextColumn: flags.contextColumn, answersColumn: flags.answersColumn }
        : {}),
    dataset: flags.dataset,
    template: flags.template,
    maxSteps: flags.maxSteps ?? String(FUSION_STEPS[flags.mode]),
    lr: flags.lr ?? String(FUSE_LEARNING_RATE[flags.mode]),
    batchSize: flags.batchSize,
    gradAccum: flags.gradAccum,
    maxLength: flags.maxLength,
    seed: flags.seed,
    device: flags.device,
    evalRatio: flags.evalFile ? undefined : (flags.evalRatio ?? '0.1'),
  };
  const config = await buildRunConfig(train, cwd);
  if (flags.evalFile) config.dataset.eval_split = { kind: 'file', path: resolve(cwd, flags.evalFile) };
  const fusion = FusionSection.safeParse({
    adapters: flags.adapter.map((a) => resolve(cwd, a)),
    mode: flags.mode,
    per_layer: flags.perLayer === true,
    weighting: flags.unconstrained ? 'unconstrained' : 'softmax',
    rank: flags.rank === undefined ? null : num('rank', flags.rank),
    ...(flags.attentionDim === undefined ? {} : { attention_dim: num('attention-dim', flags.attentionDim) }),
  });
  if (!fusion.success) {
    const problems = describeSchemaIssues(FusionSection, fusion.error.issues).map((f) => `  - ${f.path}: ${f.message}`);
    throw new StudioError('invalid_input', `the fuse options are not valid:\n${problems.join('\n')}`);
  }
  return RunConfig.parse({ ...config, fusion: fusion.data });
}

type AdaptersTask = { kind: 'causal-lm' } | { kind: 'question-answering' } | { kind: 'classification'; labels: string[] } | { kind: 'other'; reason: string };

/**
 * What the adapters were trained for, from adapter_config.json's task_type (and task_head.json's labels): all
 * causal-LM, or all classification (SEQ_CLS: the run becomes a classification run over their labels); a mix, or
 * another encoder task, is refused naming the adapter.
 */
export async function adaptersTask(dirs: readonly string[]): Promise<AdaptersTask> {
  const kinds: { dir: string; type: string; labels: string[] }[] = [];
  for (const dir of dirs) {
    let type: string;
    try {
      type = (JSON.parse(await readFile(join(dir, 'adapter_config.json'), 'utf8')) as { task_type?: string }).task_type ?? 'CAUSAL_LM';
    } catch (e) {
      return { kind: 'other', reason: `--adapter ${dir}: adapter_config.json is not readable JSON (${(e as Error).message})` };
    }
    let labels: string[] = [];
    if (type === 'SEQ_CLS') {
      const head = join(dir, 'task_head.json');
      const id2label = existsSync(head) ? (JSON.parse(await readFile(head, 'utf8')) as { id2label?: Record<string, string> | null }).id2label : null;
      if (!id2label) return { kind: 'other', reason: `--adapter ${dir}: a classification adapter without its labels (task_head.json with id2label); train it with lora-studio train --task classification --labels …` };
      labels = Object.keys(id2label).sort((a, b) => Number(a) - Number(b)).map((k) => id2label[k]);
    } else if (type !== 'CAUSAL_LM' && type !== 'QUESTION_ANS')
      return { kind: 'other', reason: `--adapter ${dir}: task_type ${type}; fuse combines causal-LM, classification (SEQ_CLS) or question-answering (QUESTION_ANS) adapters` };
    kinds.push({ dir, type, labels });
  }
  const types = new Set(kinds.map((k) => k.type));
  const named = { CAUSAL_LM: 'a causal-LM', SEQ_CLS: 'a classification', QUESTION_ANS: 'a question-answering' } as Record<string, string>;
  if (types.size > 1) {
    const [a, b] = [kinds[0], kinds.find((k) => k.type !== kinds[0].type)!];
    return { kind: 'other', reason: `--adapter ${a.dir} is ${named[a.type]} adapter and --adapter ${b.dir} ${named[b.type]} one: combine adapters of one kind` };
  }
  if (types.has('QUESTION_ANS')) return { kind: 'question-answering' };
  if (!types.has('SEQ_CLS')) return { kind: 'causal-lm' };
  return { kind: 'classification', labels: [...new Set(kinds.flatMap((k) => k.labels))] };
}

interface FusionReportFile {
  mode: string;
  comparison: {
    metric?: 'perplexity' | 'accuracy' | 'f1';
    single: { name: string; value?: number; perplexity?: number }[];
    uniform: number;
    learned: number;
    extra?: { metric: 'exact_match'; single: number[]; uniform: number; learned: number };
  };
}

/** The comparison a finished fusion run wrote (fusion-report.json), as lines. */
export async function fusionReportLines(run: Run): Promise<string[]> {
  const path = join(run.outputDir ?? '', 'fusion-report.json');
  if (!existsSync(path)) return [];
  const r = JSON.parse(await readFile(path, 'utf8')) as FusionReportFile;
  const out = run.summary?.adapterPath ?? '-';
  const metric = r.comparison.metric ?? 'perplexity';
  const digits = metric === 'perplexity' ? 3 : 4;
  const x = r.comparison.extra;
  const em = (v: number | undefined) => (x && v !== undefined ? `, exact match ${v.toFixed(digits)}` : '');
  return [
    `${metric === 'f1' ? 'F1' : metric} on the eval split (${r.mode} mode${metric === 'perplexity' ? ', lower is better' : ', higher is better'}):`,
    ...r.comparison.single.map((s, k) => `  ${s.name} alone: ${(s.value ?? s.perplexity ?? NaN).toFixed(digits)}${em(x?.single[k])}`),
    `  uniform average: ${r.comparison.uniform.toFixed(digits)}${em(x?.uniform)}`,
    `  learned combination: ${r.comparison.learned.toFixed(digits)}${em(x?.learned)}`,
    r.mode === 'attention'
      ? `${out} is a fusion folder: evaluation loads it; it cannot be merged into one model or GGUF (use --mode weights for a mergeable adapter)`
      : `${out} is a PEFT adapter: merge and export it like any other`,
  ];
}

const collect = (v: string, all: string[]) => [...all, v];

export function registerFuse(program: Command): void {
  program
    .command('fuse')
    .description(
      'Learn how to combine frozen LoRA adapters on a dataset: weights (a new mergeable adapter) or AdapterFusion attention (a fusion folder)',
    )
    .requiredOption('--base <dir>', 'the base model folder the adapters were trained on')
    .option('--adapter <dir>', 'an adapter folder to combine (repeat: two or more)', collect, [])
    .requiredOption('--dataset <file>', 'dataset to learn the combination on (JSONL, JSON, CSV/TSV, Parquet)')
    .option('--eval-file <file>', 'eval rows (default: hold out --eval-ratio of the dataset)')
    .option('--eval-ratio <share>', 'held-out share when no --eval-file (default 0.1)')
    .option('--mode <mode>', 'weights | attention', 'weights')
    .option('--per-layer', 'weights: one weight per adapter per decoder layer')
    .option('--unconstrained', 'weights: weights may take any value (default: softmax, positive and summing to 1)')
    .option('--rank <n>', 'weights: compress the combined adapter to this rank by SVD (the error is reported)')
    .option('--attention-dim <n>', 'attention: width of the query/key projections (default 32)')
    .option('--max-steps <n>', `optimizer updates (default ${FUSION_STEPS.weights} for weights, ${FUSION_STEPS.attention} for attention)`)
    .option(
      '--lr <rate>',
      `learning rate (default ${FUSE_LEARNING_RATE.weights} for weights, ${FUSE_LEARNING_RATE.attention} for attention)`,
    )
    .option('--batch-size <n>', 'micro batch size')
    .option('--grad-accum <n>', 'gradient accumulation steps')
    .option('--max-length <n>', 'max sequence length in tokens')
    .option('--seed <n>', 'seed')
    .option('--device <executor>', 'auto (the GPU when the CUDA addon sees one, else the CPU) | cpu | cuda')
    .option('--template <kind>', 'auto | chat | plain')
    .option('--labels <list>', 'classification adapters: the dataset\'s label names in class order (default: the adapters\' labels)')
    .option('--text-column <name>', 'classification adapters: the text column (default: sentence or text)')
    .option('--label-column <name>', 'classification adapters: the label column (default: label)')
    .option('--question-column <name>', 'question-answering adapters: the question column (default: question)')
    .option('--context-column <name>', 'question-answering adapters: the context column (default: context)')
    .option('--answers-column <name>', 'question-answering adapters: the answers column (default: answers)')
    .option('-p, --project <project>', 'project id or name (default: a project named "default")')
    .option('--name <name>', 'a name for the run')
    .option('--json', 'print the finished run as JSON')
    .action(async (flags: FuseFlags, command: Command) => {
      const config = await buildFuseConfig(flags);
      await withCore(command, async (core) => {
        const project = await resolveProject(core, flags.project);
        const name = flags.name ?? `fuse ${flags.mode}`;
        const run = (await core.invoke('runs.start', { projectId: project.id, name, config })) as Run;
        process.stderr.write(
          `fusion run "${run.name}" (${run.id}) in project "${project.name}"; output in ${run.outputDir}\n`,
        );
        await runAndFollow(core, run, flags.json);
        if (flags.json) return;
        const finished = (await core.invoke('runs.get', { id: run.id })) as Run;
        for (const line of await fusionReportLines(finished)) process.stdout.write(`${line}\n`);
      });
    });
}
