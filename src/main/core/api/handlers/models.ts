// Base models: `models.open` validates a local folder here (headers only: weights are checked against the
// architecture without reading them); `models.pull` is a model.pull job whose result is recorded when it
// succeeds. `models.plan` estimates what a run config costs before it starts.
import { existsSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { BaseModel, MODEL_PULL_JOB_KIND, ModelPullJobResult, type BaseModel as BaseModelT, type ModelFolderSummary, type ModelPullJobParams, type RunPlan } from '../../../../common/api/models.ts';
import type { RunConfig } from '../../../../common/api/runs.ts';
import { say, type PhraseParams, type Said } from '../../../../common/api/phrases.ts';
import { linearModules, readModelSpec, type ModelSpec } from '../../../formats/model/index.ts';
import { summarizeModelFolder } from '../../../formats/model/summary.ts';
import { countTrainable, defaultLoraConfig, loraConfigForRun, matchTargetModules, TargetModulesError, type TargetMatch } from '../../../formats/peft/index.ts';
import { effectiveOffline } from '../../settings.ts';
import { BUNDLED_MODEL_DIR } from '../../bundled.ts';
import { hubCacheDir, listCachedSnapshots } from '../../../formats/hub/cache.ts';
import type { ModelSuggestion } from '../../../../common/api/models.ts';
import { fieldPath, readableOnly, StaleRecordError } from '../unreadable.ts';
import { StudioError, notFound } from '../../errors.ts';
import type { BaseModelRecord } from '../../store/index.ts';
import { previewFile, requireExisting } from './datasets.ts';
import { planTaskRun } from './task-plan.ts';
import { toFormatsMapping } from '../../../../common/api/datasets.ts';
import type { CoreContext, HandlerGroup } from './types.ts';

export function toModel(r: BaseModelRecord): BaseModelT {
  const input = { ...r.config, id: r.id, source: r.source, sourceKind: r.sourceKind, path: r.localPath, revision: r.revision, createdAt: r.createdAt };
  const parsed = BaseModel.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new StaleRecordError('model', r.id, fieldPath(issue?.path ?? []), issue, input);
  }
  return parsed.data;
}

function record(ctx: CoreContext, summary: ModelFolderSummary, origin: { source: string; sourceKind: 'hub' | 'local'; revision: string | null; name: string }): BaseModelT {
  const existing = ctx.store.baseModels.findByPath(summary.path);
  // Opening the same folder twice refreshes its record rather than listing it twice.
  if (existing) ctx.store.baseModels.delete(existing.id);
  const r = ctx.store.baseModels.insert({
    source: origin.source,
    sourceKind: origin.sourceKind,
    localPath: summary.path,
    revision: origin.revision,
    architecture: summary.architecture,
    parameterCount: summary.parameterCount,
    sizeBytes: summary.sizeBytes,
    config: { ...summary, name: origin.name },
  });
  return toModel(r);
}

// ── the plan ──────────────────────────────────────────────────────────────────────────────────────
/** Assumed sustained fp32 training throughput per CPU thread when no run on this model measured one. */
export const ASSUMED_FLOPS_PER_THREAD = 2e9;
export const RUNTIME_OVERHEAD_BYTES = 300 * 1024 ** 2;

/** Why the run's targets cannot train this model, and that the run would fail at its start: the matcher's own
 * phrase (targets.*) has its plan counterpart (plan.targets.*) with the same parameters. */
export function targetsFailure(err: unknown): Said {
  if (err instanceof TargetModulesError) {
    const { code, params } = err.phrase;
    const planCode = `plan.${code}` as 'plan.targets.noMatch';
    return say(planCode, params as PhraseParams<typeof planCode>);
  }
  return say('plan.targetsFail', { reason: (err as Error).message });
}

function loraMatch(spec: ModelSpec, config: RunConfig): TargetMatch {
  return matchTargetModules(spec, loraConfigForRun(config.lora, spec));
}

/** Tokens/s measured by the newest finished run on the same model folder and method, if any (median of its logged points). */
/**
 * Tokens per second a run of `config` on a `base`-parameter model is expected to train at, and the sentence saying
 * how that was found: measured on the newest finished run of the same model and method, else assumed from FLOPs
 * (6·N per token for full fine-tuning, 4·N for adapters: the frozen base needs no weight gradients).
 * Decoder and encoder-task plans share it so their time estimates read and round alike.
 */
export function trainingThroughput(ctx: CoreContext, config: RunConfig, base: number): { tokensPerSecond: number; timeFormula: Said } {
  const factor = config.method === 'full' ? 6 : 4;
  const measured = measuredTokensPerSecond(ctx, config);
  const threads = cpus().length;
  const tokensPerSecond = measured?.value ?? (threads * ASSUMED_FLOPS_PER_THREAD) / (factor * base);
  const timeFormula = measured
    ? say('plan.timeMeasured', { tokensPerSecond: measured.value, run: measured.runName })
    : say('plan.timeAssumed', { factor, backward: factor - 2, gflops: ASSUMED_FLOPS_PER_THREAD / 1e9, threads, method: config.method });
  return { tokensPerSecond, timeFormula };
}

export function measuredTokensPerSecond(ctx: CoreContext, config: RunConfig): { value: number; runName: string } | null {
  const runs = ctx.store.projects.list().flatMap((p) => ctx.store.runs.listByProject(p.id));
  runs.sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
  for (const run of runs) {
    const c = run.config as Partial<RunConfig>;
    if (run.status !== 'succeeded' || typeof c.model !== 'string' || resolve(c.model) !== resolve(config.model) || c.method !== config.method) continue;
    const rates = ctx.store.runs
      .metrics(run.id)
      .map((m) => m.values.tokens_per_second)
      .filter((v): v is number => typeof v === 'number' && v > 0)
      .sort((a, b) => a - b);
    if (rates.length > 0) return { value: rates[Math.floor(rates.length / 2)], runName: run.name };
  }
  return null;
}

export async function planRun(config: RunConfig, ctx: CoreContext): Promise<RunPlan> {
  if (config.task !== 'causal-lm') return planTaskRun(config, ctx); // encoder tasks: task-plan.ts
  requireExisting(config.model, 'folder', 'model');
  let spec: ModelSpec;
  try {
    spec = (await readModelSpec(config.model)).spec;
  } catch (err) {
    throw new StudioError('invalid_input', `model: ${(err as Error).message}`, { field: 'model' });
  }
  const warnings: RunPlan['warnings'] = [];
  const warn = (field: string | null, said: string | Said, blocking = false) =>
    warnings.push(typeof said === 'string' ? { field, message: said, blocking } : { field, message: said.message, phrase: said.phrase, blocking });

  // Trainable parameters, counted from shapes exactly as PEFT counts them.
  let trainable: number;
  let total: number;
  let targeted = 0;
  let targetedLayers = 0;
  const base = countTrainable(spec, defaultLoraConfig({ target_modules: 'all-linear', r: 1 })).base;
  if (config.method === 'full') {
    trainable = base;
    total = base;
  } else {
    try {
      const match = loraMatch(spec, config);
      for (const w of match.warningsSaid) warn('lora.target_modules', w);
      const counted = countTrainable(spec, loraConfigForRun(config.lora, spec), match);
      trainable = counted.trainable;
      total = counted.all;
      targeted = match.targets.length;
      targetedLayers = new Set(match.targets.map((t) => t.layer).filter((layer) => layer !== null)).size;
    } catch (err) {
      warn('lora.target_modules', targetsFailure(err));
      trainable = 0;
      total = base;
    }
  }

  // Token counts of the dataset as this run renders it.
  let dataset: RunPlan['dataset'] = null;
  try {
    requireExisting(config.dataset.path, 'file', 'dataset.path');
    const preview = await previewFile(config.dataset.path, toFormatsMapping(config.dataset.format, config.dataset.columns), {
      offset: 0, rows: 1, model: config.model, template: config.dataset.template, maxLength: config.max_seq_length, trainOn: config.train_on, sample: 2000,
    });
    const examples = preview.total;
    const evalShare = config.dataset.eval_split.kind === 'ratio' ? config.dataset.eval_split.ratio : 0;
    const evalCount = evalShare > 0 ? Math.max(1, Math.round(examples * evalShare)) : 0;
    const unrendered = preview.rows.find((row) => row.error !== null);
    if (unrendered) warn('dataset.template', say('plan.unrenderable', { row: unrendered.row + 1, reason: unrendered.error ?? '' }), true);
    const stats = preview.stats!;
    dataset = { examples, trainExamples: examples - evalCount, meanTokens: stats.mean, truncated: stats.truncated, truncatedShare: stats.truncatedShare };
    if (stats.truncated > 0) {
      warn('max_seq_length', say('plan.truncated', { count: stats.truncated, total: stats.count, share: stats.truncatedShare, maxLength: config.max_seq_length, longest: stats.max }));
    }
    if (stats.untrainable > 0) warn('train_on', say('plan.untrainable', { count: stats.untrainable }));
    if (dataset.trainExamples < 50) warn('dataset.path', say('plan.fewExamples', { count: dataset.trainExamples }));
  } catch (err) {
    warn('dataset.path', say('plan.datasetUnreadable', { reason: (err as Error).message }));
  }

  const lr = config.learning_rate;
  // Small models take larger steps: the bundled 3.5M-parameter model learns best at 3e-3 (its demo recipe).
  const [lo, hi] = config.method === 'full' ? [1e-6, 1e-4] : [1e-5, base < 50e6 ? 1e-2 : 1e-3];
  if (lr < lo || lr > hi) warn('learning_rate', say('plan.learningRate', { lr, lo, hi, method: config.method, high: lr > hi ? 1 : 0 }));
  if (config.max_seq_length > spec.maxPositions) warn('max_seq_length', say('plan.beyondPositions', { maxLength: config.max_seq_length, positions: spec.maxPositions }));
  if (config.lora.lora_alpha / config.lora.r > 4 && config.method !== 'full') warn('lora.lora_alpha', say('plan.alphaRatio', { ratio: config.lora.lora_alpha / config.lora.r }));

  // Memory: what the CPU executor keeps (fp32 compute) — frozen weights, trained state, activations, logits.
  const linearParams = linearModules(spec).filter((m) => !(m.isOutputHead && spec.tiedEmbeddings)).reduce((n, m) => n + m.inFeatures * m.outFeatures, 0);
  const parts: RunPlan['memory']['parts'] = [];
  const part = (said: Said, bytes: number) => parts.push({ label: said.message, labelPhrase: said.phrase, bytes });
  if (config.method === 'lora') part(say('plan.part.frozenBase'), base * 4);
  if (config.method === 'qlora') {
    const bitsPerWeight = config.bnb_4bit_use_double_quant ? 4 + 8 / 64 + 32 / (64 * 256) : 4 + 32 / 64;
    part(say('plan.part.nf4', { bits: bitsPerWeight }), (linearParams * bitsPerWeight) / 8);
    part(say('plan.part.otherBase'), Math.max(0, base - linearParams) * 4);
  }
  part(say(config.method === 'full' ? 'plan.part.fullState' : 'plan.part.adapterState'), trainable * 16);
  const seq = Math.min(config.max_seq_length, dataset ? Math.max(1, Math.ceil(Math.min(dataset.meanTokens * 1.5, config.max_seq_length))) : config.max_seq_length);
  const tokensInFlight = config.micro_batch_size * (config.packing ? config.max_seq_length : seq);
  const perTokenPerLayer = 6 * spec.hiddenSize + 3 * spec.intermediateSize + spec.numHeads * (config.packing ? config.max_seq_length : seq);
  part(say('plan.part.activations'), tokensInFlight * spec.numLayers * perTokenPerLayer * 4);
  part(say('plan.part.logits'), tokensInFlight * spec.vocabSize * 4 * 2);
  part(say('plan.part.runtime'), RUNTIME_OVERHEAD_BYTES);
  const memoryBytes = parts.reduce((n, p) => n + p.bytes, 0);
  if (memoryBytes > totalmem() * 0.8) {
    warn('method', say('plan.memoryHigh', { bytes: memoryBytes, total: totalmem(), method: config.method }));
  }

  // Time: optimizer steps × tokens per step ÷ tokens per second.
  const batch = config.micro_batch_size * config.gradient_accumulation_steps;
  const trainExamples = dataset?.trainExamples ?? 0;
  const steps = config.max_steps ?? Math.max(1, Math.ceil((trainExamples / batch) * config.num_train_epochs));
  const tokensPerExample = dataset ? Math.min(dataset.meanTokens, config.max_seq_length) : 0;
  const tokens = steps * batch * tokensPerExample;
  const { tokensPerSecond, timeFormula } = trainingThroughput(ctx, config, base);
  const seconds = dataset ? tokens / tokensPerSecond : null;
  const memoryFormula = say('plan.memoryFormula');

  return {
    model: { architecture: spec.architecture, parameterCount: base, layers: spec.numLayers, hiddenSize: spec.hiddenSize },
    trainableParameters: trainable,
    totalParameters: total,
    trainableShare: total > 0 ? trainable / total : 0,
    targetedModules: targeted,
    targetedLayers,
    dataset,
    memory: {
      bytes: memoryBytes,
      parts,
      formula: memoryFormula.message,
      formulaPhrase: memoryFormula.phrase,
    },
    time: { steps, tokens, seconds, formula: timeFormula.message, formulaPhrase: timeFormula.phrase },
    warnings,
  };
}

/** How many Hugging Face cache snapshots the cards summarise (each reads a config and safetensors headers). */
const MAX_CACHE_SUGGESTIONS = 12;

async function suggestModels(ctx: CoreContext): Promise<{ models: ModelSuggestion[]; bundledPath: string | null }> {
  const opened = readableOnly('model', ctx.store.baseModels.list(), toModel);
  const openedByPath = new Map(opened.map((m) => [resolve(m.path), m]));
  const out: ModelSuggestion[] = [];
  const seen = new Set<string>();
  const add = async (origin: ModelSuggestion['origin'], path: string, name: string | Said) => {
    const key = resolve(path);
    if (seen.has(key)) return;
    seen.add(key);
    const known = openedByPath.get(key);
    try {
      const s = known ?? (await summarizeModelFolder(path));
      out.push({ origin, ...(typeof name === 'string' ? { name } : { name: name.message, namePhrase: name.phrase }), path, modelId: known?.id ?? null, architecture: s.architecture, parameterCount: s.parameterCount, sizeBytes: s.sizeBytes, layers: s.layers, maxPositions: s.maxPositions });
    } catch {
      // a folder that does not open as a model is simply not offered
    }
  };
  const bundled = existsSync(join(BUNDLED_MODEL_DIR, 'config.json')) ? BUNDLED_MODEL_DIR : null;
  if (bundled) await add('bundled', bundled, say('bundled.modelName'));
  for (const m of opened) await add('opened', m.path, m.name);
  const cached = listCachedSnapshots(hubCacheDir(), 'model').filter((s) => s.files.includes('config.json'));
  for (const snapshot of cached.slice(0, MAX_CACHE_SUGGESTIONS)) await add('hf-cache', snapshot.path, snapshot.repo);
  return { models: out, bundledPath: bundled };
}

export const modelHandlers: HandlerGroup<'models'> = {
  'models.suggestions': (_input, ctx) => suggestModels(ctx),
  'models.open': async ({ path }, ctx) => {
    requireExisting(path, 'folder', 'path');
    let summary: ModelFolderSummary;
    try {
      summary = await summarizeModelFolder(path);
    } catch (err) {
      throw new StudioError('invalid_input', (err as Error).message, { field: 'path' });
    }
    return record(ctx, summary, { source: path, sourceKind: 'local', revision: null, name: basename(path) });
  },
  'models.pull': ({ repo, revision, offline }, ctx) => {
    const params: ModelPullJobParams = { repo, revision, offline: offline ?? effectiveOffline(ctx.store) };
    return ctx.jobs.start(MODEL_PULL_JOB_KIND, params, {
      hooks: {
        onEnd: (job) => {
          if (job.status !== 'succeeded') return;
          const result = ModelPullJobResult.safeParse(job.result);
          if (!result.success) throw new Error(`model.pull returned a malformed result: ${result.error.issues[0]?.message}`);
          record(ctx, result.data.summary, { source: repo, sourceKind: 'hub', revision: result.data.commit, name: repo });
        },
      },
    });
  },
  'models.list': (_input, ctx) => readableOnly('model', ctx.store.baseModels.list(), toModel),
  'models.get': ({ id }, ctx) => {
    const r = ctx.store.baseModels.get(id);
    if (!r) throw notFound('base model', id);
    return toModel(r);
  },
  'models.delete': ({ id }, ctx) => ({ deleted: ctx.store.baseModels.delete(id) }),
  'models.plan': ({ config }, ctx) => planRun(config, ctx),
};
