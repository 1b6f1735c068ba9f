// `lora-studio model info`, `adapter info`, `merge` and `export` run as a user would, on tiny fixtures.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gguf } from '@huggingface/gguf';
import { makeTinyModel, seededNormal, seededRandom } from '../fixtures/tiny-models.ts';
import { defaultLoraConfig, matchTargetModules, initLoraAdapter, writeAdapter } from '../../src/main/formats/peft/index.ts';
import { openModelFolder } from '../../src/main/formats/model/index.ts';

const bin = resolve(import.meta.dirname, '../../bin/lora-studio.js');
let dir: string;
let base: string;
let adapterDir: string;

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [bin, ...args], { env: { ...process.env, LORA_STUDIO_HOME: join(dir, 'home') }, timeout: 60_000 }, (err, stdout, stderr) => {
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-formats-'));
  base = join(dir, 'base');
  const tiny = await makeTinyModel(base, 'qwen2');
  const config = defaultLoraConfig({ r: 4, lora_alpha: 8, target_modules: ['q_proj', 'v_proj'], base_model_name_or_path: 'tiny-qwen2' });
  const adapter = initLoraAdapter(matchTargetModules(tiny.spec, config).targets, config, seededRandom(1));
  const n = seededNormal(2);
  for (const l of adapter.layers.values()) l.B = l.B.map(() => 0.1 * n());
  adapter.trainingTemplate = { template: { type: 'chat' }, chatTemplate: '{{ messages }}' };
  adapterDir = join(dir, 'adapter');
  await writeAdapter(adapterDir, adapter);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('lora-studio model/adapter/merge/export', () => {
  it('model info: table and JSON; a broken folder is a clear error with exit code 1', async () => {
    const table = await cli(['model', 'info', base]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^Architecture\s+Qwen2ForCausalLM \(qwen2\)$/m);
    expect(table.stdout).toMatch(/^Heads\s+4 query, 2 key\/value, head_dim 16$/m);
    const json = JSON.parse((await cli(['model', 'info', base, '--json'])).stdout);
    expect(json).toMatchObject({ family: 'qwen2', layers: 2, weightFiles: ['model.safetensors'] });
    const bad = await cli(['model', 'info', join(dir, 'nowhere')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error: .*nowhere\/config\.json: missing/);
  });

  it('adapter info against the base: rank, template, trainable count', async () => {
    const res = await cli(['adapter', 'info', adapterDir, '--base', base, '--json']);
    expect(res.code).toBe(0);
    const info = JSON.parse(res.stdout);
    expect(info).toMatchObject({ r: 4, loraAlpha: 8, scale: 2, layers: 4, template: { type: 'chat' }, chatTemplate: '{{ messages }}' });
    expect(info.base.trainable).toBe(2 * 4 * (64 + 64) + 2 * 4 * (64 + 32));
  });

  it('merge writes an HF folder; export writes GGUF and a LoRA GGUF; no overwrite without --overwrite', async () => {
    const merged = join(dir, 'merged');
    const m = await cli(['merge', '--base', base, '--adapter', `${adapterDir}=0.5`, '--out', merged, '--dtype', 'f32']);
    expect(m.code).toBe(0);
    expect(m.stdout).toMatch(/^Wrote .*merged \(f32, \d+ files/);
    const folder = await openModelFolder(merged);
    expect(folder.weights.info('model.layers.0.self_attn.q_proj.weight').dtype).toBe('F32');
    await folder.close();
    const again = await cli(['merge', '--base', base, '--adapter', adapterDir, '--out', merged]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists \(a merged model folder written earlier\); choose another folder or pass --overwrite/);
    // Over the adapter, or a folder holding the base model: refused whatever --overwrite says, and nothing is touched.
    const overAdapter = await cli(['merge', '--base', base, '--adapter', adapterDir, '--out', adapterDir, '--overwrite']);
    expect(overAdapter.code).toBe(2);
    expect(overAdapter.stderr).toMatch(/is the adapter .*: an output never replaces an input/);
    const aboveBase = await cli(['export', '--format', 'hf', '--base', base, '--out', dirname(base), '--overwrite']);
    expect(aboveBase.code).toBe(2);
    expect(aboveBase.stderr).toMatch(/contains the base model /);
    expect(aboveBase.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(base, 'config.json'))).toBe(true);
    const badSize = await cli(['merge', '--base', base, '--adapter', adapterDir, '--out', join(dir, 'm2'), '--max-shard-size', 'abc']);
    expect(badSize.code).not.toBe(0);
    expect(badSize.stderr).toMatch(/--max-shard-size expects a size in bytes such as 500MB, 5GB or 2GiB, got "abc"/);
    const sharded = await cli(['merge', '--base', base, '--adapter', adapterDir, '--out', join(dir, 'm3'), '--dtype', 'f32', '--max-shard-size', '20kB', '--json']);
    expect(sharded.code).toBe(0);
    expect((JSON.parse(sharded.stdout) as { files: string[] }).files).toContain('model.safetensors.index.json');

    const g = await cli(['export', '--format', 'gguf', '--base', base, '--adapter', adapterDir, '--out', join(dir, 'm.gguf'), '--type', 'q8_0']);
    expect(g.code).toBe(0);
    const parsed = await gguf(join(dir, 'm.gguf'), { allowLocalFile: true });
    expect(parsed.metadata['general.architecture']).toBe('qwen2');
    const lora = await cli(['export', '--format', 'gguf', '--lora-only', '--base', base, '--adapter', adapterDir, '--out', join(dir, 'a.gguf')]);
    expect(lora.code).toBe(0);
    expect(((await gguf(join(dir, 'a.gguf'), { allowLocalFile: true })).metadata as Record<string, unknown>)['general.type']).toBe('adapter');
    expect((await readdir(dir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});
