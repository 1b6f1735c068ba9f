// The `eval` job's work: perplexity of the base model and of base + adapter on the same rows. One session
// serves both: a fresh LoRA session has B = 0 and so computes exactly the base model; loading the adapter's
// tensors into it then gives base + adapter, without building the graphs twice.
// A full fine-tune's output is a whole model folder, not an adapter: it is measured with its own session, and
// the base (when it has weights: a from-scratch run's config-only folder has none) with another.
import { existsSync } from 'node:fs';
import { defaultThreads } from '../executors/onnx/ort.ts';
import { join } from 'node:path';
import type { EvalJobParams, EvalJobResult, LoraSection } from '../../../common/api/runs.ts';
import { evaluateShipped } from './evaluate-shipped.ts';
import { EVAL_SIDES, say, type EvalSide } from '../../../common/api/phrases.ts';
import { adapterTensors, readAdapter } from '../../formats/peft/index.ts';
import { isFusionFolder } from '../../formats/fusion/index.ts';
import { openFusionFolder } from '../fusion/session.ts';
import { HfTokenizer } from '../../formats/tokenizer/index.ts';
import { BatchPlan } from '../data/batches.ts';
import { loadRunExamples } from '../data/run-examples.ts';
import type { TensorMap, TrainingSession } from '../session.ts';
import { evaluateSplit, type EvaluationResult } from './evaluate.ts';
import type { FineTuneReporter } from './fine-tune.ts';
import { openModelSession } from './model-session.ts';

export interface EvaluateRunOptions {
  params: EvalJobParams;
  signal: AbortSignal;
  reporter: FineTuneReporter;
  /** Tests inject a session and the adapter's tensors; by default the model and adapter folders are read. */
  openSession?: (lora: LoraSection) => Promise<TrainingSession>;
  readAdapterTensors?: (dir: string) => Promise<{ lora: LoraSection; tensors: TensorMap }>;
  /** Where converted GGUF files are cached (needed for `params.ship`). */
  ggufCacheDir?: string;
}

async function readAdapterFolder(dir: string): Promise<{ lora: LoraSection; tensors: TensorMap }> {
  const adapter = await readAdapter(dir);
  const c = adapter.config;
  const targets = c.target_modules;
  const lora: LoraSection = {
    r: c.r,
    lora_alpha: c.lora_alpha,
    lora_dropout: c.lora_dropout,
    target_modules: targets === 'all-linear' ? 'all-linear' : Array.isArray(targets) ? targets : [...new Set([...adapter.layers.keys()].map((m) => m.split('.').at(-1)!))],
    bias: c.bias,
    use_rslora: c.use_rslora,
  };
  return { lora, tensors: adapterTensors(adapter) };
}

const finite = (x: number) => (Number.isFinite(x) ? x : null);

/** A full model folder (what method "full" writes) rather than a PEFT adapter. */
export function isFullModelFolder(dir: string): boolean {
  return existsSync(join(dir, 'config.json')) && !existsSync(join(dir, 'adapter_config.json'));
}

function hasWeights(dir: string): boolean {
  return existsSync(join(dir, 'model.safetensors')) || existsSync(join(dir, 'model.safetensors.index.json'));
}

/** Perplexity of a full fine-tune's model folder, and of its base when that has weights. */
async function evaluateFullModel(options: EvaluateRunOptions, plan: BatchPlan, tunedDir: string): Promise<{ base: EvaluationResult | null; tuned: EvaluationResult }> {
  const { params, reporter } = options;
  const noAdapter: LoraSection = { r: 1, lora_alpha: 1, lora_dropout: 0, target_modules: 'all-linear', bias: 'none', use_rslora: false };
  const measure = async (model: string, side: EvalSide, at: number, of: number) => {
    const label = EVAL_SIDES[side];
    reporter.progress(at / of, say('progress.evalLoading', { side }));
    // a fresh LoRA session computes exactly its base model (B = 0)
    const session = (await openModelSession({ config: { model, method: 'lora', lora: noAdapter, seed: params.seed }, trainingTemplate: null, threads: defaultThreads() })).session;
    try {
      const r = await evaluateSplit(session, plan, { signal: options.signal, onProgress: (f, t) => reporter.progress((at + f / t) / of, say('progress.evalBatch', { side, batch: f, total: t })) });
      reporter.log(`${label}: loss ${r.loss.toFixed(4)}, perplexity ${r.perplexity.toFixed(3)}`);
      return r;
    } finally {
      await session.dispose();
    }
  };
  const withBase = params.compareBase && hasWeights(params.model);
  if (params.compareBase && !withBase) reporter.log(`${params.model} has no weights (a from-scratch run): only the trained model is measured`);
  const base = withBase ? await measure(params.model, 'base', 0, 2) : null;
  const tuned = await measure(tunedDir, 'trained', withBase ? 1 : 0, withBase ? 2 : 1);
  return { base, tuned };
}

/** A fusion folder (attention mode, engine/fusion): its adapters re-hashed and refused if changed, then measured. */
async function evaluateFusionFolder(options: EvaluateRunOptions, plan: BatchPlan, dir: string): Promise<{ base: EvaluationResult | null; tuned: EvaluationResult }> {
  // the base alone is what a plain session over the model folder computes
  const base = options.params.compareBase ? (await evaluateFullModel({ ...options, params: { ...options.params, compareBase: false } }, plan, options.params.model)).tuned : null;
  options.reporter.progress(null, 'loading the fusion and its adapters');
  const { session } = await openFusionFolder(dir, defaultThreads());
  try {
    const tuned = await evaluateSplit(session, plan, { signal: options.signal });
    options.reporter.log(`with the fusion: loss ${tuned.loss.toFixed(4)}, perplexity ${tuned.perplexity.toFixed(3)}`);
    return { base, tuned };
  } finally {
    await session.dispose();
  }
}

export async function evaluateRun(options: EvaluateRunOptions): Promise<EvalJobResult> {
  const { params, reporter } = options;
  reporter.progress(null, say('progress.loadingData'));
  const tokenizer = HfTokenizer.load(params.model);
  const data = await loadRunExamples({
    config: { dataset: params.dataset, max_seq_length: params.maxSeqLength, train_on: params.trainOn, seed: params.seed },
    tokenizer,
  });
  // Without a split every row is measured; with one, only the held-out rows (never trained on).
  const rows = params.dataset.eval_split.kind === 'none' ? data.train : data.eval;
  if (rows.length === 0) throw new Error(`${params.dataset.path}: the eval split is empty; raise the eval ratio or give an eval file`);
  reporter.log(`evaluating ${rows.length} examples (${data.truncated} truncated to ${params.maxSeqLength} tokens)`);
  const plan = new BatchPlan(rows, { seed: params.seed, microBatchSize: params.batchSize, maxLength: params.maxSeqLength, padId: data.padId, shuffle: false });

  const full = !params.adapterPath
    ? null
    : isFusionFolder(params.adapterPath)
      ? await evaluateFusionFolder(options, plan, params.adapterPath)
      : isFullModelFolder(params.adapterPath)
        ? await evaluateFullModel(options, plan, params.adapterPath)
        : null;
  const adapter = params.adapterPath && !full ? await (options.readAdapterTensors ?? readAdapterFolder)(params.adapterPath) : null;
  const lora: LoraSection = adapter?.lora ?? { r: 1, lora_alpha: 1, lora_dropout: 0, target_modules: ['q_proj'], bias: 'none', use_rslora: false };
  reporter.progress(null, say('progress.loadingModel'));
  const session = full
    ? null
    : options.openSession
    ? await options.openSession(lora)
    : (await openModelSession({
        config: { model: params.model, method: params.method === 'qlora' ? 'qlora' : 'lora', lora, seed: params.seed, bnb_4bit_use_double_quant: params.doubleQuant },
        trainingTemplate: null,
        threads: defaultThreads(),
      })).session;
  const passes = (params.compareBase || !adapter ? 1 : 0) + (adapter ? 1 : 0);
  let done = 0;
  const progress = (side: EvalSide) => (finished: number, total: number) =>
    reporter.progress((done + finished / total) / passes, say('progress.evalBatch', { side, batch: finished, total }));
  let base: EvaluationResult | null = full?.base ?? null;
  let tuned: EvaluationResult | null = full?.tuned ?? null;
  if (session) try {
    if (params.compareBase || !adapter) {
      base = await evaluateSplit(session, plan, { signal: options.signal, onProgress: progress('base') });
      done++;
      reporter.log(`base model: loss ${base.loss.toFixed(4)}, perplexity ${base.perplexity.toFixed(3)}`);
    }
    if (adapter) {
      session.setTrainables(adapter.tensors);
      tuned = await evaluateSplit(session, plan, { signal: options.signal, onProgress: progress('adapter') });
      reporter.log(`with adapter: loss ${tuned.loss.toFixed(4)}, perplexity ${tuned.perplexity.toFixed(3)}`);
    }
  } finally {
    await session.dispose();
  }
  const shipped = params.ship ? await evaluateShipped({ ...options, plan, ship: params.ship, isFullModelFolder }) : null;
  const reference = (base ?? tuned)!;
  return {
    summary: {
      ...(shipped ? { shipLoss: finite(shipped.loss), shipPerplexity: finite(shipped.perplexity) } : {}),
      examples: rows.length,
      tokens: reference.tokens,
      baseLoss: base ? finite(base.loss) : null,
      basePerplexity: base ? finite(base.perplexity) : null,
      adapterLoss: tuned ? finite(tuned.loss) : null,
      adapterPerplexity: tuned ? finite(tuned.perplexity) : null,
    },
    examples: rows.map((row, i) => ({
      index: i,
      tokens: reference.examples[i].tokens,
      baseNll: base ? base.examples[i].nll : null,
      adapterNll: tuned ? tuned.examples[i].nll : null,
      text: row.text,
    })),
  };
}
