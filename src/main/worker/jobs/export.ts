// The `export` job: one adapter (with its base model) written in the format another tool reads — a merged
// Hugging Face folder, a merged GGUF, a copy of the PEFT folder, a llama.cpp LoRA GGUF, or (encoder task adapters)
// the merged task model as an ONNX folder for transformers.js / Optimum. The writers in
// formats/ build beside the destination and rename into place, so a cancelled or failed export leaves nothing
// half-written under the chosen name; they refuse an existing destination unless overwrite is set.
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EXPORT_JOB_KIND, ExportJobParams, type ExportJobResult } from '../../../common/api/exports.ts';
import { say } from '../../../common/api/phrases.ts';
import { exportHfModel, type ExportDtype } from '../../formats/export/index.ts';
import { exportGguf, exportLoraGguf, type GgufOutType } from '../../formats/gguf/index.ts';
import { defineJobKind, JobCancelled, type JobContext } from '../job-kind.ts';
import { explainWriteError } from '../../formats/output-guard.ts';
import { copyFolder, pathSize } from './merge.ts';
import { CARD_KIND_OF_EXPORT, writeExportCard } from '../../formats/card/index.ts';
import { exportEncoderOnnx } from '../../engine/encoders/onnx-export.ts';

/** Progress per written tensor, at most a few reports a second; stops the writer as soon as cancel arrives. */
function tensorProgress(ctx: JobContext, verb: 'merging' | 'writing'): (done: number, total: number, tensor: string) => void {
  let last = 0;
  return (done, total, tensor) => {
    if (ctx.signal.aborted) throw new JobCancelled();
    const now = Date.now();
    if (done < total && now - last < 200) return;
    last = now;
    ctx.progress(done / total, say('progress.exportTensor', { verb, tensor, done, total }));
  };
}

function needBase(params: ExportJobParams): string {
  if (!params.baseModel)
    throw new Error(`the ${params.format} export needs the base model folder the adapter was trained on`);
  return params.baseModel;
}

function needAdapter(params: ExportJobParams): string {
  if (!params.adapter) throw new Error(`the ${params.format} export writes an adapter, and this export has none`);
  return params.adapter.path;
}

export const exportJob = defineJobKind({
  name: EXPORT_JOB_KIND,
  doc: 'Write an adapter (merged into its base, or alone) as a Hugging Face folder, GGUF, PEFT copy or LoRA GGUF.',
  params: ExportJobParams,
  async run(params, ctx): Promise<ExportJobResult> {
    await mkdir(dirname(params.outPath), { recursive: true }).catch((err: unknown) => Promise.reject(explainWriteError(err, params.outPath)));
    // no adapter: baseModel is the tuned model itself (a full fine-tune), written as it is
    const adapters = params.adapter ? [{ adapter: params.adapter.path, weight: params.adapter.weight }] : [];
    ctx.progress(0, say('progress.exportOpening'));
    let path: string;
    let files: string[];
    try {
      switch (params.format) {
        case 'hf': {
          const res = await exportHfModel({
            baseDir: needBase(params),
            adapters,
            outDir: params.outPath,
            dtype: params.type as ExportDtype,
            overwrite: params.overwrite,
            onProgress: tensorProgress(ctx, 'merging'),
          });
          path = res.outDir;
          files = res.files;
          break;
        }
        case 'gguf': {
          const res = await exportGguf({
            baseDir: needBase(params),
            adapters,
            outFile: params.outPath,
            type: params.type as GgufOutType,
            overwrite: params.overwrite,
            onProgress: tensorProgress(ctx, 'writing'),
          });
          path = res.outFile;
          files = [res.outFile];
          break;
        }
        case 'lora-gguf': {
          const res = await exportLoraGguf({
            baseDir: needBase(params),
            adapter: needAdapter(params),
            outFile: params.outPath,
            type: params.type as 'f32' | 'f16' | 'bf16',
            overwrite: params.overwrite,
          });
          path = res.outFile;
          files = [res.outFile];
          break;
        }
        case 'onnx': {
          ctx.progress(0.1, say('progress.exportOnnx'));
          const res = await exportEncoderOnnx({
            baseDir: needBase(params),
            adapters,
            outDir: params.outPath,
            overwrite: params.overwrite,
          });
          if (ctx.signal.aborted) throw new JobCancelled();
          path = res.outDir;
          files = res.files;
          ctx.log(`ONNX inputs: ${res.inputs.join(', ')}; outputs: ${res.outputs.join(', ')}`);
          break;
        }
        case 'peft': {
          await copyFolder(needAdapter(params), params.outPath, params.overwrite);
          path = params.outPath;
          files = [path];
          break;
        }
      }
    } catch (err) {
      if (ctx.signal.aborted) throw new JobCancelled();
      throw err;
    }
    const cardKind = params.format === 'onnx' ? null : CARD_KIND_OF_EXPORT[params.format];
    if (params.card && cardKind) {
      const card = await writeExportCard(cardKind, path, params.card);
      if (cardKind === 'gguf') files.push(...card.written);
      if (card.ollamaCreate) ctx.log(`Ollama: ${card.ollamaCreate}`);
    }
    const sizeBytes = await pathSize(path);
    ctx.progress(1, say('progress.exportWrote', { path }));
    ctx.log(`${params.format} (${params.type}) written to ${path}: ${sizeBytes} bytes`);
    return { path, sizeBytes, files };
  },
});
