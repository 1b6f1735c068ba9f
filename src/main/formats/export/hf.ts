// Export a merged Hugging Face model folder: base + adapter(s) merged, weights in bf16 (default),
// f16 or f32, sharded above a size like save_pretrained, config.json with the new torch_dtype,
// generation_config.json, tokenizer files, and the chat template the adapter was trained with.
// The folder is built beside the destination and renamed into place, so a crash never leaves a
// half-written model; an existing folder is replaced only with `overwrite: true`.

import { mkdir, readFile, writeFile, rename, rm, copyFile } from 'node:fs/promises';
import { dirname, basename, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeShardedSafetensors, type TensorToWrite } from '../safetensors/index.ts';
import { openModelFolder } from '../model/folder.ts';
import { readAdapter, type LoraAdapter } from '../peft/adapter.ts';
import { mergedTensorReader } from '../merge/merge.ts';
import { pathExists } from '../files.ts';

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
  overwrite?: boolean;
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


/** Replace `dest` with the finished `tmp` folder (keeping the old one until the new one is in place). */
export async function moveIntoPlace(tmp: string, dest: string, overwrite: boolean): Promise<void> {
  if (await pathExists(dest)) {
    if (!overwrite) throw new ExportError(`${dest} already exists; choose another folder or pass overwrite: true to replace it`);
    const old = join(dirname(dest), `.${basename(dest)}.old-${randomBytes(4).toString('hex')}`);
    await rename(dest, old);
    await rename(tmp, dest);
    await rm(old, { recursive: true, force: true });
  } else {
    await rename(tmp, dest);
  }
}

export async function exportHfModel(options: HfExportOptions): Promise<HfExportResult> {
  const dtype = options.dtype ?? 'bf16';
  if (!(dtype in DTYPES)) throw new ExportError(`dtype "${dtype}" is not supported (supported: ${Object.keys(DTYPES).join(', ')})`);
  const outDir = resolve(options.outDir);
  if (resolve(options.baseDir) === outDir) throw new ExportError(`${outDir}: cannot export over the base model folder`);
  if ((await pathExists(outDir)) && !options.overwrite) {
    throw new ExportError(`${outDir} already exists; choose another folder or pass overwrite: true to replace it`);
  }
  const model = await openModelFolder(options.baseDir);
  const tmp = join(dirname(outDir), `.${basename(outDir)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const adapters: { adapter: LoraAdapter; weight?: number }[] = [];
    for (const a of options.adapters ?? []) {
      adapters.push({ adapter: typeof a.adapter === 'string' ? await readAdapter(a.adapter, model.spec) : a.adapter, weight: a.weight });
    }
    const read = mergedTensorReader(model, adapters);
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

    const config: Record<string, unknown> = { ...model.config, torch_dtype: DTYPES[dtype].torch };
    if ('dtype' in model.config) config.dtype = DTYPES[dtype].torch; // transformers v5 spelling
    await writeFile(join(tmp, 'config.json'), JSON.stringify(config, null, 2) + '\n');
    files.push('config.json');
    const generation = model.generationConfig ?? {
      bos_token_id: model.spec.bosTokenId ?? undefined,
      eos_token_id: model.spec.eosTokenIds.length === 1 ? model.spec.eosTokenIds[0] : model.spec.eosTokenIds,
      pad_token_id: model.spec.padTokenId ?? undefined,
    };
    await writeFile(join(tmp, 'generation_config.json'), JSON.stringify(generation, null, 2) + '\n');
    files.push('generation_config.json');

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
    await moveIntoPlace(tmp, outDir, options.overwrite ?? false);
    return { outDir, files, totalBytes: written.totalSize, dtype, chatTemplate: source };
  } catch (e) {
    await model.close().catch(() => {});
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}
