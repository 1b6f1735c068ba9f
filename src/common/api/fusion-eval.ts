// "Fusion vs singles" (issue 15): for a finished combination run, the perplexity of each adapter alone, their
// uniform average and the learned combination (weights or attention), side by side, on the run's eval split or on
// eval files the user picks (one table per file: per-task evaluation). One `fusion.evaluate` job measures them all;
// its result is also written to <run>/fusion-eval.json, which `fusionEval.get` reads back.
import { z } from 'zod';
import { FUSION_MODES } from './fusion.ts';
import { RunConfig } from './runs.ts';

/** One eval set's perplexities: each adapter alone (in the run's adapter order), the uniform average, the learned one. */
export const FusionEvalTable = z.object({
  /** The eval file measured whole, or null for the run's own eval split. */
  path: z.string().nullable(),
  examples: z.number().int(),
  tokens: z.number().int(),
  single: z.array(z.object({ name: z.string(), path: z.string(), perplexity: z.number() })),
  uniform: z.number(),
  learned: z.number(),
});
export type FusionEvalTable = z.infer<typeof FusionEvalTable>;

export const FusionEvalResult = z.object({
  runId: z.string(),
  mode: z.enum(FUSION_MODES),
  tables: z.array(FusionEvalTable),
  finishedAt: z.string(),
});
export type FusionEvalResult = z.infer<typeof FusionEvalResult>;

export const FUSION_EVAL_JOB_KIND = 'fusion.evaluate';
export const FUSION_EVAL_FILE = 'fusion-eval.json';

export const FusionEvalJobParams = z
  .object({
    runId: z.string().min(1),
    config: RunConfig,
    /** The run's folder (its adapter/ holds the learned combination; the result is written here). */
    runDir: z.string().min(1),
    datasets: z.array(z.string().min(1)).max(16).default([]),
  })
  .strict();
export type FusionEvalJobParams = z.infer<typeof FusionEvalJobParams>;

export const fusionEvalMethods = {
  'fusionEval.start': {
    input: z
      .object({
        runId: z.string().min(1).describe('A finished run with a fusion section (fuse, or Learn a combination…).'),
        datasets: z
          .array(z.string().min(1))
          .max(16)
          .default([])
          .describe('Eval files to measure whole, one table each (per task); none = the run’s own eval split.'),
      })
      .strict(),
    output: z.object({ jobId: z.string() }),
    doc: 'Measure a combination run against each of its adapters alone and their uniform average (one job).',
  },
  'fusionEval.get': {
    input: z.object({ runId: z.string().min(1) }).strict(),
    output: FusionEvalResult.nullable(),
    doc: 'The latest fusion-vs-singles measurement of a run; null when none was made.',
  },
};
