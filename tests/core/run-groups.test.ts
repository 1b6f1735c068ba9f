// Comparison groups: the member configs of "LoRA vs full" and of sweeps differ from the recipe only in what they
// vary (method / rank with its alpha / targets) — same base, same data, same seed —, a recipe's targets are checked
// against the model's own modules (DistilBERT has q_lin/v_lin, not query/value), bad sweeps are refused naming the
// field, and through the core the members are recorded at once but train one after the other: the second has no
// job while the first trains, and cancelling the group ends both without ever starting the second.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SweepInput } from '../../src/common/api/compare.ts';
import { RunConfig } from '../../src/common/api/runs.ts';
import { BUNDLED_ENCODER_DATA_DIR, BUNDLED_ENCODER_DIR } from '../../src/main/core/bundled.ts';
import { createStudioCore, type StudioCore } from '../../src/main/core/index.ts';
import { methodPlans, resolvePlans, resolveTargets, sweepPlans } from '../../src/main/core/run-groups.ts';
import { specFromConfig } from '../../src/main/formats/model/index.ts';
import { tinyEncoderConfig } from '../fixtures/tiny-encoders.ts';
import { makeTinyModel } from '../fixtures/tiny-models.ts';

let dir: string;
let trainFile: string;
let evalFile: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'run-groups-'));
  const head = (file: string, n: number) => readFileSync(file, 'utf8').split('\n').slice(0, n).join('\n') + '\n';
  trainFile = join(dir, 'train.jsonl');
  evalFile = join(dir, 'eval.jsonl');
  writeFileSync(trainFile, head(join(BUNDLED_ENCODER_DATA_DIR, 'sst2/train.jsonl'), 64));
  writeFileSync(evalFile, head(join(BUNDLED_ENCODER_DATA_DIR, 'sst2/validation.jsonl'), 16));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const recipe = () =>
  RunConfig.parse({
    model: BUNDLED_ENCODER_DIR,
    task: 'classification',
    classification: { labels: ['negative', 'positive'] },
    dataset: { path: trainFile, eval_split: { kind: 'file', path: evalFile } },
    lora: { r: 8, lora_alpha: 32, lora_dropout: 0.1, target_modules: ['query', 'value'] },
    max_steps: 2,
    micro_batch_size: 4,
    gradient_accumulation_steps: 1,
    max_seq_length: 32,
    save_steps: null,
    seed: 7,
  });

/** A config with the fields a member may vary removed: what must be identical across a group. */
function rest(c: RunConfig, drop: ('method' | 'r' | 'targets' | 'lr')[]) {
  const copy = structuredClone(c) as Record<string, unknown> & { lora: Record<string, unknown> };
  if (drop.includes('method')) delete copy.method;
  if (drop.includes('lr')) delete copy.learning_rate;
  if (drop.includes('r')) {
    delete copy.lora.r;
    delete copy.lora.lora_alpha;
  }
  if (drop.includes('targets')) delete copy.lora.target_modules;
  return copy;
}

describe('member configs', () => {
  it('LoRA vs full: the same recipe twice, differing only in the method (and the full lr when given)', () => {
    const base = recipe();
    const [lora, full] = methodPlans(base);
    expect(lora.config.method).toBe('lora');
    expect(full.config.method).toBe('full');
    expect(rest(lora.config, ['method'])).toEqual(rest(base, ['method']));
    expect(rest(full.config, ['method'])).toEqual(rest(base, ['method']));
    expect(full.member).toMatchObject({ method: 'full', r: null, targets: null, label: 'full fine-tuning' });
    expect(lora.member.label).toBe('LoRA r 8 · query, value');
    const [, fullLr] = methodPlans(base, 3e-5);
    expect(fullLr.config.learning_rate).toBe(3e-5);
    expect(rest(fullLr.config, ['method', 'lr'])).toEqual(rest(base, ['method', 'lr']));
    // a QLoRA recipe stays QLoRA on its side
    expect(methodPlans({ ...base, method: 'qlora' })[0].config.method).toBe('qlora');
  });

  it('a sweep is ranks × target sets, alpha keeping alpha / r, nothing else changed', () => {
    const base = recipe();
    const plans = sweepPlans(base, [2, 4, 8], [['query', 'value'], ['query', 'key', 'value']]);
    expect(plans.map((p) => [p.config.lora.r, p.config.lora.lora_alpha, p.config.lora.target_modules])).toEqual([
      [2, 8, ['query', 'value']],
      [2, 8, ['query', 'key', 'value']],
      [4, 16, ['query', 'value']],
      [4, 16, ['query', 'key', 'value']],
      [8, 32, ['query', 'value']],
      [8, 32, ['query', 'key', 'value']],
    ]);
    for (const p of plans) expect(rest(p.config, ['r', 'targets'])).toEqual(rest(base, ['r', 'targets']));
    expect(sweepPlans(base, [4, 16], undefined).map((p) => p.config.lora.target_modules)).toEqual([
      ['query', 'value'],
      ['query', 'value'],
    ]);
  });

  it('refuses sweeps that are not one: a single run, a rank twice, the same set twice, too many, full, unknown fields', () => {
    const input = (over: Record<string, unknown>) => ({ projectId: 'p', config: recipe(), ...over });
    const issue = (over: Record<string, unknown>) => {
      const parsed = SweepInput.safeParse(input(over));
      return parsed.success ? null : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
    };
    expect(issue({ r: [2, 4] })).toBeNull();
    expect(issue({ r: [8] })).toMatch(/^r: a sweep needs at least two runs/);
    expect(issue({ r: [4, 4] })).toMatch(/^r: r lists a rank twice/);
    expect(issue({ target_modules: [['q', 'v'], ['v', 'q']] })).toMatch(/target_modules: target_modules lists the same set twice/);
    expect(issue({ r: [1, 2, 3, 4, 5], target_modules: [['a'], ['b'], ['c'], ['d']] })).toMatch(/20 runs .* more than 16/);
    expect(issue({ r: [2, 4], config: { ...recipe(), method: 'full' } })).toMatch(/config.method: a sweep over r/);
    expect(issue({ r: [2, 4], alpha: [1] })).toMatch(/alpha/);
    expect(issue({ r: [2, 0] })).toMatch(/^r\.1/);
  });
});

describe('targets against the model', () => {
  const distil = specFromConfig(tinyEncoderConfig('distilbert', 'sequence_classification', ['neg', 'pos']));
  it('query/value on DistilBERT become q_lin/v_lin, said once as a phrase', () => {
    const { targets, warnings } = resolveTargets(distil, ['query', 'value'], 'config.lora.target_modules');
    expect(targets).toEqual(['q_lin', 'v_lin']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0].phrase).toEqual({
      code: 'compare.targetsMapped',
      params: { architecture: 'DistilBertForSequenceClassification', targets: 'query, value', replacement: 'q_lin, v_lin' },
    });
    expect(warnings[0].message).toContain('has no module query, value');
  });
  it('the decoder default on an encoder becomes PEFT’s family default; the model’s own names stay', () => {
    expect(resolveTargets(distil, ['q_proj', 'k_proj', 'v_proj', 'o_proj'], 'f')).toMatchObject({
      targets: ['q_lin', 'v_lin'],
      warnings: [{ phrase: { code: 'compare.targetsDefault' } }],
    });
    expect(resolveTargets(distil, ['q_lin', 'k_lin', 'v_lin', 'out_lin'], 'f')).toEqual({
      targets: ['q_lin', 'k_lin', 'v_lin', 'out_lin'],
      warnings: [],
    });
  });
  it('a name with no equivalent is ignored with a warning, and refused when nothing is left', () => {
    const partly = resolveTargets(distil, ['q_lin', 'qkv'], 'f');
    expect(partly.targets).toEqual(['q_lin']);
    expect(partly.warnings[0].phrase?.code).toBe('targets.ignored');
    expect(() => resolveTargets(distil, ['qkv'], 'config.lora.target_modules')).toThrow(
      /matches no linear module of DistilBertForSequenceClassification \(available: .*q_lin.*\)/,
    );
  });
  it('a sweep whose two sets resolve to the same modules is refused', async () => {
    const folder = join(dir, 'distil');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'config.json'), JSON.stringify(tinyEncoderConfig('distilbert', 'sequence_classification')));
    const base = { ...recipe(), model: folder };
    await expect(resolvePlans(sweepPlans(base, [4], [['query', 'value'], ['q_lin', 'v_lin']]))).rejects.toThrow(/become the same/);
  });
});

describe('compare.* through the core', () => {
  let core: StudioCore;
  beforeAll(() => {
    core = createStudioCore({ dataDir: join(dir, 'data'), testJobs: false });
  });
  afterAll(() => core.close());

  it('records both runs at once, trains them one after the other, and a group cancel ends both', async () => {
    const project = await core.call('projects.create', { name: 'groups' });
    const started = await core.call('compare.methods', { projectId: project.id, name: 'cmp', config: recipe() });
    expect(started.group.members.map((m) => m.method)).toEqual(['lora', 'full']);
    const [first, second] = started.runs;
    expect(first.config.model).toBe(second.config.model);
    expect(first.config.dataset).toEqual(second.config.dataset);
    expect(first.jobId).not.toBeNull();
    expect(second.jobId).toBeNull(); // waits for its turn
    expect(second.status).toBe('queued');
    expect(second.name).toBe('cmp · full');
    const listed = await core.call('compare.list', { projectId: project.id });
    expect(listed.map((g) => g.group.id)).toEqual([started.group.id]);
    expect(listed[0].rows.map((r) => r.runId)).toEqual([first.id, second.id]);
    const cancelled = await core.call('compare.cancel', { id: started.group.id });
    expect(cancelled.rows[1].status).toBe('cancelled');
    await core.jobs.waitFor(first.jobId!);
    const after = await core.call('compare.get', { id: started.group.id });
    expect(after.done).toBe(true);
    expect((await core.call('runs.get', { id: second.id })).jobId).toBeNull(); // never started
  }, 120_000);

  it('a group whose process stopped mid-way is stalled, and compare.resume starts the next waiting member', async () => {
    const other = createStudioCore({ dataDir: join(dir, 'data2'), testJobs: false });
    const project = await other.call('projects.create', { name: 'stall' });
    const started = await other.call('compare.methods', { projectId: project.id, config: recipe() });
    await other.close(); // cancels the training member; the chain stops with it
    const again = createStudioCore({ dataDir: join(dir, 'data2'), testJobs: false });
    try {
      const stalled = await again.call('compare.get', { id: started.group.id });
      expect(stalled).toMatchObject({ done: false, stalled: true });
      expect(stalled.rows.map((r) => r.status)).toEqual(['cancelled', 'queued']);
      const resumed = await again.call('compare.resume', { id: started.group.id });
      expect(resumed.stalled).toBe(false);
      const second = await again.call('runs.get', { id: started.runs[1].id });
      expect(second.jobId).not.toBeNull();
      await again.call('compare.cancel', { id: started.group.id });
      await again.jobs.waitFor(second.jobId!);
      expect((await again.call('compare.get', { id: started.group.id })).done).toBe(true);
    } finally {
      await again.close();
    }
  }, 120_000);

  it('decoder runs too: LoRA vs full on a tiny Llama, judged by eval perplexity from the run records', async () => {
    const model = join(dir, 'tiny-llama');
    await makeTinyModel(model, 'llama', { seed: 5 });
    const data = join(dir, 'sums.jsonl');
    writeFileSync(data, Array.from({ length: 24 }, (_, i) => JSON.stringify({ prompt: `Q: ${i} plus one?\nA:`, completion: ` ${i + 1}` })).join('\n') + '\n');
    const project = await core.call('projects.create', { name: 'decoder group' });
    const started = await core.call('compare.methods', {
      projectId: project.id,
      config: RunConfig.parse({
        model,
        dataset: { path: data, eval_split: { kind: 'ratio', ratio: 0.25 } },
        lora: { r: 4, lora_alpha: 8 },
        max_steps: 2,
        micro_batch_size: 2,
        gradient_accumulation_steps: 1,
        max_seq_length: 32,
        save_steps: null,
      }),
    });
    expect(started.warnings).toEqual([]); // q/k/v/o_proj are Llama's own
    expect(started.group.metric).toEqual({ key: 'eval_perplexity', name: 'perplexity', higherIsBetter: false });
    await core.jobs.waitFor(started.runs[0].jobId!);
    let second = await core.call('runs.get', { id: started.runs[1].id });
    expect(second.jobId).not.toBeNull(); // the first one's end started it
    await core.jobs.waitFor(second.jobId!);
    second = await core.call('runs.get', { id: second.id });
    const first = await core.call('runs.get', { id: started.runs[0].id });
    const report = await core.call('compare.get', { id: started.group.id });
    expect(report.done).toBe(true);
    expect(report.rows.map((r) => r.metric)).toEqual([first.summary!.evalPerplexity, second.summary!.evalPerplexity]);
    expect(report.rows.map((r) => r.trainableParameters)).toEqual([first.summary!.trainableParameters, second.summary!.trainableParameters]);
    expect(report.rows[0].outputBytes!).toBeLessThan(report.rows[1].outputBytes!);
    expect(Date.parse(second.startedAt!)).toBeGreaterThanOrEqual(Date.parse(first.endedAt!));
  }, 180_000);

  it('refuses a missing project, a missing model folder and targets the model lacks entirely', async () => {
    const project = await core.call('projects.create', { name: 'refusals' });
    await expect(core.call('compare.methods', { projectId: 'nope', config: recipe() })).rejects.toMatchObject({ code: 'not_found' });
    await expect(
      core.call('compare.methods', { projectId: project.id, config: { ...recipe(), model: join(dir, 'missing') } }),
    ).rejects.toMatchObject({ code: 'invalid_input', message: expect.stringContaining('config.model') });
    await expect(
      core.call('compare.sweep', { projectId: project.id, config: { ...recipe(), lora: { ...recipe().lora, target_modules: ['qkv'] } }, r: [2, 4] }),
    ).rejects.toMatchObject({ code: 'invalid_input', message: expect.stringContaining('matches no linear module'), phrase: { code: 'targets.noMatch' } });
    expect(await core.call('runs.list', { projectId: project.id })).toEqual([]);
  });
});
