// Writes a job bundle folder: the rows (readable and tokenized), the trainers' configs, the README and the
// reproducibility record. The folder is built next to its destination and renamed into place, so a bundle
// folder is complete or absent; it is never written into, over or above one of the run's inputs.
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { BUNDLE_RECORD_FILE, type ReproducibilityRecord } from '../../../common/api/bundles.ts';
import { guardOutput, markOutputFolder, OutputGuardError, type GuardedInput } from '../output-guard.ts';
import { bundleReadme } from './readme.ts';
import {
  accelerateDeepSpeedConfig,
  accelerateFsdpConfig,
  axolotlConfig,
  BUNDLE_PATHS,
  decoderLayerClass,
  type ModelReference,
} from './settings.ts';
import { trlScript } from './trl-script.ts';

/** One example: the trainer-format row for reading, and the studio's tokens with their trained mask. */
export interface BundleRow {
  readable: Record<string, unknown>;
  ids: ArrayLike<number>;
  /** 1 = a training target (HF labels keep the id), 0 = -100. */
  trained: ArrayLike<number>;
}

export interface BundleContent {
  record: ReproducibilityRecord;
  model: ModelReference;
  train: BundleRow[];
  eval: BundleRow[];
  chatTemplate: string | null;
}

export class BundleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BundleError';
  }
}

/** Where the trainer loads the model from: the Hub id when the folder came from the Hub, else a copied folder. */
export function modelReference(o: {
  path: string;
  hubId: string | null;
  revision: string | null;
  architecture: string | null;
}): ModelReference {
  const layer = decoderLayerClass(o.architecture);
  if (o.hubId)
    return { load: o.hubId, revision: o.revision, copyLocalFolder: false, localPath: o.path, decoderLayerClass: layer };
  return { load: 'model', revision: null, copyLocalFolder: true, localPath: o.path, decoderLayerClass: layer };
}

/** A row as the tokenized JSONL both trainers read: exactly input_ids, attention_mask and labels (-100 = no loss). */
export function tokenizedRow(row: Pick<BundleRow, 'ids' | 'trained'>): {
  input_ids: number[];
  attention_mask: number[];
  labels: number[];
} {
  const input_ids = Array.from(row.ids);
  return {
    input_ids,
    attention_mask: input_ids.map(() => 1),
    labels: input_ids.map((id, i) => (row.trained[i] ? id : -100)),
  };
}

/**
 * YAML for Python readers: PyYAML (YAML 1.1, what Axolotl and accelerate load configs with) reads `1e-8` as a
 * string, so numbers JavaScript writes with an exponent are written as plain decimals (0.00000001).
 */
export function pythonYaml(value: unknown): string {
  const decimals = new Map<string, string>();
  const walk = (v: unknown): unknown => {
    if (typeof v === 'number' && /e/i.test(String(v))) {
      const key = `__decimal_${decimals.size}__`;
      const fixed = v.toFixed(20).replace(/0+$/, '');
      decimals.set(key, fixed.endsWith('.') ? `${fixed}0` : fixed);
      return key;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  let text = stringify(walk(value));
  for (const [key, fixed] of decimals) text = text.replace(key, fixed);
  return text;
}

const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');

/** Every file of the bundle, path → text. */
export function bundleFiles(content: BundleContent): Map<string, string> {
  const hasEval = content.eval.length > 0;
  const hasChatTemplate = content.chatTemplate !== null;
  const config = content.record.settings;
  const files = new Map<string, string>();
  files.set(BUNDLE_PATHS.trainReadable, jsonl(content.train.map((r) => r.readable)));
  files.set(BUNDLE_PATHS.trainTokenized, jsonl(content.train.map(tokenizedRow)));
  if (hasEval) {
    files.set(BUNDLE_PATHS.evalReadable, jsonl(content.eval.map((r) => r.readable)));
    files.set(BUNDLE_PATHS.evalTokenized, jsonl(content.eval.map(tokenizedRow)));
  }
  if (content.chatTemplate !== null) files.set(BUNDLE_PATHS.chatTemplate, content.chatTemplate);
  const yamlHeader = (what: string) =>
    `# ${what}, written by LoRA Studio ${content.record.app_version} (see README.md)\n`;
  files.set(
    BUNDLE_PATHS.axolotl,
    yamlHeader('Axolotl config') + pythonYaml(axolotlConfig(config, { model: content.model, hasEval })),
  );
  files.set(BUNDLE_PATHS.trlScript, trlScript(config, { model: content.model, hasEval, hasChatTemplate }));
  files.set(
    BUNDLE_PATHS.fsdp,
    yamlHeader('accelerate config: FSDP2') + pythonYaml(accelerateFsdpConfig(content.model)),
  );
  files.set(
    BUNDLE_PATHS.deepspeed,
    yamlHeader('accelerate config: DeepSpeed ZeRO-3') + pythonYaml(accelerateDeepSpeedConfig(config)),
  );
  files.set(BUNDLE_RECORD_FILE, JSON.stringify(content.record, null, 2) + '\n');
  files.set(BUNDLE_PATHS.readme, bundleReadme(content.record, content.model, { hasEval, hasChatTemplate }));
  return files;
}

/**
 * Writes the bundle into `outDir` — a new or empty folder, or (with overwrite) a previous bundle, never a folder
 * that is, holds or sits in an input (formats/output-guard.ts) — and returns its files.
 */
export async function writeBundle(
  outDir: string,
  content: BundleContent,
  o: { overwrite: boolean; inputs: readonly GuardedInput[] },
): Promise<string[]> {
  const target = resolve(outDir);
  try {
    await guardOutput({ out: target, kind: 'run-bundle', inputs: o.inputs, overwrite: o.overwrite });
  } catch (err) {
    if (err instanceof OutputGuardError) throw new BundleError(err.message);
    throw err;
  }
  const files = bundleFiles(content);
  const temp = `${target}.partial-${process.pid}`;
  await rm(temp, { recursive: true, force: true });
  try {
    for (const [name, text] of files) {
      await mkdir(dirname(join(temp, name)), { recursive: true });
      await writeFile(join(temp, name), text);
    }
    await mkdir(join(temp, BUNDLE_PATHS.outputDir));
    await markOutputFolder(temp, 'run-bundle');
    let previous: string | null = null;
    try {
      await rename(target, `${target}.previous-${process.pid}`);
      previous = `${target}.previous-${process.pid}`;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    await rename(temp, target);
    if (previous) await rm(previous, { recursive: true, force: true });
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    throw err;
  }
  return [...files.keys()].sort();
}
