// The "never write over, into or above an input" rule (formats/output-guard.ts): fixed cases for each refusal,
// and a property test over random nestings of an output path and the inputs (folders and files, some reached
// through symlinks, some outputs left by an earlier export), each followed by the real write when the guard
// lets it through — after which every input file must still hold exactly its old bytes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { moveIntoPlace } from '../../src/main/formats/export/hf.ts';
import { mulberry32 } from '../../src/main/formats/dataset/split.ts';
import {
  FOLDER_MARKER,
  guardOutput,
  markOutputFile,
  markOutputFolder,
  OutputGuardError,
  recordedKind,
  relation,
  type GuardedInput,
} from '../../src/main/formats/output-guard.ts';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'output-guard-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function refusal(promise: Promise<unknown>): Promise<OutputGuardError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OutputGuardError);
  return err as OutputGuardError;
}

describe('output guard: fixed cases', () => {
  it('refuses the input itself, a folder inside it and a folder holding it, whatever overwrite says', async () => {
    const dir = join(root, 'fixed');
    const base = join(dir, 'models', 'base');
    await mkdir(base, { recursive: true });
    await writeFile(join(base, 'config.json'), '{}');
    await writeFile(join(dir, 'notes.txt'), 'mine');
    const inputs = [{ path: base, role: 'base model' }];
    for (const out of [base, join(base, 'merged'), join(dir, 'models'), dir]) {
      const err = await refusal(guardOutput({ out, kind: 'hf-model', inputs, overwrite: true }));
      expect(err.reason).toBe('input');
      expect(err.message).toContain(`the base model ${base}`);
    }
    expect(await readFile(join(dir, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('overwrite replaces only a marked output of the same kind; anything else is named and kept', async () => {
    const dir = join(root, 'kinds');
    const foreign = join(dir, 'photos');
    await mkdir(foreign, { recursive: true });
    await writeFile(join(foreign, 'a.jpg'), 'x');
    await writeFile(join(foreign, 'b.jpg'), 'y');
    const err = await refusal(guardOutput({ out: foreign, kind: 'hf-model', inputs: [], overwrite: true }));
    expect(err.reason).toBe('foreign');
    expect(err.message).toMatch(
      /photos already exists and is not something LoRA Studio wrote \(it holds a\.jpg, b\.jpg\)/,
    );

    const previous = join(dir, 'merged');
    await mkdir(previous);
    await writeFile(join(previous, 'model.safetensors'), 'weights');
    await markOutputFolder(previous, 'peft-adapter');
    const other = await refusal(guardOutput({ out: previous, kind: 'hf-model', inputs: [], overwrite: true }));
    expect(other.message).toContain('is an adapter folder, not a merged model folder');
    await markOutputFolder(previous, 'hf-model');
    expect(await recordedKind(previous)).toBe('hf-model');
    expect((await refusal(guardOutput({ out: previous, kind: 'hf-model', inputs: [] }))).reason).toBe('exists');
    await guardOutput({ out: previous, kind: 'hf-model', inputs: [], overwrite: true });

    const empty = join(dir, 'empty');
    await mkdir(empty);
    await guardOutput({ out: empty, kind: 'hf-model', inputs: [] });

    const gguf = join(dir, 'model.gguf');
    await writeFile(gguf, 'GGUF...');
    expect((await refusal(guardOutput({ out: gguf, kind: 'gguf', inputs: [], overwrite: true }))).message).toMatch(
      /is a file of 7 bytes/,
    );
    await markOutputFile(gguf, 'gguf');
    await guardOutput({ out: gguf, kind: 'gguf', inputs: [], overwrite: true });
    await writeFile(gguf, 'edited by hand since'); // a different size: no longer the studio's file
    expect((await refusal(guardOutput({ out: gguf, kind: 'gguf', inputs: [], overwrite: true }))).reason).toBe(
      'foreign',
    );
    expect((await refusal(guardOutput({ out: dir, kind: 'gguf', inputs: [] }))).message).toMatch(
      /is a folder \(holding .*\), and a GGUF file is a file/,
    );
  });

  it('a container (the data dir) may be written into but never replaced or held', async () => {
    const data = join(root, 'data');
    await mkdir(join(data, 'exports'), { recursive: true });
    const inputs: GuardedInput[] = [{ path: data, role: 'studio data folder', container: true }];
    await guardOutput({ out: join(data, 'exports', 'x'), kind: 'hf-model', inputs });
    expect((await refusal(guardOutput({ out: data, kind: 'hf-model', inputs, overwrite: true }))).reason).toBe('input');
    expect((await refusal(guardOutput({ out: root, kind: 'hf-model', inputs, overwrite: true }))).message).toContain(
      'contains the studio data folder',
    );
  });

  it('a symlink does not hide an input', async () => {
    const dir = join(root, 'links');
    const base = join(dir, 'real', 'base');
    await mkdir(base, { recursive: true });
    await symlink(join(dir, 'real'), join(dir, 'alias'));
    const err = await refusal(
      guardOutput({
        out: join(dir, 'alias', 'base', 'out'),
        kind: 'hf-model',
        inputs: [{ path: base, role: 'base model' }],
      }),
    );
    expect(err.message).toContain('is inside the base model');
  });
});

/** Every file under `dir` with its bytes, by path relative to `dir`. */
async function snapshot(dir: string, into = new Map<string, string>(), prefix = ''): Promise<Map<string, string>> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await snapshot(path, into, join(prefix, entry.name));
    else if (entry.isFile()) into.set(join(prefix, entry.name), await readFile(path, 'utf8'));
  }
  return into;
}

describe('output guard: property over random nestings', () => {
  it('never lets a write land over, into or above an input, and only replaces a marked output of its kind', async () => {
    const random = mulberry32(20261202);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
    const segment = () => pick(['a', 'b', 'c']);
    const randomPath = (base: string, maxDepth: number) => {
      const depth = 1 + Math.floor(random() * maxDepth);
      return join(base, ...Array.from({ length: depth }, segment));
    };
    const VARIANTS = 400;
    const tally = {
      refusedAsInput: 0,
      refusedForeign: 0,
      refusedExisting: 0,
      written: 0,
      replacedPrevious: 0,
      viaSymlink: 0,
    };
    for (let v = 0; v < VARIANTS; v++) {
      const world = join(root, `p${v}`);
      await mkdir(world, { recursive: true });
      // Inputs: 1-3 folders or files at random depths (possibly nested in each other).
      const inputs: GuardedInput[] = [];
      for (let i = 0, n = 1 + Math.floor(random() * 3); i < n; i++) {
        const path = randomPath(world, 3);
        const asFolder = random() < 0.6 || existsSync(path);
        try {
          // A path under an earlier file input cannot be created: that draw is skipped.
          if (asFolder) {
            await mkdir(path, { recursive: true });
            await writeFile(join(path, `weights-${i}.bin`), `input ${i} of variant ${v}`);
          } else {
            await mkdir(dirname(path), { recursive: true });
            await writeFile(path, `input file ${i} of variant ${v}`);
          }
        } catch {
          continue;
        }
        inputs.push({ path, role: `input ${i}` });
      }
      const before = await snapshot(world);
      // The output: a random path, sometimes through a symlink to a folder of the world, sometimes already
      // holding a previous (marked) export or an unrelated file.
      let out = randomPath(world, 4);
      let logical = out;
      if (random() < 0.2) {
        const link = join(world, `link${v}`);
        const target = randomPath(world, 2);
        if (
          await mkdir(target, { recursive: true }).then(
            () => true,
            () => false,
          )
        ) {
          await symlink(target, link);
          const rest = Array.from({ length: Math.floor(random() * 3) }, segment);
          logical = join(link, ...rest);
          out = join(target, ...rest);
          tally.viaSymlink++;
        }
      }
      const clash = existsSync(out);
      let previous = false;
      if (
        !clash &&
        random() < 0.3 &&
        (await mkdir(out, { recursive: true }).then(
          () => true,
          () => false,
        ))
      ) {
        if (random() < 0.5) {
          await writeFile(join(out, 'model.safetensors'), 'old');
          await markOutputFolder(out, 'hf-model');
          previous = true;
        } else await writeFile(join(out, 'unrelated.txt'), 'not ours');
      }
      const overwrite = random() < 0.7;
      const expected = inputs.map((x) => relation(out, x.path)).find((r) => r !== 'apart');

      const result = await guardOutput({ out: logical, kind: 'hf-model', inputs, overwrite }).then(
        () => null,
        (e: unknown) => e as OutputGuardError,
      );
      if (expected) {
        expect(result?.reason, `variant ${v}: ${relative(world, out)} is ${expected} an input`).toBe('input');
        tally.refusedAsInput++;
      } else if (result) {
        expect(result.reason === 'foreign' || result.reason === 'exists', `variant ${v}: ${result.message}`).toBe(true);
        if (result.reason === 'exists') expect(previous && !overwrite).toBe(true);
        if (result.reason === 'foreign') expect(previous).toBe(false);
        tally[result.reason === 'foreign' ? 'refusedForeign' : 'refusedExisting']++;
      } else {
        // Let through: do the real write, then no input may have changed.
        const tmp = join(dirname(out), `.tmp-${v}`);
        await mkdir(tmp, { recursive: true });
        await writeFile(join(tmp, 'model.safetensors'), 'new');
        await moveIntoPlace(tmp, logical, overwrite, 'hf-model');
        expect(await readFile(join(out, 'model.safetensors'), 'utf8')).toBe('new');
        expect(existsSync(join(out, FOLDER_MARKER))).toBe(true);
        tally[previous ? 'replacedPrevious' : 'written']++;
      }
      const after = await snapshot(world);
      for (const [file, bytes] of before) {
        if (file.startsWith(relative(world, out) + sep) && !expected && result === null) continue; // the replaced previous output
        expect(after.get(file), `variant ${v}: ${file} changed`).toBe(bytes);
      }
    }
    // Every branch of the rule was exercised (the counts go in the report).
    console.log(`output-guard property: ${VARIANTS} variants`, tally);
    expect(tally.refusedAsInput).toBeGreaterThan(20);
    expect(tally.written).toBeGreaterThan(20);
    expect(tally.refusedForeign + tally.refusedExisting).toBeGreaterThan(10);
    expect(tally.replacedPrevious).toBeGreaterThan(3);
    expect(tally.refusedExisting).toBeGreaterThan(3);
  });
});
