// Export a merged Hugging Face model folder: base + adapter(s) merged, weights in bf16 (default),
// f16 or f32, sharded above a size like save_pretrained, config.json with the new torch_dtype,
// generation_config.json, tokenizer files, and the chat template the adapter was trained with.
// The folder is built beside the destination and renamed into place, so a crash never leaves a
// half-written model; an existing folder is replaced only with `overwrite: true`, and only when it is a
// previous merged-model export (output-guard.ts), never the base, an adapter or a folder holding them.

import { mkdir, readFile, writeFile, rename, rm, copyFile } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeShardedSafetensors, type TensorToWrite } from '../safetensors/index.ts';
import { openModelFolder, type ModelFolder } from '../model/folder.ts';
import { encoderForTask, isEncoderSpec, taskModelConfig } from '../../model/families/bert/task.ts';
import { adapterTaskRequest } from '../peft/task-request.ts';
import { readAdapter, type LoraAdapter } from '../peft/adapter.ts';
import { mergedTensorReader } from '../merge/merge.ts';
import { pathExists } from '../files.ts';
import { explainWriteError, guardOutput, markOutputFolder, physicalPath, type GuardedInput, type OutputKind } from '../output-guard.ts';

export type ExportDtype = 'bf16' | 'f16' | 'f32';

const DTYPES = {
  bf16: { st: 'BF16', torch: 'bfloat16' },
  f16: { st: 'F16', torch: 'float16' },
  f32: { st: 'F32', torch: 'float32' },
} as const;

export class ExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExportError';
  }
}

export interface AdapterSource {
  /** An adapter folder, or an adapter already in memory. */
  adapter: string | LoraAdapter;
  weight?: number;
}

export interface HfExportOptions {
  baseDir: string;
  adapters?: AdapterSource[];
  outDir: string;
  dtype?: ExportDtype;
  /** Shard above this many bytes (default 5 GB, as transformers' save_pretrained did for years). */
  maxShardBytes?: number;
  /** Replace a previous merged-model export at outDir (never anything else: see output-guard.ts). */
  overwrite?: boolean;
  /** More inputs the output must keep clear of (the data dir, run folders), beyond the base and adapters. */
  protect?: GuardedInput[];
  /** Override the chat template written with the export (default: the adapter's training template). */
  chatTemplate?: string | null;
  onProgress?: (done: number, total: number, tensor: string) => void;
}

export interface HfExportResult {
  outDir: string;
  files: string[];
  totalBytes: number;
  dtype: ExportDtype;
  chatTemplate: 'adapter' | 'base' | 'override' | 'none';
}


/**
 * Replace `dest` with the finished `tmp` folder (keeping the old one until the new one is in place). The folder is
 * marked as this kind of output first; an existing `dest` is checked again here (it may have changed since the
 * writer started), so only an empty folder or a previous output of the same kind is ever moved away.
 */
export async function moveIntoPlace(tmp: string, target: string, overwrite: boolean, kind: OutputKind): Promise<void> {
  const dest = await physicalPath(target); // a symlinked target is replaced where it points, not the link itself
  await markOutputFolder(tmp, kind);
  await guardOutput({ out: dest, kind, inputs: [], overwrite });
  if (await pathExists(dest)) {
    const old = join(dirname(dest), `.${basename(dest)}.old-${randomBytes(4).toString('hex')}`);
    await rename(dest, old);
    await rename(tmp, dest);
    await rm(old, { recursive: true, force: true });
  } else {
    await rename(tmp, dest);
  }
}

/**
 * The base folder as the merge reads it: an encoder whose adapter carries a task head (task_head.json, or PEFT's
 * task_type with the head it saved: peft/task-request.ts) opens as that task model (…ForSequenceClassification with its labels, …ForQuestionAnswering), so
 * the adapter's head tensors have their places; anything else as config.json says.
 */
export async function openMergeBase(baseDir: string, adapters: readonly AdapterSource[]): Promise<ModelFolder> {
  for (const a of adapters) {
    const adapter = typeof a.adapter === 'string' ? await readAdapter(a.adapter) : a.adapter;
    const request = adapterTaskRequest(adapter);
    if (request) return openModelFolder(baseDir, { spec: (s) => encoderForTask(s, request) as typeof s });
  }
  return openModelFolder(baseDir);
}

export async function exportHfModel(options: HfExportOptions): Promise<HfExportResult> {
  const dtype = options.dtype ?? 'bf16';
  if (!(dtype in DTYPES)) throw new ExportError(`dtype "${dtype}" is not supported (supported: ${Object.keys(DTYPES).join(', ')})`);
  const outDir = await physicalPath(options.outDir);
  await guardOutput({
    out: outDir,
    kind: 'hf-model',
    inputs: [
      { path: options.baseDir, role: 'base model' },
      ...(options.adapters ?? []).map((a) => (typeof a.adapter === 'string' ? { path: a.adapter, role: 'adapter' } : null)),
      ...(options.protect ?? []),
    ],
    overwrite: options.overwrite,
  });
  const model = await openMergeBase(options.baseDir, options.adapters ?? []);
  const tmp = join(dirname(outDir), `.${basename(outDir)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const adapters: { adapter: LoraAdapter; weight?: number }[] = [];
    for (const a of options.adapters ?? []) {
      adapters.push({ adapter: typeof a.adapter === 'string' ? await readAdapter(a.adapter, model.spec) : a.adapter, weight: a.weight });
    }
    const read = mergedTensorReader(model, adapters);
    const notBrought = model.created.filter((n) => !adapters.some((a) => a.adapter.extra.has(`base_model.model.${n}`)));
    if (notBrought.length)
      throw new ExportError(`${options.baseDir} has no ${notBrought.join(', ')} and no adapter brings ${notBrought.length > 1 ? 'them' : 'it'}: export the adapter trained with this head`);
    await mkdir(tmp, { recursive: true });
    const st = DTYPES[dtype].st;
    let done = 0;
    const tensors: TensorToWrite[] = model.table.map((e) => ({
      name: e.hfName,
      dtype: st,
      shape: e.shape,
      data: async () => {
        const values = await read(e.hfName);
        options.onProgress?.(++done, model.table.length, e.hfName);
        return values;
      },
    }));
    const written = await writeShardedSafetensors(tmp, tensors, { maxShardBytes: options.maxShardBytes ?? 5e9 });
    const files = [...written.files, ...(written.indexFile ? [written.indexFile] : [])];

    // an encoder's task model: its class, and the labels for classification
    const config: Record<string, unknown> = { ...(isEncoderSpec(model.spec) ? taskModelConfig(model.config, model.spec) : model.config), torch_dtype: DTYPES[dtype].torch };
    if ('dtype' in model.config) config.dtype = DTYPES[dtype].torch; // transformers v5 spelling
    await writeFile(join(tmp, 'config.json'), JSON.stringify(config, null, 2) + '\n');
    files.push('config.json');
    const generation = model.generationConfig ?? {
      bos_token_id: model.spec.bosTokenId ?? undefined,
      eos_token_id: model.spec.eosTokenIds.length === 1 ? model.spec.eosTokenIds[0] : model.spec.eosTokenIds,
      pad_token_id: model.spec.padTokenId ?? undefined,
    };
    if (!isEncoderSpec(model.spec)) {
      // encoders do not generate: transformers writes no generation config for them
      await writeFile(join(tmp, 'generation_config.json'), JSON.stringify(generation, null, 2) + '\n');
      files.push('generation_config.json');
    }

    for (const f of model.tokenizerFiles) {
      await copyFile(join(model.dir, f), join(tmp, f));
      files.push(f);
    }
    // The chat template the adapter trained with goes in both places transformers reads, so they agree.
    const trained = adapters.find((a) => a.adapter.trainingTemplate)?.adapter.trainingTemplate ?? null;
    let chatTemplate: string | null = null;
    let source: HfExportResult['chatTemplate'] = 'none';
    if (options.chatTemplate !== undefined) {
      chatTemplate = options.chatTemplate;
      source = chatTemplate === null ? 'none' : 'override';
    } else if (trained?.chatTemplate) {
      chatTemplate = trained.chatTemplate;
      source = 'adapter';
    } else if (model.tokenizerFiles.includes('chat_template.jinja') || model.tokenizerFiles.includes('tokenizer_config.json')) {
      source = 'base';
    }
    if (chatTemplate !== null) {
      await writeFile(join(tmp, 'chat_template.jinja'), chatTemplate);
      if (!files.includes('chat_template.jinja')) files.push('chat_template.jinja');
      if (model.tokenizerFiles.includes('tokenizer_config.json')) {
        const tc = JSON.parse(await readFile(join(tmp, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
        tc.chat_template = chatTemplate;
        await writeFile(join(tmp, 'tokenizer_config.json'), JSON.stringify(tc, null, 2) + '\n');
      }
    }
    if (trained) {
      await writeFile(
        join(tmp, 'training_template.json'),
        JSON.stringify({ format: 'lora-studio.training-template/1', template: trained.template, chat_template: trained.chatTemplate }, null, 2) + '\n',
      );
      files.push('training_template.json');
    }
    await model.close();
    await moveIntoPlace(tmp, outDir, options.overwrite ?? false, 'hf-model');
    return { outDir, files, totalBytes: written.totalSize, dtype, chatTemplate: source };
  } catch (e) {
    await model.close().catch(() => {});
    await rm(tmp, { recursive: true, force: true }).catch(() => {}); // nothing to remove when it could not be made
    throw explainWriteError(e, outDir);
  }
}
