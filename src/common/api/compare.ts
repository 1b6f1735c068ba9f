// Comparisons as one action: "LoRA vs full fine-tuning" (two runs from the same pretrained base on the same data,
// differing only in method) and sweeps over LoRA's r and/or target_modules. Each action records its runs as one
// group; the runs train one after the other (never side by side, so their times and peak memory are comparable),
// and the group's report puts training time, trainable parameters, peak memory, adapter/model size on disk and the
// task's metric side by side (the studio draws them as bars in Compare runs; the CLI prints a table).
import { z } from 'zod';
import { Phrase } from './phrases.ts';
import { LoraSection, Run, RunConfig, RunStatus, RunTask } from './runs.ts';

/** Most runs one sweep may start (they train one after the other). */
export const MAX_SWEEP_RUNS = 16;

export const RunGroupKind = z.enum(['methods', 'sweep']);
export type RunGroupKind = z.infer<typeof RunGroupKind>;

const Targets = LoraSection.shape.target_modules.unwrap();

/** What a member varies: its method, and for LoRA its rank and targets. */
export const RunGroupMember = z.object({
  runId: z.string(),
  position: z.number().int().describe('Training order within the group (0 first).'),
  label: z.string().describe('What the run varies, in English (the CLI’s column): "LoRA r 8 · query, value", "full fine-tuning".'),
  method: z.enum(['lora', 'qlora', 'full']),
  r: z.number().int().nullable().describe('LoRA rank; null for full fine-tuning.'),
  targets: Targets.nullable().describe('LoRA target_modules as trained; null for full fine-tuning.'),
});
export type RunGroupMember = z.infer<typeof RunGroupMember>;

/** The figure a group is judged by: the task's metric, or eval perplexity for causal-lm runs. */
export const GroupMetric = z.object({
  key: z.string().describe('The summary figure: eval_accuracy, eval_f1, or eval_perplexity.'),
  name: z.string(),
  higherIsBetter: z.boolean(),
});
export type GroupMetric = z.infer<typeof GroupMetric>;

export const RunGroup = z.object({
  id: z.string(),
  projectId: z.string(),
  kind: RunGroupKind,
  name: z.string(),
  task: RunTask,
  model: z.string().describe('The one base model every member starts from.'),
  dataset: z.string().describe('The one training file every member learns from.'),
  metric: GroupMetric,
  members: z.array(RunGroupMember),
  createdAt: z.string(),
});
export type RunGroup = z.infer<typeof RunGroup>;

/** One member's figures, from its run record (null while it has not finished, or when it did not record one). */
export const RunGroupRow = RunGroupMember.extend({
  name: z.string(),
  status: RunStatus,
  seconds: z.number().nullable().describe('Training time, as the run measured it.'),
  trainableParameters: z.number().int().nullable(),
  peakRssBytes: z.number().nullable().describe('Peak resident memory of the training worker.'),
  outputBytes: z.number().nullable().describe('On disk: the adapter (LoRA, with a task head) or the whole model (full).'),
  metric: z.number().nullable().describe('The group metric at the end of training.'),
  bestMetric: z.number().nullable().describe('Encoder tasks: the best evaluation’s value (the kept checkpoint).'),
});
export type RunGroupRow = z.infer<typeof RunGroupRow>;

export const RunGroupReport = z.object({
  group: RunGroup,
  rows: z.array(RunGroupRow),
  done: z.boolean().describe('Every member has ended (succeeded, failed or cancelled).'),
  stalled: z
    .boolean()
    .describe('Members wait but none trains: the process that chained them stopped; compare.resume continues the group.'),
});
export type RunGroupReport = z.infer<typeof RunGroupReport>;

export const GroupWarning = z.object({ message: z.string(), phrase: Phrase.optional() });

export const RunGroupStarted = z.object({
  group: RunGroup,
  runs: z.array(Run),
  warnings: z.array(GroupWarning).describe('What the action changed or ignored (targets the model does not have), said once.'),
});
export type RunGroupStarted = z.infer<typeof RunGroupStarted>;

const Common = {
  projectId: z.string().min(1),
  name: z.string().trim().min(1).max(100).optional().describe('The group’s name; runs are named after it.'),
  config: RunConfig.describe('The recipe: base model, data, task and the LoRA settings; every member starts from it.'),
};

export const MethodsInput = z.strictObject({
  ...Common,
  full_learning_rate: z
    .number()
    .positive()
    .max(1)
    .optional()
    .describe('Learning rate of the full fine-tuning run (full usually wants a smaller one); default: the recipe’s.'),
});
export type MethodsInput = z.infer<typeof MethodsInput>;

export const SweepInput = z
  .strictObject({
    ...Common,
    r: z
      .array(z.number().int().positive().max(1024))
      .min(1)
      .optional()
      .describe('Ranks to try; lora_alpha keeps the recipe’s alpha / r ratio. Default: the recipe’s r.'),
    target_modules: z
      .array(Targets)
      .min(1)
      .optional()
      .describe('Target sets to try, e.g. [["q_lin","v_lin"], ["q_lin","k_lin","v_lin","out_lin"]]. Default: the recipe’s.'),
  })
  .superRefine((input, ctx) => {
    const rs = input.r ?? [];
    if (new Set(rs).size !== rs.length) ctx.addIssue({ code: 'custom', path: ['r'], message: 'r lists a rank twice' });
    const sets = (input.target_modules ?? []).map((t) => (t === 'all-linear' ? t : [...t].sort().join(',')));
    if (new Set(sets).size !== sets.length)
      ctx.addIssue({ code: 'custom', path: ['target_modules'], message: 'target_modules lists the same set twice' });
    const runs = Math.max(1, rs.length) * Math.max(1, sets.length);
    if (runs < 2)
      ctx.addIssue({ code: 'custom', path: ['r'], message: 'a sweep needs at least two runs: give two or more ranks (r) or target sets' });
    if (runs > MAX_SWEEP_RUNS)
      ctx.addIssue({
        code: 'custom',
        path: ['r'],
        message: `${runs} runs (ranks × target sets) is more than ${MAX_SWEEP_RUNS}: sweep fewer values at once`,
      });
    if (input.config.method === 'full')
      ctx.addIssue({ code: 'custom', path: ['config', 'method'], message: 'a sweep over r and target_modules needs method "lora" or "qlora"' });
  });
export type SweepInput = z.infer<typeof SweepInput>;

export const compareMethods = {
  'compare.methods': {
    input: MethodsInput,
    output: RunGroupStarted,
    doc: 'LoRA vs full fine-tuning: two runs from the same base on the same data (the recipe’s LoRA, then every weight), grouped, trained one after the other.',
  },
  'compare.sweep': {
    input: SweepInput,
    output: RunGroupStarted,
    doc: 'One LoRA run per rank × target set over the same base and data, grouped, trained one after the other.',
  },
  'compare.list': {
    input: z.object({ projectId: z.string().min(1) }),
    output: z.array(RunGroupReport),
    doc: 'The project’s comparison groups with their figures, newest first.',
  },
  'compare.get': { input: z.object({ id: z.string().min(1) }), output: RunGroupReport, doc: 'One group with each member’s figures.' },
  'compare.resume': {
    input: z.object({ id: z.string().min(1) }),
    output: RunGroupReport,
    doc: 'Continue a stalled group (its process stopped between or during members): the next waiting member starts.',
  },
  'compare.cancel': {
    input: z.object({ id: z.string().min(1) }),
    output: RunGroupReport,
    doc: 'Stop the group: the training member is cancelled and the waiting ones never start.',
  },
};
