// GPT-2 and Gemma 3 on real (tiny) Hugging Face folders: Conv1D weights arrive transposed into [out, in]; LoRA on
// q/k/v/o (GPT-2: c_attn and attn.c_proj) counts exactly what formats/peft (PEFT's rules) and the shapes give;
// a fresh adapter (B = 0) leaves the base logits unchanged; an attached adapter equals its merge into the base;
// a full fine-tune's weights written as a model folder read back identical, in the checkpoint's layout.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTinyModel } from '../../fixtures/tiny-models.ts';
import { openModelFolder } from '../../../src/main/formats/model/index.ts';
import { countTrainable, defaultLoraConfig, matchTargetModules } from '../../../src/main/formats/peft/index.ts';
import { buildProgramFromSpec } from '../../../src/main/model/families/index.ts';
import { fullFineTuneProgram } from '../../../src/main/engine/models/index.ts';
import { countParams } from '../../../src/main/model/ir.ts';
import { readProgramWeights, transpose2d } from '../../../src/main/engine/models/load.ts';
import { applyLora } from '../../../src/main/engine/lora/model.ts';
import { loraDelta, mergeInto } from '../../../src/main/engine/lora/layer.ts';
import { createCpuTrainingSession } from '../../../src/main/engine/executors/onnx/session.ts';
import { writeFullModel } from '../../../src/main/engine/trainer/model-session.ts';
import { peftKey } from '../../../src/main/model/ir.ts';
import type { TensorMap } from '../../../src/main/engine/session.ts';
import { randn, relErr } from '../helpers.ts';
import { tinyBatch } from '../tiny.ts';

const root = mkdtempSync(join(tmpdir(), 'family-fixtures-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const TARGETS = { gpt2: ['c_attn', 'attn.c_proj'], gemma3: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] } as const;

describe.each(['gpt2', 'gemma3'] as const)('%s fixture folder', (family) => {
  it('loads, counts like PEFT, keeps base logits at B = 0, merged equals attached, full weights round-trip', async () => {
    const tiny = await makeTinyModel(join(root, family), family, { seed: 13 });
    const folder = await openModelFolder(tiny.dir);
    const spec = folder.spec;
    const base = buildProgramFromSpec(spec);
    const r = 4;
    const { program } = applyLora(base, { r, alpha: 8, dropout: 0, targetModules: [...TARGETS[family]], bias: 'none', useRslora: false });
    let weights: Map<string, Float32Array>;
    try {
      weights = (await readProgramWeights(folder, program)) as Map<string, Float32Array>;
    } finally {
      await folder.close();
    }

    // Conv1D: the program's [out, in] is the checkpoint's [in, out] transposed
    if (family === 'gpt2') {
      const C = spec.hiddenSize;
      const stored = tiny.tensors.get('transformer.h.0.attn.c_attn.weight')!; // [C, 3C]
      expect([...weights.get('transformer.h.0.attn.c_attn.weight')!]).toEqual([...transpose2d(stored, C, 3 * C)]);
    }

    // trainable counts: PEFT's matching and our program agree, and both equal the shapes' sum
    const peft = defaultLoraConfig({ r, lora_alpha: 8, target_modules: [...TARGETS[family]] });
    const counted = countTrainable(spec, peft, matchTargetModules(spec, peft));
    const trainable = countParams(program, (d) => d.trainable);
    expect(trainable).toBe(counted.trainable);
    expect(countParams(base)).toBe(counted.base);
    const { hiddenSize: C, numHeads: NH, numKvHeads: NKV, headDim: HD, numLayers: L } = spec;
    const byShapes = family === 'gpt2'
      ? L * r * (C + 3 * C + C + C)
      : L * r * (C + NH * HD + 2 * (C + NKV * HD) + NH * HD + C);
    expect(trainable).toBe(byShapes);

    const batch = tinyBatch(spec.vocabSize, 8);
    // B = 0: a fresh adapter computes exactly the base model
    const baseSession = await createCpuTrainingSession({ program: base, weights, seed: 0, threads: 1 });
    const loraSession = await createCpuTrainingSession({ program, weights, seed: 0, threads: 1 });
    try {
      const baseLogits = (await baseSession.forward(batch)).logits;
      expect(relErr((await loraSession.forward(batch)).logits, baseLogits)).toBe(0);
    } finally {
      await baseSession.dispose();
      await loraSession.dispose();
    }

    // attached == merged (float64 graphs): W' = W + scale·B·A on every targeted linear
    const adapter: TensorMap = new Map(program.params.filter((d) => d.trainable).map((d, i) => [peftKey(d.name), { shape: d.shape, data: Float32Array.from(randn(d.shape.reduce((a, b) => a * b, 1), 70 + i, 0.2)) }]));
    const merged = new Map([...weights].map(([k, v]) => [k, Float32Array.from(v)]));
    for (const n of program.nodes) {
      if (n.op !== 'linear' || !n.lora) continue;
      mergeInto(merged.get(n.weight)!, loraDelta(adapter.get(peftKey(n.lora.A))!.data, adapter.get(peftKey(n.lora.B))!.data, n.lora.r, n.inF, n.outF, n.lora.scale));
    }
    const attached = await createCpuTrainingSession({ program, weights, seed: 0, elem: 'float64', threads: 1 });
    const mergedSession = await createCpuTrainingSession({ program: base, weights: merged, seed: 0, elem: 'float64', threads: 1 });
    try {
      attached.setTrainables(adapter);
      const a = (await attached.forward(batch)).logits;
      const m = (await mergedSession.forward(batch)).logits;
      expect(relErr(a, m)).toBeLessThan(1e-6); // the merge rounds W' to float32 once
      expect(relErr(a, await baseSessionLogits(base, weights, batch))).toBeGreaterThan(1e-3); // the adapter matters
    } finally {
      await attached.dispose();
      await mergedSession.dispose();
    }

    // full fine-tuning: the trainables are every weight; written as a model folder they read back bit for bit
    const full = fullFineTuneProgram(base);
    const fullSession = await createCpuTrainingSession({ program: full, weights, seed: 0, threads: 1 });
    const out = join(root, `${family}-full`);
    try {
      const trainables = fullSession.getTrainables();
      expect(trainables.size).toBe(base.params.length);
      await writeFullModel(out, { modelDir: tiny.dir, spec, hfConfig: tiny.config, program: full, trainables, trainingTemplate: null });
    } finally {
      await fullSession.dispose();
    }
    const back = await openModelFolder(out);
    try {
      expect(back.tokenizerFiles).toContain('tokenizer.json');
      for (const [name, stored] of tiny.tensors) expect([...(await back.readHf(name))], name).toEqual([...stored]);
    } finally {
      await back.close();
    }
  });
});

async function baseSessionLogits(program: Parameters<typeof createCpuTrainingSession>[0]['program'], weights: Map<string, Float32Array>, batch: ReturnType<typeof tinyBatch>) {
  const s = await createCpuTrainingSession({ program, weights, seed: 0, elem: 'float64', threads: 1 });
  try {
    return (await s.forward(batch)).logits;
  } finally {
    await s.dispose();
  }
}
