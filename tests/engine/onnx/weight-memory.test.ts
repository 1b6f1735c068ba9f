// Where the CPU session keeps the frozen base: once, in its weight file (mapped by onnxruntime and shared by the
// training, evaluation and logits graphs), with no JavaScript copy after creation — so the caller may drop or
// reuse its arrays, and graphs built later (evaluation, logits) still see the right weights.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildLlamaProgram } from '../../../src/main/model/families/llama/program.ts';
import { applyLora } from '../../../src/main/engine/lora/model.ts';
import { createCpuTrainingSession } from '../../../src/main/engine/executors/onnx/session.ts';
import { WeightFile } from '../../../src/main/engine/executors/onnx/weight-file.ts';
import { quantizeProgram, quantizeWeight } from '../../../src/main/engine/quant/program.ts';
import { nf4StorageBytes, type Nf4Tensor } from '../../../src/main/engine/quant/nf4.ts';
import type { Program } from '../../../src/main/model/ir.ts';
import { relErr } from '../helpers.ts';
import { randomWeights, tinyBatch, tinyConfig } from '../tiny.ts';

const LORA = {
  r: 2,
  alpha: 4,
  dropout: 0,
  targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'],
  bias: 'none' as const,
  useRslora: false,
};

function frozenFloatBytes(p: Program): number {
  return p.params
    .filter((d) => !d.trainable && d.quant !== 'nf4')
    .reduce((s, d) => s + 4 * d.shape.reduce((a, b) => a * b, 1), 0);
}

describe('CPU session weight memory', () => {
  it.each(['llama', 'qwen2'] as const)(
    '%s: the base is in the weight file once, JS keeps none, later graphs read it after the caller wiped its arrays',
    async (family) => {
      const program = applyLora(buildLlamaProgram(tinyConfig(family)), LORA).program;
      const frozen = () =>
        new Map([...randomWeights(program, 3)].filter(([k]) => !program.params.find((d) => d.name === k)!.trainable));
      const batch = tinyBatch(program.vocab);
      // the reference: a session whose caller keeps its arrays untouched, evaluated right away
      const pristine = await createCpuTrainingSession({ program, weights: frozen(), seed: 0 });
      const want = await pristine.forward(batch);
      await pristine.dispose();

      const weights = frozen();
      const s = await createCpuTrainingSession({ program, weights, seed: 0 });
      expect(s.memory()).toEqual({ weightFileBytes: frozenFloatBytes(program), jsWeightBytes: 0, baseDtype: 'f32' });
      for (const w of weights.values()) w.fill(Number.NaN); // a session reading the caller's arrays now gets NaN
      weights.clear(); // …or nothing at all
      const got = await s.forward(batch); // the logits graph is built only now
      expect(relErr(got.logits, want.logits)).toBeLessThan(1e-6);
      const ev = await s.evaluate(batch);
      expect(relErr(ev.nllPerSequence, want.nllPerSequence)).toBeLessThan(1e-6);
      expect((await s.microStep(batch)).lossSum).toBeCloseTo(
        want.nllPerSequence.reduce((a, b) => a + b, 0),
        4,
      );
      expect(s.memory().weightFileBytes).toBe(frozenFloatBytes(program)); // the new graphs stored nothing again
      await s.dispose();
    },
  );

  it('QLoRA: only the NF4 codes and scales stay in JS; float weights (embeddings, norms) go to the file', async () => {
    const base = buildLlamaProgram(tinyConfig('llama', { hiddenSize: 16, intermediateSize: 32 }));
    const program = applyLora(quantizeProgram(base), LORA).program;
    const weights = new Map<string, Float64Array | Nf4Tensor>();
    let nf4Bytes = 0;
    for (const [k, w] of randomWeights(program, 5)) {
      const d = program.params.find((x) => x.name === k)!;
      if (d.trainable) continue;
      if (d.quant !== 'nf4') weights.set(k, w);
      else {
        const q = quantizeWeight(program, k, w, { doubleQuant: true });
        nf4Bytes += nf4StorageBytes(q);
        weights.set(k, q);
      }
    }
    expect(nf4Bytes).toBeGreaterThan(0);
    const s = await createCpuTrainingSession({ program, weights, seed: 0 });
    expect(s.memory()).toEqual({ weightFileBytes: frozenFloatBytes(program), jsWeightBytes: nf4Bytes, baseDtype: 'f32' });
    weights.clear();
    const ev = await s.evaluate(tinyBatch(program.vocab));
    expect(ev.nllPerSequence.every(Number.isFinite)).toBe(true);
    await s.dispose();
  });

  it('dispose deletes the weight file', async () => {
    const program = applyLora(buildLlamaProgram(tinyConfig('llama')), LORA).program;
    const s = await createCpuTrainingSession({ program, weights: randomWeights(program, 1), seed: 0 });
    const dir = (s as unknown as { weightFile: { dir: string } }).weightFile.dir;
    expect(existsSync(dir)).toBe(true);
    await s.dispose();
    expect(existsSync(dir)).toBe(false);
  });

  it('the weight folder of a process killed before dispose is removed by the next weight file; a live one is kept', () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid!; // exited: its pid names no process now
    const stale = join(tmpdir(), `lora-studio-weights-${dead}-test`);
    const live = join(tmpdir(), `lora-studio-weights-${process.ppid}-test`); // the test runner's parent: alive
    for (const d of [stale, live]) {
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'weights.bin'), 'x');
    }
    const f = new WeightFile();
    try {
      expect(existsSync(stale)).toBe(false);
      expect(existsSync(live)).toBe(true);
      expect(existsSync(f.dir)).toBe(true);
    } finally {
      f.remove();
      rmSync(live, { recursive: true, force: true });
    }
  });
});
