// import-run: a trainer's output folder (transformers' Trainer, TRL, Axolotl) brought back as a run of the
// project — the adapter checked against the base model (keys, shapes, target modules) and copied into the run's
// own folder, the curves read from trainer_state.json, the bundle's reproducibility record checked and every
// difference kept — so the run shows in Runs, Compare, Evaluate, Chat, merge and export like one trained here.
// The output folder itself is only read.
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import {
  BUNDLE_RECORD_FILE,
  ReproducibilityRecord,
  type ImportedRunInfo,
  type ImportMismatch,
} from '../../../../common/api/bundles.ts';
import { RunConfig, type RunSummary } from '../../../../common/api/runs.ts';
import { compareWithRecord } from '../../../formats/bundle/record-check.ts';
import {
  curvesFromLogHistory,
  readTrainerOutput,
  TrainerOutputError,
  type TrainerOutput,
} from '../../../formats/bundle/trainer-output.ts';
import { readModelSpec } from '../../../formats/model/folder.ts';
import {
  ADAPTER_CONFIG,
  ADAPTER_WEIGHTS,
  CHAT_TEMPLATE_FILE,
  matchTargetModules,
  readAdapter,
  TRAINING_TEMPLATE,
  type LoraAdapter,
} from '../../../formats/peft/index.ts';
import { StudioError, notFound } from '../../errors.ts';
import { runOutputDir } from './runs.ts';
import type { CoreContext } from './types.ts';

const IMPORT_JOB_KIND = 'run.import';
/** Where an imported run keeps what its import found, in its run folder. */
export const IMPORT_INFO_FILE = 'import.json';

function invalid(message: string, field: string): StudioError {
  return new StudioError('invalid_input', message, { field });
}

/** The Hub id and revision of a model folder, when the studio pulled it from the Hub. */
export function hubOrigin(model: string, ctx: CoreContext): { hubId: string | null; revision: string | null } {
  const known = ctx.store.baseModels.findByPath(model) ?? ctx.store.baseModels.findByPath(resolve(model));
  return known?.sourceKind === 'hub'
    ? { hubId: known.source, revision: known.revision }
    : { hubId: null, revision: null };
}

async function readRecord(file: string): Promise<ReproducibilityRecord> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw invalid(
      `${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : `not valid JSON (${(err as Error).message})`}`,
      'record',
    );
  }
  const parsed = ReproducibilityRecord.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw invalid(
      `${file}: not a LoRA Studio reproducibility record: ${issue.path.join('.') || '(top level)'}: ${issue.message}`,
      'record',
    );
  }
  return parsed.data;
}

/** The record given, or the one the bundle's script copied into the output folder, or the bundle's beside it. */
async function findRecord(
  dir: string,
  given: string | undefined,
): Promise<{ record: ReproducibilityRecord; file: string } | null> {
  if (given) return { record: await readRecord(resolve(given)), file: resolve(given) };
  for (const file of [join(dir, BUNDLE_RECORD_FILE), join(dirname(dir), BUNDLE_RECORD_FILE)]) {
    if (existsSync(file)) return { record: await readRecord(file), file };
  }
  return null;
}

/** The base model here: given, else the record's folder, else the adapter's base_model_name_or_path when it is a folder here. */
function baseModelFolder(
  model: string | undefined,
  record: ReproducibilityRecord | null,
  adapterBase: string | null,
): string {
  if (model) return resolve(model);
  for (const candidate of [record?.model.path, adapterBase]) {
    if (candidate && existsSync(join(candidate, 'config.json'))) return resolve(candidate);
  }
  throw invalid(
    `the base model is not a folder here (${[record?.model.path, adapterBase].filter(Boolean).join(', ') || 'no record, and no base_model_name_or_path'}); pass the base model folder (--base DIR) so the adapter can be checked against it`,
    'model',
  );
}

/** Every LoRA module the adapter's target_modules select in the base must be in the adapter, and nothing else. */
function checkTargets(
  adapter: LoraAdapter,
  spec: Awaited<ReturnType<typeof readModelSpec>>['spec'],
  where: string,
): void {
  let expected: Set<string>;
  try {
    expected = new Set(matchTargetModules(spec, adapter.config).targets.map((t) => t.module));
  } catch (err) {
    throw invalid(
      `${where}: target_modules ${JSON.stringify(adapter.config.target_modules)} do not fit the base model (${(err as Error).message})`,
      'path',
    );
  }
  const present = new Set(adapter.layers.keys());
  const missing = [...expected].filter((m) => !present.has(m));
  const extra = [...present].filter((m) => !expected.has(m));
  if (missing.length || extra.length) {
    const parts = [
      missing.length
        ? `${missing.length} targeted modules have no tensors (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''})`
        : '',
      extra.length
        ? `${extra.length} modules with tensors are not targeted (${extra.slice(0, 3).join(', ')}${extra.length > 3 ? ', …' : ''})`
        : '',
    ].filter(Boolean);
    throw invalid(
      `${where}: the adapter does not match its own target_modules on this base model: ${parts.join('; ')}`,
      'path',
    );
  }
}

/**
 * The run config of an imported run: what was actually trained. The record's settings (dataset, template, split)
 * are the base; the adapter's LoRA settings and the training arguments the trainer saved override them, so a
 * result trained with other settings is described as it is (the differences are listed apart).
 */
function importedConfig(
  record: ReproducibilityRecord | null,
  model: string,
  adapter: LoraAdapter,
  output: TrainerOutput,
): RunConfig {
  const base: RunConfig =
    record?.settings ??
    RunConfig.parse({
      model,
      dataset: {
        path: '(trained elsewhere: no reproducibility record names the dataset)',
        eval_split: { kind: 'none' },
      },
    });
  const args = output.trainingArgs ?? {};
  const given = <K extends string>(key: string, as: K) =>
    typeof args[key] === 'number' ? { [as]: args[key] as number } : {};
  const tm = adapter.config.target_modules;
  const targets =
    base.lora.target_modules === 'all-linear' && record
      ? 'all-linear' // PEFT saves the names all-linear resolved to; the record's choice says it better
      : [
          ...new Set(
            (Array.isArray(tm) && tm.length ? tm : [...adapter.layers.keys()]).map((t) => t.split('.').pop()!),
          ),
        ];
  const maxSteps =
    typeof args.max_steps === 'number'
      ? args.max_steps > 0
        ? { max_steps: args.max_steps }
        : { max_steps: null }
      : {};
  const scheduler = args.lr_scheduler_type;
  return RunConfig.parse({
    ...base,
    model,
    lora: {
      ...base.lora,
      r: adapter.config.r,
      lora_alpha: adapter.config.lora_alpha,
      lora_dropout: adapter.config.lora_dropout,
      target_modules: targets,
      bias: adapter.config.bias,
      use_rslora: adapter.config.use_rslora,
    },
    ...given('learning_rate', 'learning_rate'),
    ...given('num_train_epochs', 'num_train_epochs'),
    ...maxSteps,
    ...given('per_device_train_batch_size', 'micro_batch_size'),
    ...given('seed', 'seed'),
    ...given('max_length', 'max_seq_length'),
    // accumulation stays the record's: the TRL script divides it by the number of processes to keep the batch
    ...(record ? {} : given('gradient_accumulation_steps', 'gradient_accumulation_steps')),
    ...(scheduler === 'linear' || scheduler === 'cosine' || scheduler === 'constant'
      ? { lr_scheduler_type: scheduler }
      : {}),
  });
}

/** The adapter copied into the run's folder (with the record's template, so Chat renders as the run trained). */
async function copyAdapter(from: string, to: string, record: ReproducibilityRecord | null): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const name of [ADAPTER_CONFIG, ADAPTER_WEIGHTS]) await copyFile(join(from, name), join(to, name));
  if (record) {
    const body = {
      format: 'lora-studio.training-template/1',
      template: record.template.spec,
      chat_template: record.template.chat_template,
    };
    await writeFile(join(to, TRAINING_TEMPLATE), JSON.stringify(body, null, 2) + '\n');
    if (record.template.chat_template !== null)
      await writeFile(join(to, CHAT_TEMPLATE_FILE), record.template.chat_template);
  } else if (existsSync(join(from, CHAT_TEMPLATE_FILE))) {
    await copyFile(join(from, CHAT_TEMPLATE_FILE), join(to, CHAT_TEMPLATE_FILE));
  }
}

/** Differences the store can tell: the bundled run's data hash and the model's revision here. */
function provenanceMismatches(
  record: ReproducibilityRecord,
  model: string,
  ctx: CoreContext,
): { mismatches: ImportMismatch[]; warnings: string[] } {
  const mismatches: ImportMismatch[] = [];
  const warnings: string[] = [];
  const bundled = record.run ? ctx.store.runs.get(record.run.id) : null;
  if (bundled?.datasetHash && bundled.datasetHash !== record.dataset.hash) {
    mismatches.push({
      field: 'dataset hash',
      expected: `${bundled.datasetHash} (run "${bundled.name}")`,
      found: record.dataset.hash,
    });
  }
  const here = hubOrigin(model, ctx);
  if (record.model.revision && here.revision && record.model.revision !== here.revision) {
    mismatches.push({
      field: 'model revision',
      expected: record.model.revision,
      found: `${here.revision} (the base model folder here)`,
    });
  }
  if (record.app_version !== ctx.appVersion)
    warnings.push(`the bundle was written by LoRA Studio ${record.app_version}; this is ${ctx.appVersion}`);
  return { mismatches, warnings };
}

function parameterCount(adapter: LoraAdapter): number {
  let n = 0;
  for (const l of adapter.layers.values()) n += l.A.length + l.B.length;
  return n;
}

export async function importRun(
  input: { projectId: string; path: string; name?: string; model?: string; record?: string },
  ctx: CoreContext,
): Promise<{ runId: string; info: ImportedRunInfo }> {
  if (!ctx.store.projects.get(input.projectId)) throw notFound('project', input.projectId);
  const dir = resolve(input.path);
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw invalid(`path: ${dir} is not a folder; choose the trainer's output_dir`, 'path');
  let output: TrainerOutput;
  try {
    output = await readTrainerOutput(dir);
  } catch (err) {
    if (err instanceof TrainerOutputError) throw invalid(err.message, 'path');
    throw err;
  }
  for (const existing of ctx.store.runs.listByProject(input.projectId)) {
    const info = join(runOutputDir(ctx.dataDir, existing.id), IMPORT_INFO_FILE);
    if (existsSync(info) && (JSON.parse(await readFile(info, 'utf8')) as { source?: unknown }).source === dir) {
      throw new StudioError(
        'conflict',
        `${dir} is already in this project as the run “${existing.name}”; delete that run first to import it again`,
        {
          id: existing.id,
        },
      );
    }
  }
  const found = await findRecord(dir, input.record);
  const record = found?.record ?? null;
  const adapterConfigBase = ((
    JSON.parse(await readFile(join(output.adapterDir, ADAPTER_CONFIG), 'utf8')) as { base_model_name_or_path?: unknown }
  ).base_model_name_or_path ?? null) as string | null;
  const model = baseModelFolder(input.model, record, typeof adapterConfigBase === 'string' ? adapterConfigBase : null);
  let adapter: LoraAdapter;
  let spec;
  try {
    spec = (await readModelSpec(model)).spec;
  } catch (err) {
    throw invalid(`model: ${(err as Error).message}`, 'model');
  }
  try {
    adapter = await readAdapter(output.adapterDir, spec);
  } catch (err) {
    throw invalid((err as Error).message, 'path');
  }
  checkTargets(adapter, spec, join(output.adapterDir, ADAPTER_CONFIG));

  const mismatches: ImportMismatch[] = [];
  const warnings: string[] = [];
  if (output.adapterDir !== dir)
    warnings.push(
      `no final adapter in the folder: the newest checkpoint's (${basename(output.adapterDir)}) was imported`,
    );
  if (record) {
    mismatches.push(...compareWithRecord(record, output, adapter.config));
    const p = provenanceMismatches(record, model, ctx);
    mismatches.push(...p.mismatches);
    warnings.push(...p.warnings);
  } else {
    warnings.push(
      `no ${BUNDLE_RECORD_FILE} found (in the folder or beside it): the run's settings come from the adapter and training arguments, and nothing could be checked`,
    );
  }
  const config = importedConfig(record, model, adapter, output);
  const { points, final } = curvesFromLogHistory(output.state.log_history);
  if (points.length === 0)
    warnings.push(`${output.stateFile}: log_history has no loss entries, so the run has no curves`);

  const now = new Date().toISOString();
  const runName = input.name ?? (record?.run ? `${record.run.name} (imported)` : `imported ${basename(dir)}`);
  const runRecord = ctx.store.runs.insert({
    projectId: input.projectId,
    name: runName,
    config,
    seed: config.seed,
    appVersion: record?.app_version ?? ctx.appVersion,
    datasetHash: record?.dataset.hash ?? null,
    modelRevision: record?.model.revision ?? null,
    status: 'queued',
  });
  const runDir = runOutputDir(ctx.dataDir, runRecord.id);
  const adapterPath = join(runDir, 'adapter');
  try {
    await copyAdapter(output.adapterDir, adapterPath, record);
  } catch (err) {
    await rm(runDir, { recursive: true, force: true });
    throw err;
  }
  const info: ImportedRunInfo = {
    source: dir,
    trainer: output.trainer,
    adapterFrom: output.adapterDir,
    checkpoints: output.checkpoints,
    record: record ? (mismatches.length ? 'mismatched' : 'matched') : 'absent',
    mismatches,
    warnings,
    importedAt: now,
  };
  await writeFile(join(runDir, IMPORT_INFO_FILE), JSON.stringify(info, null, 2) + '\n');

  const trainPoints = points.filter((p) => p.split === 'train');
  const evalPoints = points.filter((p) => p.split === 'eval');
  const lastEval = evalPoints[evalPoints.length - 1]?.values.eval_loss ?? null;
  const summary: RunSummary = {
    steps: output.state.global_step,
    totalSteps: output.state.max_steps ?? output.state.global_step,
    epoch: output.state.epoch ?? 0,
    trainLoss: final?.train_loss ?? trainPoints[trainPoints.length - 1]?.values.loss ?? null,
    evalLoss: lastEval,
    evalPerplexity: lastEval === null ? null : Math.exp(lastEval),
    // transformers counts num_input_tokens_seen only when asked; TRL logs its running num_tokens either way
    trainedTokens: Math.round(
      Math.max(output.state.num_input_tokens_seen ?? 0, ...output.state.log_history.map((e) => e.num_tokens ?? 0)),
    ),
    seconds: final?.train_runtime ?? 0,
    peakRssBytes: null,
    trainableParameters: parameterCount(adapter),
    adapterPath,
    checkpointPath: output.checkpoints.length ? join(dir, output.checkpoints[output.checkpoints.length - 1]) : null,
  };
  // The run's "job" is the import itself: finished, with the summary as its result (as a train job leaves it),
  // and a log in the supervisor's format saying what was read and found (the run page shows its tail).
  ctx.store.transaction(() => {
    const job = ctx.store.jobs.create({ kind: IMPORT_JOB_KIND, projectId: input.projectId, params: { source: dir } });
    const log = [
      `info imported from ${dir} (${output.trainer})`,
      `info adapter read from ${output.adapterDir}: ${adapter.layers.size} LoRA layers, checked against ${model}`,
      `info ${points.length} logged points from ${output.stateFile}`,
      `info reproducibility record: ${found ? found.file : 'none'}${record ? ` (${mismatches.length} mismatches)` : ''}`,
      ...mismatches.map((m) => `warn mismatch ${m.field}: expected ${m.expected}, found ${m.found}`),
      ...warnings.map((w) => `warn ${w}`),
    ];
    mkdirSync(join(ctx.dataDir, 'logs'), { recursive: true });
    writeFileSync(join(ctx.dataDir, 'logs', `${job.id}.log`), log.map((line) => `${now} ${line}\n`).join(''));
    ctx.store.jobs.update(job.id, {
      status: 'succeeded',
      progress: 1,
      message: `imported from ${dir}`,
      result: summary,
      exitCode: 0,
      startedAt: now,
      endedAt: now,
    });
    for (const p of points) ctx.store.runs.addMetric(runRecord.id, p.step, p.values, p.split);
    ctx.store.runs.setStatus(runRecord.id, { status: 'succeeded', startedAt: now, endedAt: now, jobId: job.id });
  });
  return { runId: runRecord.id, info };
}
