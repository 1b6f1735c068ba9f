// The layering check itself, in plain JavaScript so that both eslint.config.js (which Node loads without a
// TypeScript step) and tests/architecture/layers.test.ts use the same code over the same table (layers.json).
import { readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { posix } from 'node:path';

/** @type {import('./layer-rules.d.ts').LayerTable} */
export const table = JSON.parse(readFileSync(new URL('./layers.json', import.meta.url), 'utf8'));

/** The repository root (this file lives in <root>/tests/architecture/), as an absolute path with a trailing slash. */
export const repoRoot = decodeURIComponent(new URL('../../', import.meta.url).pathname);

/** The layer a repository-relative path belongs to: the longest matching path prefix wins. */
export function layerOf(repoPath) {
  let best;
  let bestLength = -1;
  for (const layer of table.layers) {
    for (const prefix of layer.paths) {
      const matches = prefix.endsWith('/') ? repoPath.startsWith(prefix) : repoPath === prefix;
      if (matches && prefix.length > bestLength) {
        best = layer;
        bestLength = prefix.length;
      }
    }
  }
  return best;
}

function allowedList(layer) {
  return layer.mayImport.length > 0 ? layer.mayImport.join(', ') : 'nothing of ours';
}

/** Where a specifier points inside the repository (relative, alias), or null for a package. */
export function resolveSpecifier(fromFile, specifier) {
  for (const [alias, target] of Object.entries(table.aliases ?? {})) {
    if (specifier.startsWith(alias)) return posix.normalize(target + specifier.slice(alias.length));
  }
  if (specifier.startsWith('.')) return posix.normalize(posix.join(posix.dirname(fromFile), specifier));
  return null;
}

function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/**
 * Checks one import of `fromFile` (repository-relative, POSIX separators). Returns null when allowed, else a
 * sentence naming the rule broken. Files outside every layer are not checked here (the test reports them).
 */
export function checkImport(fromFile, specifier, typeOnly) {
  const from = layerOf(fromFile);
  if (!from) return null;
  const resolved = resolveSpecifier(fromFile, specifier);
  if (resolved !== null) {
    if (!resolved.startsWith('src/')) {
      return `src/ never imports from outside src/ (${resolved}): tests, scripts and resources depend on the app, not the reverse`;
    }
    const target = layerOf(resolved);
    if (!target) return `${resolved} is in no layer of tests/architecture/layers.json`;
    if (target === from) return null;
    if (!from.mayImport.includes(target.name)) {
      return `layer "${from.name}" may not import layer "${target.name}" (${resolved}); ${from.name} → ${allowedList(from)}: ${from.why}`;
    }
    if (from.typeOnly?.includes(target.name) && !typeOnly) {
      return `layer "${from.name}" may import only types from "${target.name}" (use \`import type\`): ${from.why}`;
    }
    return null;
  }
  if (isBuiltin(specifier)) {
    if (table.nodeBuiltinsForbiddenIn.includes(from.name)) {
      return `layer "${from.name}" may not import the Node built-in "${specifier}": ${table.nodeBuiltinsWhy}`;
    }
    return null;
  }
  if (typeOnly) return null; // a type from a package loads nothing at run time
  const name = packageName(specifier);
  if (from.packages && !from.packages.includes(name)) {
    return `layer "${from.name}" may load only ${from.packages.join(', ')} among packages, not "${name}": ${from.why}`;
  }
  for (const rule of table.packages) {
    if (name === rule.name && !rule.onlyIn.includes(from.name)) {
      return `"${name}" may be imported only in ${rule.onlyIn.join(', ')}, not in layer "${from.name}": ${rule.why}`;
    }
  }
  return null;
}
