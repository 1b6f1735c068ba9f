// `dataset import --out` and `dataset split --out-dir` never write over their input, and replace only what an
// earlier run of the same command wrote (a marker beside the files says so), as a user would run them.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const bin = resolve(import.meta.dirname, '../../bin/lora-studio.js');
const root = mkdtempSync(join(tmpdir(), 'lora-cli-outputs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { env: { ...process.env, LORA_STUDIO_HOME: join(root, 'data') }, timeout: 150_000 },
      (err, stdout, stderr) => {
        done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

const rows =
  Array.from({ length: 10 }, (_, i) => JSON.stringify({ prompt: `q${i}`, completion: `a${i}` })).join('\n') +
  '\n{bad line\n';

describe('dataset outputs never replace inputs', { timeout: 180_000 }, () => {
  it('import --out onto its own input is refused and the file keeps its bad line', async () => {
    const input = join(root, 'x.jsonl');
    writeFileSync(input, rows);
    const res = await cli(['dataset', 'import', input, '--out', input, '--overwrite']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/x\.jsonl is the dataset being imported .*: an output never replaces an input/);
    expect(res.stderr).not.toMatch(/\n\s+at /);
    expect(readFileSync(input, 'utf8')).toBe(rows);
  });

  it('split into the input’s own folder: train.jsonl as input refused; a foreign eval.jsonl kept; a previous split replaced only with --overwrite', async () => {
    const folder = mkdtempSync(join(root, 'split-'));
    const input = join(folder, 'train.jsonl');
    writeFileSync(input, rows);
    const own = await cli(['dataset', 'split', input, '--out-dir', folder, '--overwrite']);
    expect(own.code).toBe(2);
    expect(own.stderr).toMatch(/train\.jsonl is the dataset being split/);
    expect(readFileSync(input, 'utf8')).toBe(rows);

    const data = join(folder, 'all.jsonl');
    writeFileSync(data, rows);
    const other = mkdtempSync(join(root, 'out-'));
    writeFileSync(join(other, 'eval.jsonl'), 'my own eval set\n');
    const foreign = await cli(['dataset', 'split', data, '--out-dir', other, '--overwrite']);
    expect(foreign.code).toBe(2);
    expect(foreign.stderr).toMatch(
      /eval\.jsonl already exists and is not something LoRA Studio wrote \(it is a file of 16 bytes\)/,
    );
    expect(readFileSync(join(other, 'eval.jsonl'), 'utf8')).toBe('my own eval set\n');

    const fresh = join(other, 'fresh');
    expect((await cli(['dataset', 'split', data, '--out-dir', fresh])).code).toBe(0);
    const again = await cli(['dataset', 'split', data, '--out-dir', fresh, '--seed', '7']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(
      /train\.jsonl already exists \(a train\/eval split file written earlier\); choose another file or pass --overwrite/,
    );
    const replaced = await cli(['dataset', 'split', data, '--out-dir', fresh, '--seed', '7', '--overwrite', '--json']);
    expect(replaced.code).toBe(0);
    expect((JSON.parse(replaced.stdout) as { seed: number }).seed).toBe(7);
  });
});
