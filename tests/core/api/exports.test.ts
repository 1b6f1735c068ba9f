// Exports through the real core: a merged Hugging Face folder whose weights are W + s·B·A (read back with our
// model reader), merged GGUF and LoRA GGUF files that @huggingface/gguf parses, a PEFT copy, size estimates
// close to what is written, and the refusals: an existing destination without overwrite, a type the format
// cannot write, an adapter with no known base model.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gguf } from '@huggingface/gguf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Adapter } from '../../../src/common/api/adapters.ts';
import type { Export, ExportEstimate } from '../../../src/common/api/exports.ts';
import { createStudioCore, type StudioCore } from '../../../src/main/core/index.ts';
import { loraDelta } from '../../../src/main/formats/merge/index.ts';
import { openModelFolder } from '../../../src/main/formats/model/folder.ts';
import { ggufTableTypes, GgmlType } from '../../../src/main/formats/gguf/index.ts';
import {
  defaultLoraConfig,
  initLoraAdapter,
  layerScale,
  matchTargetModules,
  readAdapter,
  writeAdapter,
} from '../../../src/main/formats/peft/index.ts';
import { makeTinyModel, seededRandom } from '../../fixtures/tiny-models.ts';
import { makeChatFixture, type ChatFixture } from '../../engine/generate/fixtures.ts';

let dir: string;
let core: StudioCore;
let projectId: string;
let fx: ChatFixture;
let adapter: Adapter;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lora-exports-'));
  core = createStudioCore({ dataDir: join(dir, 'data'), testJobs: false });
  projectId = ((await core.invoke('projects.create', { name: 'exports' })) as { id: string }).id;
  fx = await makeChatFixture(dir);
  adapter = (await core.invoke('adapters.import', {
    projectId,
    path: fx.adapters[0],
    name: 'Style',
    model: fx.model.dir,
  })) as Adapter;
});
afterAll(async () => {
  await core.close();
  rmSync(dir, { recursive: true, force: true });
});

async function finished(started: Export): Promise<Export> {
  const job = await core.jobs.waitFor(started.jobId!);
  expect(job.status, job.error ?? '').toBe('succeeded');
  return (await core.invoke('exports.get', { id: started.id })) as Export;
}

describe('exports service', () => {
  it('merges into a Hugging Face folder (W + weight·s·B·A), estimates its size, and never overwrites unasked', async () => {
    const estimate = (await core.invoke('exports.estimate', {
      adapterId: adapter.id,
      format: 'hf',
      type: 'f32',
    })) as ExportEstimate;
    expect(estimate).toMatchObject({ path: join(dir, 'data', 'exports', 'style-hf-f32'), exists: false });
    const started = (await core.invoke('exports.start', {
      adapterId: adapter.id,
      format: 'hf',
      type: 'f32',
      weight: 0.5,
    })) as Export;
    expect(started).toMatchObject({
      format: 'hf',
      type: 'f32',
      path: estimate.path,
      adapterId: adapter.id,
      estimatedBytes: estimate.bytes,
    });
    const done = await finished(started);
    expect(done.status).toBe('succeeded');
    expect(done.sizeBytes).toBeGreaterThan(0);
    expect(Math.abs(done.sizeBytes! - estimate.bytes) / done.sizeBytes!).toBeLessThan(0.05);

    const [base, merged, lora] = await Promise.all([
      openModelFolder(fx.model.dir),
      openModelFolder(done.path),
      readAdapter(fx.adapters[0]),
    ]);
    try {
      const layer = lora.layers.get('model.layers.0.self_attn.q_proj')!;
      const name = 'model.layers.0.self_attn.q_proj.weight';
      const [w, m] = await Promise.all([base.readHf(name), merged.readHf(name)]);
      const delta = loraDelta([{ layer, scale: 0.5 * layerScale(lora.config, layer) }], false);
      let worst = 0;
      for (let i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs(w[i] + delta[i] - m[i]));
      expect(worst).toBeLessThan(1e-5);
    } finally {
      await Promise.all([base.close(), merged.close()]);
    }
    expect(
      ((await core.invoke('exports.estimate', { adapterId: adapter.id, format: 'hf', type: 'f32' })) as ExportEstimate)
        .exists,
    ).toBe(true);

    await expect(
      core.invoke('exports.start', { adapterId: adapter.id, format: 'hf', type: 'f32' }),
    ).rejects.toMatchObject({ code: 'conflict', message: expect.stringContaining('set overwrite') });
    const again = await finished(
      (await core.invoke('exports.start', {
        adapterId: adapter.id,
        format: 'hf',
        type: 'f32',
        overwrite: true,
      })) as Export,
    );
    expect(again.status).toBe('succeeded');

    // adapters.merge is the same export with the Hugging Face format (bf16 by default).
    const merge = await finished(
      (await core.invoke('adapters.merge', { id: adapter.id, outPath: join(dir, 'merged-bf16') })) as Export,
    );
    expect(merge).toMatchObject({ format: 'hf', type: 'bf16', path: join(dir, 'merged-bf16'), status: 'succeeded' });
    const config = JSON.parse(readFileSync(join(dir, 'merged-bf16', 'config.json'), 'utf8')) as { torch_dtype: string };
    expect(config.torch_dtype).toBe('bfloat16');
  });

  it('writes a merged GGUF and a LoRA GGUF that parse, and copies the PEFT folder', async () => {
    const estimate = (await core.invoke('exports.estimate', {
      adapterId: adapter.id,
      format: 'gguf',
      type: 'q8_0',
    })) as ExportEstimate;
    const q8 = await finished(
      (await core.invoke('exports.start', { adapterId: adapter.id, format: 'gguf', type: 'q8_0' })) as Export,
    );
    expect(q8.path.endsWith('style-gguf-q8_0.gguf')).toBe(true);
    expect(Math.abs(q8.sizeBytes! - estimate.bytes) / q8.sizeBytes!).toBeLessThan(0.15);
    const parsed = await gguf(q8.path, { allowLocalFile: true });
    const q8Metadata = parsed.metadata as unknown as Record<string, unknown>; // keys outside the reader's typed set too
    expect(q8Metadata['general.architecture']).toBe('llama');
    expect(q8Metadata['general.file_type']).toBe(7); // MOSTLY_Q8_0
    expect(parsed.tensorInfos.length).toBe(estimate.tensors);

    const lora = await finished(
      (await core.invoke('exports.start', { adapterId: adapter.id, format: 'lora-gguf' })) as Export,
    );
    expect(lora.type).toBe('f32');
    const loraMetadata = (await gguf(lora.path, { allowLocalFile: true })).metadata as unknown as Record<
      string,
      unknown
    >;
    expect(loraMetadata['general.type']).toBe('adapter');
    expect(loraMetadata['adapter.lora.alpha']).toBeCloseTo(8);

    const peft = await finished(
      (await core.invoke('exports.start', { adapterId: adapter.id, format: 'peft' })) as Export,
    );
    expect(readFileSync(join(peft.path, 'adapter_model.safetensors'))).toEqual(
      readFileSync(join(fx.adapters[0], 'adapter_model.safetensors')),
    );

    const listed = (await core.invoke('exports.list', { projectId })) as Export[];
    expect(listed.map((e) => e.format)).toEqual(['peft', 'lora-gguf', 'gguf', 'hf', 'hf', 'hf']);
    expect(listed.every((e) => e.status === 'succeeded')).toBe(true);
  });

  it('refuses what it cannot do, saying what to do instead', async () => {
    await expect(
      core.invoke('exports.start', { adapterId: adapter.id, format: 'hf', type: 'q4_0' }),
    ).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringContaining('format hf writes bf16, f16, f32'),
    });
    await expect(core.invoke('exports.start', { adapterId: 'nope', format: 'gguf' })).rejects.toMatchObject({
      code: 'not_found',
    });
    // a chat model's adapter: its formats, and ONNX (encoder task models only) refused naming them
    expect(await core.invoke('exports.formats', { adapterId: adapter.id })).toEqual({
      task: 'causal-lm',
      formats: ['gguf', 'hf', 'peft', 'lora-gguf'],
    });
    await expect(core.invoke('exports.start', { adapterId: adapter.id, format: 'onnx' })).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringContaining('the ONNX export is for encoder task models (classification, question answering); choose one of gguf, hf, peft, lora-gguf'),
    });
    // Imported without a model, and its config names no folder here: exports that need the base ask for it.
    cpSync(fx.adapters[0], join(dir, 'loose-adapter'), { recursive: true });
    const loose = (await core.invoke('adapters.import', { projectId, path: join(dir, 'loose-adapter') })) as Adapter;
    expect(loose.baseModel).toBeNull();
    await expect(core.invoke('exports.start', { adapterId: loose.id, format: 'gguf' })).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringContaining('pass model'),
    });
    const withModel = await finished(
      (await core.invoke('exports.start', {
        adapterId: loose.id,
        format: 'gguf',
        type: 'f16',
        model: fx.model.dir,
      })) as Export,
    );
    expect(withModel.status).toBe('succeeded');
  });

  it('never writes over, into or above an input or the data dir, and overwrite replaces only a previous export', async () => {
    const before = readdirSync(fx.model.dir).sort();
    const exportsBefore = ((await core.invoke('exports.list', { projectId })) as Export[]).length;
    const refused = async (input: Record<string, unknown>, code: string, pattern: RegExp) =>
      expect(core.invoke('exports.start', { adapterId: adapter.id, overwrite: true, ...input })).rejects.toMatchObject({
        code,
        message: expect.stringMatching(pattern),
      });
    await refused({ format: 'hf', outPath: dirname(fx.model.dir) }, 'invalid_input', /outPath: .* contains the base model /);
    await refused({ format: 'hf', outPath: join(fx.model.dir, 'merged') }, 'invalid_input', /is inside the base model /);
    await refused({ format: 'peft', outPath: fx.adapters[0] }, 'invalid_input', /is the adapter /);
    await refused({ format: 'gguf', outPath: join(dir, 'data') }, 'invalid_input', /is the studio data folder /);
    await refused({ format: 'gguf', outPath: join(dir, 'data', 'runs') }, 'invalid_input', /is the studio runs folder /);
    // A folder the studio did not write: named with what it holds, kept as it is.
    const mine = join(dir, 'my-notes');
    mkdirSync(mine);
    writeFileSync(join(mine, 'todo.txt'), 'keep');
    await refused({ format: 'hf', outPath: mine }, 'conflict', /my-notes already exists and is not something LoRA Studio wrote \(it holds todo\.txt\)/);
    expect(readFileSync(join(mine, 'todo.txt'), 'utf8')).toBe('keep');
    expect(readdirSync(fx.model.dir).sort()).toEqual(before);
    // Nothing was recorded for a refused target.
    expect(((await core.invoke('exports.list', { projectId })) as Export[]).length).toBe(exportsBefore);
  });

  it('cancels a running export: the job ends cancelled and nothing is left under the chosen name', async () => {
    // A model large enough that writing it takes a while (about 100 MB of float32).
    const big = await makeTinyModel(join(dir, 'big'), 'llama', {
      seed: 2,
      layers: 8,
      config: { hidden_size: 512, intermediate_size: 1536, head_dim: 128 },
    });
    const config = defaultLoraConfig({ r: 2, lora_alpha: 4, target_modules: ['q_proj'] });
    await writeAdapter(
      join(dir, 'big-adapter'),
      initLoraAdapter(matchTargetModules(big.spec, config).targets, config, seededRandom(1)),
    );
    const bigAdapter = (await core.invoke('adapters.import', {
      projectId,
      path: join(dir, 'big-adapter'),
      name: 'Big',
      model: big.dir,
    })) as Adapter;
    const outPath = join(dir, 'cancelled.gguf');
    const started = (await core.invoke('exports.start', {
      adapterId: bigAdapter.id,
      format: 'gguf',
      type: 'q4_0',
      outPath,
    })) as Export;
    await new Promise<void>((resolve) => {
      const off = core.on('job.progress', (e) => {
        if (e.jobId === started.jobId && (e.progress ?? 0) > 0) {
          off();
          resolve();
        }
      });
    });
    await core.invoke('jobs.cancel', { id: started.jobId! });
    expect((await core.jobs.waitFor(started.jobId!)).status).toBe('cancelled');
    expect(((await core.invoke('exports.get', { id: started.id })) as Export).status).toBe('cancelled');
    expect(existsSync(outPath)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('cancelled'))).toEqual([]); // no temporary file either
  });
  it('K-quant GGUF (q4_k_m): llama.cpp’s file type, each tensor in the type the mix picks, the estimate from the same picks', async () => {
    const estimate = (await core.invoke('exports.estimate', {
      adapterId: adapter.id,
      format: 'gguf',
      type: 'q4_k_m',
    })) as ExportEstimate;
    const done = await finished(
      (await core.invoke('exports.start', { adapterId: adapter.id, format: 'gguf', type: 'q4_k_m' })) as Export,
    );
    expect(done.path.endsWith('style-gguf-q4_k_m.gguf')).toBe(true);
    expect(Math.abs(done.sizeBytes! - estimate.bytes) / done.sizeBytes!).toBeLessThan(0.15);
    const parsed = await gguf(done.path, { allowLocalFile: true });
    expect((parsed.metadata as unknown as Record<string, unknown>)['general.file_type']).toBe(15); // MOSTLY_Q4_K_M
    // The fixture's rows (64 wide) are not whole 256-value super-blocks: its matrices fall back to Q5_0 (the output head to Q8_0) as in llama.cpp.
    const model = await openModelFolder(fx.model.dir);
    const want = ggufTableTypes(model.table, 'q4_k_m');
    await model.close();
    const byName = new Map(parsed.tensorInfos.map((t) => [t.name, Number(t.dtype)]));
    expect(model.table.map((e) => byName.get(e.gguf))).toEqual(want);
    expect(want).toContain(GgmlType.Q5_0);
  });
});
