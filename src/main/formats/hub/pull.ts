/**
 * What to download for a model (only the files training and export need) and for a dataset (its Parquet
 * files), on top of download.ts.
 */
import { readFile } from 'node:fs/promises';
import { fetchFiles, HubError, resolveRepo, type HubOptions, type ResolvedRepo } from './download.ts';

/** Small files a model folder needs besides its weights (those that exist are taken). */
export const MODEL_META_FILES = [
  'config.json',
  'generation_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'chat_template.jinja',
  'chat_template.json',
  'added_tokens.json',
  // Slow-tokenizer files: small, and what llama.cpp's converter reads for some models.
  'tokenizer.model',
  'vocab.json',
  'merges.txt',
] as const;

export interface PulledRepo {
  repo: string;
  revision: string;
  commit: string;
  /** The snapshot folder: a Hugging Face model folder (or the dataset's files). */
  path: string;
  files: string[];
  downloadedBytes: number;
  fromCache: string[];
}

/** The weight files of a listing: the index's shards, or model.safetensors, or the top-level .safetensors. */
export function selectWeightFiles(paths: string[], index: { weight_map?: Record<string, string> } | null): string[] {
  if (index) {
    if (!index.weight_map || typeof index.weight_map !== 'object') {
      throw new HubError('bad-request', 'model.safetensors.index.json has no "weight_map"');
    }
    const shards = [...new Set(Object.values(index.weight_map))].sort();
    const missing = shards.filter((s) => !paths.includes(s));
    if (missing.length) throw new HubError('file-not-found', `model.safetensors.index.json names shard(s) the repo does not have: ${missing.join(', ')}`);
    return shards;
  }
  if (paths.includes('model.safetensors')) return ['model.safetensors'];
  // Top level only; Mistral-style consolidated.safetensors duplicates the HF-named weights.
  return paths.filter((p) => !p.includes('/') && p.endsWith('.safetensors') && !p.startsWith('consolidated'));
}

/** Downloads (or finds in the cache) what a model needs: config, tokenizer files, safetensors weights. */
export async function pullModel(options: Omit<HubOptions, 'type'>): Promise<PulledRepo> {
  const resolved = await resolveRepo({ ...options, type: 'model' });
  const paths = resolved.files.map((f) => f.path);
  const label = `${options.repo}@${resolved.revision}`;
  if (!paths.includes('config.json')) {
    throw new HubError(
      resolved.offline ? 'offline-not-cached' : 'file-not-found',
      resolved.offline ? `offline mode: the cached ${label} has no config.json` : `${label} has no config.json: it is not a transformers model repo`,
    );
  }
  const meta = MODEL_META_FILES.filter((f) => paths.includes(f));
  let index: { weight_map?: Record<string, string> } | null = null;
  if (paths.includes('model.safetensors.index.json')) {
    const got = await fetchFiles(resolved, ['model.safetensors.index.json'], { ...options, onProgress: undefined });
    try {
      index = JSON.parse(await readFile(got.paths['model.safetensors.index.json'], 'utf8'));
    } catch (err) {
      throw new HubError('integrity', `model.safetensors.index.json of ${label} is not valid JSON: ${(err as Error).message}`);
    }
  }
  const weights = selectWeightFiles(paths, index);
  if (weights.length === 0) {
    const other = paths.filter((p) => /\.(bin|pt|pth|h5|gguf|onnx|msgpack)$/.test(p));
    throw new HubError(
      resolved.offline ? 'offline-not-cached' : 'file-not-found',
      `${label} has no safetensors weights${other.length ? ` (only ${other.slice(0, 4).join(', ')}${other.length > 4 ? ', …' : ''})` : ''}: the studio reads safetensors only`,
    );
  }
  const wanted = [...meta, ...(index ? ['model.safetensors.index.json'] : []), ...weights];
  return finish(resolved, wanted, await fetchFiles(resolved, wanted, options));
}

export interface PulledDataset extends PulledRepo {
  /** Local Parquet paths by split name ("train", "test", …; "data" when the path names none). */
  splits: Record<string, string[]>;
}

const PARQUET_CONVERSION = 'refs/convert/parquet';

/**
 * Downloads a Hub dataset's Parquet files: the repo's own, or else the Hub's automatic conversion
 * (the refs/convert/parquet branch). `split` keeps only that split's files.
 */
export async function pullDataset(options: Omit<HubOptions, 'type'> & { split?: string; config?: string }): Promise<PulledDataset> {
  let resolved = await resolveRepo({ ...options, type: 'dataset' });
  let parquet = parquetFiles(resolved, options.config);
  if (parquet.length === 0 && options.revision === undefined && !resolved.offline) {
    resolved = await resolveRepo({ ...options, type: 'dataset', revision: PARQUET_CONVERSION });
    parquet = parquetFiles(resolved, options.config);
  }
  if (parquet.length === 0) {
    throw new HubError('file-not-found', `dataset ${options.repo}@${resolved.revision} has no Parquet files${options.config ? ` for config "${options.config}"` : ''}`);
  }
  const bySplit: Record<string, string[]> = {};
  for (const p of parquet) (bySplit[splitOf(p)] ??= []).push(p);
  let wanted = parquet;
  if (options.split !== undefined) {
    wanted = bySplit[options.split] ?? [];
    if (wanted.length === 0) {
      throw new HubError('file-not-found', `dataset ${options.repo} has no split "${options.split}" (it has ${Object.keys(bySplit).join(', ')})`);
    }
  }
  const got = await fetchFiles(resolved, wanted, options);
  const splits: Record<string, string[]> = {};
  for (const p of wanted) (splits[splitOf(p)] ??= []).push(got.paths[p]);
  return { ...finish(resolved, wanted, got), splits };
}

function parquetFiles(resolved: ResolvedRepo, config?: string): string[] {
  return resolved.files
    .map((f) => f.path)
    .filter((p) => p.endsWith('.parquet') && (config === undefined || p.split('/')[0] === config))
    .sort();
}

/** "data/train-00000-of-00002.parquet", "default/train/0000.parquet", "test.parquet" → train / train / test. */
export function splitOf(path: string): string {
  const parts = path.split('/');
  const name = parts[parts.length - 1].replace(/\.parquet$/, '');
  const known = ['train', 'validation', 'valid', 'dev', 'test', 'eval'];
  for (const dir of parts.slice(0, -1).reverse()) if (known.includes(dir) || /^(partial-)?(train|test|validation)$/.test(dir)) return dir.replace(/^partial-/, '');
  const head = name.split(/[-_.]/)[0];
  if (known.includes(head)) return head;
  if (parts.length >= 3) return parts[parts.length - 2]; // config/split/0000.parquet
  return 'data';
}

function finish(resolved: ResolvedRepo, files: string[], got: { downloadedBytes: number; fromCache: string[] }): PulledRepo {
  return {
    repo: resolved.repo,
    revision: resolved.revision,
    commit: resolved.commit,
    path: resolved.snapshot,
    files,
    downloadedBytes: got.downloadedBytes,
    fromCache: got.fromCache,
  };
}
