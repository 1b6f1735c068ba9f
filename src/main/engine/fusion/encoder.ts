// Fusion for encoder task runs (issue 15): frozen task adapters of one encoder (LoRA + their own heads, PEFT's
// modules_to_save) combined by learned weights or AdapterFusion attention on a classification dataset (SEQ_CLS
// adapters) or an extractive QA dataset (QUESTION_ANS adapters, span head qa_outputs), and compared by the task's
// metric (accuracy; F1 with exact match beside it) instead of perplexity.
//   - the head: AdapterFusion's second stage trains the target task's head with the fusion (Pfeiffer et al. 2020,
//     §3.2: "we learn a task-specific output layer along with Ψ"); here the run's head (the modules the adapters
//     save: classifier, pooler) trains, starting from the adapters' heads averaged — a label's row from the
//     adapters that know that label (by name), a label none of them knows from the checkpoint's seeded new head;
//     a span head (start/end per token, no labels) is the adapters' qa_outputs averaged;
//   - weights mode writes one PEFT SEQ_CLS adapter (the deltas stacked with the learned weights, the trained head as
//     modules_to_save, task_head.json) that loads, merges and exports like any task adapter; attention mode writes a
//     fusion folder whose tensors include the head and whose config names the task head;
//   - the report: accuracy on the eval split of each adapter alone (with its own head; a label it never learned it
//     cannot predict), of the uniform average (deltas 1/K, the averaged head) and of the learned combination.
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { RunConfig } from '../../../common/api/runs.ts';
import { openModelFolder, readModelSpec, type ModelSpec } from '../../formats/model/index.ts';
import { AdapterError, readAdapter, writeAdapter, type LoraAdapter, type TaskHead } from '../../formats/peft/index.ts';
import { FUSION_RECORD, fusionParts, readFusionFolder, writeFusionFolder, type FusionFolder } from '../../formats/fusion/index.ts';
import { encoderForTask, isEncoderSpec, type EncoderTaskRequest } from '../../model/families/bert/task.ts';
import { buildProgramFromSpec } from '../../model/families/index.ts';
import { countParams, peftKey, type Program } from '../../model/ir.ts';
import { readProgramWeights } from '../models/load.ts';
import { modulesToSaveParams } from '../lora/model.ts';
import type { TensorMap, TrainingSession } from '../session.ts';
import { CPU_FUSION, combinedAdapter, frozen, fusedSession, fusionExecutorChoice, fusionOptions, learnedWeights, type FusionExecutor, type FusionExecutorOptions, type FusionInputs } from './session.ts';
import type { ExecutorName } from '../executors/index.ts';
import { fuseProgram, mixWeightName, type FusedProgram } from './program.ts';
import { FUSION_REPORT, type AttentionMap } from './report.ts';

export interface EncoderFusionInputs extends FusionInputs {
  /** Classification: the run's labels; question answering: none. */
  labels: string[];
  /** The run's head params (program names) and their starting values (the adapters' heads averaged). */
  head: Map<string, Float32Array>;
  /** Each adapter's own head as the run's head params (labels it lacks: never predicted). */
  ownHeads: Map<string, Float32Array>[];
  modulesToSave: string[];
  taskHead: TaskHead;
}

const PREFIX = 'base_model.model.';

/** Label names of an adapter's head (task_head.json's id2label; LABEL_i when it has none). */
function adapterLabels(a: LoraAdapter, path: string): string[] {
  const id2label = a.taskHead?.id2label;
  if (!id2label) throw new AdapterError(`${path}: a classification adapter needs its labels (task_head.json with id2label) to be combined`);
  return Object.keys(id2label)
    .sort((x, y) => Number(x) - Number(y))
    .map((k) => id2label[k]);
}

/**
 * Reads the encoder and its task adapters for a classification fusion over `labels` (the run's dataset labels), or
 * with `labels` null an extractive QA fusion. Every adapter must be a SEQ_CLS adapter of this encoder with a
 * single-label head, resp. a QUESTION_ANS adapter with its span head.
 */
export async function readEncoderFusionInputs(model: string, adapterPaths: readonly string[], labels: string[] | null, seed: number, beforeWeights?: (base: Program) => void): Promise<EncoderFusionInputs> {
  const { spec: fromConfig } = await readModelSpec(model);
  if (!isEncoderSpec(fromConfig)) throw new Error(`${model}: ${fromConfig.architecture} is not an encoder: encoder task adapters are combined on the encoder they were trained on`);
  const request: EncoderTaskRequest = labels ? { task: 'sequence_classification', labels } : { task: 'question_answering' };
  const retarget = (s: ModelSpec) => encoderForTask(s, request) as ModelSpec;
  const spec = retarget(fromConfig);
  const base = buildProgramFromSpec(spec);
  beforeWeights?.(base);
  const folder = await openModelFolder(model, { spec: retarget, seed });
  let baseWeights: Map<string, Float32Array>;
  try {
    baseWeights = (await readProgramWeights(folder, base)) as Map<string, Float32Array>;
  } finally {
    await folder.close();
  }
  const parts = await fusionParts(adapterPaths);
  const adapters: FusionInputs['adapters'] = [];
  const modules = new Set<string>();
  const heads: { labels: string[]; tensors: Map<string, Float32Array> }[] = [];
  for (const part of parts) {
    const adapter = await readAdapter(part.path, spec);
    if (labels && adapter.config.task_type !== 'SEQ_CLS')
      throw new AdapterError(`${part.path}: task_type is ${adapter.config.task_type}; a classification run combines classification (SEQ_CLS) adapters`);
    if (!labels && adapter.config.task_type !== 'QUESTION_ANS')
      throw new AdapterError(`${part.path}: task_type is ${adapter.config.task_type}; a question-answering run combines question-answering (QUESTION_ANS) adapters`);
    if (adapter.taskHead?.problemType === 'regression') throw new AdapterError(`${part.path}: a regression head; combining needs classification adapters`);
    for (const m of adapter.config.modules_to_save ?? []) modules.add(m);
    const tensors = new Map<string, Float32Array>();
    for (const [key, t] of adapter.extra) {
      if (!key.startsWith(PREFIX)) throw new AdapterError(`${part.path}: tensor ${key} is not a PEFT key`);
      tensors.set(key.slice(PREFIX.length), t.data);
    }
    heads.push({ labels: labels ? adapterLabels(adapter, part.path) : [], tensors });
    // the fused program takes the LoRA pairs; the head travels separately (it trains with the fusion)
    adapters.push({ part, adapter: { ...adapter, extra: new Map() } });
  }
  const modulesToSave = [...modules];
  const headParams = modulesToSave.length ? modulesToSaveParams(base, modulesToSave).params : new Set<string>();
  if (headParams.size === 0) throw new AdapterError(`the adapters save no head (modules_to_save): a ${labels ? 'classification' : 'question-answering'} fusion needs their ${labels ? 'classifiers' : 'span heads (qa_outputs)'}`);
  const decl = new Map(base.params.map((d) => [d.name, d]));
  const L = labels?.length ?? 0; // a span head has no label rows: its params are averaged whole
  /** A head param whose rows are labels (the classifier's output weight and bias), not a hidden width (pooler). */
  const isLabelRows = (name: string) => {
    const shape = decl.get(name)!.shape;
    return !/pooler/.test(name) && shape[0] === L && (shape.length === 1 || (shape.length === 2 && shape[1] !== L));
  };
  const widthOf = (name: string) => (decl.get(name)!.shape.length === 2 ? decl.get(name)!.shape[1] : 1);
  /** Adapter k's own head over the run's labels; a label it never learned gets a zero row and a bias of -1e4. */
  const ownHead = (k: number): Map<string, Float32Array> => {
    const out = new Map<string, Float32Array>();
    for (const name of headParams) {
      const t = Float32Array.from(baseWeights.get(name)!);
      const own = heads[k].tensors.get(name);
      if (own && isLabelRows(name)) {
        const width = widthOf(name);
        if (own.length !== heads[k].labels.length * width)
          throw new AdapterError(`${adapters[k].part.path}: ${name} has ${own.length} values for ${heads[k].labels.length} labels of width ${width}: trained for another base`);
        (labels ?? []).forEach((label, i) => {
          const j = heads[k].labels.indexOf(label);
          if (j >= 0) t.set(own.subarray(j * width, (j + 1) * width), i * width);
          else t.fill(width === 1 ? -1e4 : 0, i * width, (i + 1) * width);
        });
      } else if (own) {
        if (own.length !== t.length) throw new AdapterError(`${adapters[k].part.path}: ${name} has ${own.length} values, this encoder's has ${t.length}: trained for another base`);
        t.set(own);
      }
      out.set(name, t);
    }
    return out;
  };
  const ownHeads = heads.map((_h, k) => ownHead(k));
  // the starting head: each param averaged over the adapters that have it (label rows over those knowing the label)
  const head = new Map<string, Float32Array>();
  for (const name of headParams) {
    const width = widthOf(name);
    const start = Float32Array.from(baseWeights.get(name)!);
    const labelRows = isLabelRows(name);
    const rowsOf = labelRows ? L : 1;
    const rowWidth = labelRows ? width : start.length;
    for (let i = 0; i < rowsOf; i++) {
      const from = heads.map((h, k) => ({ h, k })).filter(({ h }) => h.tensors.has(name) && (!labelRows || h.labels.includes(labels![i])));
      if (!from.length) continue;
      const sum = new Float64Array(rowWidth);
      for (const { h } of from) {
        const t = h.tensors.get(name)!;
        const j = labelRows ? h.labels.indexOf(labels![i]) : 0;
        for (let e = 0; e < rowWidth; e++) sum[e] += t[j * rowWidth + e] / from.length;
      }
      start.set(sum, i * rowWidth);
    }
    head.set(name, start);
  }
  const taskHead: TaskHead = labels
    ? { architecture: spec.architecture, id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])), problemType: 'single_label_classification' }
    : { architecture: spec.architecture, id2label: null, problemType: null };
  return { spec, base, baseWeights, adapters, labels: labels ?? [], head, ownHeads, modulesToSave, taskHead };
}

export interface OpenedEncoderFusion {
  session: TrainingSession;
  writeAdapter: (dir: string, trainables: TensorMap) => Promise<void>;
  trainableParameters: number;
  totalParameters: number;
  warnings: string[];
  inputs: EncoderFusionInputs;
  fused: FusedProgram;
  executor: { name: ExecutorName; reason: string };
  on: FusionExecutor;
}

/** The training side of a classification fusion run (`labels`) or a QA one (null): the fused encoder (head trainable) and the writer. */
export async function openEncoderFusion(config: RunConfig, labels: string[] | null, threads?: number, executorOptions?: FusionExecutorOptions): Promise<OpenedEncoderFusion> {
  const f = config.fusion!;
  const choice = fusionExecutorChoice(config.executor ?? 'cpu', config.micro_batch_size * config.max_seq_length, executorOptions);
  const inputs = await readEncoderFusionInputs(config.model, f.adapters, labels, config.seed, choice.check);
  const fused = fuseProgram(inputs.base, frozen(inputs), { ...fusionOptions(f, config.seed), alsoTrain: new Set(inputs.head.keys()) });
  const executor = choice.executor.open(fused.program);
  const session = await fusedSession({ ...inputs, baseWeights: new Map([...inputs.baseWeights, ...inputs.head]) }, fused, config.seed, threads, choice.executor);
  const parts = inputs.adapters.map((a) => a.part);
  const headTensors = (trainables: TensorMap) => {
    const out = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const d of fused.program.params) if (inputs.head.has(d.name)) out.set(peftKey(d.name), trainables.get(peftKey(d.name))!);
    return out;
  };
  const writeAdapterFn = async (dir: string, trainables: TensorMap) => {
    if (f.mode === 'attention') {
      return writeFusionFolder(
        dir,
        { mode: 'attention', base_model: config.model, attention_dim: f.attention_dim, value_rank: f.value_rank, adapters: parts, training_template: null, task_head: inputs.taskHead, modules_to_save: inputs.modulesToSave },
        trainables,
      );
    }
    const weights = learnedWeights(withoutHead(fused, inputs), trainables, f.weighting === 'softmax');
    const { adapter, relativeError } = combinedAdapter(inputs, fused, weights, f.rank, config.model);
    await writeAdapter(dir, {
      ...adapter,
      config: { ...adapter.config, task_type: labels ? 'SEQ_CLS' : 'QUESTION_ANS', modules_to_save: inputs.modulesToSave },
      extra: headTensors(trainables),
      taskHead: inputs.taskHead,
    });
    const record = { format: 'lora-studio.fusion-weights/1', mode: 'weights', weighting: f.weighting, per_layer: f.per_layer, adapters: parts, weights, rank: adapter.config.r, svd_relative_error: f.rank === null ? null : relativeError };
    await writeFile(join(dir, FUSION_RECORD), JSON.stringify(record, null, 2) + '\n');
  };
  return {
    session,
    writeAdapter: writeAdapterFn,
    trainableParameters: countParams(fused.program, (d) => d.trainable),
    totalParameters: countParams(inputs.base),
    warnings: fused.modules.some((m) => m.adapters.length < inputs.adapters.length) ? ['some adapted layers are adapted by only some of the adapters: there a missing adapter counts as no change'] : [],
    inputs,
    fused,
    executor: { name: executor.name, reason: executor.reason },
    on: choice.executor,
  };
}

/** The fused program with the head's params left out (learnedWeights reads every trainable as a weight vector). */
function withoutHead(fused: FusedProgram, inputs: EncoderFusionInputs): FusedProgram {
  return { ...fused, program: { ...fused.program, params: fused.program.params.filter((d) => !inputs.head.has(d.name)) } };
}

/** Learned weights of a weights-mode encoder fusion (by layer, '*' = global), the head left out. */
export function encoderLearnedWeights(o: OpenedEncoderFusion, softmax: boolean): Record<string, number[]> {
  return learnedWeights(withoutHead(o.fused, o.inputs), o.session.getTrainables(), softmax);
}

/** A task score on the eval split: the comparison's metric and, for QA, exact match beside F1. */
export interface TaskScore {
  value: number;
  exactMatch?: number;
}

/**
 * The task metric (accuracy, or F1 and exact match, by `evaluate`) of each adapter alone with its own head, the
 * uniform average with the averaged head, through one weights-mode program whose unconstrained weights and head are
 * set per case.
 */
export async function compareEncoderCombinations(
  inputs: EncoderFusionInputs, seed: number, evaluate: (s: TrainingSession) => Promise<TaskScore>, threads?: number, on: FusionExecutor = CPU_FUSION,
): Promise<{ single: ({ name: string } & TaskScore)[]; uniform: TaskScore }> {
  const fused = fuseProgram(inputs.base, frozen(inputs), { mode: 'weights', perLayer: false, softmax: false, attentionDim: 1, seed, alsoTrain: new Set(inputs.head.keys()) });
  const session = await fusedSession({ ...inputs, baseWeights: new Map([...inputs.baseWeights, ...inputs.head]) }, fused, seed, threads, on);
  const K = inputs.adapters.length;
  const decl = new Map(fused.program.params.map((d) => [d.name, d]));
  const withWeights = async (w: number[], head: Map<string, Float32Array>) => {
    const t: TensorMap = new Map([[peftKey(mixWeightName(null)), { shape: [K], data: Float32Array.from(w) }]]);
    for (const [name, data] of head) t.set(peftKey(name), { shape: decl.get(name)!.shape, data });
    session.setTrainables(t);
    return evaluate(session);
  };
  try {
    const single = [];
    for (let k = 0; k < K; k++)
      single.push({ name: inputs.adapters[k].part.name, ...(await withWeights(Array.from({ length: K }, (_v, j) => (j === k ? 1 : 0)), inputs.ownHeads[k])) });
    const uniform = await withWeights(new Array<number>(K).fill(1 / K), inputs.head);
    return { single, uniform };
  } finally {
    await session.dispose();
  }
}


export interface EncoderReportOptions {
  fusion: OpenedEncoderFusion;
  config: RunConfig;
  /** The run's task metric on the eval split for a session (accuracy; F1 with exact match for QA). */
  evaluate: (s: TrainingSession) => Promise<TaskScore>;
  metric: 'accuracy' | 'f1';
  outputDir: string;
  reporter: { log(line: string, level?: 'debug' | 'info' | 'warn'): void; progress(fraction: number | null, message: string): void };
  /** attention mode: the heat map over the eval rows (report.ts attentionMap on the run's eval plan). */
  attentionMap?: () => Promise<AttentionMap>;
}

/** <run>/fusion-report.json of an encoder task fusion: the task metric of each adapter alone, uniform, learned;
 *  attention mode's heat map (each adapter's mean weight per layer over the eval rows' tokens). */
export async function reportEncoderFusion(o: EncoderReportOptions): Promise<void> {
  const f = o.config.fusion!;
  o.reporter.progress(null, `comparing the combination with each adapter alone and the uniform average (${o.metric})`);
  const compared = await compareEncoderCombinations(o.fusion.inputs, o.config.seed, o.evaluate, undefined, o.fusion.on);
  const learned = await o.evaluate(o.fusion.session);
  const weights = f.mode === 'weights' ? encoderLearnedWeights(o.fusion, f.weighting === 'softmax') : null;
  const extra =
    learned.exactMatch === undefined
      ? undefined
      : { metric: 'exact_match' as const, single: compared.single.map((s) => s.exactMatch ?? NaN), uniform: compared.uniform.exactMatch ?? NaN, learned: learned.exactMatch };
  const comparison = { metric: o.metric, single: compared.single.map((s) => ({ name: s.name, value: s.value })), uniform: compared.uniform.value, learned: learned.value, ...(extra ? { extra } : {}) };
  const attention = f.mode === 'attention' && o.attentionMap ? await o.attentionMap() : null;
  const report = { mode: f.mode, comparison, weights, attention };
  await writeFile(join(o.outputDir, FUSION_REPORT), JSON.stringify(report, null, 2) + '\n');
  const fmt = (v: TaskScore) => `${v.value.toFixed(4)}${v.exactMatch === undefined ? '' : ` (exact match ${v.exactMatch.toFixed(4)})`}`;
  o.reporter.log(
    `fusion on the eval split (${o.metric}): ${compared.single.map((s) => `${s.name} alone ${fmt(s)}`).join(', ')}, uniform average ${fmt(compared.uniform)}, learned ${fmt(learned)}`,
  );
  if (weights) o.reporter.log(`learned weights: ${Object.entries(weights).map(([b, w]) => `${b === '*' ? 'all layers' : b} [${w.map((v) => v.toFixed(3)).join(', ')}]`).join('; ')}`);
}

/** A fusion folder's task: the head its config names (classification labels, or question answering); null = a
 *  decoder combination (no task head: chat and eval answer with it, not predict). */
export function fusionFolderTask(folder: FusionFolder): { task: 'classification'; labels: string[] } | { task: 'question-answering' } | null {
  const head = folder.config.task_head;
  if (!head) return null;
  if (head.architecture.endsWith('ForQuestionAnswering')) return { task: 'question-answering' };
  const id2label = head.id2label ?? {};
  return { task: 'classification', labels: Object.keys(id2label).sort((a, b) => Number(a) - Number(b)).map((k) => id2label[k]) };
}

export interface OpenedEncoderFusionFolder {
  folder: FusionFolder;
  task: 'classification' | 'question-answering';
  labels: string[];
  inputs: EncoderFusionInputs;
  session: TrainingSession;
}

/**
 * A trained encoder attention fusion (a fusion folder with a task head) as a session to predict or evaluate with:
 * the adapters re-hashed against the folder's record (refused when one changed or is gone), the fused program
 * rebuilt as it was trained (attention width, value rank, the head trainable) and the folder's trained tensors —
 * attention and head — loaded. `model` must be the base the adapters were combined on.
 */
export async function openEncoderFusionFolder(dir: string, model: string, threads?: number): Promise<OpenedEncoderFusionFolder> {
  const folder = await readFusionFolder(dir);
  const c = folder.config;
  const task = fusionFolderTask(folder);
  if (!task) throw new AdapterError(`${dir} combines decoder adapters (no task head): chat with it or measure it with lora-studio eval`);
  if (resolve(c.base_model) !== resolve(model))
    throw new AdapterError(`${dir} combines adapters of ${c.base_model}; this model is ${model}: choose that base model to answer with the fusion`);
  const labels = task.task === 'classification' ? task.labels : null;
  const inputs = await readEncoderFusionInputs(c.base_model, c.adapters.map((a) => a.path), labels, 0);
  const fused = fuseProgram(inputs.base, frozen(inputs), { mode: 'attention', perLayer: false, softmax: true, attentionDim: c.attention_dim, valueRank: c.value_rank, seed: 0, alsoTrain: new Set(inputs.head.keys()) });
  const trained: TensorMap = new Map();
  for (const d of fused.program.params) {
    if (!d.trainable) continue;
    const t = folder.tensors.get(peftKey(d.name));
    const size = d.shape.reduce((a, b) => a * b, 1);
    if (!t) throw new AdapterError(`${dir}: fusion_model.safetensors has no ${peftKey(d.name)}; the folder is incomplete — train the fusion again`);
    if (t.data.length !== size) throw new AdapterError(`${dir}: ${d.name} holds ${t.data.length} values, the fusion of these adapters needs ${size} (shape ${d.shape.join('×')})`);
    trained.set(peftKey(d.name), { shape: d.shape, data: t.data });
  }
  const session = await fusedSession({ ...inputs, baseWeights: new Map([...inputs.baseWeights, ...inputs.head]) }, fused, 0, threads);
  session.setTrainables(trained);
  return { folder, task: task.task, labels: labels ?? [], inputs, session };
}
