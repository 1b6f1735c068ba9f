// A model's weights across one or more safetensors files: `model.safetensors`, or shards listed in
// `model.safetensors.index.json` ({"metadata": {"total_size": n}, "weight_map": {tensor: file}}).

import { readFile, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { SafetensorsFile, SafetensorsError, elementCount, type TensorInfo } from './file.ts';
import { dtypeSize } from './dtypes.ts';
import { writeSafetensors, tempPathFor, type TensorToWrite } from './write.ts';
import { pathExists } from '../files.ts';

export const SINGLE_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';


/** Read-only access to named tensors spread over files; each tensor is read on demand. */
export class WeightStore {
  private constructor(
    readonly dir: string,
    private readonly files: Map<string, SafetensorsFile>,
    private readonly location: Map<string, SafetensorsFile>,
    /** The files, relative to dir, in load order. */
    readonly fileNames: string[],
  ) {}

  /** Open `<dir>/<baseName>.safetensors` or its sharded index. */
  static async open(dir: string, baseName = 'model'): Promise<WeightStore> {
    const indexPath = join(dir, `${baseName}.safetensors.index.json`);
    const singlePath = join(dir, `${baseName}.safetensors`);
    if (await pathExists(indexPath)) {
      let index: unknown;
      try {
        index = JSON.parse(await readFile(indexPath, 'utf8'));
      } catch (e) {
        throw new SafetensorsError(indexPath, `not valid JSON (${(e as Error).message})`);
      }
      const weightMap = (index as { weight_map?: unknown })?.weight_map;
      if (weightMap === null || typeof weightMap !== 'object' || Array.isArray(weightMap)) {
        throw new SafetensorsError(indexPath, 'missing "weight_map" object ({tensor name: shard file})');
      }
      const files = new Map<string, SafetensorsFile>();
      const location = new Map<string, SafetensorsFile>();
      try {
        for (const [name, file] of Object.entries(weightMap as Record<string, unknown>)) {
          if (typeof file !== 'string' || file.includes('/') || file.includes('\\')) {
            throw new SafetensorsError(indexPath, `weight_map["${name}"] must be a shard file name in the same folder, got ${JSON.stringify(file)}`);
          }
          let st = files.get(file);
          if (!st) {
            if (!(await pathExists(join(dir, file)))) {
              throw new SafetensorsError(indexPath, `weight_map["${name}"] points to "${file}", which is missing from ${dir}`);
            }
            st = await SafetensorsFile.open(join(dir, file));
            files.set(file, st);
          }
          if (!st.tensors.has(name)) throw new SafetensorsError(join(dir, file), `index lists tensor "${name}" in this shard, but it is not there`);
          location.set(name, st);
        }
      } catch (e) {
        await Promise.all([...files.values()].map((f) => f.close()));
        throw e;
      }
      return new WeightStore(dir, files, location, [...files.keys()]);
    }
    if (await pathExists(singlePath)) {
      const st = await SafetensorsFile.open(singlePath);
      const location = new Map<string, SafetensorsFile>();
      for (const name of st.tensors.keys()) location.set(name, st);
      return new WeightStore(dir, new Map([[`${baseName}.safetensors`, st]]), location, [`${baseName}.safetensors`]);
    }
    const hint = (await pathExists(join(dir, 'pytorch_model.bin'))) || (await pathExists(join(dir, 'pytorch_model.bin.index.json')))
      ? ' (found PyTorch .bin weights: only safetensors are supported; convert them or download the safetensors revision)'
      : '';
    throw new SafetensorsError(dir, `no ${baseName}.safetensors or ${baseName}.safetensors.index.json${hint}`);
  }

  names(): string[] {
    return [...this.location.keys()];
  }

  has(name: string): boolean {
    return this.location.has(name);
  }

  info(name: string): TensorInfo {
    const f = this.location.get(name);
    if (!f) throw new SafetensorsError(this.dir, `no tensor named "${name}"`);
    return f.info(name);
  }

  fileOf(name: string): string {
    const f = this.location.get(name);
    if (!f) throw new SafetensorsError(this.dir, `no tensor named "${name}"`);
    return f.path;
  }

  async readFloat32(name: string): Promise<Float32Array> {
    const f = this.location.get(name);
    if (!f) throw new SafetensorsError(this.dir, `no tensor named "${name}"`);
    return f.readFloat32(name);
  }

  async readBytes(name: string): Promise<Uint8Array> {
    const f = this.location.get(name);
    if (!f) throw new SafetensorsError(this.dir, `no tensor named "${name}"`);
    return f.readBytes(name);
  }

  /** Metadata of the first file (safetensors metadata is per file). */
  get metadata(): Record<string, string> {
    const first = this.files.values().next().value;
    return first ? first.metadata : {};
  }

  async close(): Promise<void> {
    await Promise.all([...this.files.values()].map((f) => f.close()));
  }
}

export interface ShardedWriteOptions {
  /** Largest shard in bytes (transformers' max_shard_size); one file when everything fits. */
  maxShardBytes?: number;
  metadata?: Record<string, string>;
  baseName?: string;
}

export interface ShardedWriteResult {
  files: string[];
  totalSize: number;
  indexFile: string | null;
}

function tensorBytes(t: TensorToWrite): number {
  return elementCount(t.shape) * dtypeSize(t.dtype);
}

/**
 * Write tensors as `model.safetensors` or, above `maxShardBytes`, as
 * `model-0000i-of-0000n.safetensors` + `model.safetensors.index.json` (sharded in the given order,
 * like transformers' `save_pretrained`). Each file is written atomically.
 */
export async function writeShardedSafetensors(dir: string, tensors: readonly TensorToWrite[], options: ShardedWriteOptions = {}): Promise<ShardedWriteResult> {
  const baseName = options.baseName ?? 'model';
  const max = options.maxShardBytes ?? Infinity;
  const totalSize = tensors.reduce((s, t) => s + tensorBytes(t), 0);
  const shards: TensorToWrite[][] = [];
  let current: TensorToWrite[] = [];
  let currentSize = 0;
  for (const t of tensors) {
    const n = tensorBytes(t);
    if (current.length > 0 && currentSize + n > max) {
      shards.push(current);
      current = [];
      currentSize = 0;
    }
    current.push(t);
    currentSize += n;
  }
  if (current.length > 0 || shards.length === 0) shards.push(current);
  const metadata = { format: 'pt', ...(options.metadata ?? {}) };
  if (shards.length === 1) {
    await writeSafetensors(join(dir, `${baseName}.safetensors`), shards[0], { metadata });
    return { files: [`${baseName}.safetensors`], totalSize, indexFile: null };
  }
  const pad = (i: number) => String(i).padStart(5, '0');
  const files: string[] = [];
  const weightMap: Record<string, string> = {};
  for (let i = 0; i < shards.length; i++) {
    const file = `${baseName}-${pad(i + 1)}-of-${pad(shards.length)}.safetensors`;
    await writeSafetensors(join(dir, file), shards[i], { metadata });
    files.push(file);
    for (const t of shards[i]) weightMap[t.name] = file;
  }
  const sortedMap: Record<string, string> = {};
  for (const k of Object.keys(weightMap).sort()) sortedMap[k] = weightMap[k];
  const indexFile = `${baseName}.safetensors.index.json`;
  const indexPath = join(dir, indexFile);
  const tmp = tempPathFor(indexPath);
  await writeFile(tmp, JSON.stringify({ metadata: { total_size: totalSize }, weight_map: sortedMap }, null, 2) + '\n');
  await rename(tmp, indexPath);
  return { files, totalSize, indexFile };
}
