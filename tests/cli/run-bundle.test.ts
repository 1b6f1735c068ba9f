// `lora-studio run-bundle` and `lora-studio import-run` as a user runs them: a subprocess against a temp data dir
// and a tiny model; the bundle written from a config file, a second write refused, a trainer's output imported
// with its mismatches printed, and bad input answered with a sentence and exit code 2 — never a stack trace.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTinyModel } from '../fixtures/tiny-models.ts';
import { writeTrainerOutput } from '../fixtures/trainer-output.ts';

const bin = resolve(import.meta.dirname, '../../bin/lora-studio.js');
let root: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'lora-cli-bundle-'));
  await makeTinyModel(join(root, 'model'), 'llama', { seed: 5, std: 0.3 });
  const rows = Array.from({ length: 12 }, (_, i) => ({ prompt: `Q: ${i} plus one?\nA:`, completion: ` ${i + 1}` }));
  writeFileSync(join(root, 'rows.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const config = {
    model: 'model',
    dataset: { path: 'rows.jsonl', template: { kind: 'plain' }, eval_split: { kind: 'ratio', ratio: 0.25 } },
    lora: { r: 4, lora_alpha: 8, target_modules: ['q_proj', 'v_proj'] },
    max_steps: 4,
    save_steps: 2, // as the trainer output imported below checkpoints (the default is 50)
    micro_batch_size: 2,
    gradient_accumulation_steps: 1,
    max_seq_length: 32,
  };
  writeFileSync(join(root, 'run.json'), JSON.stringify(config));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [bin, '--data-dir', join(root, 'data'), ...args],
      { cwd: root, timeout: 90_000 },
      (err, stdout, stderr) => {
        done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

const noStack = (text: string) => expect(text).not.toMatch(/\n\s+at .+:\d+:\d+/);

describe('lora-studio run-bundle / import-run', () => {
  it('writes a bundle from a config file, then refuses to write over it', async () => {
    const first = await cli(['run-bundle', '--config', 'run.json', '--out', 'bundle']);
    expect(first.stderr + first.code).toMatch(/0$/);
    expect(first.stdout).toContain(`Wrote the bundle ${join(root, 'bundle')}: 9 training and 3 eval rows`);
    for (const f of ['axolotl.yaml', 'train_trl.py', 'accelerate/fsdp.yaml', 'README.md', 'lora-studio-run.json'])
      expect(existsSync(join(root, 'bundle', f)), f).toBe(true);

    const again = await cli(['run-bundle', '--config', 'run.json', '--out', 'bundle']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists (a job bundle folder (run-bundle) written earlier)');
    noStack(again.stderr);
  }, 120_000);

  it('imports a trainer’s output and prints every difference from the record', async () => {
    await writeTrainerOutput(join(root, 'bundle', 'output'), {
      baseModel: join(root, 'model'),
      r: 8,
      alpha: 16,
      record: join(root, 'bundle', 'lora-studio-run.json'),
    });
    const imported = await cli(['import-run', join(root, 'bundle', 'output'), '--name', 'from the cluster']);
    expect(imported.stderr + imported.code).toMatch(/0$/);
    expect(imported.stdout).toContain('run "from the cluster"');
    expect(imported.stdout).toContain('MISMATCH lora.r: expected 4, found 8');
    expect(imported.stdout).toContain('MISMATCH lora.lora_alpha: expected 8, found 16');
    expect(imported.stdout).toContain('checkpoints: checkpoint-2, checkpoint-4');
    const json = await cli(['runs', 'list', '--json']);
    expect(JSON.parse(json.stdout).map((r: { name: string }) => r.name)).toContain('from the cluster');
    expect(readFileSync(join(root, 'bundle', 'output', 'adapter_config.json'), 'utf8')).toContain('"r": 8'); // read, never rewritten
  }, 120_000);

  it('answers bad input with a sentence and exit code 2', async () => {
    const neither = await cli(['run-bundle', '--out', 'x']);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain('give exactly one of --run ID and --config FILE');
    const missing = await cli(['import-run', 'nowhere']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`${join(root, 'nowhere')} is not a folder; choose the trainer's output_dir`);
    const notAdapter = await cli(['import-run', 'model']);
    expect(notAdapter.code).toBe(2);
    expect(notAdapter.stderr).toContain('holds a full model (model.safetensors), not a PEFT adapter');
    for (const r of [neither, missing, notAdapter]) noStack(r.stderr);
  }, 120_000);
});
