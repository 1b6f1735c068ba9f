// The one lint setup (`npm run lint`): ESLint's and typescript-eslint's recommended rules (correctness, not
// style: formatting is Prettier's, `npm run format`), the React hooks rules in the renderer, and the layering of
// docs/ARCHITECTURE.md as a rule, from the same table and check as tests/architecture/layers.test.ts.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { relative, sep } from 'node:path';
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import { checkImport, repoRoot } from './tests/architecture/layer-rules.js';

/** True when an import/export declaration brings in types only (nothing is loaded at run time). */
function isTypeOnly(node) {
  if (node.importKind === 'type' || node.exportKind === 'type') return true;
  const specifiers = node.specifiers ?? [];
  if (node.type !== 'ImportDeclaration' && node.type !== 'ExportNamedDeclaration') return false;
  return specifiers.length > 0 && specifiers.every((s) => s.importKind === 'type' || s.exportKind === 'type');
}

// `npm run lint` caches results per file; the plugin's version is the table's and the check's content, so an
// edited table re-checks every file instead of serving stale verdicts.
const layersVersion = createHash('sha256')
  .update(readFileSync(new URL('./tests/architecture/layers.json', import.meta.url)))
  .update(readFileSync(new URL('./tests/architecture/layer-rules.js', import.meta.url)))
  .digest('hex')
  .slice(0, 12);

const layersPlugin = {
  meta: { name: 'lora-studio-layers', version: layersVersion },
  rules: {
    'imports-go-down': {
      meta: {
        type: 'problem',
        docs: { description: "Imports follow docs/ARCHITECTURE.md's layering (tests/architecture/layers.json)" },
        schema: [],
      },
      create(context) {
        const file = relative(repoRoot, context.filename).split(sep).join('/');
        const check = (sourceNode, typeOnly) => {
          if (!sourceNode || typeof sourceNode.value !== 'string') return; // a computed import() cannot be checked
          const problem = checkImport(file, sourceNode.value, typeOnly);
          if (problem) context.report({ node: sourceNode, message: problem });
        };
        return {
          ImportDeclaration: (node) => check(node.source, isTypeOnly(node)),
          ExportNamedDeclaration: (node) => check(node.source, isTypeOnly(node)),
          ExportAllDeclaration: (node) => check(node.source, isTypeOnly(node)),
          ImportExpression: (node) => check(node.source, false),
          TSImportType: (node) => check(node.argument?.literal ?? node.source, true),
          TSExternalModuleReference: (node) => check(node.expression, node.parent?.importKind === 'type'),
        };
      },
    },
  },
};

export default defineConfig(
  {
    ignores: [
      'node_modules/',
      'out/',
      'dist/',
      'test-output/',
      '.devnode/',
      'native/build/',
      'resources/',
      'scripts/npm-stubs/',
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { ...globals.node } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // `_name` marks a parameter or binding kept for its position (a callback's signature, a destructured rest).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      // An empty catch is how "best effort" clean-up is written here (rm of a temp file, a closed socket).
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    files: ['src/**/*.{ts,tsx,js,mjs,cjs}'],
    plugins: { layers: layersPlugin },
    rules: { 'layers/imports-go-down': 'error' },
  },
  {
    // The UI runs in a browser (or Electron's sandboxed renderer), not in Node.
    files: ['src/renderer/src/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'warn',
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
  },
);
