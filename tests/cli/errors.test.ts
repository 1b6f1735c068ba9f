// Bad input over the CLI, as a user meets it: checked before anything is recorded, refused with the field and
// what to do, and a worker's failure shown as its message and the log file's path — the JavaScript stack is in
// that log file, never on the terminal.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTinyModel } from '../fixtures/tiny-models.ts';
import { SafetensorsFile, writeSafetensors } from '../../src/main/formats/safetensors/index.ts';

const bin = resolve(import.meta.dirname, '../../bin/lora-studio.js');
const root = mkdtempSync(join(tmpdir(), 'lora-cli-errors-'));
const dataDir = join(root, 'data');
const STACK = /^\s+at \S/m;

beforeAll(async () => {
  await makeTinyModel(join(root, 'no-tokenizer'), 'llama', { seed: 5, tokenizer: false });
  await makeTinyModel(join(root, 'nan-model'), 'llama', { seed: 5 });
  // One weight of the second model becomes NaN (rewritten with every other tensor as it was).
  const file = join(root, 'nan-model', 'model.safetensors');
  const st = await SafetensorsFile.open(file);
  const tensors = [];
  for (const name of st.names()) {
    const data = await st.readFloat32(name);
    if (name === 'model.layers.0.mlp.up_proj.weight') data[7] = Number.NaN;
    tensors.push({ name, dtype: 'F32' as const, shape: st.info(name).shape, data });
  }
  await st.close();
  await writeSafetensors(file, tensors);
  const rows = Array.from({ length: 12 }, (_, i) => ({ prompt: `Q${i}`, completion: ` A${i}` }));
  writeFileSync(join(root, 'data.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [bin, '--data-dir', dataDir, ...args], { cwd: root, timeout: 120_000 }, (err, stdout, stderr) => {
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('CLI errors', { timeout: 180_000 }, () => {
  it('a model folder that does not exist is refused before a run is recorded', async () => {
    const res = await cli(['train', '--model', 'missing-model', '--dataset', 'data.jsonl', '--max-steps', '1']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/config\.model: .*missing-model does not exist; give the folder of a Hugging Face model/);
    const folder = await cli(['train', '--model', 'no-tokenizer', '--dataset', root, '--max-steps', '1']);
    expect(folder.code).toBe(2);
    expect(folder.stderr).toMatch(/config\.dataset\.path: .* is a folder; give a dataset file/);
    expect(JSON.parse((await cli(['runs', 'list', '--json'])).stdout)).toEqual([]);
    const evaluation = await cli(['eval', '--model', 'missing-model', '--dataset', 'data.jsonl']);
    expect(evaluation.code).toBe(2);
    expect(evaluation.stderr).toMatch(/model: .*missing-model does not exist/);
  });

  it('eval steps with no eval split is refused, saying that no eval would happen', async () => {
    const res = await cli(['train', '--model', 'no-tokenizer', '--dataset', 'data.jsonl', '--eval-ratio', '0', '--eval-steps', '1']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/eval_steps: eval_steps is 1 but the dataset has no eval split .* no evaluation would ever run/);
  });

  it('a failing worker shows its message and the log path; the stack is only in the log file', async () => {
    const res = await cli(['train', '--model', 'no-tokenizer', '--dataset', 'data.jsonl', '--max-steps', '1']);
    expect(res.code).toBe(1);
    const out = res.stdout + res.stderr;
    expect(out).toMatch(/no tokenizer\.json in .*no-tokenizer/);
    expect(out).not.toMatch(STACK);
    const log = /details in (\S+\.log)\)/.exec(out)?.[1];
    expect(log, out).toBeDefined();
    expect(existsSync(log!)).toBe(true);
    expect(readFileSync(log!, 'utf8')).toMatch(STACK);
  });

  it('NaN in the weights is refused naming the file and the tensor, in the CLI process and in a worker', async () => {
    const convert = await cli(['export', '--format', 'hf', '--base', 'nan-model', '--out', 'converted']);
    expect(convert.code).toBe(1);
    expect(convert.stderr).toMatch(/nan-model\/model\.safetensors: tensor "model\.layers\.0\.mlp\.up_proj\.weight" holds 1 non-finite value \(the first, NaN, at index 7\)/);
    expect(convert.stderr).not.toMatch(STACK);
    expect(existsSync(join(root, 'converted'))).toBe(false);
    const train = await cli(['train', '--model', 'nan-model', '--dataset', 'data.jsonl', '--max-steps', '1', '--eval-ratio', '0']);
    expect(train.code).toBe(1);
    expect(train.stdout + train.stderr).toMatch(/tensor "model\.layers\.0\.mlp\.up_proj\.weight" holds 1 non-finite value/);
    expect(train.stdout + train.stderr).not.toMatch(STACK);
  });
});
