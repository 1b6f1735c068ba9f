// Enforces docs/ARCHITECTURE.md's "Who may import whom" over every source file under src/, with the same table
// (layers.json) and check (layer-rules.js) that ESLint uses. Parsing only (TypeScript's parser, no type check, no
// ESLint), so it runs in a few seconds.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { checkImport, layerOf, repoRoot, table } from './layer-rules.js';

const CODE = /\.(c|m)?(t|j)sx?$/;

interface FoundImport {
  specifier: string;
  line: number;
  typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (CODE.test(entry.name)) out.push(path);
  }
  return out;
}

function scriptKind(fileName: string): ts.ScriptKind {
  if (fileName.endsWith('x')) return fileName.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.JSX;
  return /\.(c|m)?js$/.test(fileName) ? ts.ScriptKind.JS : ts.ScriptKind.TS;
}

/** Every module a file names: static imports and re-exports, `import x = require()`, import(), require(), import('x').T. */
function importsOf(fileName: string, text: string): FoundImport[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, scriptKind(fileName));
  const found: FoundImport[] = [];
  const add = (literal: ts.Node, typeOnly: boolean): void => {
    if (!ts.isStringLiteralLike(literal)) return; // a computed specifier cannot be checked statically
    const line = source.getLineAndCharacterOfPosition(literal.getStart(source)).line + 1;
    found.push({ specifier: literal.text, line, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const named = clause?.namedBindings;
      const allNamedAreTypes =
        !!named && ts.isNamedImports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly);
      add(node.moduleSpecifier, !!clause && (clause.isTypeOnly || (!clause.name && allNamedAreTypes)));
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      const clause = node.exportClause;
      const allNamedAreTypes =
        !!clause &&
        ts.isNamedExports(clause) &&
        clause.elements.length > 0 &&
        clause.elements.every((e) => e.isTypeOnly);
      add(node.moduleSpecifier, node.isTypeOnly || allNamedAreTypes);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node.moduleReference.expression, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.arguments.length >= 1) {
      const callee = node.expression;
      const isImport = callee.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(callee) && callee.text === 'require';
      if (isImport || isRequire) add(node.arguments[0], false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const toRepoPath = (absolute: string): string => relative(repoRoot, absolute).split(sep).join('/');

describe('the scanner', () => {
  it('finds every form of import, and which ones are type-only', () => {
    const text = [
      "import a from './a.ts';",
      "import type { B } from './b.ts';",
      "import { type C, type D } from './c.ts';",
      "import { type E, f } from './e.ts';",
      "import './side-effect.ts';",
      "export * from './g.ts';",
      "export type { H } from './h.ts';",
      "import i = require('./i.ts');",
      "const j = await import('./j.ts');",
      "const k = require('k-package');",
      "let l: import('./l.ts').L;",
      "const m = `import('./not-an-import.ts')`;",
      'const n = await import(someVariable);',
    ].join('\n');
    const found = importsOf('x.ts', text).map((i) => `${i.line} ${i.specifier} ${i.typeOnly ? 'type' : 'value'}`);
    expect(found).toEqual([
      '1 ./a.ts value',
      '2 ./b.ts type',
      '3 ./c.ts type',
      '4 ./e.ts value',
      '5 ./side-effect.ts value',
      '6 ./g.ts value',
      '7 ./h.ts type',
      '8 ./i.ts value',
      '9 ./j.ts value',
      '10 k-package value',
      '11 ./l.ts type',
    ]);
  });
});

describe('the rules', () => {
  it('let imports go down and refuse them going up or sideways, naming both layers', () => {
    expect(checkImport('src/main/worker/jobs/train.ts', '../../engine/trainer/fine-tune.ts', false)).toBeNull();
    expect(checkImport('src/main/engine/models/llama.ts', '../../formats/model/spec.ts', false)).toBeNull();
    expect(checkImport('src/main/core/api/handlers/runs.ts', '../../../engine/trainer/x.ts', true)).toMatch(
      /layer "core" may not import layer "engine" \(src\/main\/engine\/trainer\/x\.ts\); core → formats, common/,
    );
    expect(checkImport('src/main/formats/peft/adapter.ts', '../../engine/lora/config.ts', false)).toMatch(
      /"formats" may not import layer "engine"/,
    );
    expect(checkImport('src/common/api/runs.ts', '../../main/core/index.ts', false)).toMatch(/core → |nothing of ours/);
    expect(checkImport('src/renderer/src/App.tsx', '../../main/server/serve.ts', false)).toMatch(/"renderer" may not/);
  });

  it('let the preload take only types from the contract, and load nothing but electron', () => {
    expect(checkImport('src/preload/index.d.ts', '../common/api/contract.ts', true)).toBeNull();
    expect(checkImport('src/preload/index.ts', '../common/api/contract.ts', false)).toMatch(/only types/);
    expect(checkImport('src/preload/index.ts', 'electron', false)).toBeNull();
    expect(checkImport('src/preload/index.ts', 'zod', false)).toMatch(/may load only electron/);
  });

  it('keep packages and Node built-ins where they belong', () => {
    expect(checkImport('src/main/core/index.ts', 'electron', false)).toMatch(/only in electron, preload/);
    expect(checkImport('src/main/core/store/database.ts', 'better-sqlite3', false)).toBeNull();
    expect(checkImport('src/main/core/system/doctor.ts', 'onnxruntime-node', false)).toMatch(/only in engine/);
    expect(checkImport('src/main/engine/executors/onnx/ort.ts', 'onnxruntime-node', false)).toBeNull();
    expect(checkImport('src/common/api/runs.ts', 'node:path', false)).toMatch(/Node built-in "node:path"/);
    expect(checkImport('src/renderer/src/format.ts', 'fs', false)).toMatch(/Node built-in "fs"/);
    expect(checkImport('src/renderer/src/main.tsx', 'react-dom/client', false)).toBeNull();
    expect(checkImport('src/main/server/serve.ts', 'react', false)).toMatch(/only in renderer/);
  });

  it('refuse imports from outside src/ and resolve the renderer alias', () => {
    expect(checkImport('src/main/cli/commands/demo.ts', '../../../../tests/fixtures/x.ts', false)).toMatch(
      /never imports from outside src/,
    );
    expect(checkImport('src/renderer/src/App.tsx', '@common/api/contract.ts', false)).toBeNull();
  });

  it('give every layer a known set of allowed layers', () => {
    const names = new Set(table.layers.map((l) => l.name));
    for (const layer of table.layers) for (const allowed of layer.mayImport) expect(names).toContain(allowed);
    for (const rule of table.packages) for (const where of rule.onlyIn) expect(names).toContain(where);
  });
});

describe('src/', () => {
  const files = sourceFiles(join(repoRoot, 'src')).map((absolute) => ({ absolute, path: toRepoPath(absolute) }));

  it('has every source file in a layer of tests/architecture/layers.json', () => {
    expect(files.length).toBeGreaterThan(100);
    const orphans = files.filter((f) => !layerOf(f.path)).map((f) => f.path);
    expect(orphans, 'give these folders a layer in tests/architecture/layers.json and docs/ARCHITECTURE.md').toEqual(
      [],
    );
  });

  it('imports only what docs/ARCHITECTURE.md allows', () => {
    const broken: string[] = [];
    for (const file of files) {
      for (const found of importsOf(file.path, readFileSync(file.absolute, 'utf8'))) {
        const problem = checkImport(file.path, found.specifier, found.typeOnly);
        if (problem) broken.push(`${file.path}:${found.line}: import '${found.specifier}': ${problem}`);
      }
    }
    expect(broken, `\n${broken.join('\n')}\n`).toEqual([]);
  });
});
