// `lora-studio train` / `runs` / `eval` as a user runs them: a subprocess against a temp data dir, a generated
// tiny Llama folder and a JSONL file; everything recorded in the store and readable back through the CLI.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTinyModel } from '../fixtures/tiny-models.ts';

const bin = resolve(import.meta.dirname, '../../bin/lora-studio.js');
let root: string;
let dataDir: string;
let trainedRunId: string | undefined;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'lora-cli-train-'));
  dataDir = join(root, 'data');
  await makeTinyModel(join(root, 'model'), 'llama', { seed: 5 });
  const rows = Array.from({ length: 24 }, (_, i) => ({ prompt: `Q: what is ${i} plus one?\nA:`, completion: ` ${i + 1}` }));
  writeFileSync(join(root, 'sums.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  // Paths in a config file are relative to the file.
  writeFileSync(
    join(root, 'run.json'),
    JSON.stringify({ model: 'model', dataset: { path: 'sums.jsonl', template: { kind: 'plain' }, eval_split: { kind: 'ratio', ratio: 0.25 } }, max_steps: 6, micro_batch_size: 2, gradient_accumulation_steps: 1, learning_rate: 5e-3, max_seq_length: 32, save_steps: 3 }),
  );
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [bin, '--data-dir', dataDir, ...args], { cwd: root, timeout: 90_000 }, (err, stdout, stderr) => {
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('lora-studio train / runs / eval', () => {
  it('trains from a config file with flag overrides, records the run, and evaluates it', async () => {
    const trained = await cli(['train', '--config', 'run.json', '--r', '4', '--alpha', '8', '--name', 'sums r4', '--json']);
    expect(trained.stderr).toMatch(/train sums r4 .*succeeded/);
    expect(trained.code).toBe(0);
    const run = JSON.parse(trained.stdout);
    expect(run).toMatchObject({ name: 'sums r4', status: 'succeeded', config: { lora: { r: 4, lora_alpha: 8 }, max_steps: 6, model: join(root, 'model') } });
    expect(run.summary).toMatchObject({ steps: 6, totalSteps: 6 });
    expect(existsSync(join(run.summary.adapterPath, 'adapter_config.json'))).toBe(true);

    const metrics = JSON.parse((await cli(['runs', 'metrics', run.id, '--json'])).stdout) as { step: number; values: Record<string, number> }[];
    expect(metrics.filter((m) => 'loss' in m.values).map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(metrics.find((m) => 'eval_loss' in m.values)?.step).toBe(6);

    const list = await cli(['runs', 'list']);
    expect(list.stdout).toMatch(/sums r4\s+\S+\s+succeeded\s+6\/6/);

    const evaluated = await cli(['eval', '--run', run.id, '--json']);
    expect(evaluated.code).toBe(0);
    const { evaluation, examples } = JSON.parse(evaluated.stdout);
    expect(evaluation).toMatchObject({ status: 'succeeded', runId: run.id, examples: 6 });
    expect(evaluation.adapterLoss).toBeCloseTo(run.summary.evalLoss, 4);
    expect(examples).toHaveLength(6);
    expect(examples[0]).toMatchObject({ index: 0, text: expect.stringContaining('plus one') });
    const text = await cli(['eval', '--run', run.id]);
    expect(text.stdout).toMatch(/base:\s+loss \d\.\d{4}\s+perplexity/);
    expect(text.stdout).toMatch(/with adapter:\s+loss/);
    trainedRunId = run.id;
  });

  it('eval --ship measures the exported GGUF through llama.cpp next to the tuned model', async () => {
    expect(trainedRunId).toBeDefined();
    // the shipped GGUF (adapter merged, F16) on the same targets: the tuned model's loss, to f16 rounding
    const f16 = JSON.parse((await cli(['eval', '--run', trainedRunId!, '--ship', 'f16', '--no-base', '--json'])).stdout).evaluation;
    expect(f16).toMatchObject({ status: 'succeeded', ship: 'f16' });
    expect(Math.abs(f16.shipLoss - f16.adapterLoss) / f16.adapterLoss).toBeLessThan(2e-3);
    const text = await cli(['eval', '--run', trainedRunId!, '--ship', 'Q8_0']);
    expect(text.stdout).toMatch(/shipped GGUF Q8_0: loss \d\.\d{4}\s+perplexity [\d.]+ \(llama\.cpp\)/);
    const bad = await cli(['eval', '--run', trainedRunId!, '--ship', 'q3']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--ship: expected one of f16, q8_0, q6_k, q5_k_m, q4_k_m, q4_0, got "q3"/);
  }, 180_000);

  it('says which field of the config is wrong, before starting anything', async () => {
    writeFileSync(join(root, 'bad.json'), JSON.stringify({ model: 'model', dataset: { path: 'sums.jsonl' }, lora: { r: -1 }, lr_scheduler_type: 'step' }));
    const bad = await cli(['train', '--config', 'bad.json']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(join(root, 'bad.json'));
    expect(bad.stderr).toMatch(/lora\.r: /);
    expect(bad.stderr).toMatch(/lr_scheduler_type: /);
    const missing = await cli(['train', '--dataset', 'sums.jsonl']);
    expect(missing.stderr).toMatch(/model: /);
    // Unknown fields at any depth: each named with its path and the field it likely meant; nothing starts.
    writeFileSync(join(root, 'typos.json'), JSON.stringify({ model: 'model', dataset: { path: 'sums.jsonl', eval_split: { kind: 'ratio', ratoi: 0.2 } }, lora: { rank: 8 }, learning_rte: 1e-4 }));
    const typos = await cli(['train', '--config', 'typos.json']);
    expect(typos.code).toBe(2);
    expect(typos.stderr).toMatch(/- learning_rte: unknown field "learning_rte" \(did you mean "learning_rate"\?\)/);
    expect(typos.stderr).toMatch(/- lora\.rank: unknown field "rank" \(did you mean "r"\?\)/);
    expect(typos.stderr).toMatch(/- dataset\.eval_split\.ratoi: unknown field "ratoi" \(did you mean "ratio"\?\)/);
    const badNumber = await cli(['train', '--config', 'run.json', '--lr', '2e-4x']);
    expect(badNumber.code).toBe(2);
    expect(badNumber.stderr).toMatch(/--lr expects a number, got "2e-4x"/);
  });
});
