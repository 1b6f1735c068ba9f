// "Fusion vs singles" (issue 15), the `fusion.evaluate` job: a finished combination run measured against each of
// its adapters alone and their uniform average, on the run's eval split or on eval files the user picks (each file
// measured whole, one table per file: per-task evaluation). Each adapter alone, the uniform average and — weights
// mode — the learned weights are the same weights-mode program with one-hot, 1/K and the learned values
// (fusion/session.ts compareCombinations); attention mode's learned combination is its fusion folder's own session.
// The adapters must be the ones the run combined (sha256 as recorded): a changed adapter is refused.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FUSION_EVAL_FILE, type FusionEvalJobParams, type FusionEvalResult, type FusionEvalTable } from '../../../common/api/fusion-eval.ts';
import { say } from '../../../common/api/phrases.ts';
import { FUSION_RECORD, fusionParts, isFusionFolder } from '../../formats/fusion/index.ts';
import { HfTokenizer } from '../../formats/tokenizer/index.ts';
import { BatchPlan } from '../data/batches.ts';
import { loadRunExamples } from '../data/run-examples.ts';
import { defaultThreads } from '../executors/onnx/ort.ts';
import { compareCombinations, openFusionFolder, readFusionInputs } from '../fusion/session.ts';
import type { TrainingSession } from '../session.ts';
import { evaluateSplit } from './evaluate.ts';
import type { FineTuneReporter } from './fine-tune.ts';

export interface FusionEvalOptions {
  params: FusionEvalJobParams;
  signal: AbortSignal;
  reporter: Pick<FineTuneReporter, 'log' | 'progress'>;
}

/** The learned weights of a weights-mode run (its adapter's fusion.json), after checking its parts are unchanged. */
async function learnedWeightsOf(adapterDir: string, adapterPaths: readonly string[]): Promise<Record<string, number[]>> {
  const file = join(adapterDir, FUSION_RECORD);
  let record: { adapters?: { name: string; sha256: string }[]; weights?: Record<string, number[]> };
  try {
    record = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: the run's record of its learned weights cannot be read (${(e as Error).message}); train the combination again`, { cause: e });
  }
  if (!record.weights || !record.adapters) throw new Error(`${file}: no learned weights or adapter list; train the combination again`);
  const now = await fusionParts(adapterPaths);
  now.forEach((p, k) => {
    const was = record.adapters![k];
    if (!was || was.sha256 !== p.sha256)
      throw new Error(`${p.path}: this adapter changed since the combination was trained (sha256 ${p.sha256.slice(0, 12)}…, recorded ${was?.sha256.slice(0, 12) ?? 'none'}…); train the combination again on the current adapters`);
  });
  return record.weights;
}

export async function evaluateFusionRun(o: FusionEvalOptions): Promise<FusionEvalResult> {
  const { config, runDir, datasets, runId } = o.params;
  const f = config.fusion;
  if (!f) throw new Error(`run ${runId} has no fusion section: only a combination run (fuse, Learn a combination…) is compared with its adapters`);
  const adapterDir = join(runDir, 'adapter');
  const attention = f.mode === 'attention';
  if (attention !== isFusionFolder(adapterDir))
    throw new Error(`${adapterDir}: the run's result is missing or not a ${f.mode}-mode combination (has the run finished?)`);
  o.reporter.progress(null, say('progress.loadingData'));
  const tokenizer = HfTokenizer.load(config.model);
  const sets: { path: string | null; rows: Awaited<ReturnType<typeof loadRunExamples>>['train']; padId: number }[] = [];
  if (datasets.length === 0) {
    const data = await loadRunExamples({ config, tokenizer });
    if (data.eval.length === 0) throw new Error(`run ${runId} has no eval split: pick eval files to measure instead`);
    sets.push({ path: null, rows: data.eval, padId: data.padId });
  } else
    for (const path of datasets) {
      // each file whole, read with the run's template and column mapping
      const data = await loadRunExamples({ config: { ...config, dataset: { ...config.dataset, path, eval_split: { kind: 'none' } } }, tokenizer });
      if (data.train.length === 0) throw new Error(`${path}: no example to measure (every row was left out)`);
      sets.push({ path, rows: data.train, padId: data.padId });
    }
  o.reporter.progress(null, say('progress.loadingModel'));
  const learned = attention ? null : await learnedWeightsOf(adapterDir, f.adapters);
  const fusion = attention ? await openFusionFolder(adapterDir, defaultThreads()) : null; // re-hashes the adapters
  const inputs = fusion?.inputs ?? (await readFusionInputs(config.model, f.adapters));
  const tables: FusionEvalTable[] = [];
  try {
    for (const [i, set] of sets.entries()) {
      const plan = new BatchPlan(set.rows, { seed: config.seed, microBatchSize: config.micro_batch_size, maxLength: config.max_seq_length, padId: set.padId, shuffle: false });
      const name = set.path ?? 'eval split';
      let tokens = 0;
      const evaluate = async (s: TrainingSession) => {
        const r = await evaluateSplit(s, plan, { signal: o.signal });
        tokens = r.tokens;
        return r.perplexity;
      };
      o.reporter.progress(i / sets.length, say('progress.fusionCompare', { set: set.path ?? '' }));
      const c = await compareCombinations(inputs, config.seed, evaluate, learned, defaultThreads());
      const learnedPpl = fusion ? await evaluate(fusion.session) : c.learned!;
      const single = c.single.map((s, k) => ({ ...s, path: inputs.adapters[k].part.path }));
      tables.push({ path: set.path, examples: set.rows.length, tokens, single, uniform: c.uniform, learned: learnedPpl });
      o.reporter.log(`${name}: ${single.map((s) => `${s.name} ${s.perplexity.toFixed(3)}`).join(', ')}, uniform ${c.uniform.toFixed(3)}, learned (${f.mode}) ${learnedPpl.toFixed(3)}`);
    }
  } finally {
    await fusion?.session.dispose();
  }
  const result: FusionEvalResult = { runId, mode: f.mode, tables, finishedAt: new Date().toISOString() };
  await writeFile(join(runDir, FUSION_EVAL_FILE), JSON.stringify(result, null, 2) + '\n');
  return result;
}
