// Round trip through the real core: a run config bundled by a `run.bundle` job (worker), then the output
// folder a TRL / transformers trainer would write for it (generated: adapter for the tiny base, trainer_state.json
// with a real-shaped log_history, checkpoint-N/) imported as a run — curves, adapter, Adapters list, an
// evaluation, a chat answer and a merge of it — with the reproducibility record checked; and the refusals that
// say what to do.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Adapter } from '../../../src/common/api/adapters.ts';
import type { ImportedRunInfo, RunBundleJobResult } from '../../../src/common/api/bundles.ts';
import type { Evaluation, Run, RunMetric } from '../../../src/common/api/runs.ts';
import { createStudioCore, type StudioCore } from '../../../src/main/core/index.ts';
import { makeTinyModel } from '../../fixtures/tiny-models.ts';
import { logHistory, writeTrainerOutput } from '../../fixtures/trainer-output.ts';

let dir: string;
let core: StudioCore;
let projectId: string;
let model: string;
let dataset: string;
let bundle: string;

function folderHash(path: string): string {
  const h = createHash('sha256');
  const walk = (p: string) => {
    for (const name of readdirSync(p).sort()) {
      const f = join(p, name);
      h.update(name);
      if (statSync(f).isDirectory()) walk(f);
      else h.update(readFileSync(f));
    }
  };
  walk(path);
  return h.digest('hex');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lora-bundles-'));
  core = createStudioCore({ dataDir: join(dir, 'data'), testJobs: false });
  projectId = ((await core.invoke('projects.create', { name: 'elsewhere' })) as { id: string }).id;
  model = join(dir, 'tiny-llama');
  await makeTinyModel(model, 'llama', { seed: 5, std: 0.3 });
  dataset = join(dir, 'sums.jsonl');
  const rows = Array.from({ length: 24 }, (_, i) => ({
    prompt: `Q: what is ${i} plus one?\nA:`,
    completion: ` ${i + 1}`,
  }));
  writeFileSync(dataset, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  bundle = join(dir, 'bundle');
  const started = (await core.invoke('bundles.create', {
    projectId,
    outDir: bundle,
    config: {
      model,
      dataset: { path: dataset, template: { kind: 'plain' }, eval_split: { kind: 'ratio', ratio: 0.25 } },
      lora: { r: 4, lora_alpha: 8, target_modules: ['q_proj', 'v_proj'] },
      max_steps: 4,
      eval_steps: 2,
      save_steps: 2, // as the trainer output below checkpoints (the default is 50)
      micro_batch_size: 2,
      gradient_accumulation_steps: 1,
      learning_rate: 2e-4,
      max_seq_length: 32,
    },
  })) as { jobId: string };
  const job = await core.jobs.waitFor(started.jobId);
  expect(job.error).toBeNull();
  expect(job.status).toBe('succeeded');
});
afterAll(async () => {
  await core.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('bundles.create', () => {
  it('writes the bundle as a job: rendered rows, configs, README and the record', () => {
    const result = core.store.jobs.list({ projectId }).find((j) => j.kind === 'run.bundle')!
      .result as RunBundleJobResult;
    expect(result).toMatchObject({ outDir: bundle, trainRows: 18, evalRows: 6 });
    expect(result.files).toEqual(
      expect.arrayContaining([
        'README.md',
        'axolotl.yaml',
        'train_trl.py',
        'accelerate/fsdp.yaml',
        'accelerate/deepspeed_zero3.yaml',
        'lora-studio-run.json',
        'data/tokenized/train.jsonl',
        'data/train.jsonl',
      ]),
    );
    const first = JSON.parse(readFileSync(join(bundle, 'data/train.jsonl'), 'utf8').split('\n')[0]);
    expect(Object.keys(first).sort()).toEqual(['completion', 'prompt']); // plain template: TRL's prompt/completion rows
    expect(readFileSync(join(bundle, 'README.md'), 'utf8')).toMatch(/#SBATCH --nodes=2[\s\S]*accelerate launch/);
  });

  it('refuses a bundle folder inside the dataset’s or model’s folder, naming the input', async () => {
    const started = (await core.invoke('bundles.create', {
      projectId,
      outDir: join(model, 'bundle'),
      config: { model, dataset: { path: dataset } },
    })) as { jobId: string };
    const job = await core.jobs.waitFor(started.jobId);
    expect(job.status).toBe('failed');
    expect(job.error).toContain(`is inside the base model ${model}`);
    expect(existsSync(join(model, 'bundle'))).toBe(false);
  });
});

describe('bundles.importRun', () => {
  it('imports a TRL output folder as a run with its curves, its adapter usable everywhere, the record matched', async () => {
    const out = join(bundle, 'output');
    await writeTrainerOutput(out, {
      baseModel: model,
      record: join(bundle, 'lora-studio-run.json'),
      trainingArgs: { per_device_train_batch_size: 2, max_length: 32, max_steps: 4 },
    });
    const before = folderHash(out);
    const { run, info } = (await core.invoke('bundles.importRun', {
      projectId,
      path: out,
      name: 'from the cluster',
    })) as { run: Run; info: ImportedRunInfo };
    expect(folderHash(out)).toBe(before); // the trainer's folder is only read
    await expect(core.invoke('bundles.importRun', { projectId, path: out })).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringContaining('is already in this project as the run “from the cluster”'),
    });
    expect(info).toMatchObject({
      record: 'matched',
      mismatches: [],
      checkpoints: ['checkpoint-2', 'checkpoint-4'],
      trainer: 'TRL SFTTrainer',
      adapterFrom: out,
    });
    expect(run).toMatchObject({ name: 'from the cluster', status: 'succeeded', config: { model, lora: { r: 4 } } });
    expect(run.summary).toMatchObject({
      steps: 4,
      totalSteps: 4,
      trainLoss: 1.42,
      seconds: 12.75,
      trainedTokens: 2048,
      trainableParameters: 2 * (4 * (64 + 64) + 4 * (64 + 32)),
    }); // 2 layers × (q 64→64, v 64→32) × r 4
    expect(run.summary!.adapterPath).toBe(join(run.outputDir!, 'adapter'));

    const metrics = (await core.invoke('runs.metrics', { id: run.id })) as RunMetric[];
    const expected = logHistory({ steps: 4, evalEvery: 2, learningRate: 2e-4 });
    const train = metrics.filter((m) => 'loss' in m.values);
    const evals = metrics.filter((m) => 'eval_loss' in m.values);
    expect(train.map((m) => [m.step, m.values.loss, m.values.lr, m.values.grad_norm])).toEqual(
      expected.filter((e) => 'loss' in e).map((e) => [e.step, e.loss, e.learning_rate, e.grad_norm]),
    );
    expect(evals.map((m) => [m.step, m.values.eval_loss])).toEqual(
      expected.filter((e) => 'eval_loss' in e).map((e) => [e.step, e.eval_loss]),
    );
    expect(evals[0].values.eval_perplexity).toBeCloseTo(Math.exp(evals[0].values.eval_loss), 10);

    const adapters = (await core.invoke('adapters.list', { projectId })) as Adapter[];
    expect(adapters.find((a) => a.runId === run.id)).toMatchObject({
      source: 'run',
      r: 4,
      problem: null,
      baseModel: model,
    });
    expect(await core.invoke('bundles.importedRun', { runId: run.id })).toEqual(info);
    const log = (await core.invoke('jobs.logTail', { id: run.jobId!, lines: 50 })) as { line: string }[];
    expect(log.map((l) => l.line)).toEqual(
      expect.arrayContaining([
        `imported from ${out} (TRL SFTTrainer)`,
        '6 logged points from ' + join(out, 'trainer_state.json'),
      ]),
    );

    // chatted with: the adapter copied into the run's folder answers through a generate job
    const session = (await core.invoke('chat.create', {
      projectId,
      model,
      panes: [{ id: 'tuned', label: 'Tuned', adapters: [{ path: run.summary!.adapterPath!, weight: 1 }] }],
    })) as { id: string };
    const sent = (await core.invoke('chat.send', {
      sessionId: session.id,
      content: 'Q: what is 2 plus one?\nA:',
      sampling: { temperature: 0, maxNewTokens: 4 },
    })) as {
      jobId: string;
    };
    const chatted = await core.jobs.waitFor(sent.jobId);
    expect(chatted.error).toBeNull();
    expect(chatted.status).toBe('succeeded');

    // merged into its base like a run's adapter (an export job writing a Hugging Face folder)
    const merge = (await core.invoke('adapters.merge', {
      id: adapters.find((a) => a.runId === run.id)!.id,
      dtype: 'f32',
    })) as {
      jobId: string;
      path: string;
    };
    const merged = await core.jobs.waitFor(merge.jobId);
    expect(merged.error).toBeNull();
    expect(existsSync(join(merge.path, 'model.safetensors'))).toBe(true);

    // evaluated like a local run: its eval split (from the record), base vs the imported adapter
    const evaluation = (await core.invoke('evaluations.start', { projectId, runId: run.id })) as Evaluation;
    const job = await core.jobs.waitFor(evaluation.jobId!);
    expect(job.error).toBeNull();
    const done = (await core.invoke('evaluations.get', { id: evaluation.id })) as { evaluation: Evaluation };
    expect(done.evaluation).toMatchObject({ status: 'succeeded', examples: 6 });
    expect(done.evaluation.adapterPerplexity).not.toBeCloseTo(done.evaluation.basePerplexity!, 6);
  });

  it('shows every difference from the record: rank, learning rate, steps', async () => {
    const out = join(dir, 'other-output');
    await writeTrainerOutput(out, {
      baseModel: model,
      r: 8,
      alpha: 16,
      steps: 6,
      record: join(bundle, 'lora-studio-run.json'),
      trainingArgs: { learning_rate: 1e-3 },
      trainBatchSize: 3,
    });
    const { info, run } = (await core.invoke('bundles.importRun', { projectId, path: out })) as {
      run: Run;
      info: ImportedRunInfo;
    };
    expect(info.record).toBe('mismatched');
    expect(info.mismatches).toEqual(
      expect.arrayContaining([
        { field: 'lora.r', expected: '4', found: '8' },
        { field: 'lora.lora_alpha', expected: '8', found: '16' },
        { field: 'learning_rate', expected: '0.0002', found: '0.001' },
        expect.objectContaining({ field: 'total steps', found: '6' }),
        { field: 'micro_batch_size (train_batch_size)', expected: '2', found: '3' },
      ]),
    );
    expect(run.status).toBe('succeeded');
    // the run describes what was trained (the adapter's rank, the trainer's learning rate), not the bundled plan
    expect(run.config.lora).toMatchObject({ r: 8, lora_alpha: 16 });
    expect(run.config.learning_rate).toBe(1e-3);
  });

  it('without a record: settings from the adapter, nothing checked, said so', async () => {
    const out = join(dir, 'bare-output');
    await writeTrainerOutput(out, { baseModel: model, trainingArgs: null });
    const { info, run } = (await core.invoke('bundles.importRun', { projectId, path: out, model })) as {
      run: Run;
      info: ImportedRunInfo;
    };
    expect(info.record).toBe('absent');
    expect(info.warnings.join(' ')).toContain('no lora-studio-run.json found');
    expect(run.config.lora).toMatchObject({ r: 4, lora_alpha: 8, target_modules: ['q_proj', 'v_proj'] });
  });

  it('refuses an adapter that does not fit the base model, or a folder without trainer_state.json, saying why', async () => {
    const bad = join(dir, 'bad-shape');
    await writeTrainerOutput(bad, {
      baseModel: model,
      badShape: { module: 'model.layers.0.self_attn.q_proj', shape: [4, 7] },
    });
    await expect(core.invoke('bundles.importRun', { projectId, path: bad, model })).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringMatching(/model\.layers\.0\.self_attn\.q_proj.*adapter for another model/),
    });
    const partial = join(dir, 'partial-targets');
    await writeTrainerOutput(partial, { baseModel: model });
    // the config claims k_proj too, but no k_proj tensors were saved
    const cfgPath = join(partial, 'adapter_config.json');
    writeFileSync(
      cfgPath,
      JSON.stringify({ ...JSON.parse(readFileSync(cfgPath, 'utf8')), target_modules: ['k_proj', 'q_proj', 'v_proj'] }),
    );
    await expect(core.invoke('bundles.importRun', { projectId, path: partial, model })).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringContaining('targeted modules have no tensors (model.layers.0.self_attn.k_proj'),
    });
    const noState = join(dir, 'no-state');
    await writeTrainerOutput(noState, { baseModel: model, saveEvery: 10 });
    rmSync(join(noState, 'trainer_state.json'));
    await expect(core.invoke('bundles.importRun', { projectId, path: noState, model })).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringContaining('no trainer_state.json'),
    });
    const runsAfter = (await core.invoke('runs.list', { projectId })) as Run[];
    expect(runsAfter.filter((r) => r.status === 'succeeded')).toHaveLength(3); // refused imports record nothing
  });
});
