// What the wizard asks the core: the bundled model and dataset as cards (with size, architecture and the eval
// file), and a plan that counts modules and layers apart, says a template that cannot render a row blocks the run,
// words the max-length warning once, and knows finished runs on the model.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunConfig } from '../../../src/common/api/runs.ts';
import { createStudioCore, type StudioCore } from '../../../src/main/core/index.ts';
import { BUNDLED_DATASET_DIR, BUNDLED_MODEL_DIR } from '../../../src/main/core/bundled.ts';
import { makeTinyModel, type TinyModel } from '../../fixtures/tiny-models.ts';

let dir: string;
let core: StudioCore;
let tiny: TinyModel;
let dataPath: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lora-wizard-support-'));
  // An empty Hugging Face cache, so the cards are what this test put there.
  process.env.HF_HUB_CACHE = join(dir, 'hf-cache');
  core = createStudioCore({ dataDir: join(dir, 'data') });
  tiny = await makeTinyModel(join(dir, 'model'), 'llama', { seed: 3 });
  dataPath = join(dir, 'pairs.jsonl');
  writeFileSync(
    dataPath,
    Array.from({ length: 60 }, (_, i) => JSON.stringify({ prompt: `What is ${i} + 1?`, completion: ` ${i + 1}` })).join(
      '\n',
    ) + '\n',
  );
});
afterAll(async () => {
  delete process.env.HF_HUB_CACHE;
  await core.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the wizard’s cards', () => {
  it('offer the bundled model with its size and architecture, then models opened before', async () => {
    const before = await core.call('models.suggestions', {});
    expect(before.bundledPath).toBe(BUNDLED_MODEL_DIR);
    expect(before.models).toHaveLength(1);
    expect(before.models[0]).toMatchObject({
      origin: 'bundled',
      path: BUNDLED_MODEL_DIR,
      modelId: null,
      architecture: 'LlamaForCausalLM',
      maxPositions: 512,
    });
    expect(before.models[0]!.sizeBytes).toBeGreaterThan(1 << 20);
    expect(before.models[0]!.parameterCount).toBeGreaterThan(1e6);

    const opened = await core.call('models.open', { path: tiny.dir });
    const after = await core.call('models.suggestions', {});
    expect(after.models.map((m) => [m.origin, m.modelId])).toEqual([
      ['bundled', null],
      ['opened', opened.id],
    ]);
  });

  it('offer the bundled demo dataset with its eval file', async () => {
    const [demo] = await core.call('datasets.suggestions', {});
    expect(demo).toMatchObject({
      path: join(BUNDLED_DATASET_DIR, 'train.jsonl'),
      evalPath: join(BUNDLED_DATASET_DIR, 'eval.jsonl'),
      format: 'chat',
      rows: 883,
    });
  });
});

describe('models.plan for the review', () => {
  it('counts modules and layers apart and words the max-length warning once', async () => {
    const config = RunConfig.parse({
      model: tiny.dir,
      dataset: { path: dataPath },
      lora: { r: 4, lora_alpha: 8, target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] },
      max_seq_length: 4096,
    });
    const plan = await core.call('models.plan', { config });
    expect(plan.targetedModules).toBe(4 * tiny.spec.numLayers);
    expect(plan.targetedLayers).toBe(tiny.spec.numLayers);
    const warning = plan.warnings.find((w) => w.field === 'max_seq_length' && /beyond/.test(w.message))!;
    expect(warning.message).not.toMatch(/max_seq_length/); // the field is shown next to it already
    expect(warning.message).toMatch(new RegExp(`use ${tiny.spec.maxPositions} or less`));
    expect(plan.warnings.every((w) => !w.blocking)).toBe(true);
  });

  it('a template that cannot render a row is a blocking warning naming the reason', async () => {
    const config = RunConfig.parse({
      model: tiny.dir,
      dataset: { path: dataPath, template: { kind: 'prompt', template: 'Q: {question}\nA: ' } },
    });
    const plan = await core.call('models.plan', { config });
    const blocking = plan.warnings.filter((w) => w.blocking);
    expect(blocking).toHaveLength(1);
    expect(blocking[0]).toMatchObject({ field: 'dataset.template' });
    expect(blocking[0]!.message).toMatch(/cannot be rendered with this template \(.*question/);
  });

  it('knows a finished run on the model when estimating time', async () => {
    const config = RunConfig.parse({
      model: tiny.dir,
      dataset: { path: dataPath, eval_split: { kind: 'none' } },
      lora: { r: 4, lora_alpha: 8 },
      max_steps: 3,
      micro_batch_size: 2,
      max_seq_length: 32,
    });
    const before = await core.call('models.plan', { config });
    expect(before.time.formula).toMatch(/No finished LoRA run on this model here yet/);
    const projectId = (await core.call('projects.create', { name: 'p' })).id;
    // The run names the model folder with a trailing slash: the same folder all the same.
    const run = await core.call('runs.start', { projectId, config: { ...config, model: `${tiny.dir}/` } });
    expect((await core.jobs.waitFor(run.jobId!)).status).toBe('succeeded');
    const after = await core.call('models.plan', { config });
    expect(after.time.formula).toMatch(/tokens\/s, the speed run “run 1” measured/);
  });
});
