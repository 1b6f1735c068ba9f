// Types for layer-rules.js (plain JavaScript so that eslint.config.js can load it without a TypeScript step).
export interface Layer {
  name: string;
  /** Repository-relative prefixes ending in '/' (a folder) or exact file paths. */
  paths: string[];
  /** Other layers this one may import; its own layer is always allowed. */
  mayImport: string[];
  /** Layers it may take only types from (`import type`), never code. */
  typeOnly?: string[];
  /** When present, the only npm packages it may load at run time. */
  packages?: string[];
  why: string;
}

export interface PackageRule {
  name: string;
  onlyIn: string[];
  why: string;
}

export interface LayerTable {
  layers: Layer[];
  packages: PackageRule[];
  nodeBuiltinsForbiddenIn: string[];
  nodeBuiltinsWhy: string;
  aliases?: Record<string, string>;
}

export const table: LayerTable;
export const repoRoot: string;
export function layerOf(repoPath: string): Layer | undefined;
export function resolveSpecifier(fromFile: string, specifier: string): string | null;
export function checkImport(fromFile: string, specifier: string, typeOnly: boolean): string | null;
