// The one reverse walk every executor follows: what gets a gradient, how many contributions each activation sums,
// and where checkpointing replays a block.
import { describe, expect, it } from 'vitest';
import { buildLlamaProgram } from '../../src/main/model/families/llama/program.ts';
import { applyLora } from '../../src/main/engine/lora/model.ts';
import { backwardWalk, GradientTape } from '../../src/main/engine/autodiff.ts';
import { tinyConfig } from './tiny.ts';

const program = () =>
  applyLora(buildLlamaProgram(tinyConfig('llama', { numLayers: 3 })), { r: 2, alpha: 4, dropout: 0, targetModules: ['q_proj', 'v_proj'], bias: 'none', useRslora: false }).program;

describe('backwardWalk', () => {
  it('gives gradients only downstream of a trainable, and counts fan-in', () => {
    const p = program();
    const w = backwardWalk(p);
    // layer 0 reads frozen embeddings: its normed input needs no gradient; layer 1's feeds q, k and v
    expect(w.wantsActivation('model.layers.0.input_layernorm:out')).toBe(false);
    expect(w.wantsActivation('model.embed_tokens:out')).toBe(false);
    expect(w.fanIn.get('model.layers.1.input_layernorm:out')).toBe(3);
    // the residual stream after layer 0's attention feeds the MLP norm and the next residual add
    expect(w.fanIn.get('model.layers.0:resid_attn')).toBe(2);
    expect(w.needGrad.has('model.layers.0.self_attn.q_proj.lora_A.weight')).toBe(true);
    expect(w.wantsActivation('model.layers.0.self_attn.q_proj.lora_A.weight')).toBe(false); // a param, not an activation
    const idx = w.visits.flatMap((v) => (v.kind === 'node' ? [v.idx] : []));
    expect(idx).toEqual([...idx].sort((a, b) => b - a));
    expect(w.visits.some((v) => v.kind === 'recompute')).toBe(false);
    // the embedding and layer 0's k projection (frozen, no trainable upstream of its output) never run backward
    expect(idx).not.toContain(0);
    const k0 = p.nodes.findIndex((n) => n.op === 'linear' && n.module === 'model.layers.0.self_attn.k_proj');
    expect(idx).not.toContain(k0);
  });

  it('with checkpointing, replays each block right before its first backward node', () => {
    const p = program();
    const w = backwardWalk(p, { checkpointing: true });
    const marks = w.visits.flatMap((v, i) => (v.kind === 'recompute' ? [i] : []));
    expect(marks).toHaveLength(p.blocks.length);
    for (const i of marks) {
      const v = w.visits[i];
      const next = w.visits[i + 1];
      if (v.kind !== 'recompute' || next.kind !== 'node') throw new Error('a replay must be followed by a node');
      expect(next.idx).toBe(v.block.end - 1);
    }
  });

  it('a program with nothing trainable walks nothing', () => {
    const w = backwardWalk(buildLlamaProgram(tinyConfig('llama')));
    expect(w.visits).toEqual([]);
    expect(w.fanIn.size).toBe(0);
  });
});

describe('GradientTape', () => {
  it('keeps the first contribution and sums later ones, ignoring refused names', () => {
    const t = new GradientTape<number>((a, b) => a + b, (n) => n !== 'frozen');
    t.add('x', 2);
    t.add('x', 3);
    t.add('frozen', 1);
    expect(t.get('x')).toBe(5);
    expect(t.has('frozen')).toBe(false);
  });
});
