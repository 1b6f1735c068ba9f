// `lora-studio demo --fusion` (issue 15's proof): two adapters of the bundled model trained on two tasks — the
// bundled pirate style, and a robot style made here from the same rows ("You are a robot." as system prompt,
// "Beep boop." … "Over and out.", Affirmative/Negative) — then their combination learned on a mix of both, in
// weights mode and in attention mode, every step through the same API and jobs as the studio. Reported: perplexity
// on the held-out mix of each adapter alone, of their uniform average and of both learned combinations; each
// combination on each task's own eval against that task's adapter; and for how many tokens of each task the
// attention weighs that task's adapter most. Last line:
// `fusion single_best=<x> uniform=<y> weights=<z> attention=<w>` (perplexities on the mixed eval).
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { FusionSection } from '../../../common/api/fusion.ts';
import type { Project } from '../../../common/api/projects.ts';
import type { RunConfigInput } from '../../../common/api/runs.ts';
import { StudioError, type StudioCore } from '../../core/index.ts';
import { printTable } from '../context.ts';
import { formatDuration } from '../progress.ts';
import { followJob } from './train.ts';
import { FUSE_LEARNING_RATE } from './fuse.ts';
import type { demoRunConfig } from './demo.ts'; // a type only: demo.ts imports this file

export const ROBOT_SYSTEM = 'You are a robot.';

interface ChatRow {
  messages: { role: 'system' | 'user' | 'assistant'; content: string }[];
}

/** A pirate answer of the bundled dataset as the robot says it (the facts inside unchanged). */
export function robotAnswer(pirate: string): string {
  const plain = pirate
    .replace(/^Ahoy, matey! /, '')
    .replace(/ Arr!$/, '')
    .replace(/^What can this old sea dog do for ye today\?$/, 'How can I help you today?')
    .replace(/^I be a small pirate assistant\./, 'I am a small robot assistant.');
  const body = plain.replace(/^Aye, /, 'Affirmative, ').replace(/^Nay, /, 'Negative, ');
  return `Beep boop. ${body} Over and out.`;
}

/** The same conversation for the robot task: its system prompt, the robot's answer. */
export function robotRow(row: ChatRow): ChatRow {
  const turns = row.messages.filter((m) => m.role !== 'system');
  return {
    messages: [
      { role: 'system', content: ROBOT_SYSTEM },
      ...turns.map((m) => (m.role === 'assistant' ? { ...m, content: robotAnswer(m.content) } : m)),
    ],
  };
}

export interface FusionDemoFiles {
  pirate: { train: string; eval: string };
  robot: { train: string; eval: string };
  /** Mixed rows: even rows pirate, odd rows robot (so a row's task is known from its index). */
  mix: { train: string; eval: string };
}

/** The three tasks' train/eval files under <data dir>/datasets/fusion-demo, from the bundled pirate dataset. */
export async function fusionDemoFiles(
  dataDir: string,
  datasetDir: string,
  limits: { train?: number; eval?: number },
): Promise<FusionDemoFiles> {
  const read = async (name: string, limit?: number) => {
    const path = join(datasetDir, name);
    if (!existsSync(path)) throw new StudioError('invalid_input', `${path}: the demo dataset file is missing`);
    const rows = (await readFile(path, 'utf8'))
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as ChatRow);
    return rows.slice(0, limit ?? rows.length);
  };
  const dir = join(dataDir, 'datasets', 'fusion-demo');
  await mkdir(dir, { recursive: true });
  const write = async (name: string, rows: ChatRow[]) => {
    const p = join(dir, name);
    await writeFile(p, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    return p;
  };
  const train = await read('train.jsonl', limits.train);
  const evalRows = await read('eval.jsonl', limits.eval);
  // each task's adapter learns from half of the training rows, the mix from all of them: even rows as pirates,
  // odd rows as robots (no row trains both styles)
  const mixed = (rows: ChatRow[]) => rows.map((r, i) => (i % 2 === 0 ? r : robotRow(r)));
  return {
    pirate: {
      train: await write(
        'pirate-train.jsonl',
        train.filter((_r, i) => i % 2 === 0),
      ),
      eval: await write('pirate-eval.jsonl', evalRows),
    },
    robot: {
      train: await write('robot-train.jsonl', train.filter((_r, i) => i % 2 === 1).map(robotRow)),
      eval: await write('robot-eval.jsonl', evalRows.map(robotRow)),
    },
    mix: { train: await write('mix-train.jsonl', mixed(train)), eval: await write('mix-eval.jsonl', mixed(evalRows)) },
  };
}

export interface FusionDemoOptions {
  model: string;
  datasetDir: string;
  /** Updates for each task adapter and for each combination. */
  adapterSteps: number;
  fusionSteps: number;
  trainLimit?: number;
  evalLimit?: number;
  seed: number;
  /** The demo's run recipe and project (demo.ts, which registers `demo --fusion`: passed in, not imported back). */
  runConfig: typeof demoRunConfig;
  project: (core: StudioCore) => Promise<Project>;
}

interface FusionReportFile {
  comparison: { single: { name: string; value: number }[]; uniform: number; learned: number };
  weights: Record<string, number[]> | null;
  attention: {
    layers: { block: string; mean: number[] }[];
    picks: number[];
    tokens: number;
    examples: { index: number; picks: number[]; scoredPicks: number[] }[];
  } | null;
}

export interface FusionDemoResult {
  singleBest: number;
  single: { name: string; value: number }[];
  uniform: number;
  weights: number;
  attention: number;
  learnedWeights: Record<string, number[]>;
  /** Per task: its adapter, the weights combination and the attention combination on the task's own eval. */
  perTask: { task: string; adapter: number; weights: number; attention: number }[];
  /** Per task: share of its scored (answer) tokens — and of all its tokens — in the mixed eval rows the report
   *  covered where attention, averaged over the adapted linears, weighs that task's adapter most. */
  attentionShare: { task: string; share: number; tokens: number; all: { share: number; tokens: number } }[];
  heatMap: { block: string; mean: number[] }[];
  outputs: { pirate: string; robot: string; weights: string; attention: string };
  totalSeconds: number;
  /** CPU time of this process and the job workers it ran (both cores count). */
  cpuSeconds: number;
}

/**
 * CPU seconds used so far by this process and its finished children (the job workers are child processes):
 * /proc/self/stat's utime + stime + cutime + cstime on Linux; elsewhere this process's own time only.
 */
export function cpuSeconds(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100; // clock ticks (USER_HZ = 100)
  } catch {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  }
}

async function runToEnd(core: StudioCore, projectId: string, name: string, config: RunConfigInput) {
  const run = await core.call('runs.start', { projectId, name, config });
  const job = await followJob(core, run.jobId!, name, { cancel: () => core.call('runs.cancel', { id: run.id }) });
  const done = await core.call('runs.get', { id: run.id });
  if (job.status !== 'succeeded' || !done.summary?.adapterPath)
    throw new StudioError('failed', `the demo run "${name}" (${run.id}) ${job.status}: ${done.error ?? 'see its log'}`);
  return { run: done, output: done.summary.adapterPath };
}

async function perplexityOn(
  core: StudioCore,
  projectId: string,
  model: string,
  evalPath: string,
  adapterPath: string,
  label: string,
): Promise<number> {
  const started = await core.call('evaluations.start', {
    projectId,
    model,
    adapterPath,
    dataset: {
      path: evalPath,
      format: 'chat',
      columns: { messages: 'messages' },
      template: { kind: 'chat' },
      eval_split: { kind: 'none' },
    },
    max_seq_length: 128,
    batch_size: 8,
    compareBase: false,
  });
  const job = await followJob(core, started.jobId!, label, {
    cancel: () => core.call('jobs.cancel', { id: started.jobId! }),
  });
  const { evaluation } = await core.call('evaluations.get', { id: started.id });
  if (job.status !== 'succeeded' || evaluation.adapterPerplexity == null)
    throw new StudioError('failed', `${label} ${job.status}: ${evaluation.error ?? job.error ?? 'see the job log'}`);
  return evaluation.adapterPerplexity;
}

export async function runFusionDemo(
  core: StudioCore,
  dataDir: string,
  o: FusionDemoOptions,
  say: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Promise<FusionDemoResult> {
  const t0 = Date.now();
  const model = resolve(o.model);
  const project = await o.project(core);
  const files = await fusionDemoFiles(dataDir, o.datasetDir, { train: o.trainLimit, eval: o.evalLimit });
  say(`Fusion demo in project ${project.id}: two task adapters on ${model}, then their combination learned on a mix`);
  const config = (
    trainPath: string,
    evalPath: string,
    steps: number,
    learningRate?: number,
    fusion?: Partial<FusionSection>,
  ): RunConfigInput => ({
    ...o.runConfig({ method: 'lora', steps, model, trainPath, evalPath, seed: o.seed, learningRate }),
    // the demo reads only each run's final figures: one eval at the end instead of four along the way
    eval_steps: steps,
    ...(fusion ? { fusion: fusion as FusionSection } : {}),
  });
  const cpu0 = cpuSeconds();
  let phase = 0;
  const phases = 5;
  const step = (what: string) =>
    say(`[${++phase}/${phases}] ${what} (${formatDuration((Date.now() - t0) / 1000)} so far)`);
  step(`training the pirate adapter (${o.adapterSteps} steps)`);
  const pirate = await runToEnd(
    core,
    project.id,
    'fusion demo: pirate adapter',
    config(files.pirate.train, files.pirate.eval, o.adapterSteps),
  );
  step(`training the robot adapter (${o.adapterSteps} steps)`);
  const robot = await runToEnd(
    core,
    project.id,
    'fusion demo: robot adapter',
    config(files.robot.train, files.robot.eval, o.adapterSteps),
  );
  const adapters = [pirate.output, robot.output];
  const fused = async (mode: 'weights' | 'attention') => {
    const r = await runToEnd(
      core,
      project.id,
      `fusion demo: ${mode}`,
      config(files.mix.train, files.mix.eval, o.fusionSteps, FUSE_LEARNING_RATE[mode], { adapters, mode }),
    );
    const report = JSON.parse(await readFile(join(r.run.outputDir!, 'fusion-report.json'), 'utf8')) as FusionReportFile;
    return { ...r, report };
  };
  step(`learning their weights on the mix (${o.fusionSteps} steps; then each adapter alone and the uniform average on the mixed eval)`);
  const weights = await fused('weights');
  step(`learning AdapterFusion attention on the mix (${o.fusionSteps} steps; then the comparison and the attention map)`);
  const attention = await fused('attention');
  step('each combination on each task\'s own eval');

  const perTask = [];
  for (const [task, adapterRun, evalPath] of [
    ['pirate', pirate, files.pirate.eval],
    ['robot', robot, files.robot.eval],
  ] as const) {
    // the task's adapter was evaluated on this very file (its run's eval split, same length and batch) at its
    // last step: that figure is reused instead of a second identical evaluation
    const own = adapterRun.run.summary?.evalPerplexity;
    perTask.push({
      task,
      adapter:
        own ?? (await perplexityOn(core, project.id, model, evalPath, adapterRun.output, `${task} eval: its adapter`)),
      weights: await perplexityOn(core, project.id, model, evalPath, weights.output, `${task} eval: learned weights`),
      attention: await perplexityOn(core, project.id, model, evalPath, attention.output, `${task} eval: attention`),
    });
  }
  // the mixed eval's even rows are pirate, odd rows robot: the task whose adapter should win
  const att = attention.report.attention!;
  const attentionShare = ['pirate', 'robot'].map((task, k) => {
    const rows = att.examples.filter((e) => e.index % 2 === k);
    const share = (picks: (e: (typeof rows)[number]) => number[]) => {
      const tokens = rows.reduce((s, e) => s + picks(e).reduce((a, b) => a + b, 0), 0);
      return { share: tokens ? rows.reduce((s, e) => s + picks(e)[k], 0) / tokens : 0, tokens };
    };
    // scored: the answer tokens the perplexity counts; all: the prompt's tokens too
    return { task, ...share((e) => e.scoredPicks), all: share((e) => e.picks) };
  });
  const single = weights.report.comparison.single;
  return {
    singleBest: Math.min(...single.map((s) => s.value)),
    single,
    uniform: weights.report.comparison.uniform,
    weights: weights.report.comparison.learned,
    attention: attention.report.comparison.learned,
    learnedWeights: weights.report.weights ?? {},
    perTask,
    attentionShare,
    heatMap: att.layers,
    outputs: { pirate: pirate.output, robot: robot.output, weights: weights.output, attention: attention.output },
    totalSeconds: (Date.now() - t0) / 1000,
    cpuSeconds: cpuSeconds() - cpu0,
  };
}

/** Issue 15: on each task's own eval the combination should stay within this many percent of that task's adapter. */
export const PER_TASK_TARGET_PCT = 5;

export function printFusionDemo(r: FusionDemoResult): void {
  const f = (x: number) => x.toFixed(3);
  const pct = (x: number, ref: number) => `${x >= ref ? '+' : ''}${(100 * (x / ref - 1)).toFixed(1)}%`;
  printTable(
    ['', ''],
    [
      ...r.single.map((s, i) => [`mixed eval: ${['pirate', 'robot'][i]} adapter alone`, f(s.value)]),
      ['mixed eval: uniform average', f(r.uniform)],
      [
        'mixed eval: learned weights',
        `${f(r.weights)} (${Object.entries(r.learnedWeights)
          .map(([, w]) => `[${w.map((v) => v.toFixed(2)).join(', ')}]`)
          .join(' ')})`,
      ],
      ['mixed eval: attention', f(r.attention)],
      ...r.perTask.flatMap((t) => [
        [`${t.task} eval: its adapter`, f(t.adapter)],
        [`${t.task} eval: learned weights`, `${f(t.weights)} (${pct(t.weights, t.adapter)})`],
        [`${t.task} eval: attention`, `${f(t.attention)} (${pct(t.attention, t.adapter)})`],
      ]),
      // issue 15's per-task target, said plainly whether it is met or not
      [
        `attention within ${PER_TASK_TARGET_PCT}% of each task's adapter`,
        r.perTask
          .map((t) => `${t.task} ${t.attention <= t.adapter * (1 + PER_TASK_TARGET_PCT / 100) ? 'yes' : 'no'} (${pct(t.attention, t.adapter)})`)
          .join(', '),
      ],
      ...r.attentionShare.map((s) => [
        `${s.task} tokens where attention picks its adapter`,
        `${(100 * s.share).toFixed(1)}% of ${s.tokens} answer tokens (${(100 * s.all.share).toFixed(1)}% of all ${s.all.tokens})`,
      ]),
      ...r.heatMap.map((l) => [`attention weights, ${l.block}`, l.mean.map((v) => v.toFixed(2)).join(' / ')]),
      ['attention fusion folder (not mergeable)', r.outputs.attention],
      ['learned-weights adapter (mergeable)', r.outputs.weights],
      ['total time', `${formatDuration(r.totalSeconds)} wall, ${formatDuration(r.cpuSeconds)} CPU`],
    ],
  );
  process.stdout.write(
    `fusion single_best=${r.singleBest.toFixed(4)} uniform=${r.uniform.toFixed(4)} weights=${r.weights.toFixed(4)} attention=${r.attention.toFixed(4)}\n`,
  );
}
