// What the user will ship, measured: the model (a PEFT adapter merged in, or a full fine-tune's folder) exported by
// our GGUF writer at the chosen quantization, its perplexity computed by llama.cpp on the same rows and trained
// targets as the engine's base and tuned sides — so the cost of quantizing sits next to the gain of fine-tuning.
import type { ShipQuant } from '../../../common/api/chat.ts';
import type { EvalJobParams } from '../../../common/api/runs.ts';
import type { BatchPlan } from '../data/batches.ts';
import { cachedModelGguf, LlamaCppModel } from '../generate/llama-cpp.ts';
import type { EvaluationResult } from './evaluate.ts';
import type { FineTuneReporter } from './fine-tune.ts';

export interface EvaluateShippedOptions {
  params: EvalJobParams;
  plan: BatchPlan;
  ship: ShipQuant;
  signal: AbortSignal;
  reporter: FineTuneReporter;
  /** Where converted GGUF files are cached. */
  ggufCacheDir?: string;
  /** Whether the evaluated folder is a whole model (a full fine-tune) rather than a PEFT adapter. */
  isFullModelFolder(dir: string): boolean;
}

export async function evaluateShipped(o: EvaluateShippedOptions): Promise<EvaluationResult> {
  const { params, reporter, plan, ship } = o;
  if (!o.ggufCacheDir) throw new Error('measuring the shipped GGUF needs a folder for GGUF files (ggufCacheDir)');
  const full = params.adapterPath !== null && o.isFullModelFolder(params.adapterPath);
  const baseDir = full ? params.adapterPath! : params.model;
  const merged = params.adapterPath && !full ? [{ path: params.adapterPath, weight: 1 }] : [];
  reporter.progress(null, `exporting the ${ship} GGUF`);
  const { file, made } = await cachedModelGguf(o.ggufCacheDir, baseDir, ship, merged);
  reporter.log(`${made ? 'exported' : 'reusing'} the ${ship} GGUF ${file}`);
  const model = await LlamaCppModel.open(file);
  try {
    const examples: EvaluationResult['examples'] = [];
    const total = plan.microBatchesInEpoch(0);
    for (let microBatch = 0; microBatch < total; microBatch++) {
      o.signal.throwIfAborted();
      const { batch, exampleIndices } = plan.batchAt({ epoch: 0, microBatch });
      for (const [b, index] of exampleIndices.entries()) {
        const row = (from: Int32Array) => Array.from(from.subarray(b * batch.T, (b + 1) * batch.T));
        const length = batch.attentionMask.subarray(b * batch.T, (b + 1) * batch.T).reduce((n, m) => n + m, 0); // right padding
        const r = await model.sequenceNll(row(batch.inputIds).slice(0, length), row(batch.labels).slice(0, length));
        examples.push({ index, nll: r.nll, tokens: r.tokens });
      }
      reporter.progress((microBatch + 1) / total, `exported ${ship} GGUF: batch ${microBatch + 1} of ${total}`);
    }
    examples.sort((a, b) => a.index - b.index);
    const tokens = examples.reduce((n, e) => n + e.tokens, 0);
    const loss = tokens > 0 ? examples.reduce((n, e) => n + e.nll, 0) / tokens : Number.NaN;
    reporter.log(`exported ${ship} GGUF (llama.cpp): loss ${loss.toFixed(4)}, perplexity ${Math.exp(loss).toFixed(3)}`);
    return { loss, perplexity: Math.exp(loss), tokens, examples };
  } finally {
    await model.dispose();
  }
}
