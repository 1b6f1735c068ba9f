// The Llama family on real (tiny) Hugging Face folders from tests/fixtures: config.json → ModelSpec → program,
// LoRA targets resolved by formats/peft (PEFT's rules), weights read from safetensors; the ONNX executor in
// float64 agrees with the float64 reference, and the trainable count equals formats/peft's count.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTinyModel } from '../../fixtures/tiny-models.ts';
import { openModelFolder } from '../../../src/main/formats/model/index.ts';
import { countTrainable, defaultLoraConfig, matchTargetModules } from '../../../src/main/formats/peft/index.ts';
import { buildLlamaProgram, llamaConfigFromModelSpec } from '../../../src/main/model/families/llama/program.ts';
import { countParams } from '../../../src/main/model/ir.ts';
import { applyLora } from '../../../src/main/engine/lora/model.ts';
import { ReferenceExecutor } from '../../../src/main/engine/executors/reference/executor.ts';
import { prepareBatch } from '../../../src/main/engine/batch-inputs.ts';
import { createCpuTrainingSession } from '../../../src/main/engine/executors/onnx/session.ts';
import { peftKey } from '../../../src/main/model/ir.ts';
import { relErr } from '../helpers.ts';
import { tinyBatch } from '../tiny.ts';

const root = mkdtempSync(join(tmpdir(), 'engine-fixtures-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.each(['llama', 'mistral', 'qwen2', 'qwen3'] as const)('%s fixture folder', (family) => {
  it('lowers, counts like PEFT, and matches the reference', async () => {
    const tiny = await makeTinyModel(join(root, family), family, { tokenizer: false, seed: 9 });
    const folder = await openModelFolder(tiny.dir);
    try {
      const spec = folder.spec;
      const peft = defaultLoraConfig({ r: 2, lora_alpha: 6, target_modules: ['q_proj', 'v_proj', 'down_proj', 'nope_proj'], bias: family === 'qwen2' ? 'lora_only' : 'none', rank_pattern: { down_proj: 3 } });
      const match = matchTargetModules(spec, peft);
      expect(match.warnings.join()).toMatch(/nope_proj/);
      const base = buildLlamaProgram(llamaConfigFromModelSpec(spec));
      const { program, warnings } = applyLora(base, { r: 2, alpha: 6, dropout: 0, targetModules: peft.target_modules!, bias: peft.bias, useRslora: false }, match);
      expect(warnings).toEqual(match.warnings);
      expect(countParams(program, (d) => d.trainable)).toBe(countTrainable(spec, peft, match).trainable);
      expect(countParams(base)).toBe(countTrainable(spec, peft, match).base);
      const weights = new Map<string, Float64Array>();
      for (const d of program.params) weights.set(d.name, d.init ? new Float64Array(d.shape.reduce((a, b) => a * b, 1)).fill(0.03125) : Float64Array.from(await folder.readHf(d.name)));
      const batch = tinyBatch(spec.vocabSize, 6);
      const ref = new ReferenceExecutor(program, weights);
      const inp = prepareBatch(program, batch);
      const fwd = ref.forward(inp);
      const grads = ref.backward(inp, fwd);
      const s = await createCpuTrainingSession({ program, weights, seed: 0, elem: 'float64', threads: 1 });
      s.setTrainables(new Map(program.params.filter((d) => d.trainable).map((d) => [peftKey(d.name), { shape: d.shape, data: Float32Array.from(weights.get(d.name)!) }])));
      const r = await s.microStep(batch);
      expect(r.lossSum).toBeCloseTo(fwd.lossSum, 9);
      for (const d of program.params.filter((p) => p.trainable)) expect(relErr(s.getAccumulatedGradients().get(peftKey(d.name))!.data, grads.get(d.name)!), d.name).toBeLessThan(1e-6);
      await s.dispose();
    } finally {
      await folder.close();
    }
  });
});
