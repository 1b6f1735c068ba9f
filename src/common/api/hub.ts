// Publishing to the Hugging Face Hub: an adapter folder, a merged model folder or a GGUF file pushed to a repo
// with a model card, as a `hub.push` job with progress, cancel and resume (running the same push again sends
// only what the Hub does not have yet). The card is written from `ModelCardFacts`: what the studio recorded
// about the training (run config, summary, loss curve, evaluation, dataset), gathered by the core. A fact the
// studio does not know stays null and is left out of the card.
import { z } from 'zod';
import { Job } from './jobs.ts';

export const PublishKind = z.enum(['adapter', 'model', 'gguf']);
export type PublishKind = z.infer<typeof PublishKind>;

export const HubRepoName = z
  .string()
  .trim()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,95}\/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/,
    'a Hub repo looks like "user/name" (letters, digits, . _ -), e.g. alice/my-lora',
  )
  .refine((v) => !v.includes('..') && !/\.git$/.test(v), 'a Hub repo name cannot contain ".." or end in .git');

/** What the studio knows about what it trained; every field it does not know is null. */
export const ModelCardFacts = z.object({
  /** The base model's Hub id (from the Hub cache path or its record), else null. */
  baseModelHubId: z.string().nullable(),
  /** The base model as the studio saw it (a folder), for the card's prose. */
  baseModelName: z.string().nullable(),
  license: z.string().nullable().describe("The base model card's license, when it has one."),
  architecture: z.string().nullable(),
  method: z.enum(['lora', 'qlora', 'full']).nullable(),
  lora: z
    .object({
      r: z.number(),
      alpha: z.number(),
      dropout: z.number().nullable(),
      targetModules: z.array(z.string()),
      rslora: z.boolean(),
    })
    .nullable(),
  training: z
    .object({
      epochs: z.number().nullable(),
      maxSteps: z.number().nullable(),
      steps: z.number().nullable(),
      learningRate: z.number(),
      scheduler: z.string(),
      warmupRatio: z.number().nullable(),
      warmupSteps: z.number().nullable(),
      microBatchSize: z.number(),
      gradientAccumulationSteps: z.number(),
      maxSeqLength: z.number(),
      seed: z.number(),
      template: z.string().nullable(),
      seconds: z.number().nullable(),
      tokens: z.number().nullable(),
      trainLoss: z.number().nullable(),
      evalLoss: z.number().nullable(),
    })
    .nullable(),
  dataset: z
    .object({
      name: z.string(),
      hash: z.string().nullable(),
      hubId: z.string().nullable(),
      examples: z.number().nullable(),
    })
    .nullable(),
  evaluation: z
    .object({ examples: z.number(), basePerplexity: z.number().nullable(), tunedPerplexity: z.number().nullable() })
    .nullable(),
  lossCurve: z.array(z.object({ step: z.number(), loss: z.number() })),
  evalCurve: z.array(z.object({ step: z.number(), loss: z.number() })),
  /** Stop strings of the model's chat template (end-of-turn and end-of-text tokens), for Ollama. */
  stopTokens: z.array(z.string()),
  /** The sampling defaults Chat uses, for the Modelfile. */
  sampling: z.object({ temperature: z.number(), topK: z.number(), topP: z.number(), repetitionPenalty: z.number() }),
  studioVersion: z.string(),
});
export type ModelCardFacts = z.infer<typeof ModelCardFacts>;

export const HubPushResult = z.object({
  repo: z.string(),
  url: z.string(),
  revision: z.string(),
  commit: z.string().nullable().describe('The new commit; null when the repo already held exactly these files.'),
  files: z.array(z.object({ path: z.string(), sizeBytes: z.number().int() })),
  uploadedBytes: z.number().int().describe('Bytes sent this time (files the Hub already had are not sent again).'),
  ollama: z.string().nullable().describe('`ollama run hf.co/...` for a GGUF repo.'),
});
export type HubPushResult = z.infer<typeof HubPushResult>;

const PushOptions = {
  repo: HubRepoName,
  private: z.boolean().default(false).describe('Create the repo private (an existing repo keeps its visibility).'),
  revision: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .default('main')
    .describe('The branch to commit to (created from main when missing).'),
  message: z
    .string()
    .trim()
    .min(1)
    .max(500)
    .optional()
    .describe('Commit message (default: "Upload <what> with LoRA Studio").'),
  replace: z
    .boolean()
    .default(false)
    .describe('Push into a repo that already holds other files (they stay; files of the same name are replaced).'),
};

export const hubMethods = {
  'hub.push': {
    input: z
      .object({
        adapterId: z.string().min(1).optional().describe('Publish this adapter (its PEFT folder).'),
        exportId: z
          .string()
          .min(1)
          .optional()
          .describe('Publish this export (a merged folder, a PEFT copy or a GGUF file).'),
        path: z.string().min(1).optional().describe('Publish this folder or .gguf file (with kind).'),
        kind: PublishKind.optional().describe(
          'What path is: an adapter folder, a model folder or a GGUF file (default: guessed).',
        ),
        ...PushOptions,
      })
      .refine((v) => [v.adapterId, v.exportId, v.path].filter((x) => x !== undefined).length === 1, {
        message: 'give exactly one of adapterId, exportId or path',
        path: ['path'],
      }),
    output: Job,
    doc: 'Push an adapter, a merged model or a GGUF file to the Hugging Face Hub with a model card, as a job with progress; run it again to resume. The token comes from Settings or HF_TOKEN, the Hub from HF_ENDPOINT.',
  },
};

// ---------------------------------------------------------------------------------------------------------
// The `hub.push` job: what the core sends the worker and what comes back.

export const HUB_PUSH_JOB_KIND = 'hub.push';

export const HubPushJobParams = z.object({
  kind: PublishKind,
  /** The folder (adapter, model) or .gguf file to publish. */
  source: z.string().min(1),
  repo: z.string().min(1),
  private: z.boolean(),
  revision: z.string().min(1),
  message: z.string().nullable(),
  replace: z.boolean(),
  offline: z.boolean(),
  card: ModelCardFacts,
});
export type HubPushJobParams = z.infer<typeof HubPushJobParams>;
