// Runs that outgrow this machine: a run (or a run config) exported as a job bundle for an established
// distributed trainer (Axolotl, or TRL's SFTTrainer + PEFT launched with accelerate), and the output folder
// such a trainer writes brought back as a run of the project. The bundle carries a reproducibility record;
// importing checks the trainer's output against it and reports every difference.
import { z } from 'zod';
import { Run, RunConfig } from './runs.ts';

export const BUNDLE_RECORD_FORMAT = 'lora-studio.run-bundle/1';
/** The record's file name, in the bundle and (copied there by the bundled TRL script) in the trainer's output folder. */
export const BUNDLE_RECORD_FILE = 'lora-studio-run.json';

/** What the run trained on and with: enough to tell whether a result elsewhere is the same run. */
export const ReproducibilityRecord = z.strictObject({
  format: z.literal(BUNDLE_RECORD_FORMAT),
  app_version: z.string(),
  created_at: z.string(),
  run: z
    .strictObject({ id: z.string(), name: z.string() })
    .nullable()
    .describe('The studio run bundled; null for a bundle made from a config.'),
  model: z.strictObject({
    path: z.string().describe('The base model folder on the machine that wrote the bundle.'),
    hub_id: z.string().nullable().describe('Hub repository the folder came from, when known.'),
    revision: z.string().nullable().describe('Hub commit of that folder, when known.'),
    architecture: z.string().nullable(),
  }),
  dataset: z.strictObject({
    hash: z.string().describe('Content hash of the dataset file(s), as the studio records it for a run.'),
    train_rows: z.number().int(),
    eval_rows: z.number().int(),
    train_tokens: z.number().int().describe('Tokens of the rendered training rows (after truncation).'),
  }),
  template: z.strictObject({
    spec: z.record(z.string(), z.unknown()).describe('How rows became text (chat, prompt or plain), pinned.'),
    chat_template: z.string().nullable(),
  }),
  settings: RunConfig,
  seed: z.number().int(),
});
export type ReproducibilityRecord = z.infer<typeof ReproducibilityRecord>;

/** One difference between the bundle's record and what the trainer reports (or the adapter holds). */
export const ImportMismatch = z.object({
  field: z.string().describe('The setting, e.g. lora.r or seed.'),
  expected: z.string(),
  found: z.string(),
});
export type ImportMismatch = z.infer<typeof ImportMismatch>;

/** What the studio keeps about an imported run (in its run folder): where it came from and what was checked. */
export const ImportedRunInfo = z.object({
  source: z.string().describe('The trainer output folder imported (read only, never written).'),
  trainer: z.string().describe('Who wrote it, as far as the files tell (TRL / transformers Trainer, Axolotl).'),
  adapterFrom: z
    .string()
    .describe('The folder the adapter was read from (the output folder or its newest checkpoint).'),
  checkpoints: z.array(z.string()),
  record: z
    .enum(['matched', 'mismatched', 'absent'])
    .describe('Whether a reproducibility record was found, and whether it agrees.'),
  mismatches: z.array(ImportMismatch),
  warnings: z.array(z.string()),
  importedAt: z.string(),
});
export type ImportedRunInfo = z.infer<typeof ImportedRunInfo>;

const NAME = z.string().trim().min(1).max(120);

export const bundleMethods = {
  'bundles.create': {
    input: z
      .object({
        runId: z.string().min(1).optional().describe('Bundle this run (its config, dataset and provenance).'),
        projectId: z.string().min(1).optional().describe('With config: the project the bundle job is listed under.'),
        config: RunConfig.optional().describe('Bundle a run config that has not run here.'),
        outDir: z
          .string()
          .min(1)
          .optional()
          .describe(
            'A new (or empty) folder for the bundle, never one of the run’s inputs (default: the data folder’s bundles/<run>).',
          ),
        overwrite: z.boolean().default(false).describe('Replace a bundle already in outDir.'),
      })
      .refine((i) => (i.runId === undefined) !== (i.config === undefined), {
        message: 'give exactly one of runId and config',
        path: ['runId'],
      }),
    output: z.object({ jobId: z.string(), outDir: z.string() }),
    doc: 'Write a job bundle for Axolotl and TRL + accelerate (dataset rendered as the studio trains on it, configs, README, reproducibility record) as a job.',
  },
  'bundles.importRun': {
    input: z.object({
      projectId: z.string().min(1),
      path: z.string().min(1).describe('The output folder a trainer wrote (output_dir).'),
      name: NAME.optional(),
      model: z
        .string()
        .min(1)
        .optional()
        .describe('The base model folder here (default: the record’s, else the adapter’s base_model_name_or_path).'),
      record: z
        .string()
        .min(1)
        .optional()
        .describe(`The bundle's ${BUNDLE_RECORD_FILE} (default: looked for in the folder and the folder above it).`),
    }),
    output: z.object({ run: Run, info: ImportedRunInfo }),
    doc: 'Import a trainer’s output folder (PEFT adapter, trainer_state.json) as a run with its curves, after checking the adapter against the base model and the reproducibility record.',
  },
  'bundles.importedRun': {
    input: z.object({ runId: z.string().min(1) }),
    output: ImportedRunInfo.nullable(),
    doc: 'Where an imported run came from and what its import found; null for a run trained here.',
  },
};

// ---------------------------------------------------------------------------------------------------------
// The `run.bundle` job: what the core sends the worker, and what comes back.

export const RUN_BUNDLE_JOB_KIND = 'run.bundle';

export const RunBundleJobParams = z.object({
  config: RunConfig,
  outDir: z.string().min(1),
  overwrite: z.boolean(),
  run: z.object({ id: z.string(), name: z.string() }).nullable(),
  appVersion: z.string(),
  model: z.object({ hubId: z.string().nullable(), revision: z.string().nullable() }),
  /** Folders and files the bundle must never be written into or over (the run's folder, the dataset, the model). */
  inputs: z.array(z.object({ path: z.string(), role: z.string(), container: z.boolean().optional() })),
});
export type RunBundleJobParams = z.infer<typeof RunBundleJobParams>;

export const RunBundleJobResult = z.object({
  outDir: z.string(),
  files: z.array(z.string()),
  trainRows: z.number().int(),
  evalRows: z.number().int(),
  datasetHash: z.string(),
});
export type RunBundleJobResult = z.infer<typeof RunBundleJobResult>;
