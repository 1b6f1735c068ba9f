// Evaluation: perplexity = exp(token-weighted mean NLL) over an eval split, with the training masking (only
// trained targets count), keeping each example's summed NLL so the UI can show which examples got better.
import type { TrainingSession } from '../session.ts';
import type { BatchPlan } from '../data/batches.ts';

export interface ExampleNll {
  index: number; // the example's index in the plan (its row in the eval split)
  nll: number; // summed NLL of its trained tokens
  tokens: number; // its trained tokens
}

export interface EvaluationResult {
  loss: number; // token-weighted mean NLL; NaN when no token is trained
  perplexity: number;
  tokens: number;
  examples: ExampleNll[];
}

export interface EvaluateOptions {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export async function evaluateSplit(session: TrainingSession, plan: BatchPlan, options: EvaluateOptions = {}): Promise<EvaluationResult> {
  if (plan.options.packing) throw new Error('evaluation needs one example per row to keep per-example NLL: build the eval plan without packing');
  const examples: ExampleNll[] = [];
  let nllSum = 0;
  let tokens = 0;
  const total = plan.microBatchesInEpoch(0);
  for (let microBatch = 0; microBatch < total; microBatch++) {
    options.signal?.throwIfAborted();
    const { batch, exampleIndices } = plan.batchAt({ epoch: 0, microBatch });
    const result = await session.evaluate(batch);
    exampleIndices.forEach((index, b) => {
      const nll = result.nllPerSequence[b];
      const n = result.tokensPerSequence[b];
      examples.push({ index, nll, tokens: n });
      nllSum += nll;
      tokens += n;
    });
    options.onProgress?.(microBatch + 1, total);
  }
  examples.sort((a, b) => a.index - b.index);
  const loss = tokens > 0 ? nllSum / tokens : Number.NaN;
  return { loss, perplexity: Math.exp(loss), tokens, examples };
}

export interface BeforeAfterExample {
  index: number;
  tokens: number;
  baseNll: number;
  adapterNll: number;
}

export interface BeforeAfterResult {
  base: EvaluationResult;
  adapter: EvaluationResult;
  /** Per example, sorted by improvement (largest NLL drop per token first). */
  examples: BeforeAfterExample[];
}

/** Base vs base + adapter on the same split (two sessions over the same frozen weights). */
export async function evaluateBeforeAfter(
  base: TrainingSession,
  adapted: TrainingSession,
  plan: BatchPlan,
  options: EvaluateOptions = {},
): Promise<BeforeAfterResult> {
  const total = plan.microBatchesInEpoch(0);
  const baseResult = await evaluateSplit(base, plan, { signal: options.signal, onProgress: (done) => options.onProgress?.(done, 2 * total) });
  const adapterResult = await evaluateSplit(adapted, plan, { signal: options.signal, onProgress: (done) => options.onProgress?.(total + done, 2 * total) });
  const examples = baseResult.examples.map((b, i) => ({ index: b.index, tokens: b.tokens, baseNll: b.nll, adapterNll: adapterResult.examples[i].nll }));
  const perToken = (e: BeforeAfterExample) => (e.tokens > 0 ? (e.adapterNll - e.baseNll) / e.tokens : 0);
  examples.sort((a, b) => perToken(a) - perToken(b));
  return { base: baseResult, adapter: adapterResult, examples };
}
