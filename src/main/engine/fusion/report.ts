// What a finished fusion run reports (issue 15), written to <run>/fusion-report.json and logged: perplexity on the
// eval split of each adapter alone, of their uniform average and of the learned combination; in weights mode the
// learned weights, in attention mode the heat map — the average weight of each adapter per decoder layer over the
// eval rows' real tokens, read from the session's own evaluation graph (α is one of its outputs) — and for how many
// tokens each adapter weighs most (averaged over the layers).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunConfig } from '../../../common/api/runs.ts';
import type { BatchPlan } from '../data/batches.ts';
import type { TaskBatchPlan } from '../trainer/task-data.ts';
import { openExecutor } from '../executors/index.ts';
import type { Batch, TrainingSession } from '../session.ts';
import { evaluateSplit } from '../trainer/evaluate.ts';
import { compareCombinations, learnedWeights, type OpenedFusion } from './session.ts';
import type { FusedProgram } from './program.ts';

export const FUSION_REPORT = 'fusion-report.json';

export interface AttentionMap {
  /** Per decoder layer (block), the mean weight of each adapter over the real tokens. */
  layers: { block: string; mean: number[] }[];
  /** Tokens whose layer-averaged weight is highest for adapter k. */
  picks: number[];
  tokens: number;
  /** The same over the scored tokens only (those whose next token the loss and perplexity count: the answers). */
  scoredPicks: number[];
  scoredTokens: number;
  /** The same picks per eval example (its index in the split), all tokens and scored tokens. */
  examples: { index: number; picks: number[]; scoredPicks: number[] }[];
}

/** A session that can give AdapterFusion's α per node (the CPU session's evaluation graph outputs them). */
type AlphaSession = TrainingSession & { fusionAlphas?: (batch: Batch) => Promise<Map<number, ArrayLike<number>>> };

/**
 * The attention weights of a trained attention-mode fusion on some eval batches: α as the session's own evaluation
 * graph outputs it (onnxruntime, float32). A session that cannot (the CUDA executor's) hands its trained tensors to
 * a CPU session over the same program, opened for this and closed after. `weights` are the program's frozen weights.
 */
export async function attentionMap(
  session: TrainingSession, fused: FusedProgram, weights: () => Map<string, ArrayLike<number>>, plan: BatchPlan | TaskBatchPlan, maxExamples = 32,
): Promise<AttentionMap> {
  let reader = session as AlphaSession;
  let opened: TrainingSession | null = null;
  if (typeof reader.fusionAlphas !== 'function') {
    const cpu = await openExecutor('cpu').createTrainingSession({ program: fused.program, weights: weights(), seed: 0, capacityTokens: 1 });
    cpu.setTrainables(session.getTrainables());
    reader = opened = cpu;
  }
  try {
    return await mapFrom((batch) => reader.fusionAlphas!(batch), fused, plan, maxExamples);
  } finally {
    await opened?.dispose();
  }
}

async function mapFrom(alphasOf: (batch: Batch) => Promise<Map<number, ArrayLike<number>>>, fused: FusedProgram, plan: BatchPlan | TaskBatchPlan, maxExamples: number): Promise<AttentionMap> {
  const p = fused.program;
  const K = Math.max(...fused.modules.map((m) => Math.max(...m.adapters))) + 1;
  const nodes = p.nodes.flatMap((n, idx) => {
    if (n.op !== 'adapter_fusion') return [];
    const m = fused.modules.find((x) => `${x.module}.fusion.query` === n.query)!;
    return [{ idx, block: m.block ?? m.module, adapters: m.adapters }];
  });
  const blocks = [...new Set(nodes.map((n) => n.block))];
  const sums = new Map(blocks.map((b) => [b, { w: new Float64Array(K), count: 0 }]));
  const picks = new Array<number>(K).fill(0);
  const scoredPicks = new Array<number>(K).fill(0);
  let tokens = 0;
  let scoredTokens = 0;
  let examples = 0;
  const perExample: AttentionMap['examples'] = [];
  for (let mb = 0; mb < plan.microBatchesInEpoch(0) && examples < maxExamples; mb++) {
    const { batch, exampleIndices } = plan.batchAt({ epoch: 0, microBatch: mb });
    examples += exampleIndices.length;
    const alphas = await alphasOf(batch);
    const N = batch.B * batch.T;
    const rows = exampleIndices.map((index) => ({ index, picks: new Array<number>(K).fill(0), scoredPicks: new Array<number>(K).fill(0) }));
    perExample.push(...rows);
    for (let t = 0; t < N; t++) {
      if (!batch.attentionMask[t]) continue;
      tokens++;
      const avg = new Float64Array(K);
      for (const n of nodes) {
        const alpha = alphas.get(n.idx)!;
        const M = n.adapters.length;
        const s = sums.get(n.block)!;
        n.adapters.forEach((k, j) => {
          s.w[k] += alpha[t * M + j];
          avg[k] += alpha[t * M + j] / nodes.length;
        });
        s.count += 1;
      }
      const best = avg.indexOf(Math.max(...avg));
      picks[best]++;
      rows[Math.floor(t / batch.T)].picks[best]++;
      if (batch.labels && batch.labels[t] !== -100) {
        scoredTokens++;
        scoredPicks[best]++;
        rows[Math.floor(t / batch.T)].scoredPicks[best]++;
      }
    }
  }
  return { layers: blocks.map((block) => ({ block, mean: [...sums.get(block)!.w].map((v) => v / Math.max(1, sums.get(block)!.count)) })), picks, tokens, scoredPicks, scoredTokens, examples: perExample };
}

export interface ReportOptions {
  fusion: OpenedFusion;
  config: RunConfig;
  evalPlan: BatchPlan;
  outputDir: string;
  reporter: { log(line: string, level?: 'debug' | 'info' | 'warn'): void; progress(fraction: number | null, message: string): void };
  signal: AbortSignal;
}

export async function reportFusion(o: ReportOptions): Promise<void> {
  const f = o.config.fusion!;
  const { fusion } = o;
  o.reporter.progress(null, 'comparing the combination with each adapter alone and the uniform average');
  const evaluate = async (s: TrainingSession) => (await evaluateSplit(s, o.evalPlan, { signal: o.signal })).perplexity;
  const trained = fusion.session.getTrainables();
  const weights = f.mode === 'weights' ? learnedWeights(fusion.fused, trained, f.weighting === 'softmax') : null;
  const compared = await compareCombinations(fusion.inputs, o.config.seed, evaluate, weights, undefined, fusion.on);
  const learned = compared.learned ?? (await evaluate(fusion.session));
  const attention = f.mode === 'attention' ? await attentionMap(fusion.session, fusion.fused, () => new Map([...fusion.inputs.baseWeights, ...fusion.fused.weights]), o.evalPlan) : null;
  const report = { mode: f.mode, comparison: { metric: 'perplexity', single: compared.single, uniform: compared.uniform, learned }, weights, attention };
  await writeFile(join(o.outputDir, FUSION_REPORT), JSON.stringify(report, null, 2) + '\n');
  o.reporter.log(
    `fusion on the eval split: ${compared.single.map((s) => `${s.name} alone ${s.value.toFixed(3)}`).join(', ')}, uniform average ${compared.uniform.toFixed(3)}, learned ${learned.toFixed(3)}`,
  );
  if (weights) o.reporter.log(`learned weights: ${Object.entries(weights).map(([b, w]) => `${b === '*' ? 'all layers' : b} [${w.map((v) => v.toFixed(3)).join(', ')}]`).join('; ')}`);
}
