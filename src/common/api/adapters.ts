// Adapters: the LoRA adapters of a project, in PEFT's folder format. A finished run's adapter is listed (and
// recorded) automatically; a PEFT folder trained elsewhere comes in with adapters.import. An adapter can be
// merged into its base model (a Hugging Face folder, written by an `export` job, see exports.ts) or combined
// with others, each with a weight, into a new adapter (an `adapter.combine` job).
import { z } from 'zod';
import { Export } from './exports.ts';

export const AdapterSource = z.enum(['run', 'imported', 'combined']);
export type AdapterSource = z.infer<typeof AdapterSource>;

/** One part of a combined adapter, as it was when combined (the part may be renamed or removed later). */
export const AdapterPart = z.object({
  adapterId: z.string(),
  name: z.string(),
  path: z.string(),
  weight: z.number(),
});
export type AdapterPart = z.infer<typeof AdapterPart>;

export const Adapter = z.object({
  id: z.string(),
  projectId: z.string(),
  name: z.string(),
  source: AdapterSource,
  runId: z.string().nullable(),
  path: z.string().describe('The PEFT folder (adapter_config.json + adapter_model.safetensors).'),
  /** The base model folder it applies to, when known (a run's model, or the folder given at import). */
  baseModel: z.string().nullable(),
  r: z.number().int(),
  loraAlpha: z.number(),
  targetModules: z.array(z.string()),
  step: z.number().int().nullable(),
  sizeBytes: z.number().int().nullable().describe('Size of the adapter folder; null when it is missing on disk.'),
  /** Why the adapter cannot be used right now (its folder vanished, say); null when it is fine. */
  problem: z.string().nullable(),
  /** For a combined adapter, the adapters and weights it was made of (recorded in its folder); null otherwise. */
  combinedFrom: z.array(AdapterPart).nullable(),
  createdAt: z.string(),
});
export type Adapter = z.infer<typeof Adapter>;

export const AdapterDetail = Adapter.extend({
  /** adapter_config.json as written (PEFT's field names). */
  config: z.record(z.string(), z.unknown()),
  layers: z.number().int().describe('How many linear layers carry a LoRA pair.'),
  parameters: z.number().int().describe('Trainable numbers in the adapter (all A and B factors).'),
  useRslora: z.boolean(),
  /** The template the adapter was trained with (training_template.json), so chat and exports use the same one. */
  template: z.object({ template: z.record(z.string(), z.unknown()), chatTemplate: z.string().nullable() }).nullable(),
  files: z.array(z.object({ name: z.string(), sizeBytes: z.number().int() })),
});
export type AdapterDetail = z.infer<typeof AdapterDetail>;

export const WeightedAdapterInput = z.object({
  id: z.string().min(1).describe('An adapter id from adapters.list.'),
  weight: z
    .number()
    .min(-10)
    .max(10)
    .default(1)
    .describe('Scale of this adapter in the result: 1 = as trained, 0.5 = half its effect.'),
}).strict();

const NAME = z
  .string()
  .trim()
  .min(1)
  .max(80)
  .regex(/^[^/\\:*?"<>|]+$/, 'a name without / \\ : * ? " < > |');

export const adapterMethods = {
  'adapters.list': {
    input: z.object({ projectId: z.string().min(1) }),
    output: z.array(Adapter),
    doc: "A project's adapters: from its finished runs, imported PEFT folders and combinations, newest first.",
  },
  'adapters.get': {
    input: z.object({ id: z.string().min(1) }),
    output: AdapterDetail,
    doc: 'One adapter with its PEFT config, layers, size, target modules and training template.',
  },
  'adapters.import': {
    input: z.object({
      projectId: z.string().min(1),
      path: z.string().min(1).describe('A PEFT adapter folder on this machine.'),
      name: NAME.optional(),
      model: z
        .string()
        .min(1)
        .optional()
        .describe(
          'The base model folder it was trained on (default: base_model_name_or_path when that is a folder here).',
        ),
    }),
    output: Adapter,
    doc: 'Add a PEFT adapter folder trained elsewhere (Python PEFT, another studio) to a project. The folder is used where it is, not copied.',
  },
  'adapters.merge': {
    input: z.object({
      id: z.string().min(1),
      weight: z.number().min(-10).max(10).default(1).describe('Scale of the adapter when merged: 1 = as trained.'),
      model: z
        .string()
        .min(1)
        .optional()
        .describe('The base model folder (default: the one the adapter was trained on).'),
      dtype: z.enum(['bf16', 'f16', 'f32']).default('bf16'),
      outPath: z
        .string()
        .min(1)
        .optional()
        .describe('Where the merged folder goes (default: the data dir’s exports folder).'),
      overwrite: z.boolean().default(false),
    }),
    // The merge is an export of the merged Hugging Face folder; its record and job are the export's.
    output: Export,
    doc: 'Merge an adapter into its base model and write a Hugging Face folder (as an export job with progress).',
  },
  'adapters.combine': {
    input: z.object({
      projectId: z.string().min(1),
      adapters: z
        .array(WeightedAdapterInput)
        .min(2)
        .max(8)
        .refine((list) => new Set(list.map((a) => a.id)).size === list.length, 'each adapter once'),
      name: NAME,
      overwrite: z.boolean().default(false),
    }),
    output: z.object({ jobId: z.string(), path: z.string(), name: z.string() }),
    doc: 'Combine several adapters of the same base model, each with a weight, into one new PEFT adapter (exactly: ranks are stacked, so the result equals the weighted sum).',
  },
  'adapters.delete': {
    input: z.object({ id: z.string().min(1) }),
    output: z.object({ deleted: z.boolean() }),
    doc: 'Forget an imported or combined adapter (its folder stays on disk). A run’s adapter goes with its run.',
  },
};

// ---------------------------------------------------------------------------------------------------------
// The `adapter.combine` job: what the core sends the worker and what comes back.

export const ADAPTER_COMBINE_JOB_KIND = 'adapter.combine';

export const AdapterCombineJobParams = z.object({
  adapters: z.array(z.object({ path: z.string().min(1), weight: z.number() })).min(2),
  outDir: z.string().min(1),
  baseModel: z.string().nullable(),
  overwrite: z.boolean(),
});
export type AdapterCombineJobParams = z.infer<typeof AdapterCombineJobParams>;

export const AdapterCombineJobResult = z.object({
  path: z.string(),
  r: z.number().int(),
  loraAlpha: z.number(),
  targetModules: z.array(z.string()),
  layers: z.number().int(),
  sizeBytes: z.number().int(),
});
export type AdapterCombineJobResult = z.infer<typeof AdapterCombineJobResult>;
