// tanh (an encoder pooler's activation) is the IR's softcap op with cap 1: tanh(x) = 1·tanh(x/1). A small program
// with tanh inside a block (not fused into the LM head) checks it on every executor: reference gradients against
// finite differences, the float64 ONNX training graph and the device plan (replayed by the float64 harness, with
// and without checkpointing) against the reference.
import { describe, expect, it } from 'vitest';
import type { OpNode, ParamDecl, Program } from '../../src/main/model/ir.ts';
import { applyLora } from '../../src/main/engine/lora/model.ts';
import { tinyBatch } from './tiny.ts';
import { expectFiniteDifferences, expectOnnxMatches, expectPlanMatches, referenceRun } from './executor-checks.ts';

const V = 13;
const C = 6;

/** embed → [rmsnorm → proj → tanh → + residual] → lm_head, the bracket one block. */
function tanhProgram(): Program {
  const param = (name: string, shape: number[], noDecay = false): ParamDecl => ({ name, shape, trainable: false, noDecay });
  const params = [param('embed.weight', [V, C]), param('block.norm.weight', [C], true), param('block.proj.weight', [C, C]), param('lm_head.weight', [V, C])];
  const nodes: OpNode[] = [
    { op: 'embedding', weight: 'embed.weight', out: 'e', width: C, scale: 1 },
    { op: 'rmsnorm', x: 'e', weight: 'block.norm.weight', out: 'h', width: C, eps: 1e-6, plusOne: false },
    { op: 'linear', module: 'block.proj', x: 'h', weight: 'block.proj.weight', bias: null, lora: null, out: 'p', inF: C, outF: C },
    { op: 'softcap', x: 'p', out: 't', width: C, cap: 1 }, // tanh
    { op: 'add', a: 'e', b: 't', out: 'r', width: C },
    { op: 'linear', module: 'lm_head', x: 'r', weight: 'lm_head.weight', bias: null, lora: null, out: 'logits', inF: C, outF: V },
  ];
  const widths = new Map([...['e', 'h', 'p', 't', 'r'].map((n) => [n, C] as const), ['logits', V] as const]);
  const base: Program = { family: 'test', params, nodes, widths, blocks: [{ name: 'block', start: 1, end: 5 }], logits: 'logits', vocab: V, rope: null };
  return applyLora(base, { r: 2, alpha: 4, dropout: 0, targetModules: ['proj'], bias: 'none', useRslora: false }).program;
}

describe('tanh (softcap with cap 1) inside a block', () => {
  const p = tanhProgram();
  const batch = tinyBatch(V, 5);
  const { weights, inp, ref, fwd, grads, trainables } = referenceRun(p, 3, batch);

  it('reference gradients match finite differences', () => {
    expect(trainables.map((d) => d.name)).toEqual(['block.proj.lora_A.weight', 'block.proj.lora_B.weight']);
    expectFiniteDifferences(ref, inp, grads, trainables.map((d) => d.name));
  });

  // gradTol 1e-6: the session hands accumulated gradients back as float32 (executor-checks.ts)
  it('the float64 ONNX training graph gives the reference loss and gradients', () =>
    expectOnnxMatches(p, weights, batch, fwd, grads, { elem: 'float64', lossTol: 1e-10, gradTol: 1e-6 }));

  for (const checkpointing of [false, true])
    it(`the device plan gives the reference NLL and gradients (checkpointing ${checkpointing ? 'on' : 'off'})`, () => {
      const plan = expectPlanMatches(p, weights, batch, inp, fwd, grads, checkpointing);
      expect(plan.steps.filter((s) => s.kind === 'softcap' && s.cap === 1)).toHaveLength(checkpointing ? 2 : 1); // forward (+ replay)
    });
});
