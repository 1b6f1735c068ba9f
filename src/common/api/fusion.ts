// Learning how to combine frozen LoRA adapters (issue 15): the `fusion` section of a run config, and what the run
// reports about the combination it learned. A run with a `fusion` section trains only the combination (the base
// and every adapter stay frozen) on the run's dataset, through the same train job, metrics and curves as any run.
import { z } from 'zod';

export const FUSION_MODES = ['weights', 'attention'] as const;

/**
 * Default learning rates of a fusion run, one table for the studio's "Learn a combination" dialog and `lora-studio
 * fuse` (they had drifted apart: 5e-3 vs 2.5e-3). A handful of logits move fast; attention's query/key/value want
 * smaller steps. Attention at 2.5e-3 (demo --fusion, 80 steps, measured twice: mixed-eval perplexity 3.37 and 3.39)
 * beat 5e-3 (3.42, 3.49, 3.75 over three runs); at 1e-2 and above the scores saturate early on the wrong adapter and
 * training diverges.
 */
export const FUSION_LEARNING_RATE = { weights: 5e-2, attention: 2.5e-3 } as const;

/**
 * Default optimizer updates of a fusion run, for the dialog, `lora-studio fuse` and `demo --fusion`. Attention wants
 * 160: at 80 it learned a fixed preference per layer more than switching by task and stayed 13 % / 7 % behind each
 * task's adapter on that task's eval; at 160 it is within 5 % of both (demo --fusion, seeds 42 and 7, issue 15). The
 * weights mode learns a handful of logits at a 20× larger rate and has settled by 60.
 */
export const FUSION_STEPS = { weights: 60, attention: 160 } as const;

export const FusionSection = z
  .strictObject({
    adapters: z
      .array(z.string().min(1))
      .min(2)
      .describe('PEFT adapter folders of the same base model to combine; each stays frozen.'),
    mode: z
      .enum(FUSION_MODES)
      .default('weights')
      .describe(
        'weights: learn one weight per adapter (a new adapter that merges and exports like any other); attention: AdapterFusion, a per-token attention over the adapters (not mergeable).',
      ),
    per_layer: z.boolean().default(false).describe('weights mode: one weight per adapter per decoder layer instead of one for the whole model.'),
    weighting: z
      .enum(['softmax', 'unconstrained'])
      .default('softmax')
      .describe('weights mode: softmax keeps the weights positive and summing to 1; unconstrained lets them take any value.'),
    rank: z
      .number()
      .int()
      .positive()
      .nullable()
      .default(null)
      .describe('weights mode: compress the combined adapter to this rank by SVD (the error is reported); null keeps the exact stacked rank.'),
    attention_dim: z.number().int().positive().max(1024).default(32).describe('attention mode: width of the query/key projections.'),
    value_rank: z
      .number()
      .int()
      .positive()
      .max(1024)
      .default(8)
      .describe('attention mode: rank of the value projection’s learned correction to the identity (it starts as the identity).'),
  })
  .describe('Combine frozen adapters with learned weights instead of training a new adapter.');
export type FusionSection = z.infer<typeof FusionSection>;

/** What a comparison measures: perplexity for causal-LM runs (lower is better), accuracy for classification runs,
 *  F1 for extractive question answering (SQuAD's; exact match beside it in `extra`). */
export const FUSION_METRICS = ['perplexity', 'accuracy', 'f1'] as const;

/** One adapter alone; `value` is the comparison's metric (reports written before it existed carry `perplexity`). */
const SingleResult = z.preprocess(
  (v) => (v && typeof v === 'object' && !('value' in v) && 'perplexity' in v ? { ...v, value: (v as { perplexity: unknown }).perplexity } : v),
  z.object({ name: z.string(), value: z.number(), perplexity: z.number().optional() }),
);

/** The metric on the run's eval split: each adapter alone, their uniform average, and the learned combination. */
export const FusionComparison = z.object({
  metric: z.enum(FUSION_METRICS).default('perplexity'),
  single: z.array(SingleResult),
  uniform: z.number(),
  learned: z.number(),
  /** A second metric measured on the same rows (question answering: exact match), in the same order. */
  extra: z
    .object({ metric: z.enum(['exact_match']), single: z.array(z.number()), uniform: z.number(), learned: z.number() })
    .optional(),
});
export type FusionComparison = z.infer<typeof FusionComparison>;

/** What a finished fusion run wrote (<run>/fusion-report.json): the comparison, the weights or attention's heat map. */
export const FusionReport = z.object({
  mode: z.enum(FUSION_MODES),
  comparison: FusionComparison,
  /** weights mode: the learned weights by decoder layer ('*' = one set for all layers), in adapter order. */
  weights: z.record(z.string(), z.array(z.number())).nullable(),
  /** attention mode: the mean weight of each adapter per decoder layer over the eval rows' tokens. */
  attention: z
    .object({
      layers: z.array(z.object({ block: z.string(), mean: z.array(z.number()) })),
      picks: z.array(z.number()),
      tokens: z.number(),
    })
    .passthrough()
    .nullable(),
});
export type FusionReport = z.infer<typeof FusionReport>;
