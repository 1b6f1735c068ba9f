// `lora-studio compare-methods` and `lora-studio sweep` as a user runs them (a subprocess on a temp data dir) on the
// bundled encoder with a slice of the bundled SST-2-style data: both members train from the same base on the same
// rows and the side-by-side figures are the runs' own — the output size is the folder's bytes on disk, LoRA trains
// fewer parameters and writes less than full fine-tuning, and two ranks differ in trainable parameters by exactly
// Δr · (in + out) per targeted module (independently of the head). Bad lists are refused naming the flag.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLED_ENCODER_DATA_DIR, BUNDLED_ENCODER_DIR } from '../../src/main/core/bundled.ts';

const bin = resolve(import.meta.dirname, '../../bin/lora-studio.js');
let root: string;
let dataDir: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'lora-cli-compare-'));
  dataDir = join(root, 'data');
  const head = (file: string, n: number) => readFileSync(file, 'utf8').split('\n').slice(0, n).join('\n') + '\n';
  writeFileSync(join(root, 'train.jsonl'), head(join(BUNDLED_ENCODER_DATA_DIR, 'sst2/train.jsonl'), 64));
  writeFileSync(join(root, 'eval.jsonl'), head(join(BUNDLED_ENCODER_DATA_DIR, 'sst2/validation.jsonl'), 24));
  writeFileSync(
    join(root, 'recipe.json'),
    JSON.stringify({
      model: BUNDLED_ENCODER_DIR,
      task: 'classification',
      classification: { labels: ['negative', 'positive'] },
      dataset: { path: 'train.jsonl', eval_split: { kind: 'file', path: 'eval.jsonl' } },
      lora: { r: 8, lora_alpha: 32, lora_dropout: 0.1, target_modules: ['query', 'value'] },
      micro_batch_size: 4,
      gradient_accumulation_steps: 1,
      max_seq_length: 32,
      save_steps: null,
    }),
  );
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [bin, '--data-dir', dataDir, ...args], { cwd: root, timeout: 400_000, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

function bytesUnder(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? bytesUnder(join(dir, e.name)) : statSync(join(dir, e.name)).size), 0);
}

interface Row {
  runId: string;
  method: string;
  r: number | null;
  status: string;
  metric: number | null;
  seconds: number | null;
  trainableParameters: number | null;
  peakRssBytes: number | null;
  outputBytes: number | null;
}

describe('lora-studio compare-methods / sweep', () => {
  it('LoRA vs full: two runs from the same base and data, their figures side by side', async () => {
    const r = await cli(['compare-methods', '-c', 'recipe.json', '--max-steps', '3', '--name', 'sst2 slice', '--json']);
    expect(r.stderr).toContain('LoRA r 8 · query, value | full fine-tuning');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { done: boolean; rows: Row[]; group: { metric: { key: string }; id: string } };
    expect(report.done).toBe(true);
    expect(report.group.metric.key).toBe('eval_accuracy');
    const [lora, full] = report.rows;
    expect([lora.method, full.method]).toEqual(['lora', 'full']);
    const runs = await Promise.all(report.rows.map(async (row) => JSON.parse((await cli(['runs', 'show', row.runId, '--json'])).stdout)));
    expect(runs[0].config.model).toBe(runs[1].config.model);
    expect(runs[0].config.dataset).toEqual(runs[1].config.dataset);
    expect(runs[0].config.seed).toBe(runs[1].config.seed);
    for (const [i, row] of report.rows.entries()) {
      const run = runs[i];
      expect(row.status).toBe('succeeded');
      expect(row.seconds).toBe(run.summary.seconds);
      expect(row.peakRssBytes).toBe(run.summary.peakRssBytes);
      expect(row.peakRssBytes!).toBeGreaterThan(50 * 2 ** 20);
      expect(row.metric).toBe(run.summary.evalMetrics.eval_accuracy);
      expect(row.metric!).toBeGreaterThanOrEqual(0);
      expect(row.metric!).toBeLessThanOrEqual(1);
      expect(row.outputBytes).toBe(bytesUnder(run.summary.adapterPath));
    }
    // the runs started one after the other, never side by side
    expect(Date.parse(runs[1].startedAt)).toBeGreaterThanOrEqual(Date.parse(runs[0].endedAt));
    expect(lora.trainableParameters!).toBeLessThan(full.trainableParameters! / 5);
    expect(lora.outputBytes!).toBeLessThan(full.outputBytes! / 2);
    // the text form: a table and the machine-readable last line
    const shown = await cli(['compare', 'show', report.group.id]);
    expect(shown.stdout).toMatch(/LoRA r 8 · query, value\s+succeeded/);
    expect(shown.stdout.trim().split('\n').at(-1)).toMatch(
      new RegExp(`^compare group=${report.group.id} kind=methods metric=accuracy lora=\\d\\.\\d{4} full=\\d\\.\\d{4}$`),
    );
  }, 600_000);

  it('sweep --r 2,4: trainable parameters differ by exactly 2 · (in + out) per targeted module', async () => {
    const r = await cli(['sweep', '-c', 'recipe.json', '--max-steps', '2', '--r', '2,4', '--targets', 'query,value', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { rows: Row[] };
    expect(report.rows.map((row) => [row.r, row.status])).toEqual([
      [2, 'succeeded'],
      [4, 'succeeded'],
    ]);
    const config = JSON.parse(readFileSync(join(BUNDLED_ENCODER_DIR, 'config.json'), 'utf8'));
    const perModule = config.hidden_size + config.hidden_size; // query and value: hidden → hidden
    const modules = config.num_hidden_layers * 2;
    expect(report.rows[1].trainableParameters! - report.rows[0].trainableParameters!).toBe((4 - 2) * perModule * modules);
  }, 600_000);

  it('refuses a bad rank list or a single run, naming the flag, before training anything', async () => {
    const bad = await cli(['sweep', '-c', 'recipe.json', '--r', '2,x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--r/);
    const single = await cli(['sweep', '-c', 'recipe.json', '--r', '4']);
    expect(single.code).toBe(2);
    expect(single.stderr).toMatch(/at least two runs/);
    expect(single.stderr).not.toMatch(/\n\s+at /); // no stack trace
  }, 120_000);
});
