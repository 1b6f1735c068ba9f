// Which linear modules of a model get a LoRA branch, as PEFT's target_modules matching decides:
// a list entry matches a module whose name equals it or ends with "." + it; a string is a regex that must match
// the whole name; "all-linear" takes every linear except the output head.

import type { LoraConfig } from './config.ts';
import { loraScaling, validateLoraConfig } from './config.ts';
import type { Program } from '../../model/ir.ts';

export interface TargetMatch {
  targeted: Set<string>; // module names
  warnings: string[]; // a listed target that matched nothing
}

export function matchTargetModules(linearModules: string[], c: Pick<LoraConfig, 'targetModules'>, outputHead = 'lm_head'): TargetMatch {
  const t = c.targetModules;
  const targeted = new Set<string>();
  const warnings: string[] = [];
  if (t === 'all-linear') {
    for (const m of linearModules) if (m !== outputHead && !m.endsWith(`.${outputHead}`)) targeted.add(m);
  } else if (typeof t === 'string') {
    const re = new RegExp(`^(?:${t})$`);
    for (const m of linearModules) if (re.test(m)) targeted.add(m);
  } else {
    for (const name of t) {
      let hit = false;
      for (const m of linearModules)
        if (m === name || m.endsWith(`.${name}`)) {
          targeted.add(m);
          hit = true;
        }
      if (!hit) warnings.push(`LoRA target module "${name}" matches no linear layer of this model`);
    }
  }
  if (targeted.size === 0) {
    const list = typeof t === 'string' ? t : t.join(', ');
    const examples = [...new Set(linearModules.map((m) => m.split('.').pop()))].join(', ');
    throw new Error(`LoRA target_modules [${list}] match no linear layer; this model's linear layers are: ${examples}`);
  }
  return { targeted, warnings };
}


/**
 * Targets already resolved against a ModelSpec by formats/peft's matchTargetModules (PEFT's exact rules, with
 * exclude_modules, layers_to_transform and per-module rank/alpha patterns). Without them, the list/regex/all-linear
 * rules above decide from the program's own linear modules.
 */
export interface ResolvedTargets {
  targets: { module: string; r: number; scale: number }[];
  warnings: string[];
}

export interface LoraProgram {
  program: Program;
  warnings: string[];
  targeted: string[];
}

/**
 * Attach LoRA branches to a model's program (a new Program; the base one is unchanged): A/B params per targeted
 * linear, trainable; base weights frozen; biases trainable per `bias` ("all": every bias, "lora_only": biases of
 * targeted modules). PEFT's parameter names: <module>.lora_A.weight (r, IC), <module>.lora_B.weight (OC, r).
 */
export function applyLora(base: Program, c: LoraConfig, resolved?: ResolvedTargets): LoraProgram {
  validateLoraConfig(c);
  const linears = base.nodes.flatMap((n) => (n.op === 'linear' ? [n.module] : []));
  const { targeted, warnings } = resolved
    ? { targeted: new Set(resolved.targets.map((t) => t.module)), warnings: resolved.warnings }
    : matchTargetModules(linears, c);
  const perModule = new Map(resolved?.targets.map((t) => [t.module, t]) ?? []);
  for (const m of targeted) if (!linears.includes(m)) throw new Error(`LoRA target ${m} is not a linear layer of this ${base.family} program`);
  const saved = modulesToSaveParams(base, c.modulesToSave ?? []);
  for (const m of [...targeted])
    if (saved.modules.has(m)) {
      targeted.delete(m); // trained in full already: an adapter on it would add nothing
      // "all-linear" never meant the task head (PEFT leaves classification heads out of it too); a named target did
      if (c.targetModules !== 'all-linear') warnings.push(`LoRA target ${m} is in modules_to_save (trained in full), so it gets no adapter`);
    }
  if (targeted.size === 0) throw new Error(`every LoRA target is in modules_to_save [${(c.modulesToSave ?? []).join(', ')}]; target layers of the encoder body`);
  const params = base.params.map((d) => ({ ...d, trainable: saved.params.has(d.name) }));
  const byName = new Map(params.map((d) => [d.name, d]));
  const nodes = base.nodes.map((n) => {
    if (n.op !== 'linear') return n;
    const hit = targeted.has(n.module);
    if (n.bias && (c.bias === 'all' || (c.bias === 'lora_only' && hit))) byName.get(n.bias)!.trainable = true;
    if (!hit) return n;
    const A = `${n.module}.lora_A.weight`;
    const B = `${n.module}.lora_B.weight`;
    const t = perModule.get(n.module);
    const r = t?.r ?? c.r;
    const scale = t?.scale ?? loraScaling(c);
    params.push(
      { name: A, shape: [r, n.inF], trainable: true, noDecay: false, init: { kind: 'kaiming_uniform_a_sqrt5', fanIn: n.inF } },
      { name: B, shape: [n.outF, r], trainable: true, noDecay: false, init: { kind: 'zeros' } },
    );
    return { ...n, lora: { A, B, r, scale, dropout: c.dropout } };
  });
  return { program: { ...base, params, nodes }, warnings, targeted: [...targeted] };
}

/**
 * The params of the modules PEFT's modules_to_save wraps: a module (a param's path without its last part, or any
 * container above it) whose name ends with an entry, as PEFT's _set_trainable matches (key.endswith(target)).
 * Their weights and biases train in full and are saved under base_model.model.<name>. An entry that matches no
 * module is an error naming the modules the program has.
 */
export function modulesToSaveParams(p: Program, entries: readonly string[]): { params: Set<string>; modules: Set<string> } {
  const params = new Set<string>();
  const modules = new Set<string>();
  const hits = new Set<string>();
  for (const d of p.params) {
    const parts = d.name.split('.');
    for (let i = 1; i < parts.length; i++) {
      const module = parts.slice(0, i).join('.');
      const entry = entries.find((e) => module.endsWith(e));
      if (!entry) continue;
      hits.add(entry);
      params.add(d.name);
      for (const n of p.nodes) if (n.op === 'linear' && (n.module === module || n.module.startsWith(`${module}.`))) modules.add(n.module);
      break;
    }
  }
  const missed = entries.filter((e) => !hits.has(e));
  if (missed.length && hits.size === 0) {
    const some = [...new Set(p.nodes.flatMap((n) => (n.op === 'linear' ? [n.module.split('.').pop()!] : [])))].join(', ');
    throw new Error(`modules_to_save [${entries.join(', ')}] match no module of this ${p.family} model; its modules include: ${some}`);
  }
  return { params, modules };
}
