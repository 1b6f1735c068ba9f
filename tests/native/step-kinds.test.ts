// The device plan's step kinds are declared once, in TypeScript (plan.ts STEP_TENSORS, exhaustive over the Step
// union). The C++ side names them three times: the addon's string → StepKind table, the StepKind enum and the
// executor's switch. This reads native/src and checks all three against the TypeScript table, so a step added on
// one side only fails here, on any machine, before a GPU ever sees the plan.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { STEP_KINDS } from '../../src/main/engine/executors/plan/plan.ts';

const src = (file: string) => readFileSync(path.resolve(import.meta.dirname, '..', '..', 'native', 'src', file), 'utf8');
const sorted = (xs: Iterable<string>) => [...xs].sort();

describe('device step kinds: TypeScript table vs native/src', () => {
  const addon = src('addon.cc');
  const table = addon.slice(addon.indexOf('StepKind kind_of('), addon.indexOf('auto it = kinds.find'));
  const pairs = [...table.matchAll(/\{"(\w+)",\s*StepKind::(\w+)\}/g)].map((m) => [m[1], m[2]] as const);
  const header = src('executor.h');
  const enumBody = /enum class StepKind \{([^}]*)\}/.exec(header)?.[1] ?? '';
  const members = enumBody.split(',').map((x) => x.trim()).filter(Boolean);
  const cases = new Set([...src('executor.cu').matchAll(/case StepKind::(\w+):/g)].map((m) => m[1]));

  it('the addon accepts exactly the step kinds the plan emits', () => {
    expect(pairs.length).toBeGreaterThan(20);
    expect(sorted(pairs.map(([name]) => name))).toEqual(sorted(STEP_KINDS));
    expect(new Set(pairs.map(([name]) => name)).size).toBe(pairs.length);
  });

  it('each kind maps to its own enum member, and the executor handles every member', () => {
    expect(sorted(pairs.map(([, member]) => member))).toEqual(sorted(members));
    expect(new Set(pairs.map(([, member]) => member)).size).toBe(members.length);
    expect(sorted(cases)).toEqual(sorted(members));
  });
});
