// Base models and datasets through the real core: a tiny model folder opened and recorded, bad paths refused
// with the field named, a dataset imported by a worker job with its bad rows listed (skip) or the job stopped
// (stop), the previewer's page and histogram, the split the trainer makes, and a run plan's counts and warnings.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dataset, DatasetPreview } from '../../../src/common/api/datasets.ts';
import type { Job } from '../../../src/common/api/jobs.ts';
import type { BaseModel, RunPlan } from '../../../src/common/api/models.ts';
import { RunConfig } from '../../../src/common/api/runs.ts';
import { createStudioCore, type StudioCore } from '../../../src/main/core/index.ts';
import { splitByRatio, importDataset } from '../../../src/main/formats/dataset/index.ts';
import { parameterCount } from '../../../src/main/formats/model/index.ts';
import { makeTinyModel, type TinyModel } from '../../fixtures/tiny-models.ts';
import { english, korean } from '../../common/api/phrase-check.ts';
import { commitHash, MockHub, type MockFile } from '../../formats/hub/mock-hub.ts';

let dir: string;
let core: StudioCore;
let projectId: string;
let tiny: TinyModel;
let dataPath: string;

const rows = [
  ...Array.from({ length: 12 }, (_, i) => JSON.stringify({ prompt: `What is ${i} + ${i}?`, completion: ` ${2 * i}.` })),
  '{"prompt": "broken", ', // line 13: not JSON
  JSON.stringify({ prompt: 'Name a colour', completion: 7 }), // line 14: completion not a string
  JSON.stringify({ prompt: 'Long one ' + 'and more '.repeat(40), completion: ' yes' }),
];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lora-models-datasets-'));
  core = createStudioCore({ dataDir: join(dir, 'data'), testJobs: false });
  projectId = ((await core.invoke('projects.create', { name: 'library' })) as { id: string }).id;
  tiny = await makeTinyModel(join(dir, 'model'), 'llama', { seed: 3, dtype: 'BF16' });
  dataPath = join(dir, 'pairs.jsonl');
  writeFileSync(dataPath, rows.join('\n') + '\n');
});
afterAll(async () => {
  await core.close();
  rmSync(dir, { recursive: true, force: true });
});

async function invokeError(method: string, input: unknown): Promise<{ code: string; message: string }> {
  const out = await core.invokeSafe(method as never, input as never);
  if (out.ok) throw new Error(`${method} succeeded`);
  return out.error;
}

describe('models', () => {
  it('opens a model folder and records what it read: architecture, parameters, dtype, size, chat template', async () => {
    const model = (await core.invoke('models.open', { path: tiny.dir })) as BaseModel;
    expect(model).toMatchObject({ sourceKind: 'local', path: tiny.dir, architecture: 'LlamaForCausalLM', family: 'llama', dtype: 'BF16', layers: tiny.spec.numLayers });
    expect(model.parameterCount).toBe(parameterCount(tiny.spec));
    const tensorBytes = [...tiny.tensors.values()].reduce((n, t) => n + t.length * 2, 0);
    expect(model.sizeBytes).toBeGreaterThan(tensorBytes); // BF16 data plus the safetensors header
    expect(model.sizeBytes).toBeLessThan(tensorBytes + 64 * 1024);
    expect(typeof model.chatTemplate === 'string' || model.chatTemplate === null).toBe(true);
    // Opening it again refreshes the record instead of listing it twice.
    const again = (await core.invoke('models.open', { path: tiny.dir })) as BaseModel;
    const listed = (await core.invoke('models.list', {})) as BaseModel[];
    expect(listed.map((m) => m.id)).toEqual([again.id]);
    expect(await core.invoke('models.get', { id: again.id })).toEqual(again);
    expect(await core.invoke('models.delete', { id: again.id })).toEqual({ deleted: true });
    expect(await core.invoke('models.list', {})).toEqual([]);
  });

  it('refuses a missing path, a file, a relative path and a folder without config.json, naming the field', async () => {
    expect(await invokeError('models.open', { path: join(dir, 'nope') })).toMatchObject({ code: 'invalid_input', message: expect.stringMatching(/^path: nothing at .*nope/) });
    expect((await invokeError('models.open', { path: dataPath })).message).toMatch(/is a file; choose the model folder/);
    expect((await invokeError('models.open', { path: 'relative/model' })).message).toMatch(/not an absolute path/);
    expect((await invokeError('models.open', { path: dir })).message).toMatch(/config\.json: missing/);
    expect((await invokeError('models.pull', { repo: 'not a repo id' })).message).toMatch(/owner\/name/);
  });

  it('pull in offline mode with an empty cache fails its job with the reason', async () => {
    const job = (await core.invoke('models.pull', { repo: 'acme/tiny', offline: true })) as Job;
    const ended = await core.jobs.waitFor(job.id);
    expect(ended.status).toBe('failed');
    expect(ended.error).toMatch(/offline/i);
    expect(await core.invoke('models.list', {})).toEqual([]);
  });
});

describe('datasets', () => {
  let dataset: Dataset;

  it('imports a file as a job: format and columns detected, each bad row with its line and field', async () => {
    const job = (await core.invoke('datasets.import', { projectId, path: dataPath })) as Job;
    expect(job.kind).toBe('dataset.import');
    expect((await core.jobs.waitFor(job.id)).status).toBe('succeeded');
    const listed = (await core.invoke('datasets.list', { projectId })) as Dataset[];
    expect(listed).toHaveLength(1);
    dataset = listed[0];
    expect(dataset).toMatchObject({ name: 'pairs.jsonl', fileFormat: 'jsonl', format: 'completion', columns: { prompt: 'prompt', completion: 'completion' }, rowsRead: 15, examples: 13, badRows: 2 });
    expect(dataset.problems.map((p) => [p.line, p.field ?? null])).toEqual([[13, null], [14, 'completion']]);
    expect(dataset.problems[1].text).toMatch(/^pairs\.jsonl:14 \(row 13\), field "completion"/);
    const direct = await importDataset(dataPath);
    expect(dataset.hash).toBe(direct.contentHash);
  });

  it('with onProblem "stop" the job fails at the first bad row and nothing is recorded', async () => {
    const job = (await core.invoke('datasets.import', { projectId, path: dataPath, onProblem: 'stop', name: 'strict' })) as Job;
    const ended = await core.jobs.waitFor(job.id);
    expect(ended.status).toBe('failed');
    expect(ended.error).toMatch(/pairs\.jsonl:13/);
    const stopped = (await core.invoke('jobs.get', { id: job.id })) as Job;
    expect(stopped.errorPhrase?.code).toBe('dataset.problem');
    expect(english(stopped.errorPhrase!)).toBe(stopped.error);
    expect(korean(stopped.errorPhrase, stopped.error!)).toMatch(/^pairs\.jsonl:13 \(12번 행\): JSON 형식이 잘못되었습니다/);
    expect(((await core.invoke('datasets.list', { projectId })) as Dataset[]).map((d) => d.name)).toEqual(['pairs.jsonl']);
    expect((await invokeError('datasets.import', { projectId, path: join(dir, 'missing.jsonl') })).message).toMatch(/^path: nothing at/);
  });

  it('a file that is not a dataset fails its job with the reason as a phrase, which the Korean UI renders', async () => {
    const badJson = join(dir, 'bad.json');
    writeFileSync(badJson, '[{"prompt": "a", "completion": "b"},\n {"prompt": }]\n');
    const job = (await core.invoke('datasets.import', { projectId, path: badJson })) as Job;
    const ended = await core.jobs.waitFor(job.id);
    expect(ended.status).toBe('failed');
    expect(ended.error).toBe('bad.json is not valid JSON at line 2, character 13: a character JSON does not allow here');
    const row = (await core.invoke('jobs.get', { id: job.id })) as Job;
    expect(row.errorPhrase).toEqual({
      code: 'dataset.jsonInvalid',
      params: { file: 'bad.json', reason: 'unexpected', line: 2, character: 13 },
    });
    expect(english(row.errorPhrase!)).toBe(row.error);
    expect(korean(row.errorPhrase, row.error!)).toBe(
      'bad.json은(는) 올바른 JSON이 아닙니다 (2번째 줄, 13번째 글자): 이 자리에 JSON이 허용하지 않는 문자가 있습니다',
    );

    // every row bad: the job says so, with the first problem, as a phrase too
    const allBad = join(dir, 'all-bad.jsonl');
    writeFileSync(allBad, '{"prompt": "a", "completion": 5}\n{"prompt": "", "completion": "b"}\n');
    const second = await core.jobs.waitFor(((await core.invoke('datasets.import', { projectId, path: allBad })) as Job).id);
    expect(second.status).toBe('failed');
    const secondRow = (await core.invoke('jobs.get', { id: second.id })) as Job;
    expect(secondRow.errorPhrase?.code).toBe('dataset.noUsableRows');
    expect(english(secondRow.errorPhrase!)).toBe(secondRow.error);
    expect(secondRow.error).toMatch(/^all-bad\.jsonl: no usable rows \(2 problems; the first: all-bad\.jsonl:1 \(row 0\), field "completion": is a number/);
    // the first problem inside it is said in Korean too (a nested phrase), not left in English
    expect(korean(secondRow.errorPhrase, secondRow.error!)).toMatch(
      /^all-bad\.jsonl: 쓸 수 있는 행이 없습니다 \(문제 2개, 첫 번째: all-bad\.jsonl:1 \(0번 행\), "completion" 필드: 숫자입니다 \(기대한 값: [^)]*[\uac00-\ud7a3][^)]*\)\)$/,
    );

    // columns the studio cannot place: the refusal names them, in Korean too
    const unknown = join(dir, 'unknown.jsonl');
    writeFileSync(unknown, '{"foo": "a", "bar": "b"}\n');
    const third = (await core.invoke('jobs.get', { id: (await core.jobs.waitFor(((await core.invoke('datasets.import', { projectId, path: unknown })) as Job).id)).id })) as Job;
    expect(third.errorPhrase).toEqual({ code: 'dataset.formatUnknown', params: { file: 'unknown.jsonl', columns: 'foo, bar' } });
    expect(third.error).toBe(english(third.errorPhrase!));
    expect(korean(third.errorPhrase, third.error!)).toMatch(/^unknown\.jsonl: 열\(foo, bar\)만으로는 데이터셋 형식을 알 수 없습니다/);
    expect(((await core.invoke('datasets.list', { projectId })) as Dataset[]).map((d) => d.name)).toEqual(['pairs.jsonl']);
  });

  it('previews a page rendered with the model: special tokens, trained completion tokens, histogram with the cut-off', async () => {
    const preview = (await core.invoke('datasets.preview', { id: dataset.id, offset: 2, rows: 3, model: tiny.dir, maxLength: 64 })) as DatasetPreview;
    expect(preview.total).toBe(13);
    expect(preview.rows.map((r) => r.row)).toEqual([2, 3, 4]);
    const first = preview.rows[0];
    expect(first.columns).toEqual({ prompt: 'What is 2 + 2?', completion: ' 4.' });
    const pieces = first.rendered!.pieces;
    expect(pieces.map((p) => p.text).join('')).toBe(first.rendered!.text);
    const trainedText = pieces.filter((p) => p.trained).map((p) => p.text).join('');
    expect(trainedText).toContain('4.');
    expect(trainedText).not.toContain('What');
    expect(pieces.some((p) => p.special)).toBe(true);
    const stats = preview.stats!;
    expect(stats.count).toBe(13);
    expect(stats.maxLength).toBe(64);
    expect(stats.truncated).toBe(1); // the long row
    expect(stats.histogram.counts.reduce((a, b) => a + b, 0)).toBe(13);
    // Without a model: rows only.
    const plain = (await core.invoke('datasets.preview', { id: dataset.id })) as DatasetPreview;
    expect(plain.stats).toBeNull();
    expect(plain.rows[0].rendered).toBeNull();
    // A prompt template renders the placeholders.
    const templated = (await core.invoke('datasets.preview', { id: dataset.id, rows: 1, model: tiny.dir, template: { kind: 'prompt', template: 'Q: {prompt}\nA:' } })) as DatasetPreview;
    expect(templated.rows[0].rendered!.text).toContain('Q: What is 0 + 0?\nA:');
    expect(templated.template).toEqual({ kind: 'prompt', source: 'Q: {prompt}\nA:' });
  });

  it('splits with a ratio and seed exactly as the trainer will', async () => {
    const split = (await core.invoke('datasets.split', { id: dataset.id, ratio: 0.25, seed: 7 })) as Dataset;
    const expected = splitByRatio((await importDataset(dataPath)).examples, { evalRatio: 0.25, seed: 7 });
    expect(split.split).toEqual({ ratio: 0.25, seed: 7, train: expected.train.length, eval: expected.eval.length, overlap: 0 });
    expect(((await core.invoke('datasets.get', { id: dataset.id })) as Dataset).split).toEqual(split.split);
  });
});

describe('models.plan', () => {
  it('counts trainable parameters as PEFT does and warns about unmatched targets, truncation, few examples and lr', async () => {
    const config = RunConfig.parse({
      model: tiny.dir,
      dataset: { path: dataPath, skip_bad_rows: true },
      lora: { r: 4, lora_alpha: 8, target_modules: ['q_proj', 'v_proj', 'qkv_proj'] },
      learning_rate: 0.05,
      max_seq_length: 64,
    });
    const plan = (await core.invoke('models.plan', { config })) as RunPlan;
    const s = tiny.spec;
    const kvOut = s.numKvHeads * s.headDim;
    const perLayer = 4 * (s.hiddenSize + s.numHeads * s.headDim) + 4 * (s.hiddenSize + kvOut);
    expect(plan.trainableParameters).toBe(perLayer * s.numLayers);
    expect(plan.targetedModules).toBe(2 * s.numLayers);
    expect(plan.totalParameters).toBe(parameterCount(s) + plan.trainableParameters);
    expect(plan.trainableShare).toBeCloseTo(plan.trainableParameters / plan.totalParameters, 12);
    expect(plan.dataset).toMatchObject({ examples: 13, trainExamples: 12, truncated: 1 });
    const fields = plan.warnings.map((w) => w.field);
    expect(fields).toEqual(expect.arrayContaining(['lora.target_modules', 'max_seq_length', 'dataset.path', 'learning_rate']));
    expect(plan.warnings.find((w) => w.field === 'lora.target_modules')!.message).toMatch(/"qkv_proj" matches no module/);
    expect(plan.memory.bytes).toBeCloseTo(plan.memory.parts.reduce((n, p) => n + p.bytes, 0), 3);
    expect(plan.time.seconds).toBeGreaterThan(0);

    const full = (await core.invoke('models.plan', { config: { ...config, method: 'full', learning_rate: 2e-5 } })) as RunPlan;
    expect(full.trainableParameters).toBe(parameterCount(s));
    expect(full.trainableShare).toBe(1);
    expect(full.warnings.map((w) => w.field)).not.toContain('learning_rate');
    expect(full.memory.bytes).toBeGreaterThan(plan.memory.bytes);
  });
});

describe('models.pull', () => {
  it('downloads from the Hub as a job with byte progress, records the snapshot, and an offline pull then reuses the cache', async () => {
    const hub = new MockHub();
    const files: Record<string, MockFile> = {};
    for (const name of readdirSync(tiny.dir)) files[name] = { content: readFileSync(join(tiny.dir, name)), lfs: name.endsWith('.safetensors') };
    files['README.md'] = { content: Buffer.from('# tiny'), lfs: false };
    const commit = commitHash('pull-main');
    hub.addRepo({ type: 'model', name: 'acme/tiny-llama', refs: { main: commit }, commits: { [commit]: files } });
    const saved = { HF_ENDPOINT: process.env.HF_ENDPOINT, HF_HUB_CACHE: process.env.HF_HUB_CACHE, HF_HUB_OFFLINE: process.env.HF_HUB_OFFLINE };
    process.env.HF_ENDPOINT = await hub.start();
    process.env.HF_HUB_CACHE = join(dir, 'hf-cache');
    delete process.env.HF_HUB_OFFLINE;
    try {
      const progress: Array<number | null> = [];
      const off = core.on('job.progress', (e) => progress.push(e.progress));
      const job = (await core.invoke('models.pull', { repo: 'acme/tiny-llama' })) as Job;
      const ended = await core.jobs.waitFor(job.id);
      off();
      expect(ended.status, ended.error ?? '').toBe('succeeded');
      expect(progress.filter((p) => p !== null && p > 0 && p <= 1).length).toBeGreaterThan(0);
      const pulled = ((await core.invoke('models.list', {})) as BaseModel[]).find((m) => m.source === 'acme/tiny-llama')!;
      expect(pulled).toMatchObject({ sourceKind: 'hub', revision: commit, name: 'acme/tiny-llama', architecture: 'LlamaForCausalLM', dtype: 'BF16', parameterCount: parameterCount(tiny.spec) });
      expect(pulled.path).toBe(join(dir, 'hf-cache', 'models--acme--tiny-llama', 'snapshots', commit));
      expect(hub.log.some((r) => r.url.includes('README'))).toBe(false); // only what a model needs

      const requests = hub.log.length;
      const offline = (await core.invoke('models.pull', { repo: 'acme/tiny-llama', offline: true })) as Job;
      expect((await core.jobs.waitFor(offline.id)).status).toBe('succeeded');
      expect(hub.log.length).toBe(requests);
      expect(((await core.invoke('models.list', {})) as BaseModel[]).filter((m) => m.source === 'acme/tiny-llama')).toHaveLength(1);
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await hub.stop();
    }
  });
});

describe('dialogs.pick', () => {
  it('is refused by the core with a sentence saying to type the path (only the desktop shell answers it)', async () => {
    expect(await invokeError('dialogs.pick', { kind: 'folder' })).toMatchObject({ code: 'failed', message: expect.stringMatching(/type the full path instead/) });
    expect((await invokeError('dialogs.pick', { kind: 'drive' })).code).toBe('invalid_input');
  });
});
