// `lora-studio train --method qlora|full` (and --from-scratch) on tiny Llama, GPT-2 and Gemma 3 folders, as a user
// runs it: a subprocess against a temp data dir; then `eval` measures perplexity of what the run produced (an
// adapter over the base, or a full model folder). LoRA itself is covered by train.test.ts.
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTinyModel } from '../fixtures/tiny-models.ts';

const bin = resolve(import.meta.dirname, '../../bin/lora-studio.js');
let root: string;
let dataDir: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'lora-cli-methods-'));
  dataDir = join(root, 'data');
  for (const family of ['llama', 'gpt2', 'gemma3'] as const) await makeTinyModel(join(root, family), family, { seed: 5 });
  // a config-only folder (no weights): what pretraining from scratch starts from
  mkdirSync(join(root, 'gemma3-config'));
  for (const f of ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'])
    copyFileSync(join(root, 'gemma3', f), join(root, 'gemma3-config', f));
  const rows = Array.from({ length: 24 }, (_, i) => ({ prompt: `Q: what is ${i} plus one?\nA:`, completion: ` ${i + 1}` }));
  writeFileSync(join(root, 'sums.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [bin, '--data-dir', dataDir, ...args], { cwd: root, timeout: 90_000 }, (err, stdout, stderr) => {
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const common = ['--dataset', 'sums.jsonl', '--max-steps', '4', '--batch-size', '2', '--grad-accum', '1', '--max-length', '32', '--eval-ratio', '0.25', '--json'];

async function train(model: string, method: string, extra: string[] = []) {
  const r = await cli(['train', '--model', model, '--method', method, ...common, ...extra]);
  expect(r.stderr).toMatch(/succeeded/);
  expect(r.code).toBe(0);
  const run = JSON.parse(r.stdout);
  expect(run).toMatchObject({ status: 'succeeded', config: { method } });
  expect(run.summary.steps).toBe(4);
  expect(Number.isFinite(run.summary.evalPerplexity)).toBe(true);
  return run;
}

async function evaluate(runId: string) {
  const r = await cli(['eval', '--run', runId, '--json']);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout).evaluation;
}

describe('lora-studio train --method', () => {
  it('qlora on Llama and Gemma 3: a PEFT adapter over the 4-bit base, evaluated with perplexity', async () => {
    const llama = await train('llama', 'qlora', ['--lr', '1e-2']);
    expect(existsSync(join(llama.summary.adapterPath, 'adapter_config.json'))).toBe(true);
    expect(llama.config.bnb_4bit_use_double_quant).toBe(true);
    const ev = await evaluate(llama.id);
    expect(ev.status).toBe('succeeded');
    expect(ev.adapterPerplexity).toBeLessThan(ev.basePerplexity); // trained on the same kind of rows
    const gemma = await train('gemma3', 'qlora', ['--lr', '1e-2', '--no-double-quant']);
    expect(gemma.config.bnb_4bit_use_double_quant).toBe(false);
    // default r = 16 on q/k/v/o: 3 layers × 16 × ((64 + 128) + 2·(64 + 32) + (128 + 64))
    expect(gemma.summary.trainableParameters).toBe(3 * 16 * (192 + 2 * 96 + 192));
  });

  it('full on GPT-2: every weight trained, a model folder written, evaluated against its base', async () => {
    const run = await train('gpt2', 'full', ['--lr', '2e-3']);
    expect(run.summary.trainableParameters).toBeGreaterThan(100_000);
    expect(existsSync(join(run.summary.adapterPath, 'model.safetensors'))).toBe(true);
    expect(existsSync(join(run.summary.adapterPath, 'adapter_config.json'))).toBe(false);
    const ev = await evaluate(run.id);
    expect(ev.status).toBe('succeeded');
    expect(ev.adapterPerplexity).toBeLessThan(ev.basePerplexity);
    // the written folder is a model the studio opens like any other
    const info = await cli(['model', 'info', run.summary.adapterPath]);
    expect(info.code).toBe(0);
    expect(info.stdout).toMatch(/GPT2LMHeadModel/);
  });

  it('full --from-scratch on a config-only Gemma 3 folder (pretraining), evaluated without a base', async () => {
    const run = await train('gemma3-config', 'full', ['--from-scratch', '--lr', '3e-3']);
    expect(run.config.from_scratch).toBe(true);
    const ev = await evaluate(run.id);
    expect(ev.status).toBe('succeeded');
    expect(ev.basePerplexity).toBeNull();
    expect(ev.adapterPerplexity).toBeGreaterThan(1);
    const refused = await cli(['train', '--model', 'gemma3-config', '--method', 'lora', '--from-scratch', ...common]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/from_scratch: .*method "full"/);
  });
});
