// Which modules LoRA attaches to, decided exactly as PEFT decides it (check_target_module_exists):
//   - target_modules a string → regex full match against the module's full name;
//   - a list → the full name equals an entry, or ends with "." + entry;
//   - "all-linear" → every Linear/Conv1D except the output head;
//   - exclude_modules the same way, checked first; layers_to_transform filters by layer index.
// On top of PEFT: each listed entry that matches nothing is a warning naming it (PEFT only fails
// when nothing at all matches, so a typo silently trains fewer modules).

import { say, type Phrase, type Said } from '../../../common/api/phrases.ts';
import type { ModelSpec } from '../model/spec.ts';
import { linearModules, tensorTable, type LinearModule } from '../model/tensors.ts';
import { loraScale, type LoraConfig } from './config.ts';

export class TargetModulesError extends Error {
  /** The reason as a phrase (targets.*), so a UI in another language can say it. */
  readonly phrase: Phrase;
  constructor(said: Said) {
    super(said.message);
    this.phrase = said.phrase;
    this.name = 'TargetModulesError';
  }
}

export interface LoraTarget extends LinearModule {
  r: number;
  alpha: number;
  scale: number;
}

export interface TargetMatch {
  targets: LoraTarget[];
  warnings: string[];
  /** The same warnings with their phrases, for the plan a UI shows. */
  warningsSaid: Said[];
  /** The concrete module-name list to save in adapter_config.json (PEFT expands "all-linear" too). */
  resolvedTargetModules: string[] | string;
}

function fullMatch(pattern: string, key: string): boolean {
  return new RegExp(`^(?:${pattern})$`).test(key);
}

function matchesList(list: readonly string[], key: string): string | null {
  for (const t of list) if (key === t || key.endsWith(`.${t}`)) return t;
  return null;
}

const DEFAULT_LAYER_PATTERNS = ['layers', 'h', 'blocks', 'layer'];

function layerIndex(key: string, patterns: string[] | string | null): number | null {
  const list = patterns === null ? DEFAULT_LAYER_PATTERNS : typeof patterns === 'string' ? [patterns] : patterns;
  for (const p of list) {
    const m = new RegExp(`.*\\.${p}\\.(\\d+)\\.`).exec(key);
    if (m) return Number(m[1]);
  }
  return null;
}

/** PEFT's get_pattern_key: the first rank/alpha pattern whose regex matches the end of the name. */
function patternValue(patterns: Record<string, number>, key: string): number | undefined {
  for (const [p, v] of Object.entries(patterns)) if (new RegExp(`(?:^|.*\\.)(?:${p})$`).test(key)) return v;
  return undefined;
}

/** Every module name in the model that is not a linear layer (containers, norms, embeddings). */
function nonLinearModules(spec: ModelSpec, linear: Set<string>): Set<string> {
  const out = new Set<string>();
  for (const e of tensorTable(spec)) {
    const parts = e.hfName.split('.');
    for (let i = 1; i < parts.length; i++) {
      const name = parts.slice(0, i).join('.');
      if (!linear.has(name)) out.add(name);
    }
  }
  return out;
}

function isExcluded(config: LoraConfig, key: string): boolean {
  const ex = config.exclude_modules;
  if (ex === null) return false;
  if (typeof ex === 'string') return fullMatch(ex, key);
  return matchesList(ex, key) !== null;
}

/** Resolve target_modules against a model. Throws when nothing matches or a target is not linear. */
export function matchTargetModules(spec: ModelSpec, config: LoraConfig): TargetMatch {
  const tm = config.target_modules;
  if (tm === null || (Array.isArray(tm) && tm.length === 0)) {
    throw new TargetModulesError(say('targets.empty'));
  }
  const modules = linearModules(spec);
  const linearNames = new Set(modules.map((m) => m.module));
  const warningsSaid: Said[] = [];
  const matched: LinearModule[] = [];
  const hitsPerEntry = new Map<string, number>();
  const allLinear = tm === 'all-linear';
  if (Array.isArray(tm)) for (const t of tm) hitsPerEntry.set(t, 0);
  const layerFilter =
    config.layers_to_transform === null
      ? null
      : new Set(
          typeof config.layers_to_transform === 'number' ? [config.layers_to_transform] : config.layers_to_transform,
        );

  for (const m of modules) {
    const key = m.module;
    if (isExcluded(config, key)) continue;
    let found: boolean;
    if (allLinear) found = !m.isOutputHead;
    else if (typeof tm === 'string') found = fullMatch(tm, key);
    else {
      const entry = matchesList(tm, key);
      found = entry !== null;
      if (found && layerFilter !== null) {
        const idx = layerIndex(key, config.layers_pattern);
        found = idx !== null && layerFilter.has(idx);
      }
      if (found) hitsPerEntry.set(entry!, hitsPerEntry.get(entry!)! + 1);
    }
    if (found) matched.push(m);
  }

  // A target naming a container or norm is PEFT's "Target module … is not supported" error.
  const others = nonLinearModules(spec, linearNames);
  if (Array.isArray(tm)) {
    for (const t of tm) {
      if (hitsPerEntry.get(t)! > 0) continue;
      const notLinear = [...others].find((name) => name === t || name.endsWith(`.${t}`));
      if (notLinear) {
        throw new TargetModulesError(say('targets.notLinear', { target: t, module: notLinear }));
      }
      warningsSaid.push(
        say('targets.ignored', { target: t, architecture: spec.architecture, available: suffixes(modules).join(', ') }),
      );
    }
  }
  if (matched.length === 0) {
    const what = allLinear ? '"all-linear"' : JSON.stringify(tm);
    throw new TargetModulesError(
      say('targets.noMatch', { what, architecture: spec.architecture, available: suffixes(modules).join(', ') }),
    );
  }
  const targets = matched.map((m) => {
    const r = patternValue(config.rank_pattern, m.module) ?? config.r;
    const alpha = patternValue(config.alpha_pattern, m.module) ?? config.lora_alpha;
    return { ...m, r, alpha, scale: loraScale(alpha, r, config.use_rslora) };
  });
  const resolvedTargetModules = allLinear ? [...new Set(matched.map((m) => m.module.split('.').at(-1)!))].sort() : tm;
  return { targets, warnings: warningsSaid.map((w) => w.message), warningsSaid, resolvedTargetModules };
}

/** The distinct last name components of the linear modules (what users usually list). */
function suffixes(modules: LinearModule[]): string[] {
  return [...new Set(modules.map((m) => m.module.split('.').at(-1)!))];
}

export interface TrainableCount {
  /** LoRA A and B: Σ r·(in + out) over targeted modules. */
  lora: number;
  /** Biases trained under bias "all" / "lora_only". */
  bias: number;
  /** Full modules in modules_to_save. */
  modulesToSave: number;
  trainable: number;
  /** Base parameters (frozen and trainable copies excluded). */
  base: number;
  /** As PEFT's print_trainable_parameters: base + adapter parameters. */
  all: number;
}

/** Trainable-parameter count from shapes, as PEFT's print_trainable_parameters reports it. */
export function countTrainable(
  spec: ModelSpec,
  config: LoraConfig,
  match: TargetMatch = matchTargetModules(spec, config),
): TrainableCount {
  const table = tensorTable(spec);
  const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
  let lora = 0;
  for (const t of match.targets) lora += t.r * (t.inFeatures + t.outFeatures);
  let bias = 0;
  if (config.bias !== 'none') {
    const targeted = new Set(match.targets.map((t) => t.module));
    for (const e of table) {
      if (!e.hfName.endsWith('.bias')) continue;
      if (config.bias === 'all' || targeted.has(e.hfName.slice(0, -5))) bias += size(e.shape);
    }
  }
  let modulesToSave = 0;
  if (config.modules_to_save) {
    // PEFT copies the whole module (plain endswith, no dot boundary), and trains the copy.
    for (const e of table) {
      const module = e.hfName.slice(0, e.hfName.lastIndexOf('.'));
      if (config.modules_to_save.some((k) => module.endsWith(k))) modulesToSave += size(e.shape);
    }
    if (spec.tiedEmbeddings && config.modules_to_save.some((k) => 'lm_head'.endsWith(k)))
      modulesToSave += spec.vocabSize * spec.hiddenSize;
  }
  let base = 0;
  for (const e of table) base += size(e.shape);
  const trainable = lora + bias + modulesToSave;
  // Biases are already counted in the base; the adapter adds LoRA matrices and module copies.
  return { lora, bias, modulesToSave, trainable, base, all: base + lora + modulesToSave };
}
