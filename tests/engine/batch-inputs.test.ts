// Batch-level inputs every executor shares: dropout masks, positions and the attention bias for packed rows.
import { describe, expect, it } from 'vitest';
import { bernoulliMask, dropoutKeeps, dropoutMasks, prepareBatch } from '../../src/main/engine/batch-inputs.ts';
import { applyLora } from '../../src/main/engine/lora/model.ts';
import { buildLlamaProgram } from '../../src/main/model/families/llama/program.ts';
import { MASK_BIAS } from '../../src/main/engine/ops/attention.ts';
import { tinyConfig } from './tiny.ts';

describe('batch inputs', () => {
  it('dropout masks drop with probability p, scale the rest by 1/(1−p), and are reproducible', () => {
    const m = bernoulliMask(200_001, 0.1, 99);
    const zeros = m.filter((v) => v === 0).length / m.length;
    expect(zeros).toBeGreaterThan(0.097);
    expect(zeros).toBeLessThan(0.103);
    expect(new Set(m)).toEqual(new Set([0, Math.fround(1 / 0.9)]));
    expect(bernoulliMask(1001, 0.1, 99)).toEqual(m.subarray(0, 1001));
    expect(bernoulliMask(1001, 0.1, 100)).not.toEqual(m.subarray(0, 1001));
  });

  it('the keep flags the CPU step feeds (one byte each) are the same draws as the multipliers other executors use', () => {
    const base = buildLlamaProgram(tinyConfig('llama'));
    const p = applyLora(base, { r: 2, alpha: 4, dropout: 0.2, targetModules: ['q_proj', 'v_proj'], bias: 'none', useRslora: false }).program;
    const N = 7;
    const keeps = dropoutKeeps(p, N, 5, 'step 3 micro 1');
    const masks = dropoutMasks(p, N, 5, 'step 3 micro 1');
    expect([...keeps.keys()]).toEqual([...masks.keys()]);
    expect(keeps.size).toBe(2 * tinyConfig('llama').numLayers);
    for (const [module, keep] of keeps) {
      expect(keep).toBeInstanceOf(Uint8Array);
      expect(Float32Array.from(keep, (k) => (k ? Math.fround(1 / 0.8) : 0))).toEqual(masks.get(module));
      expect(new Set(keep)).toEqual(new Set([0, 1]));
    }
    // another micro-step draws other flags
    expect(dropoutKeeps(p, N, 5, 'step 3 micro 2').get([...keeps.keys()][0])).not.toEqual([...keeps.values()][0]);
  });

  it('packed rows restart positions and keep attention inside each example', () => {
    const p = buildLlamaProgram(tinyConfig('llama'));
    const inp = prepareBatch(p, {
      B: 1, T: 5, inputIds: Int32Array.from([1, 2, 3, 4, 0]), attentionMask: Uint8Array.from([1, 1, 1, 1, 0]),
      labels: Int32Array.from([2, -100, 4, -100, -100]), segmentIds: Int32Array.from([1, 1, 2, 2, 0]),
    });
    // cos of position 0 is 1 in every frequency: rows 0 and 2 start an example
    const HD = p.rope!.headDim;
    expect(inp.cos![2 * HD]).toBe(1);
    expect(inp.cos![1 * HD]).not.toBe(1);
    const T = 5;
    expect(inp.bias[3 * T + 2]).toBe(0); // example 2 sees itself
    expect(inp.bias[2 * T + 1]).toBe(MASK_BIAS); // not example 1
    expect(() => prepareBatch(p, { B: 1, T: 5, inputIds: new Int32Array(5), attentionMask: new Uint8Array(5), labels: new Int32Array(4) })).toThrow(/labels has 4 entries, expected B·T = 5/);
  });
});
