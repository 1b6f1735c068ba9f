// What a comparison starts: the member configs of "LoRA vs full fine-tuning" and of an r / target_modules sweep,
// each a copy of one recipe (same base model, same data, same seed and schedule) that differs only in the method,
// the rank (with lora_alpha keeping the recipe's alpha / r) or the target set; and the recipe's targets checked
// against the model's own modules, since a recipe written for one family often names another's (the SST-2 recipe's
// query/value on DistilBERT, whose modules are q_lin/v_lin): a target the model lacks is replaced by its
// equivalent in this family when it has one, said as a warning, and refused (naming the modules it has) when
// nothing would be trained.
import type { RunGroupMember, GroupMetric } from '../../common/api/compare.ts';
import { say, type Said } from '../../common/api/phrases.ts';
import { TASK_METRIC, type LoraSection, type RunConfig } from '../../common/api/runs.ts';
import { linearModules, readModelSpec, type ModelSpec } from '../formats/model/index.ts';
import { StudioError } from './errors.ts';

type Targets = LoraSection['target_modules'];
export type MemberPlan = { config: RunConfig; member: Omit<RunGroupMember, 'runId' | 'position'> };

/** The run config's default target list (a decoder's names). */
const DECODER_DEFAULT_TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj'];
/** PEFT's default targets for the encoder families (as engine/trainer/task-session.ts applies them). */
const ENCODER_DEFAULT_TARGETS: Record<string, string[]> = {
  bert: ['query', 'value'],
  roberta: ['query', 'value'],
  electra: ['query', 'value'],
  distilbert: ['q_lin', 'v_lin'],
};
/** The same projection under each family's name: a recipe's name maps to the one this model has. */
const EQUIVALENT_TARGETS: string[][] = [
  ['query', 'q_lin', 'q_proj'],
  ['key', 'k_lin', 'k_proj'],
  ['value', 'v_lin', 'v_proj'],
  ['attention.output.dense', 'out_lin', 'o_proj'],
  ['intermediate.dense', 'lin1', 'up_proj'],
  ['output.dense', 'lin2', 'down_proj'],
];

export function targetsLabel(targets: Targets | null): string {
  return targets === null ? '' : targets === 'all-linear' ? 'all-linear' : targets.join(', ');
}

export function memberLabel(m: Pick<RunGroupMember, 'method' | 'r' | 'targets'>): string {
  if (m.method === 'full') return 'full fine-tuning';
  return `${m.method === 'qlora' ? 'QLoRA' : 'LoRA'} r ${m.r} · ${targetsLabel(m.targets)}`;
}

function loraMember(config: RunConfig): MemberPlan {
  const member = { method: config.method, r: config.lora.r, targets: config.lora.target_modules } as const;
  return { config, member: { ...member, label: memberLabel(member) } };
}

/** LoRA (the recipe's settings; method "lora" unless the recipe says "qlora") then full fine-tuning, same everything else. */
export function methodPlans(recipe: RunConfig, fullLearningRate?: number): MemberPlan[] {
  const lora: RunConfig = { ...recipe, method: recipe.method === 'qlora' ? 'qlora' : 'lora' };
  const full: RunConfig = {
    ...recipe,
    method: 'full',
    ...(fullLearningRate !== undefined ? { learning_rate: fullLearningRate } : {}),
  };
  const fullMember = { method: 'full', r: null, targets: null } as const;
  return [loraMember(lora), { config: full, member: { ...fullMember, label: memberLabel(fullMember) } }];
}

/** One LoRA run per rank × target set (ranks outer), lora_alpha scaled to keep the recipe's alpha / r. */
export function sweepPlans(recipe: RunConfig, ranks: number[] | undefined, targetSets: Targets[] | undefined): MemberPlan[] {
  const rs = ranks?.length ? ranks : [recipe.lora.r];
  const sets = targetSets?.length ? targetSets : [recipe.lora.target_modules];
  const ratio = recipe.lora.lora_alpha / recipe.lora.r;
  const plans: MemberPlan[] = [];
  for (const r of rs)
    for (const target_modules of sets) {
      const lora = { ...recipe.lora, r, lora_alpha: r === recipe.lora.r ? recipe.lora.lora_alpha : ratio * r, target_modules };
      plans.push(loraMember({ ...recipe, lora }));
    }
  return plans;
}

/** The figure a group is judged by: the task's metric, or eval perplexity (lower is better) for causal-lm runs. */
export function groupMetric(task: RunConfig['task']): GroupMetric {
  if (task === 'causal-lm') return { key: 'eval_perplexity', name: 'perplexity', higherIsBetter: false };
  const m = TASK_METRIC[task];
  return { key: m.key, name: m.name, higherIsBetter: m.higherIsBetter };
}

const matches = (module: string, target: string) => module === target || module.endsWith(`.${target}`);

/**
 * The target list as it will train on this model: the decoder default on an encoder becomes PEFT's family default;
 * a name the model lacks becomes its equivalent here (warned); one with no equivalent is ignored (warned) — and when
 * nothing is left the action is refused with the modules the model has.
 */
export function resolveTargets(spec: ModelSpec, targets: Targets, field: string): { targets: Targets; warnings: Said[] } {
  if (targets === 'all-linear') return { targets, warnings: [] };
  const modules = linearModules(spec).map((m) => m.module);
  const available = [...new Set(modules.map((m) => m.split('.').at(-1)!))].join(', ');
  const warnings: Said[] = [];
  const encoderDefault = ENCODER_DEFAULT_TARGETS[spec.family];
  if (encoderDefault && targets.length === DECODER_DEFAULT_TARGETS.length && targets.every((t, i) => t === DECODER_DEFAULT_TARGETS[i])) {
    warnings.push(say('compare.targetsDefault', { family: spec.family, targets: encoderDefault.join(', ') }));
    return { targets: encoderDefault, warnings };
  }
  const out: string[] = [];
  const mapped: [string, string][] = [];
  for (const t of targets) {
    if (modules.some((m) => matches(m, t))) {
      out.push(t);
      continue;
    }
    const role = EQUIVALENT_TARGETS.find((names) => names.includes(t));
    const equivalent = role?.find((name) => name !== t && modules.some((m) => matches(m, name)));
    if (equivalent) {
      mapped.push([t, equivalent]);
      out.push(equivalent);
    } else warnings.push(say('targets.ignored', { target: t, architecture: spec.architecture, available }));
  }
  if (mapped.length > 0)
    warnings.unshift(
      say('compare.targetsMapped', {
        architecture: spec.architecture,
        targets: mapped.map(([from]) => from).join(', '),
        replacement: mapped.map(([, to]) => to).join(', '),
      }),
    );
  const unique = [...new Set(out)];
  if (unique.length === 0)
    throw new StudioError('invalid_input', say('targets.noMatch', { what: JSON.stringify(targets), architecture: spec.architecture, available }), { field });
  return { targets: unique, warnings };
}

/** Reads the model's config.json and resolves every plan's targets against it (full runs keep theirs untouched). */
export async function resolvePlans(plans: MemberPlan[]): Promise<{ plans: MemberPlan[]; warnings: Said[] }> {
  if (plans.every((p) => p.config.method === 'full')) return { plans, warnings: [] };
  let spec: ModelSpec;
  try {
    spec = (await readModelSpec(plans[0].config.model)).spec;
  } catch (err) {
    throw new StudioError('invalid_input', `config.model: ${(err as Error).message}`, { field: 'config.model' });
  }
  const warnings = new Map<string, Said>();
  const resolved = plans.map((plan, index) => {
    if (plan.config.method === 'full') return plan;
    const field = index === 0 ? 'config.lora.target_modules' : 'target_modules';
    const { targets, warnings: said } = resolveTargets(spec, plan.config.lora.target_modules, field);
    for (const w of said) warnings.set(w.message, w);
    const config = { ...plan.config, lora: { ...plan.config.lora, target_modules: targets } };
    const member = { ...plan.member, targets };
    return { config, member: { ...member, label: memberLabel(member) } };
  });
  // two target sets that resolve to the same modules would train the same run twice
  const keys = resolved.map((p) => `${p.member.method}|${p.member.r}|${targetsLabel(p.member.targets)}`);
  const twice = keys.find((k, i) => keys.indexOf(k) !== i);
  if (twice !== undefined)
    throw new StudioError(
      'invalid_input',
      `target_modules: two target sets become the same on ${spec.architecture} (${resolved[keys.indexOf(twice)].member.label}); drop one`,
      { field: 'target_modules' },
    );
  return { plans: resolved, warnings: [...warnings.values()] };
}
