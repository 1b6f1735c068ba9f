// The `adapter.combine` job: several LoRA adapters of one base model, each with a weight, become one new PEFT
// adapter, exactly (ranks stacked: formats/peft/combine.ts). (Merging an adapter into its base is the `export`
// job's hf format.)
import { cp, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import {
  ADAPTER_COMBINE_JOB_KIND,
  AdapterCombineJobParams,
  type AdapterCombineJobResult,
} from '../../../common/api/adapters.ts';
import { say } from '../../../common/api/phrases.ts';
import { moveIntoPlace } from '../../formats/export/hf.ts';
import { explainWriteError, guardOutput } from '../../formats/output-guard.ts';
import { readModelSpec } from '../../formats/model/folder.ts';
import type { ModelSpec } from '../../formats/model/spec.ts';
import { combineAdapters, readAdapter, writeAdapter, type WeightedLora } from '../../formats/peft/index.ts';
import { defineJobKind, JobCancelled } from '../job-kind.ts';

/** Total bytes of a file, or of every file under a folder. */
export async function pathSize(path: string): Promise<number> {
  const info = await stat(path);
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const entry of await readdir(path, { withFileTypes: true })) total += await pathSize(join(path, entry.name));
  return total;
}

/** Copy an adapter folder atomically: into a temporary sibling first, then renamed into place (never over, into or above the source). */
export async function copyFolder(source: string, dest: string, overwrite: boolean): Promise<void> {
  const target = resolve(dest);
  await guardOutput({ out: target, kind: 'peft-adapter', inputs: [{ path: source, role: 'adapter' }], overwrite });
  let tmp: string;
  try {
    await mkdir(dirname(target), { recursive: true });
    tmp = await mkdtemp(join(dirname(target), `.${basename(target)}.tmp-`));
  } catch (err) {
    throw explainWriteError(err, target);
  }
  try {
    await cp(source, tmp, { recursive: true });
    await moveIntoPlace(tmp, target, overwrite, 'peft-adapter');
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw explainWriteError(err, target);
  }
}

export const adapterCombineJob = defineJobKind({
  name: ADAPTER_COMBINE_JOB_KIND,
  doc: 'Combine several LoRA adapters, each with a weight, into one new PEFT adapter (ranks stacked: exact).',
  params: AdapterCombineJobParams,
  async run(params, ctx): Promise<AdapterCombineJobResult> {
    let spec: ModelSpec | undefined;
    if (params.baseModel) spec = (await readModelSpec(params.baseModel)).spec;
    const parts: WeightedLora[] = [];
    for (const [i, a] of params.adapters.entries()) {
      if (ctx.signal.aborted) throw new JobCancelled();
      ctx.progress(i / (params.adapters.length + 1), say('progress.mergeReading', { file: basename(a.path) }));
      parts.push({ adapter: await readAdapter(a.path, spec), weight: a.weight, name: basename(a.path) });
    }
    ctx.progress(params.adapters.length / (params.adapters.length + 1), say('progress.mergeCombining'));
    const combined = combineAdapters(parts, params.baseModel);
    if (ctx.signal.aborted) throw new JobCancelled();
    const target = resolve(params.outDir);
    await guardOutput({
      out: target,
      kind: 'peft-adapter',
      inputs: [
        ...params.adapters.map((a) => ({ path: a.path, role: 'adapter' })),
        params.baseModel ? { path: params.baseModel, role: 'base model' } : null,
      ],
      overwrite: params.overwrite,
    });
    await mkdir(dirname(target), { recursive: true });
    const tmp = await mkdtemp(join(dirname(target), `.${basename(target)}.tmp-`));
    try {
      await writeAdapter(tmp, combined);
      await moveIntoPlace(tmp, target, params.overwrite, 'peft-adapter');
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
    ctx.log(
      `combined ${parts.length} adapters into ${target} (rank ${combined.config.r}, ${combined.layers.size} layers)`,
    );
    return {
      path: target,
      r: combined.config.r,
      loraAlpha: combined.config.lora_alpha,
      targetModules: [...new Set([...combined.layers.keys()].map((m) => m.split('.').pop()!))].sort(),
      layers: combined.layers.size,
      sizeBytes: await pathSize(target),
    };
  },
});
