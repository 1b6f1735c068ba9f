// `lora-studio demo` (`npm run demo`): the whole studio on the bundled default model and demo dataset, with
// nothing downloaded. Into a "Demo" project: record the base model and the dataset → perplexity of the base on
// the eval split → a fine-tune (LoRA by default) through the same run/train job the app uses, with a progress
// bar → one evaluation of base and tuned on the eval split → three prompts answered by base and tuned side by
// side → merged exports as a Hugging Face folder and as GGUF → a summary table, and as the last line
// `demo ppl_before=<x> ppl_after=<y> gguf=<path>`. Every record goes through the typed API (`core.call`), so the
// studio reads back exactly what a user's clicks would have written.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { MethodInput } from '../../../common/api/contract.ts';
import type { Project } from '../../../common/api/projects.ts';
import type { Evaluation, RunConfigInput } from '../../../common/api/runs.ts';
import { BUNDLED_MODEL_RECIPE } from '../../../common/api/models.ts';
import { FUSION_STEPS } from '../../../common/api/fusion.ts';
import { StudioError, type StudioCore } from '../../core/index.ts';
import { BUNDLED_DATASET_DIR, BUNDLED_MODEL_DIR } from '../../core/bundled.ts';
import { exportHfModel } from '../../formats/export/index.ts';
import { exportGguf } from '../../formats/gguf/index.ts';
import { folderBytes } from '../../formats/files.ts';
import { dataDirOf, printTable, withCore } from '../context.ts';
import { formatDuration, ProgressBar } from '../progress.ts';
import { isStrictNumber } from '../numbers.ts';
import { followJob } from './train.ts';
import { printFusionDemo, runFusionDemo } from './demo-fusion.ts';
import { printTaskDemo, runTaskDemo } from './demo-task.ts';

export const DEFAULT_MODEL_DIR = BUNDLED_MODEL_DIR;
export const DEMO_DATASET_DIR = BUNDLED_DATASET_DIR;
export const DEMO_PROJECT = 'Demo';
/** Asked of base and tuned models side by side; none of them is in the demo's training rows. */
export const DEMO_PROMPTS = ['What sound does a duck make?', 'Can a horse jump?', 'What colour is the sky?'] as const;

export type DemoMethod = 'lora' | 'qlora' | 'full';

export interface DemoOptions {
  method: DemoMethod;
  steps: number;
  model: string;
  datasetDir: string;
  /** Use only the first N training / eval rows (tests, quick looks). */
  trainLimit?: number;
  evalLimit?: number;
  seed: number;
  /** Learning rate (default: 3e-3 for LoRA/QLoRA, 5e-4 for full training). */
  learningRate?: number;
  /** Where the exports go (default <data dir>/exports/demo-<run id>). */
  outDir?: string;
  /** Skip the GGUF export (and its line), e.g. for the full-training comparison. */
  gguf: boolean;
}

export interface DemoAnswer {
  prompt: string;
  base: string;
  tuned: string;
}

export interface DemoResult {
  projectId: string;
  runId: string;
  method: DemoMethod;
  pplBefore: number;
  pplAfter: number;
  trainSeconds: number;
  tokensPerSecond: number;
  trainedTokens: number;
  adapterPath: string | null;
  adapterBytes: number | null;
  mergedDir: string;
  ggufPath: string | null;
  answers: DemoAnswer[];
  totalSeconds: number;
}

/** The run config of the demo for a method: settings that teach the tiny default model the style in a few minutes. */
export function demoRunConfig(o: {
  method: DemoMethod;
  steps: number;
  model: string;
  trainPath: string;
  evalPath: string;
  seed: number;
  learningRate?: number;
}): RunConfigInput {
  const full = o.method === 'full';
  const recipe = BUNDLED_MODEL_RECIPE; // the wizard's Balanced preset on the bundled model is the same recipe
  return {
    model: o.model,
    dataset: {
      path: o.trainPath,
      format: 'chat',
      columns: { messages: 'messages' },
      template: { kind: 'chat' },
      eval_split: { kind: 'file', path: o.evalPath },
    },
    method: o.method,
    lora: { ...recipe.lora },
    learning_rate: o.learningRate ?? (full ? 5e-4 : recipe.learning_rate),
    max_steps: o.steps,
    micro_batch_size: recipe.micro_batch_size,
    gradient_accumulation_steps: recipe.gradient_accumulation_steps,
    warmup_steps: Math.min(recipe.warmup_steps, Math.max(1, Math.floor(o.steps / 10))),
    lr_scheduler_type: recipe.lr_scheduler_type,
    max_seq_length: recipe.max_seq_length,
    packing: recipe.packing,
    train_on: recipe.train_on,
    seed: o.seed,
    logging_steps: 1,
    eval_steps: Math.max(1, Math.floor(o.steps / 4)),
    save_steps: null,
  };
}

/** The dataset files the run reads: the bundled ones, or the first N rows of each copied into the data dir. */
async function demoDatasetFiles(
  core: StudioCore,
  dataDir: string,
  o: DemoOptions,
): Promise<{ trainPath: string; evalPath: string }> {
  const train = join(o.datasetDir, 'train.jsonl');
  const evalFile = join(o.datasetDir, 'eval.jsonl');
  for (const f of [train, evalFile]) {
    if (!existsSync(f))
      throw new StudioError(
        'invalid_input',
        `${f}: the demo dataset file is missing (run \`npx tsx scripts/demo-dataset/generate.ts\`)`,
      );
  }
  if (o.trainLimit === undefined && o.evalLimit === undefined) return { trainPath: train, evalPath: evalFile };
  const dir = join(dataDir, 'datasets', 'demo-subset');
  await mkdir(dir, { recursive: true });
  const cut = async (src: string, limit: number | undefined, name: string) => {
    const lines = (await readFile(src, 'utf8')).split('\n').filter((l) => l.trim() !== '');
    const dest = join(dir, name);
    await writeFile(dest, lines.slice(0, limit ?? lines.length).join('\n') + '\n');
    return dest;
  };
  void core;
  return {
    trainPath: await cut(train, o.trainLimit, 'train.jsonl'),
    evalPath: await cut(evalFile, o.evalLimit, 'eval.jsonl'),
  };
}

/** Opens the base model and imports the dataset through the API, once (by folder / file). */
async function recordInputs(core: StudioCore, projectId: string, model: string, trainPath: string): Promise<void> {
  if (!(await core.call('models.list', {})).some((m) => m.path === model))
    await core.call('models.open', { path: model });
  if ((await core.call('datasets.list', { projectId })).some((d) => d.path === trainPath)) return;
  const job = await core.call('datasets.import', {
    projectId,
    path: trainPath,
    name: 'demo: pirate answers',
    format: 'chat',
    columns: { messages: 'messages' },
  });
  const done = await core.jobs.waitFor(job.id);
  if (done.status !== 'succeeded')
    throw new StudioError('failed', `importing ${trainPath} ${done.status}: ${done.error ?? 'see the job log'}`);
}

async function demoProject(core: StudioCore): Promise<Project> {
  const all = await core.call('projects.list', {});
  return (
    all.find((p) => p.name === DEMO_PROJECT) ??
    (await core.call('projects.create', {
      name: DEMO_PROJECT,
      description: 'The bundled default model taught to answer like a pirate (lora-studio demo)',
    }))
  );
}

async function evaluate(
  core: StudioCore,
  request: MethodInput<'evaluations.start'>,
  label: string,
): Promise<Evaluation> {
  const started = await core.call('evaluations.start', request);
  const job = await followJob(core, started.jobId!, label, {
    cancel: () => core.call('jobs.cancel', { id: started.jobId! }),
  });
  const { evaluation } = await core.call('evaluations.get', { id: started.id });
  if (job.status !== 'succeeded')
    throw new StudioError('failed', `${label} ${job.status}: ${evaluation.error ?? job.error ?? 'see the job log'}`);
  return evaluation;
}

interface ChatTarget {
  pane: string;
  label: string;
  model: string;
  adapter: string | null;
}

/**
 * Greedy answers to each prompt from every target, through the app's chat (one conversation per prompt and
 * model, base and tuned as panes side by side when they share the base model), so they show in the Demo project.
 */
export async function answerSideBySide(
  core: StudioCore,
  projectId: string,
  prompts: readonly string[],
  targets: ChatTarget[],
): Promise<Map<string, string[]>> {
  const answers = new Map<string, string[]>(targets.map((t) => [t.pane, []]));
  const byModel = new Map<string, ChatTarget[]>();
  for (const t of targets) byModel.set(t.model, [...(byModel.get(t.model) ?? []), t]);
  for (const prompt of prompts) {
    for (const [model, group] of byModel) {
      const session = await core.call('chat.create', {
        projectId,
        title: `Demo: ${prompt}`,
        model,
        panes: group.map((t) => ({
          id: t.pane,
          label: t.label,
          adapters: t.adapter ? [{ path: t.adapter, weight: 1 }] : [],
        })),
        sampling: { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, maxNewTokens: 48, seed: 0, stop: [] },
      });
      const { jobId } = await core.call('chat.send', { sessionId: session.id, content: prompt });
      const job = await core.jobs.waitFor(jobId);
      if (job.status !== 'succeeded')
        throw new StudioError('failed', `answering "${prompt}" ${job.status}: ${job.error ?? 'see the job log'}`);
      const { messages } = await core.call('chat.get', { id: session.id });
      for (const t of group)
        answers
          .get(t.pane)!
          .push(messages.find((m) => m.role === 'assistant' && m.pane === t.pane)?.content.trim() ?? '');
    }
  }
  return answers;
}

export async function runDemo(
  core: StudioCore,
  dataDir: string,
  o: DemoOptions,
  say: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Promise<DemoResult> {
  const t0 = Date.now();
  const model = resolve(o.model);
  if (!existsSync(join(model, 'config.json')))
    throw new StudioError(
      'invalid_input',
      `${model}: no config.json; the bundled default model is built by \`npm run build:default-model\``,
    );
  const project = await demoProject(core);
  const { trainPath, evalPath } = await demoDatasetFiles(core, dataDir, o);
  await recordInputs(core, project.id, model, trainPath);
  say(
    `Demo project ${project.id}: model ${model}, dataset ${trainPath} (eval ${evalPath}), method ${o.method}, ${o.steps} steps`,
  );

  const config = demoRunConfig({
    method: o.method,
    steps: o.steps,
    model,
    trainPath,
    evalPath,
    seed: o.seed,
    learningRate: o.learningRate,
  });
  const run = await core.call('runs.start', { projectId: project.id, name: `demo ${o.method}`, config });
  const job = await followJob(core, run.jobId!, `${o.method} fine-tune`, {
    cancel: () => core.call('runs.cancel', { id: run.id }),
  });
  const done = await core.call('runs.get', { id: run.id });
  if (job.status !== 'succeeded' || !done.summary)
    throw new StudioError('failed', `the demo run ${run.id} ${job.status}: ${done.error ?? 'see its log'}`);
  const summary = done.summary;
  const output = summary.adapterPath;
  if (!output) throw new StudioError('failed', `the demo run ${run.id} finished without an output folder`);
  const isFullModel = existsSync(join(output, 'config.json')); // full training writes a model folder, not an adapter

  const evalSet = { max_seq_length: 128, batch_size: 8 };
  let pplBefore: number;
  let pplAfter: number;
  if (isFullModel) {
    // The tuned model is a model of its own: each is measured alone on the eval file.
    const on = (m: string) => ({
      projectId: project.id,
      model: m,
      dataset: {
        path: evalPath,
        format: 'chat' as const,
        columns: { messages: 'messages' },
        template: { kind: 'chat' as const },
        eval_split: { kind: 'none' as const },
      },
      ...evalSet,
      compareBase: true,
    });
    pplBefore = (await evaluate(core, on(model), 'perplexity of the base')).basePerplexity!;
    pplAfter = (await evaluate(core, on(output), 'perplexity after')).basePerplexity!;
  } else {
    // One evaluation row holds both: the base alone and base + adapter on the run's eval split, in one job.
    const both = await evaluate(
      core,
      { projectId: project.id, runId: run.id, ...evalSet, compareBase: true },
      'perplexity before/after',
    );
    pplBefore = both.basePerplexity!;
    pplAfter = both.adapterPerplexity!;
  }
  say(
    `perplexity on the eval split: base ${pplBefore.toFixed(3)}, after ${pplAfter.toFixed(3)} (${(100 * (1 - pplAfter / pplBefore)).toFixed(1)}% lower)`,
  );

  const replies = await answerSideBySide(core, project.id, DEMO_PROMPTS, [
    { pane: 'base', label: 'Base', model, adapter: null },
    isFullModel
      ? { pane: 'tuned', label: 'Fully trained', model: output, adapter: null }
      : { pane: 'tuned', label: `Base + ${o.method} adapter`, model, adapter: output },
  ]);
  const answers: DemoAnswer[] = DEMO_PROMPTS.map((prompt, i) => ({
    prompt,
    base: replies.get('base')![i]!,
    tuned: replies.get('tuned')![i]!,
  }));
  say('');
  for (const a of answers) say(`> ${a.prompt}\n  base:  ${a.base}\n  tuned: ${a.tuned}`);
  say('');

  const outDir = resolve(o.outDir ?? join(dataDir, 'exports', `demo-${run.id}`));
  await mkdir(outDir, { recursive: true });
  const mergedDir = join(outDir, 'merged');
  let ggufPath: string | null = null;
  if (isFullModel) {
    // A fully trained model is no adapter the exports API knows: its files are written here, in the CLI's process.
    const bar = new ProgressBar('export');
    await exportHfModel({
      baseDir: output,
      adapters: [],
      outDir: mergedDir,
      dtype: 'f32',
      overwrite: true,
      onProgress: (d, t) => bar.update((0.5 * d) / t, 'hf'),
    });
    if (o.gguf) {
      ggufPath = (
        await exportGguf({
          baseDir: output,
          adapters: [],
          outFile: join(outDir, 'model-f16.gguf'),
          type: 'f16',
          overwrite: true,
          onProgress: (d, t) => bar.update(0.5 + (0.5 * d) / t, 'gguf'),
        })
      ).outFile;
    }
    bar.done(`wrote ${outDir}`);
  } else {
    const adapter = (await core.call('adapters.list', { projectId: project.id })).find((a) => a.runId === run.id);
    if (!adapter) throw new StudioError('failed', `the demo run ${run.id}'s adapter is not listed in the project`);
    const exportOne = async (format: 'hf' | 'gguf', type: 'f32' | 'f16', outPath: string) => {
      const started = await core.call('exports.start', {
        adapterId: adapter.id,
        format,
        type,
        outPath,
        overwrite: true,
      });
      const ended = await followJob(core, started.jobId!, `export ${format}`, {
        cancel: () => core.call('jobs.cancel', { id: started.jobId! }),
      });
      if (ended.status !== 'succeeded')
        throw new StudioError('failed', `the ${format} export ${ended.status}: ${ended.error ?? 'see the job log'}`);
      return (await core.call('exports.get', { id: started.id })).path;
    };
    await exportOne('hf', 'f32', mergedDir);
    if (o.gguf) ggufPath = await exportOne('gguf', 'f16', join(outDir, 'model-f16.gguf'));
  }

  const adapterBytes = isFullModel ? null : await folderBytes(output);
  return {
    projectId: project.id,
    runId: run.id,
    method: o.method,
    pplBefore,
    pplAfter,
    trainSeconds: summary.seconds,
    trainedTokens: summary.trainedTokens,
    tokensPerSecond: summary.seconds > 0 ? summary.trainedTokens / summary.seconds : 0,
    adapterPath: isFullModel ? null : output,
    adapterBytes,
    mergedDir,
    ggufPath,
    answers,
    totalSeconds: (Date.now() - t0) / 1000,
  };
}

export function printDemoSummary(r: DemoResult): void {
  const kib = (n: number | null) => (n === null ? '-' : `${(n / 1024).toFixed(1)} KiB`);
  printTable(
    ['', ''],
    [
      ['method', r.method],
      ['perplexity before', r.pplBefore.toFixed(3)],
      ['perplexity after', `${r.pplAfter.toFixed(3)} (${(100 * (1 - r.pplAfter / r.pplBefore)).toFixed(1)}% lower)`],
      ['training time', formatDuration(r.trainSeconds)],
      ['tokens/s', r.tokensPerSecond.toFixed(0)],
      ['trained tokens', String(r.trainedTokens)],
      ['adapter size', kib(r.adapterBytes)],
      ['adapter', r.adapterPath ?? '- (full training: the model itself)'],
      ['merged HF folder', r.mergedDir],
      ['GGUF', r.ggufPath ?? '-'],
      ['total time', formatDuration(r.totalSeconds)],
      ['project / run', `${DEMO_PROJECT} (${r.projectId}) / ${r.runId}`],
    ],
  );
  process.stdout.write(
    `demo ppl_before=${r.pplBefore.toFixed(4)} ppl_after=${r.pplAfter.toFixed(4)} gguf=${r.ggufPath ?? '-'}\n`,
  );
}

function positiveInt(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = isStrictNumber(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1)
    throw new StudioError('invalid_input', `--${flag} expects a positive whole number, got "${value}"`);
  return n;
}

function wholeNumber(flag: string, value: string): number {
  const n = isStrictNumber(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 0)
    throw new StudioError('invalid_input', `--${flag} expects a whole number (0 or more), got "${value}"`);
  return n;
}

function positiveNumber(flag: string, value: string): number {
  const n = isStrictNumber(value) ? Number(value) : NaN;
  if (!Number.isFinite(n) || n <= 0)
    throw new StudioError('invalid_input', `--${flag} expects a positive number, got "${value}"`);
  return n;
}

interface DemoFlags {
  method: string;
  steps: string;
  model: string;
  dataset: string;
  trainLimit?: string;
  evalLimit?: string;
  seed: string;
  lr?: string;
  out?: string;
  gguf: boolean;
  dataDir?: string;
  fusion?: boolean;
  fusionSteps: string;
  task?: string;
  epochs?: string;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'Fine-tune the bundled default model on the demo dataset end to end: perplexity before/after, answers side by side, merged HF + GGUF export',
    )
    .option('--method <method>', 'lora | qlora | full', 'lora')
    .option('--steps <n>', 'optimizer updates', String(BUNDLED_MODEL_RECIPE.max_steps))
    .option('--model <dir>', 'base model folder', DEFAULT_MODEL_DIR)
    .option('--dataset <dir>', 'folder with train.jsonl and eval.jsonl', DEMO_DATASET_DIR)
    .option('--train-limit <n>', 'use only the first N training rows')
    .option('--eval-limit <n>', 'use only the first N eval rows')
    .option('--seed <n>', 'run seed', '42')
    .option('--lr <rate>', 'learning rate (default 3e-3 for lora/qlora, 5e-4 for full)')
    .option('--out <dir>', 'export folder (default: <data dir>/exports/demo-<run id>)')
    .option('--no-gguf', 'skip the GGUF export')
    // also accepted after the command name, like the global option
    .option('--data-dir <dir>', 'where projects, models and runs live (same as the global option)')
    .option('--task <task>', 'instead: an encoder task (classification | question-answering) on the bundled encoder, LoRA vs full fine-tuning (issue 14)')
    .option('--epochs <n>', 'with --task: training epochs of both runs (default 2 for classification, 1 for question answering)')
    .option('--fusion', 'instead: two task adapters (pirate, robot) and their combination learned on a mix (issue 15)')
    // attention's default (FUSION_STEPS says why 160); the weights combination gets as many, for an even comparison
    .option('--fusion-steps <n>', 'with --fusion: updates of each learned combination', String(FUSION_STEPS.attention))
    .action(async (flags: DemoFlags, command: Command) => {
      if (flags.task !== undefined) {
        if (flags.task !== 'classification' && flags.task !== 'question-answering') throw new StudioError('invalid_input', `--task: expected classification or question-answering, got "${flags.task}"`);
        const taskDemo = { task: flags.task, seed: wholeNumber('seed', flags.seed), epochs: flags.epochs === undefined ? undefined : positiveNumber('epochs', flags.epochs) } as const;
        return withCore(command, async (core) => printTaskDemo(await runTaskDemo(core, taskDemo)));
      }
      if (flags.fusion) {
        const fusion = {
          model: resolve(flags.model),
          datasetDir: resolve(flags.dataset),
          adapterSteps: positiveInt('steps', flags.steps)!,
          fusionSteps: positiveInt('fusion-steps', flags.fusionSteps)!,
          trainLimit: positiveInt('train-limit', flags.trainLimit),
          evalLimit: positiveInt('eval-limit', flags.evalLimit),
          seed: wholeNumber('seed', flags.seed),
          runConfig: demoRunConfig,
          project: demoProject,
        };
        return withCore(command, async (core) => printFusionDemo(await runFusionDemo(core, dataDirOf(command), fusion)));
      }
      const method = flags.method as DemoMethod;
      if (!['lora', 'qlora', 'full'].includes(method))
        throw new StudioError('invalid_input', `--method must be lora, qlora or full, got "${flags.method}"`);
      const options: DemoOptions = {
        method,
        steps: positiveInt('steps', flags.steps)!,
        model: resolve(flags.model),
        datasetDir: resolve(flags.dataset),
        trainLimit: positiveInt('train-limit', flags.trainLimit),
        evalLimit: positiveInt('eval-limit', flags.evalLimit),
        seed: wholeNumber('seed', flags.seed),
        learningRate: flags.lr === undefined ? undefined : positiveNumber('lr', flags.lr),
        outDir: flags.out,
        gguf: flags.gguf !== false,
      };
      await withCore(command, async (core) => {
        const result = await runDemo(core, dataDirOf(command), options);
        printDemoSummary(result);
      });
    });
}
