// Opening a run with a `fusion` section (issue 15): the base model folder and the frozen adapters → the fused
// program (program.ts) → a training session on the run's executor (cpu, cuda or auto, as every run chooses: a device
// asked for and absent is refused before any weight is read) that trains only the combination, and the writer of what it
// learned — in weights mode a PEFT adapter (ranks stacked with the learned weights, optionally SVD-compressed)
// plus fusion.json, in attention mode a fusion folder (formats/fusion). Also what evaluation uses to rebuild a
// trained fusion, and the comparison of the learned combination against each adapter alone and the uniform average.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FusionSection } from '../../../common/api/fusion.ts';
import type { RunConfig } from '../../../common/api/runs.ts';
import { openModelFolder, readModelSpec, type ModelSpec } from '../../formats/model/index.ts';
import { AdapterError, combineAdapters, compressAdapter, layerScale, readAdapter, writeAdapter, type LoraAdapter, type TrainingTemplate } from '../../formats/peft/index.ts';
import { FUSION_RECORD, fusionParts, readFusionFolder, writeFusionFolder, type FusionPart } from '../../formats/fusion/index.ts';
import { buildProgramFromSpec } from '../../model/families/index.ts';
import { countParams, peftKey, type Program } from '../../model/ir.ts';
import { readProgramWeights } from '../models/load.ts';
import { openExecutor, type Executor, type ExecutorChoice, type ExecutorName, type OpenExecutorOptions } from '../executors/index.ts';
import type { TensorMap, TrainingSession } from '../session.ts';
import { mixWeights } from '../ops/adapter-mix.ts';
import { fuseProgram, mixWeightName, type FrozenAdapter, type FusedProgram, type FusionOptions } from './program.ts';

export interface FusionInputs {
  spec: ModelSpec;
  base: Program;
  baseWeights: Map<string, Float32Array>;
  adapters: { part: FusionPart; adapter: LoraAdapter }[];
}

/** Reads the base model and the adapters (each checked against the base; biases / modules_to_save refused).
 *  `beforeWeights` sees the base program before any weight or adapter is read (the executor choice refuses there). */
export async function readFusionInputs(model: string, adapterPaths: readonly string[], beforeWeights?: (base: Program) => void): Promise<FusionInputs> {
  const { spec } = await readModelSpec(model);
  const base = buildProgramFromSpec(spec);
  beforeWeights?.(base);
  const folder = await openModelFolder(model);
  let baseWeights: Map<string, Float32Array>;
  try {
    baseWeights = (await readProgramWeights(folder, base)) as Map<string, Float32Array>;
  } finally {
    await folder.close();
  }
  const parts = await fusionParts(adapterPaths);
  const adapters = [];
  for (const part of parts) {
    const adapter = await readAdapter(part.path, spec);
    if (adapter.extra.size) throw new AdapterError(`${part.path} also trains ${[...adapter.extra.keys()].slice(0, 2).join(', ')} (biases or modules_to_save): only LoRA pairs can be combined`);
    adapters.push({ part, adapter });
  }
  return { spec, base, baseWeights, adapters };
}

export function frozen(inputs: FusionInputs): FrozenAdapter[] {
  return inputs.adapters.map(({ part, adapter }) => ({
    name: part.name,
    layers: new Map([...adapter.layers].map(([m, l]) => [m, { r: l.r, A: l.A, B: l.B, scale: layerScale(adapter.config, l) }])),
  }));
}

export function fusionOptions(f: FusionSection, seed: number): FusionOptions {
  return { mode: f.mode, perLayer: f.per_layer, softmax: f.weighting === 'softmax', attentionDim: f.attention_dim, valueRank: f.value_rank, seed };
}

/** Where a fusion's sessions run: the executor for a program (its training one and the comparisons' weights-mode
 *  one), and the largest micro-batch in tokens (the device sizes its activation slots for it). */
export interface FusionExecutor {
  open(program: Program): Executor;
  capacityTokens: number;
}

export const CPU_FUSION: FusionExecutor = { open: () => openExecutor('cpu'), capacityTokens: 1 };

/** Options of the executor choice; tests inject the native addon / CUDA probe (built for each program). */
export type FusionExecutorOptions = (program: Program) => Omit<OpenExecutorOptions, 'program'>;

/**
 * The run's executor choice for a fusion, as ordinary runs make it (model-session.ts, encoders/open.ts): returns the
 * check to run on the base program before any weight is read ('cuda' without a usable GPU is refused there with the
 * usual sentence) and the FusionExecutor that then opens each program's executor ('auto' decides per program).
 */
export function fusionExecutorChoice(choice: ExecutorChoice, capacityTokens: number, options?: FusionExecutorOptions) {
  const at = (program: Program) => openExecutor(choice, { ...options?.(program), program });
  return {
    check: (base: Program) => void at(base),
    executor: { open: at, capacityTokens } satisfies FusionExecutor,
  };
}

/** A session over a fused program (its frozen weights: the base's and the adapters' factors) on `on`'s executor. */
export async function fusedSession(inputs: FusionInputs, fused: FusedProgram, seed: number, threads?: number, on: FusionExecutor = CPU_FUSION): Promise<TrainingSession> {
  const weights = new Map<string, Float32Array>([...inputs.baseWeights, ...fused.weights]);
  return on.open(fused.program).createTrainingSession({ program: fused.program, weights, seed, threads, capacityTokens: on.capacityTokens });
}

/** Learned mixing weights by decoder layer ('*' = the global ones), read from a weights-mode session's trainables. */
export function learnedWeights(fused: FusedProgram, trainables: TensorMap, softmax: boolean): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const d of fused.program.params)
    if (d.trainable) {
      const t = trainables.get(peftKey(d.name))!;
      const block = d.name === mixWeightName(null) ? '*' : d.name.slice('fusion.'.length, -'.weights'.length);
      out[block] = [...mixWeights(Float64Array.from(t.data), softmax)];
    }
  return out;
}

/** The learned combination as one PEFT adapter (exact stacked ranks, or SVD-compressed to `rank`). */
export function combinedAdapter(inputs: FusionInputs, fused: FusedProgram, weights: Record<string, number[]>, rank: number | null, baseModel: string) {
  const blockOf = new Map(fused.modules.map((m) => [m.module, m.block]));
  const weightOf = (k: number) => (module: string) => (weights['*'] ?? weights[blockOf.get(module) ?? ''])[k];
  const stacked = combineAdapters(
    inputs.adapters.map(({ part, adapter }, k) => ({ adapter, weight: weightOf(k), name: part.name })),
    baseModel,
  );
  if (rank === null) return { adapter: stacked, relativeError: 0 };
  const c = compressAdapter(stacked, rank);
  return { adapter: c.adapter, relativeError: c.relativeError };
}

export interface OpenedFusion {
  session: TrainingSession;
  writeAdapter: (dir: string, trainables: TensorMap) => Promise<void>;
  trainableParameters: number;
  warnings: string[];
  inputs: FusionInputs;
  fused: FusedProgram;
  /** The executor that trains, and why (what `auto` found); `on` opens the comparisons' sessions there too. */
  executor: { name: ExecutorName; reason: string };
  on: FusionExecutor;
}

/** The training side of a fusion run: the session (on the run's executor) and the writer of its result. */
export async function openFusionSession(config: RunConfig, trainingTemplate: TrainingTemplate | null, threads?: number, executorOptions?: FusionExecutorOptions): Promise<OpenedFusion> {
  const f = config.fusion!;
  const choice = fusionExecutorChoice(config.executor ?? 'cpu', config.micro_batch_size * config.max_seq_length, executorOptions);
  const inputs = await readFusionInputs(config.model, f.adapters, choice.check);
  const fused = fuseProgram(inputs.base, frozen(inputs), fusionOptions(f, config.seed));
  const executor = choice.executor.open(fused.program);
  const session = await fusedSession(inputs, fused, config.seed, threads, choice.executor);
  const parts = inputs.adapters.map((a) => a.part);
  const writeAdapterFn = async (dir: string, trainables: TensorMap) => {
    if (f.mode === 'attention') {
      return writeFusionFolder(dir, {
        mode: 'attention',
        base_model: config.model,
        attention_dim: f.attention_dim,
        value_rank: f.value_rank,
        adapters: parts,
        training_template: trainingTemplate ? { template: trainingTemplate.template, chat_template: trainingTemplate.chatTemplate } : null,
      }, trainables);
    }
    const weights = learnedWeights(fused, trainables, f.weighting === 'softmax');
    const { adapter, relativeError } = combinedAdapter(inputs, fused, weights, f.rank, config.model);
    await writeAdapter(dir, { ...adapter, trainingTemplate: trainingTemplate ?? adapter.trainingTemplate });
    const record = { format: 'lora-studio.fusion-weights/1', mode: 'weights', weighting: f.weighting, per_layer: f.per_layer, adapters: parts, weights, rank: adapter.config.r, svd_relative_error: f.rank === null ? null : relativeError };
    await writeFile(join(dir, FUSION_RECORD), JSON.stringify(record, null, 2) + '\n');
  };
  const warnings = fused.modules.some((m) => m.adapters.length < inputs.adapters.length)
    ? ['some adapted layers are adapted by only some of the adapters: there a missing adapter counts as no change']
    : [];
  return { session, writeAdapter: writeAdapterFn, trainableParameters: countParams(fused.program, (d) => d.trainable), warnings, inputs, fused, executor: { name: executor.name, reason: executor.reason }, on: choice.executor };
}

/** A trained attention-mode fusion folder as a session (evaluation): adapters re-hashed, trained tensors loaded. */
export async function openFusionFolder(dir: string, threads?: number) {
  const folder = await readFusionFolder(dir);
  const inputs = await readFusionInputs(folder.config.base_model, folder.config.adapters.map((a) => a.path));
  const fused = fuseProgram(inputs.base, frozen(inputs), { mode: 'attention', perLayer: false, softmax: true, attentionDim: folder.config.attention_dim, valueRank: folder.config.value_rank, seed: 0 });
  const session = await fusedSession(inputs, fused, 0, threads);
  session.setTrainables(folder.tensors);
  return { folder, inputs, fused, session };
}

/**
 * Evaluates on `evaluate` (the eval split's perplexity for a session) each adapter alone, the uniform average and
 * the learned weights — all through one weights-mode program with unconstrained weights set to one-hot, 1/K and
 * the learned values. Attention mode's learned perplexity is measured on its own session by the caller.
 */
export async function compareCombinations(
  inputs: FusionInputs, seed: number, evaluate: (s: TrainingSession) => Promise<number>, learned: Record<string, number[]> | null, threads?: number, on: FusionExecutor = CPU_FUSION,
): Promise<{ single: { name: string; value: number; perplexity: number }[]; uniform: number; learned: number | null }> {
  const perLayer = learned !== null && !('*' in learned);
  const fused = fuseProgram(inputs.base, frozen(inputs), { mode: 'weights', perLayer, softmax: false, attentionDim: 1, seed });
  const session = await fusedSession(inputs, fused, seed, threads, on);
  const K = inputs.adapters.length;
  const withWeights = async (w: (block: string | null) => number[]) => {
    const t: TensorMap = new Map();
    for (const d of fused.program.params)
      if (d.trainable) {
        const block = d.name === mixWeightName(null) ? null : d.name.slice('fusion.'.length, -'.weights'.length);
        t.set(peftKey(d.name), { shape: [K], data: Float32Array.from(w(block)) });
      }
    session.setTrainables(t);
    return evaluate(session);
  };
  try {
    const single = [];
    for (let k = 0; k < K; k++) {
      const perplexity = await withWeights(() => Array.from({ length: K }, (_v, j) => (j === k ? 1 : 0)));
      single.push({ name: inputs.adapters[k].part.name, value: perplexity, perplexity });
    }
    const uniform = await withWeights(() => new Array<number>(K).fill(1 / K));
    const learnedPpl = learned ? await withWeights((block) => learned[block ?? '*'] ?? learned['*']) : null;
    return { single, uniform, learned: learnedPpl };
  } finally {
    await session.dispose();
  }
}
