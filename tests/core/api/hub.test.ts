// hub.push through the real core and worker, against the local Hub (mock-hub-push.ts) named by HF_ENDPOINT,
// with the token stored in Settings: a trained run's adapter lands on the Hub byte for byte with a card whose
// YAML parses and holds what the studio recorded (base model and dataset from the Hub cache, license from the
// base card, steps, loss curve, evaluation); exports get their card (README.md, or a Modelfile beside a GGUF)
// and a GGUF export is published under its quantization's name; each refusal reaches the job's error.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { Adapter } from '../../../src/common/api/adapters.ts';
import type { Export } from '../../../src/common/api/exports.ts';
import { HubPushResult } from '../../../src/common/api/hub.ts';
import type { Job } from '../../../src/common/api/jobs.ts';
import type { Run } from '../../../src/common/api/runs.ts';
import { createStudioCore, type StudioCore } from '../../../src/main/core/index.ts';
import { makeTinyModel } from '../../fixtures/tiny-models.ts';
import { MockPushHub, READ_TOKEN, WRITE_TOKEN, sha256 } from '../../formats/hub/mock-hub-push.ts';

let dir: string;
let hub: MockPushHub;
let core: StudioCore;
let projectId: string;
let run: Run;
let adapter: Adapter;

const front = (text: string) => parseYaml(/^---\n([\s\S]*?)\n---\n/.exec(text)![1]) as Record<string, unknown>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lora-hub-push-'));
  hub = new MockPushHub();
  await hub.start();
  // The base model and dataset sit in a Hub cache, as after `model pull` / a Hub dataset download.
  const model = join(dir, 'hub', 'models--acme--tiny-llama', 'snapshots', 'a'.repeat(40));
  await makeTinyModel(model, 'llama', { seed: 5, std: 0.3, layers: 1 });
  writeFileSync(join(model, 'README.md'), '---\nlicense: apache-2.0\n---\n# tiny\n');
  const dataDir = join(dir, 'hub', 'datasets--acme--sums', 'snapshots', 'b'.repeat(40));
  mkdirSync(dataDir, { recursive: true });
  const dataset = join(dataDir, 'sums.jsonl');
  const rows = Array.from({ length: 16 }, (_, i) => ({ prompt: `Q: ${i} plus one?\nA:`, completion: ` ${i + 1}` }));
  writeFileSync(dataset, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');

  core = createStudioCore({
    dataDir: join(dir, 'data'),
    testJobs: false,
    jobs: { workerEnv: { HF_ENDPOINT: hub.endpoint, HF_HOME: join(dir, 'hf-home') } },
  });
  await core.invoke('settings.setHubToken', { token: WRITE_TOKEN });
  projectId = ((await core.invoke('projects.create', { name: 'publish' })) as { id: string }).id;
  run = (await core.invoke('runs.start', {
    projectId,
    name: 'sums',
    config: {
      model,
      dataset: { path: dataset, template: { kind: 'plain' }, eval_split: { kind: 'ratio', ratio: 0.25 } },
      lora: { r: 2, lora_alpha: 4, target_modules: ['q_proj', 'v_proj'] },
      max_steps: 4,
      eval_steps: 2,
      micro_batch_size: 2,
      gradient_accumulation_steps: 1,
      learning_rate: 5e-3,
      max_seq_length: 32,
    },
  })) as Run;
  const job = await core.jobs.waitFor(run.jobId!);
  expect(job.status, job.error ?? '').toBe('succeeded');
  const evaluation = (await core.invoke('evaluations.start', { projectId, runId: run.id })) as { jobId: string };
  const evalJob = await core.jobs.waitFor(evaluation.jobId);
  expect(evalJob.status, evalJob.error ?? '').toBe('succeeded');
  adapter = ((await core.invoke('adapters.list', { projectId })) as Adapter[]).find((a) => a.runId === run.id)!;
}, 300_000);
afterAll(async () => {
  await core?.close();
  await hub?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function push(input: Record<string, unknown>): Promise<Job> {
  const job = (await core.invoke('hub.push', { repo: 'alice/sums-lora', ...input })) as Job;
  expect(job.kind).toBe('hub.push');
  return core.jobs.waitFor(job.id);
}

describe('hub.push', { timeout: 120_000 }, () => {
  it('pushes a run’s adapter with the stored token: the folder byte for byte, plus a card of recorded facts and the loss curve', async () => {
    const job = await push({ adapterId: adapter.id, private: true });
    expect(job.status, job.error ?? '').toBe('succeeded');
    const result = HubPushResult.parse(core.store.jobs.get(job.id)!.result);
    expect(result).toMatchObject({ repo: 'alice/sums-lora', revision: 'main', ollama: null });
    const held = hub.filesOf('alice/sums-lora');
    const local = readdirSync(adapter.path).filter((f) => f !== 'README.md');
    expect([...held.keys()].sort()).toEqual([...local, 'README.md', 'loss_curve.svg', '.gitattributes'].sort());
    for (const f of local) expect(sha256(held.get(f)!), f).toBe(sha256(readFileSync(join(adapter.path, f))));
    expect(hub.repos.get('alice/sums-lora')!.private).toBe(true);

    const card = held.get('README.md')!.toString();
    expect(front(card)).toEqual({
      base_model: 'acme/tiny-llama',
      library_name: 'peft',
      pipeline_tag: 'text-generation',
      tags: ['lora-studio', 'lora', 'peft', 'base_model:adapter:acme/tiny-llama'],
      license: 'apache-2.0',
      datasets: ['acme/sums'],
    });
    const metrics = (await core.invoke('runs.metrics', { id: run.id })) as {
      step: number;
      values: Record<string, number>;
    }[];
    const finished = (await core.invoke('runs.get', { id: run.id })) as Run;
    expect(card).toContain('| LoRA rank (r) / alpha | 2 / 4 |');
    expect(card).toContain('| Max steps | 4 |');
    expect(card).toContain(`| Optimizer steps done | ${finished.summary!.steps} |`);
    expect(card).toContain(`| Final training loss | ${finished.summary!.trainLoss!.toFixed(4)} |`);
    expect(card).toContain(`\`${finished.datasetHash}\``);
    expect(card).toMatch(/\| base model \| \d+\.\d{3} \|\n\| fine-tuned \| \d+\.\d{3} \|/);
    const svg = held.get('loss_curve.svg')!.toString();
    const points = /<polyline id="train"[^>]* points="([^"]+)"/.exec(svg)![1].split(' ');
    expect(points).toHaveLength(metrics.filter((m) => m.values.loss !== undefined).length);
  });

  it('running the same push again changes nothing; another adapter into the same repo is refused unless asked', async () => {
    const commits = hub.repos.get('alice/sums-lora')!.commits.length;
    const again = await push({ adapterId: adapter.id });
    expect(again.status).toBe('succeeded');
    expect(HubPushResult.parse(core.store.jobs.get(again.id)!.result).commit).toBeNull();
    expect(hub.repos.get('alice/sums-lora')!.commits.length).toBe(commits);

    const other = join(dir, 'other-adapter');
    mkdirSync(other);
    for (const f of readdirSync(adapter.path)) writeFileSync(join(other, f), readFileSync(join(adapter.path, f)));
    writeFileSync(
      join(other, 'adapter_config.json'),
      readFileSync(join(adapter.path, 'adapter_config.json'), 'utf8').replace('"r": 2', '"r": 2 '),
    );
    const refused = await push({ path: other });
    expect(refused.status).toBe('failed');
    // Not known to the studio by this path: its card has no run facts and no loss curve, so both differ too.
    expect(refused.error).toBe(
      'alice/sums-lora already holds 1 other file (loss_curve.svg) and different versions of 2 files this push would replace (adapter_config.json, README.md); push to a new repo, or ask to replace (--replace, or "Push into it anyway" in Publish…): files of the same name are replaced, the others stay',
    );
  });

  it('the job says what is wrong: a read-only token, offline mode, a path that is not what it claims', async () => {
    await core.invoke('settings.setHubToken', { token: READ_TOKEN });
    const readOnly = await push({ adapterId: adapter.id, repo: 'alice/ro' });
    expect(readOnly.error).toMatch(/may not write to alice\/ro \(403.*"Write" role/);
    await core.invoke('settings.setHubToken', { token: WRITE_TOKEN });
    await core.invoke('settings.update', { offline: true });
    const offline = await push({ adapterId: adapter.id, repo: 'alice/off' });
    expect(offline.error).toMatch(/offline mode is on/);
    await core.invoke('settings.update', { offline: false });
    await expect(core.invoke('hub.push', { path: adapter.path, kind: 'gguf', repo: 'alice/x' })).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringMatching(/is not a \.gguf file \(it looks like an adapter folder\)/),
    });
    await expect(core.invoke('hub.push', { repo: 'alice/x' })).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(core.invoke('hub.push', { adapterId: adapter.id, repo: 'not a repo' })).rejects.toMatchObject({
      code: 'invalid_input',
    });
    expect(hub.repos.has('alice/ro') || hub.repos.has('alice/off')).toBe(false);
  });

  it('exports carry their card, and a GGUF export is published under its quantization’s name', async () => {
    const folder = (await core.invoke('exports.start', { adapterId: adapter.id, format: 'hf', type: 'f32' })) as Export;
    const gguf = (await core.invoke('exports.start', {
      adapterId: adapter.id,
      format: 'gguf',
      type: 'q8_0',
    })) as Export;
    for (const e of [folder, gguf]) expect((await core.jobs.waitFor(e.jobId!)).status).toBe('succeeded');
    const card = readFileSync(join(folder.path, 'README.md'), 'utf8');
    expect(front(card)).toMatchObject({
      base_model: 'acme/tiny-llama',
      library_name: 'transformers',
      license: 'apache-2.0',
    });
    expect(readdirSync(folder.path)).toContain('loss_curve.svg');
    const modelfile = readFileSync(gguf.path.replace(/\.gguf$/, '.Modelfile'), 'utf8');
    expect(modelfile).toContain(`FROM ./${gguf.path.split('/').pop()}`);

    const job = await push({ exportId: gguf.id, repo: 'alice/sums-GGUF' });
    expect(job.status, job.error ?? '').toBe('succeeded');
    const held = hub.filesOf('alice/sums-GGUF');
    expect([...held.keys()].sort()).toEqual([
      '.gitattributes',
      'Modelfile',
      'README.md',
      'loss_curve.svg',
      'sums-GGUF-Q8_0.gguf',
    ]);
    expect(sha256(held.get('sums-GGUF-Q8_0.gguf')!)).toBe(sha256(readFileSync(gguf.path)));
    expect(held.get('README.md')!.toString()).toContain('llama-cli -hf alice/sums-GGUF:Q8_0');

    const merged = await push({ exportId: folder.id, repo: 'alice/sums-merged' });
    expect(merged.status, merged.error ?? '').toBe('succeeded');
    const mergedHeld = hub.filesOf('alice/sums-merged');
    expect(mergedHeld.has('.lora-studio-output.json')).toBe(false);
    expect(front(mergedHeld.get('README.md')!.toString())).toMatchObject({
      library_name: 'transformers',
      base_model: 'acme/tiny-llama',
    });
  });
});
