// Reading the contract's zod schemas as data: the object schemas reachable from a schema (for the check that
// every one refuses unknown fields), the field names known at a path (for "did you mean" hints), and the
// nearest known name to a misspelt one. Wrappers (optional, default, nullable, pipe, …) are looked through.
import type { z } from 'zod';

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  options?: z.ZodType[];
  element?: z.ZodType;
  valueType?: z.ZodType;
  left?: z.ZodType;
  right?: z.ZodType;
  items?: z.ZodType[];
  getter?: () => z.ZodType;
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** The schemas a value at this level may be checked against, wrappers removed (several for a union). */
function unwrap(schema: z.ZodType, seen = new Set<z.ZodType>()): z.ZodType[] {
  if (seen.has(schema)) return [];
  seen.add(schema);
  const def = defOf(schema);
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'nonoptional':
    case 'readonly':
    case 'catch':
    case 'success':
      return unwrap(def.innerType!, seen);
    case 'pipe':
      return [...unwrap(def.in!, seen), ...unwrap(def.out!, seen)];
    case 'lazy':
      return unwrap(def.getter!(), seen);
    case 'union':
      return def.options!.flatMap((o) => unwrap(o, seen));
    case 'intersection':
      return [...unwrap(def.left!, seen), ...unwrap(def.right!, seen)];
    default:
      return [schema];
  }
}

/** The schemas one level below `schema` for a path segment (a key, or an index into an array/record). */
function children(schema: z.ZodType, key: PropertyKey): z.ZodType[] {
  const def = defOf(schema);
  if (def.type === 'object') return def.shape && typeof key === 'string' && key in def.shape ? [def.shape[key]] : [];
  if (def.type === 'array') return [def.element!];
  if (def.type === 'record') return [def.valueType!];
  if (def.type === 'tuple' && typeof key === 'number') return def.items?.[key] ? [def.items[key]] : [];
  return [];
}

/** Every object schema reachable from `schema`, with its path ("dataset.eval_split", "lora", "[]" for array items). */
export function objectSchemas(
  schema: z.ZodType,
  path = '',
  seen = new Set<z.ZodType>(),
): { path: string; schema: z.ZodType; strict: boolean }[] {
  const out: { path: string; schema: z.ZodType; strict: boolean }[] = [];
  for (const s of unwrap(schema)) {
    if (seen.has(s)) continue;
    seen.add(s);
    const def = defOf(s);
    if (def.type === 'object') {
      out.push({
        path: path || '(top level)',
        schema: s,
        strict: def.catchall !== undefined && defOf(def.catchall).type === 'never',
      });
      for (const [key, child] of Object.entries(def.shape ?? {}))
        out.push(...objectSchemas(child, path ? `${path}.${key}` : key, seen));
    } else if (def.type === 'array') out.push(...objectSchemas(def.element!, `${path}[]`, seen));
    else if (def.type === 'record') out.push(...objectSchemas(def.valueType!, `${path}{}`, seen));
  }
  return out;
}

/** The field names an object at `path` may have (across every variant of a union). */
export function knownFieldsAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let level = unwrap(schema);
  for (const key of path) level = level.flatMap((s) => children(s, key)).flatMap((s) => unwrap(s));
  return [...new Set(level.flatMap((s) => Object.keys(defOf(s).shape ?? {})))];
}

/** Edit distance (insertions, deletions, substitutions, adjacent swaps), case-insensitive. */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const d = Array.from({ length: x.length + 1 }, (_, i) =>
    Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[x.length][y.length];
}

/** Names people write for the contract's Hugging Face / PEFT field names (PEFT's rank is `r`, and so on). */
const ALIASES: Record<string, string[]> = {
  rank: ['r'],
  alpha: ['lora_alpha'],
  dropout: ['lora_dropout'],
  lr: ['learning_rate'],
  epochs: ['num_train_epochs'],
  batch_size: ['micro_batch_size', 'batch_size'],
  per_device_train_batch_size: ['micro_batch_size'],
  max_length: ['max_seq_length'],
  targets: ['target_modules'],
};

/**
 * The known name closest to `word` when it is likely what was meant: a common other name for it (`rank` → `r`),
 * or a spelling within a third of its length (at least 2 edits), e.g. `learning_rte` → `learning_rate`.
 */
export function nearestName(word: string, known: readonly string[]): string | null {
  const alias = ALIASES[word.toLowerCase()]?.find((name) => known.includes(name));
  if (alias) return alias;
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const name of known) {
    const distance = editDistance(word, name);
    if (distance < bestDistance) {
      best = name;
      bestDistance = distance;
    }
  }
  if (best !== null && bestDistance <= Math.max(2, Math.floor(word.length / 3))) return best;
  // Else a name sharing most of the word (`epochz` → `num_train_epochs` through "epoch").
  let shared = 0;
  best = null;
  for (const name of known) {
    const length = longestCommonSubstring(word.toLowerCase(), name.toLowerCase());
    if (length > shared) {
      shared = length;
      best = name;
    }
  }
  return shared >= Math.max(4, Math.ceil(word.length * 0.6)) ? best : null;
}

function longestCommonSubstring(a: string, b: string): number {
  let longest = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j < b.length; j++) {
      let k = 0;
      while (i + k < a.length && j + k < b.length && a[i + k] === b[j + k]) k++;
      if (k > longest) longest = k;
    }
  }
  return longest;
}

/** "unknown field "x" (did you mean "y"?)" or "unknown field "x" (known here: a, b, c)". */
export function unknownFieldMessage(word: string, known: readonly string[]): string {
  const near = nearestName(word, known);
  if (near) return `unknown field "${word}" (did you mean "${near}"?)`;
  return known.length ? `unknown field "${word}" (known here: ${known.join(', ')})` : `unknown field "${word}"`;
}

/**
 * zod issues as "path: problem" entries; each unknown field gets its own entry, with its full path and the
 * nearest known name at that depth (so `lora.rank` says: did you mean "r"?).
 */
export function describeSchemaIssues(
  schema: z.ZodType,
  issues: readonly z.core.$ZodIssue[],
): { path: string; message: string }[] {
  return issues.flatMap((issue) => {
    const at = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      const known = knownFieldsAt(schema, issue.path);
      return issue.keys.map((key) => ({ path: at ? `${at}.${key}` : key, message: unknownFieldMessage(key, known) }));
    }
    return [{ path: at || '(input)', message: issue.message }];
  });
}
