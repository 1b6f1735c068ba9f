// Exports of an encoder task run (issue 14) through both faces over one real run: a short classification LoRA run
// on the bundled encoder, trained by a `train` job, then
//   the API (exports.*, as the Exports page calls it): the formats offered are ONNX, merged and PEFT; GGUF and the
//   LoRA GGUF are refused naming what to choose; the ONNX folder (onnx/model.onnx + config.json with the labels +
//   tokenizer files) run by onnxruntime-node gives the engine's logits; the merged folder is a
//   BertForSequenceClassification with the same logits; the PEFT copy holds the head under PEFT's keys; the output
//   guard keeps every export off the run, its adapter and the base;
//   the CLI (`lora-studio export --run … --format onnx|merged|gguf`): the same job, the same checks, and the
//   refusals as one sentence with exit code 2;
//   a short full fine-tune of the same task, exported whole (runId): ONNX and merged only, the ONNX folder's logits
//   those of the run's own model folder, from the API and the CLI.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Adapter } from '../../src/common/api/adapters.ts';
import type { Export, ExportFormats } from '../../src/common/api/exports.ts';
import type { Run } from '../../src/common/api/runs.ts';
import { createStudioCore, type StudioCore } from '../../src/main/core/index.ts';
import { BUNDLED_ENCODER_DATA_DIR, BUNDLED_ENCODER_DIR } from '../../src/main/core/bundled.ts';
import { SafetensorsFile } from '../../src/main/formats/safetensors/index.ts';
import { compareOnnxWithEngine } from '../fixtures/onnx-check.ts';

const bin = resolve(import.meta.dirname, '../../bin/lora-studio.js');
let dir: string;
let dataDir: string;
let core: StudioCore;
let run: Run;
let fullRun: Run;
let adapter: Adapter;

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [bin, '--data-dir', dataDir, ...args], { timeout: 600_000 }, (err, stdout, stderr) =>
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function finished(started: Export): Promise<Export> {
  const job = await core.jobs.waitFor(started.jobId!);
  expect(job.status, job.error ?? '').toBe('succeeded');
  return (await core.invoke('exports.get', { id: started.id })) as Export;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'task-export-'));
  dataDir = join(dir, 'data');
  core = createStudioCore({ dataDir, testJobs: false });
  const project = (await core.invoke('projects.create', { name: 'task exports' })) as { id: string };
  const evalFile = join(dir, 'eval.jsonl');
  const evalRows = readFileSync(join(BUNDLED_ENCODER_DATA_DIR, 'sst2/validation.jsonl'), 'utf8').split('\n');
  writeFileSync(evalFile, evalRows.filter(Boolean).slice(0, 16).join('\n') + '\n');
  const config = {
    model: BUNDLED_ENCODER_DIR,
    task: 'classification',
    classification: { labels: ['negative', 'positive'] },
    dataset: { path: join(BUNDLED_ENCODER_DATA_DIR, 'sst2/train.jsonl'), eval_split: { kind: 'file', path: evalFile } },
    method: 'lora',
    lora: { r: 4, lora_alpha: 16, lora_dropout: 0, target_modules: ['query', 'value'] },
    max_steps: 8,
    micro_batch_size: 8,
    gradient_accumulation_steps: 1,
    learning_rate: 3e-3,
    max_seq_length: 32,
    eval_steps: 1000,
    save_steps: null,
  };
  run = (await core.invoke('runs.start', { projectId: project.id, name: 'sentiment', config })) as Run;
  const job = await core.jobs.waitFor(run.jobId!);
  expect(job.status, job.error ?? '').toBe('succeeded');
  fullRun = (await core.invoke('runs.start', {
    projectId: project.id,
    name: 'sentiment full',
    config: { ...config, method: 'full', learning_rate: 3e-4, max_steps: 4 },
  })) as Run;
  const fullJob = await core.jobs.waitFor(fullRun.jobId!);
  expect(fullJob.status, fullJob.error ?? '').toBe('succeeded');
  fullRun = (await core.invoke('runs.get', { id: fullRun.id })) as Run;
  const adapters = (await core.invoke('adapters.list', { projectId: project.id })) as Adapter[];
  adapter = adapters.find((a) => a.runId === run.id)!;
  expect(adapter).toBeDefined();
}, 600_000);
afterAll(async () => {
  await core?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('exports of a classification run through the API', () => {
  it('offers ONNX, merged and PEFT; GGUF and the LoRA GGUF are refused naming them', async () => {
    const formats = (await core.invoke('exports.formats', { adapterId: adapter.id })) as ExportFormats;
    expect(formats).toEqual({ task: 'classification', formats: ['onnx', 'hf', 'peft'] });
    for (const format of ['gguf', 'lora-gguf'] as const) {
      const refused = core.invoke('exports.start', { adapterId: adapter.id, format });
      await expect(refused).rejects.toMatchObject({
        code: 'invalid_input',
        message: expect.stringMatching(
          /encoder .*GGUF holds decoder language models only; choose one of onnx, hf, peft/,
        ),
        phrase: { code: 'exports.ggufNeedsDecoder' },
      });
      await expect(core.invoke('exports.estimate', { adapterId: adapter.id, format })).rejects.toMatchObject({
        code: 'invalid_input',
      });
    }
    const estimate = (await core.invoke('exports.estimate', { adapterId: adapter.id, format: 'onnx' })) as {
      bytes: number;
      path: string;
    };
    expect(estimate.bytes).toBeGreaterThan(1e6); // the merged model in float32 (≈ 0.9 M parameters)
    expect(estimate.path).toMatch(/sentiment-onnx-f32$/);
  });

  it('ONNX: onnx/model.onnx + config.json with the labels + tokenizer, whose logits are the engine’s', async () => {
    const done = await finished(
      (await core.invoke('exports.start', { adapterId: adapter.id, format: 'onnx' })) as Export,
    );
    expect(done).toMatchObject({ format: 'onnx', type: 'f32', inExportsFolder: true, status: 'succeeded' });
    expect(readdirSync(done.path)).toEqual(
      expect.arrayContaining(['config.json', 'onnx', 'tokenizer.json', 'vocab.txt']),
    );
    expect(done.sizeBytes).toBeGreaterThan(0.5 * (done.estimatedBytes ?? 0));
    const config = JSON.parse(readFileSync(join(done.path, 'config.json'), 'utf8'));
    expect(config).toMatchObject({
      architectures: ['BertForSequenceClassification'],
      id2label: { 0: 'negative', 1: 'positive' },
      label2id: { negative: 0, positive: 1 },
    });
    const cmp = await compareOnnxWithEngine(done.path, { model: BUNDLED_ENCODER_DIR, adapter: adapter.path });
    expect(cmp.scale).toBeGreaterThan(1e-3); // a head that says something, not zeros
    expect(cmp.maxDiff).toBeLessThan(1e-4 * Math.max(1, cmp.scale));
  }, 300_000);

  it('merged: a BertForSequenceClassification folder with the same logits; PEFT: the head under PEFT’s keys', async () => {
    const merged = await finished(
      (await core.invoke('exports.start', { adapterId: adapter.id, format: 'hf', type: 'f32' })) as Export,
    );
    const config = JSON.parse(readFileSync(join(merged.path, 'config.json'), 'utf8'));
    expect(config.architectures).toEqual(['BertForSequenceClassification']);
    expect(config.id2label).toEqual({ 0: 'negative', 1: 'positive' });
    // the merged folder opened alone (no adapter) answers as base + adapter does
    const onnx = (await core.invoke('exports.list', { projectId: run.projectId })) as Export[];
    const onnxDir = onnx.find((e) => e.format === 'onnx' && e.status === 'succeeded')!.path;
    const fromMerged = await compareOnnxWithEngine(onnxDir, { model: merged.path });
    expect(fromMerged.maxDiff).toBeLessThan(1e-4 * Math.max(1, fromMerged.scale));

    const peft = await finished(
      (await core.invoke('exports.start', { adapterId: adapter.id, format: 'peft' })) as Export,
    );
    const adapterConfig = JSON.parse(readFileSync(join(peft.path, 'adapter_config.json'), 'utf8'));
    expect(adapterConfig.task_type).toBe('SEQ_CLS');
    expect(adapterConfig.modules_to_save).toEqual(expect.arrayContaining(['classifier']));
    const weights = await SafetensorsFile.open(join(peft.path, 'adapter_model.safetensors'));
    try {
      const names = weights.names();
      expect(names).toContain('base_model.model.classifier.weight');
      expect(names).toContain('base_model.model.classifier.bias');
      expect(
        names.some((n) =>
          /^base_model\.model\.bert\.encoder\.layer\.0\.attention\.self\.query\.lora_A\.weight$/.test(n),
        ),
      ).toBe(true);
      expect(names.some((n) => n.includes('modules_to_save') || n.includes('.default.'))).toBe(false);
    } finally {
      await weights.close();
    }
  }, 300_000);

  it('never writes over, into or above the run, its adapter or the base', async () => {
    const attempts = [
      { outPath: join(adapter.path, 'onnx-here'), why: /inside the adapter/ },
      { outPath: join(dataDir, 'runs', run.id), why: /is the run folder of the adapter|holds|contains/ },
      { outPath: BUNDLED_ENCODER_DIR, why: /is the base model/ },
      { outPath: resolve(BUNDLED_ENCODER_DIR, '..'), why: /contains the base model/ },
    ];
    for (const { outPath, why } of attempts)
      await expect(
        core.invoke('exports.start', { adapterId: adapter.id, format: 'onnx', outPath, overwrite: true }),
      ).rejects.toMatchObject({ message: expect.stringMatching(why) });
    expect(existsSync(join(adapter.path, 'onnx-here'))).toBe(false);
  });
});

describe('lora-studio export --run', () => {
  it('--format onnx writes the folder through the export job; onnxruntime-node gives the engine’s logits', async () => {
    const out = join(dir, 'cli-onnx');
    const r = await cli(['export', '--run', run.id, '--format', 'onnx', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Wrote ${out} (onnx, f32,`);
    expect(r.stdout).toContain('transformers.js');
    const cmp = await compareOnnxWithEngine(out, { model: BUNDLED_ENCODER_DIR, adapter: adapter.path });
    expect(cmp.maxDiff).toBeLessThan(1e-4 * Math.max(1, cmp.scale));
    expect(cmp.labels).toEqual({ 0: 'negative', 1: 'positive' });
    // a second time onto the same folder: refused without --overwrite, replaced with it
    const again = await cli(['export', '--run', run.id, '--format', 'onnx', '--out', out]);
    expect(again.code).toBe(1); // the core's conflict (the in-process formats say 2 for a refused path)
    expect(again.stderr).toMatch(/already exists; choose another path, or set overwrite/);
    expect((await cli(['export', '--run', run.id, '--format', 'onnx', '--out', out, '--overwrite'])).code).toBe(0);
  }, 600_000);

  it('--format merged is the merged task model; gguf is refused naming the formats that fit', async () => {
    const out = join(dir, 'cli-merged');
    const r = await cli(['export', '--run', run.id, '--format', 'merged', '--type', 'f32', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ format: 'hf', type: 'f32', path: out, status: 'succeeded' });
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).architectures).toEqual([
      'BertForSequenceClassification',
    ]);

    const gguf = await cli(['export', '--run', run.id, '--format', 'gguf', '--out', join(dir, 'x.gguf')]);
    expect(gguf.code).toBe(2);
    expect(gguf.stderr).toMatch(/GGUF holds decoder language models only; choose one of onnx, hf, peft/);
    expect(gguf.stderr).not.toMatch(/\n\s+at /); // one sentence, no stack
    const noRun = await cli(['export', '--format', 'onnx', '--out', join(dir, 'y')]);
    expect(noRun.code).toBe(2);
    expect(noRun.stderr).toMatch(/--format onnx exports a run: give --run <id>/);
    const both = await cli([
      'export',
      '--run',
      run.id,
      '--base',
      BUNDLED_ENCODER_DIR,
      '--format',
      'onnx',
      '--out',
      join(dir, 'z'),
    ]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/leave out --base and --adapter/);
  }, 600_000);
});

describe('a full fine-tune of a task, exported whole', () => {
  it('offers ONNX and merged; its ONNX folder gives the logits of the run’s own model; PEFT and GGUF are refused', async () => {
    const model = fullRun.summary!.adapterPath!;
    expect(await core.invoke('exports.formats', { runId: fullRun.id })).toEqual({
      task: 'classification',
      formats: ['onnx', 'hf'],
    });
    for (const format of ['peft', 'gguf'] as const)
      await expect(core.invoke('exports.start', { runId: fullRun.id, format })).rejects.toMatchObject({
        code: 'invalid_input',
        message: expect.stringMatching(/choose one of onnx, hf/),
      });
    // a LoRA run is exported by its adapter, and a request names one source
    await expect(core.invoke('exports.start', { runId: run.id, format: 'onnx' })).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringContaining('export its adapter (adapterId) instead'),
    });
    await expect(
      core.invoke('exports.start', { runId: fullRun.id, adapterId: adapter.id, format: 'onnx' }),
    ).rejects.toMatchObject({ code: 'invalid_input' });

    const done = await finished((await core.invoke('exports.start', { runId: fullRun.id, format: 'onnx' })) as Export);
    expect(done).toMatchObject({ adapterId: null, runId: fullRun.id, format: 'onnx', inExportsFolder: true });
    expect(done.path).toMatch(/sentiment-full-onnx-f32$/);
    const cmp = await compareOnnxWithEngine(done.path, { model });
    expect(cmp.labels).toEqual({ 0: 'negative', 1: 'positive' });
    expect(cmp.maxDiff).toBeLessThan(1e-4 * Math.max(1, cmp.scale));
    // never into the run's folder (the model is in it)
    await expect(
      core.invoke('exports.start', { runId: fullRun.id, format: 'onnx', outPath: join(model, 'onnx-here') }),
    ).rejects.toMatchObject({ message: expect.stringMatching(/inside the run folder/) });
  }, 300_000);

  it('lora-studio export --run <full run> --format onnx', async () => {
    const out = join(dir, 'cli-full-onnx');
    const r = await cli(['export', '--run', fullRun.id, '--format', 'onnx', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Wrote ${out} (onnx, f32,`);
    const cmp = await compareOnnxWithEngine(out, { model: fullRun.summary!.adapterPath! });
    expect(cmp.maxDiff).toBeLessThan(1e-4 * Math.max(1, cmp.scale));
  }, 600_000);
});
