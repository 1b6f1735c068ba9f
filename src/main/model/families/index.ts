// The family registry: one line per family module. Everything family-specific that formats and the engine need
// (config.json parsing, tensor table, GGUF names, the program and its blocks) is reached through it.

import type { FamilyModule } from '../family.ts';
import type { SpecBase } from '../spec-base.ts';
import type { Program } from '../ir.ts';
import type { HfTensorEntry } from '../tensor-table.ts';
import { llamaFamily } from './llama/index.ts';
import { gpt2Family } from './gpt2/index.ts';
import { gemma3Family } from './gemma3/index.ts';
import { bertFamily } from './bert/index.ts';
import { distilBertFamily } from './distilbert/index.ts';
import { robertaFamily } from './roberta/index.ts';
import { electraFamily } from './electra/index.ts';

export const FAMILIES = [llamaFamily, gpt2Family, gemma3Family, bertFamily, distilBertFamily, robertaFamily, electraFamily] as const;

type SpecOf<F> = F extends FamilyModule<infer S> ? S : never;
/** The normalized description of a supported model: one member per family, told apart by `family`. */
export type ModelSpec = SpecOf<(typeof FAMILIES)[number]>;
export type ModelFamily = ModelSpec['family'];

const byName = new Map<string, FamilyModule<SpecBase>>(
  FAMILIES.flatMap((f) => f.names.map((n) => [n, f as unknown as FamilyModule<SpecBase>] as const)),
);

/** The module of a spec's family. */
export function familyOf(spec: SpecBase): FamilyModule<SpecBase> {
  const f = byName.get(spec.family);
  if (!f) throw new Error(`no family module for family "${spec.family}" (${spec.architecture})`);
  return f;
}

/** The module of a family by its spec.family / Program.family name, if one is registered. */
export function familyNamed(name: string): FamilyModule<SpecBase> | undefined {
  return byName.get(name);
}

/** The family's program of coarse ops for a spec (its layers declared as checkpoint blocks). */
export function buildProgramFromSpec(spec: ModelSpec): Program {
  return familyOf(spec).buildProgram(spec);
}

/** Every checkpoint tensor of a spec's model, in save_pretrained order. */
export function tensorTable(spec: ModelSpec): HfTensorEntry[] {
  return familyOf(spec).tensorTable(spec);
}
