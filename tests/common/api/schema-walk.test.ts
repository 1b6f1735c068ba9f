// Unknown fields are refused at every depth of every API input (the contract's objects are all strict), and
// the message names the field's full path with the known name it most likely meant. A property test adds
// random unknown fields — new words and misspellings of real ones — at random depths of a valid run config.
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { methods } from '../../../src/common/api/contract.ts';
import { RunConfig } from '../../../src/common/api/runs.ts';
import {
  describeSchemaIssues,
  knownFieldsAt,
  nearestName,
  objectSchemas,
} from '../../../src/common/api/schema-walk.ts';
import { mulberry32 } from '../../../src/main/formats/dataset/split.ts';

describe('strict inputs', () => {
  it('every object reachable from every method input refuses unknown fields (the router makes the top level strict)', () => {
    const loose = Object.entries(methods).flatMap(([name, spec]) =>
      objectSchemas(spec.input as z.ZodType)
        .filter((o) => !o.strict && o.path !== '(top level)')
        .map((o) => `${name}: ${o.path}`),
    );
    expect(loose).toEqual([]);
    // The walk does reach the nested sections (so an empty list above means something).
    expect(objectSchemas(RunConfig).map((o) => o.path)).toEqual(
      expect.arrayContaining(['dataset', 'dataset.columns', 'dataset.eval_split', 'dataset.template', 'lora']),
    );
  });

  it('suggests the name meant', () => {
    const top = knownFieldsAt(RunConfig, []);
    expect(nearestName('learning_rte', top)).toBe('learning_rate');
    expect(nearestName('epochz', top)).toBe('num_train_epochs');
    expect(nearestName('rank', knownFieldsAt(RunConfig, ['lora']))).toBe('r');
    expect(nearestName('ratoi', knownFieldsAt(RunConfig, ['dataset', 'eval_split']))).toBe('ratio');
    expect(nearestName('zzzz', top)).toBeNull();
  });
});

/** A valid run config input with every section present, so unknown fields can go at any depth. */
function validConfig(): Record<string, unknown> {
  return {
    model: '/models/tiny',
    dataset: {
      path: '/data/train.jsonl',
      columns: { prompt: 'q', completion: 'a' },
      template: { kind: 'prompt', template: 'Q: {prompt}\nA: ' },
      eval_split: { kind: 'ratio', ratio: 0.2 },
    },
    lora: { r: 8, lora_alpha: 16 },
    learning_rate: 2e-4,
  };
}

/** The objects inside a config value, with their paths. */
function objectsOf(value: unknown, path: string[] = []): { path: string[]; object: Record<string, unknown> }[] {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return [];
  const object = value as Record<string, unknown>;
  return [{ path, object }, ...Object.entries(object).flatMap(([k, v]) => objectsOf(v, [...path, k]))];
}

describe('property: random unknown fields at random depths', () => {
  it('each is refused with its full path, and a one-letter misspelling of a real field is recognised', () => {
    const random = mulberry32(12);
    const int = (n: number) => Math.floor(random() * n);
    const VARIANTS = 1500;
    let misspelt = 0;
    let recognised = 0;
    const depths = new Map<number, number>();
    for (let v = 0; v < VARIANTS; v++) {
      const config = validConfig();
      const places = objectsOf(config);
      const added: string[] = [];
      for (let k = 0, n = 1 + int(3); k < n; k++) {
        const place = places[int(places.length)];
        const known = knownFieldsAt(RunConfig, place.path);
        let name: string;
        let meant: string | null = null;
        const real = known.filter((x) => x.length >= 5)[int(known.length)];
        if (real && random() < 0.5) {
          // One edit: drop, double or swap a letter (never producing a real name).
          const i = 1 + int(real.length - 2);
          const edits = [
            real.slice(0, i) + real.slice(i + 1),
            real.slice(0, i) + real[i] + real.slice(i),
            real.slice(0, i - 1) + real[i] + real[i - 1] + real.slice(i + 1),
          ];
          name = edits[int(edits.length)];
          if (known.includes(name) || name === real) continue;
          meant = real;
        } else {
          name = `x${Math.floor(random() * 1e9).toString(36)}`;
        }
        if (name in place.object) continue;
        place.object[name] = random() < 0.5 ? int(100) : { nested: true };
        const path = [...place.path, name].join('.');
        added.push(path);
        depths.set(place.path.length, (depths.get(place.path.length) ?? 0) + 1);
        if (meant) {
          misspelt++;
          if (nearestName(name, known) === meant) recognised++;
        }
      }
      const parsed = RunConfig.safeParse(config);
      if (added.length === 0) {
        expect(parsed.success).toBe(true);
        continue;
      }
      expect(parsed.success, `variant ${v}: ${added.join(', ')} accepted`).toBe(false);
      const fields = describeSchemaIssues(RunConfig, parsed.error!.issues);
      for (const path of added)
        expect(
          fields.map((f) => f.path),
          `variant ${v}`,
        ).toContain(path);
      for (const f of fields) expect(f.message).toMatch(/^unknown field "/);
    }
    console.log(
      `strict-config property: ${VARIANTS} variants, unknown fields by depth ${JSON.stringify(Object.fromEntries(depths))}, ${recognised}/${misspelt} misspellings recognised`,
    );
    expect(depths.get(0)! > 100 && depths.get(1)! > 100 && depths.get(2)! > 100).toBe(true);
    // Most one-edit misspellings get the real name back (a few land nearer another real name).
    expect(recognised / misspelt).toBeGreaterThan(0.9);
  });
});
