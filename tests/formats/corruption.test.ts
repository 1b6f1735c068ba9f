// Property: random byte corruption of a model's safetensors, a Parquet dataset and a JSONL dataset never crashes
// the reader, never hangs, and every refusal is a message that names the file. Corruptions: flipped bytes, a
// truncation, inserted garbage, a zeroed or 0xFF-filled range, and a corrupted length prefix (the first 8 bytes).
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/main/formats/dataset/split.ts';
import { openModelFolder } from '../../src/main/formats/model/folder.ts';
import { makeTinyModel } from '../fixtures/tiny-models.ts';

const root = mkdtempSync(join(tmpdir(), 'corruption-'));
let model: string;
afterAll(() => rmSync(root, { recursive: true, force: true }));
beforeAll(async () => {
  model = join(root, 'model');
  await makeTinyModel(model, 'llama', { seed: 3 });
});

// Each test seeds its own stream, so a filtered run (-t) corrupts exactly the same variants.
let random = mulberry32(0);
const int = (n: number) => Math.floor(random() * n);

/** One random corruption of `bytes` and its name (for the failure message). */
function corrupt(bytes: Buffer): { data: Buffer; how: string } {
  const data = Buffer.from(bytes);
  switch (int(6)) {
    case 0: {
      const n = 1 + int(16);
      for (let i = 0; i < n; i++) data[int(data.length)] ^= 1 + int(255);
      return { data, how: `${n} bytes flipped` };
    }
    case 1: {
      const at = int(data.length);
      return { data: data.subarray(0, at), how: `truncated at ${at}` };
    }
    case 2: {
      const at = int(data.length);
      const junk = Buffer.from(Array.from({ length: 1 + int(64) }, () => int(256)));
      return {
        data: Buffer.concat([data.subarray(0, at), junk, data.subarray(at)]),
        how: `${junk.length} bytes inserted at ${at}`,
      };
    }
    case 3: {
      const at = int(data.length);
      const end = Math.min(data.length, at + 1 + int(256));
      data.fill(random() < 0.5 ? 0 : 0xff, at, end);
      return { data, how: `range ${at}–${end} overwritten` };
    }
    case 4: {
      for (let i = 0; i < 8 && i < data.length; i++) data[i] = int(256);
      return { data, how: 'first 8 bytes randomised' };
    }
    default: {
      const at = int(Math.min(data.length, 200));
      data[at] = [0x00, 0x22, 0x7b, 0x5b, 0x0a, 0xff, 0xc3][int(7)];
      return { data, how: `byte ${at} set to a structural character` };
    }
  }
}

/** Runs `read` with a time limit; returns null on success, else the error. A hang fails the test. */
async function outcome(read: () => Promise<unknown>, what: string): Promise<Error | null> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`HANG: ${what}`)), 15_000)),
  );
  try {
    await Promise.race([read(), hang]);
    return null;
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('HANG:')) throw err;
    expect(err, `${what}: threw a non-Error`).toBeInstanceOf(Error);
    return err as Error;
  } finally {
    clearTimeout(timer);
  }
}

/** A refusal must name the file and must not be an engine crash (a TypeError/RangeError from inside a reader). */
function checkRefusal(err: Error, file: string, what: string): void {
  expect(err.message, `${what}: ${err.name}: ${err.message}`).toContain(basename(file));
  expect(['TypeError', 'RangeError', 'ReferenceError'], `${what}: ${err.name}: ${err.message}`).not.toContain(err.name);
}

describe('property: corrupted files are refused with a message naming the file', () => {
  it('safetensors weights of a model folder', { timeout: 300_000 }, async () => {
    random = mulberry32(4242);
    const original = readFileSync(join(model, 'model.safetensors'));
    const VARIANTS = 150;
    let refused = 0;
    for (let v = 0; v < VARIANTS; v++) {
      const folder = join(root, `st-${v}`);
      cpSync(model, folder, { recursive: true });
      const { data, how } = corrupt(original);
      const file = join(folder, 'model.safetensors');
      writeFileSync(file, data);
      const err = await outcome(async () => {
        const m = await openModelFolder(folder);
        try {
          for (const entry of m.table) await m.readHf(entry.hfName);
        } finally {
          await m.close();
        }
      }, `variant ${v} (${how})`);
      if (err) {
        refused++;
        checkRefusal(err, file, `variant ${v} (${how})`);
      }
      rmSync(folder, { recursive: true, force: true });
    }
    console.log(
      `corruption property (safetensors): ${VARIANTS} variants, ${refused} refused, ${VARIANTS - refused} still readable`,
    );
    expect(refused).toBeGreaterThan(VARIANTS / 3);
  });

  for (const [kind, source, seed] of [
    ['parquet', join(import.meta.dirname, 'dataset', 'fixtures', 'chat.parquet'), 8],
    ['jsonl', null, 11],
  ] as const) {
    it(`${kind} datasets, read in a child process that must not crash`, { timeout: 300_000 }, async () => {
      random = mulberry32(seed);
      let original: Buffer;
      if (source) original = readFileSync(source);
      else {
        const rows = Array.from({ length: 40 }, (_, i) =>
          JSON.stringify({
            messages: [
              { role: 'user', content: `question ${i} — é` },
              { role: 'assistant', content: `answer ${i}` },
            ],
          }),
        );
        original = Buffer.from(rows.join('\n') + '\n');
      }
      // Parquet gets more tries: the reader's leaked rejections (which once crashed the process) are rare.
      const VARIANTS = kind === 'parquet' ? 300 : 150;
      const hows = new Map<string, string>();
      const files: string[] = [];
      for (let v = 0; v < VARIANTS; v++) {
        const file = join(root, `data-${v}.${kind}`);
        const { data, how } = corrupt(original);
        writeFileSync(file, data);
        files.push(file);
        hows.set(basename(file), how);
      }
      const child = spawnSync(
        process.execPath,
        ['--import', 'tsx', join(import.meta.dirname, 'corruption-child.ts'), ...files],
        { encoding: 'utf8', timeout: 240_000 },
      );
      expect(child.error, 'the child hung or could not start').toBeUndefined();
      expect(child.status, `the reader crashed:\n${child.stderr}`).toBe(0);
      const lines = child.stdout
        .trim()
        .split('\n')
        .map(
          (l) =>
            JSON.parse(l) as {
              file?: string;
              ok?: boolean;
              name?: string;
              message?: string;
              problems?: number;
              problemFiles?: string[];
              done?: boolean;
            },
        );
      expect(lines.at(-1)).toEqual({ done: true });
      const results = lines.slice(0, -1);
      expect(results).toHaveLength(VARIANTS);
      let refused = 0;
      let partial = 0;
      for (const r of results) {
        const what = `${r.file} (${hows.get(r.file!)})`;
        if (!r.ok) {
          refused++;
          expect(r.message, what).toContain(r.file);
          expect(['TypeError', 'RangeError', 'ReferenceError'], `${what}: ${r.name}: ${r.message}`).not.toContain(
            r.name,
          );
        } else if (r.problems! > 0) {
          partial++;
          expect(r.problemFiles, what).toEqual([r.file]);
        }
      }
      console.log(
        `corruption property (${kind}): ${VARIANTS} variants, ${refused} refused, ${partial} read with bad rows reported`,
      );
      expect(refused + partial).toBeGreaterThan(VARIANTS / 3);
    });
  }
});
