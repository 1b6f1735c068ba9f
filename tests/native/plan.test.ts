// The CUDA executor's lowering, checked on the CPU: the plan (kernel steps over device slots) replayed by the
// float64 harness must give the reference executor's NLL, logits and LoRA gradients, for every Llama-family variant,
// with and without gradient checkpointing, while actually reusing slots.
import { describe, expect, it } from 'vitest';
import { buildLlamaProgram } from '../../src/main/model/families/llama/program.ts';
import { applyLora } from '../../src/main/engine/lora/model.ts';
import type { LoraConfig } from '../../src/main/engine/lora/config.ts';
import type { Program } from '../../src/main/model/ir.ts';
import type { Batch } from '../../src/main/engine/session.ts';
import { dropoutMasks, prepareBatch } from '../../src/main/engine/batch-inputs.ts';
import { ReferenceExecutor } from '../../src/main/engine/executors/reference/executor.ts';
import { allocateSlots, lowerProgram, planSlotBytes, trainableOffsets, type Plan } from '../../src/main/engine/executors/plan/plan.ts';
import { PlanHarness } from '../../src/main/engine/executors/plan/harness.ts';
import { randomWeights, tinyBatch, tinyConfig } from '../engine/tiny.ts';
import { relErr } from '../engine/helpers.ts';
import { tinyModelConfig } from '../fixtures/tiny-models.ts';
import { specFromConfig } from '../../src/main/formats/model/index.ts';
import { buildProgramFromSpec } from '../../src/main/model/families/index.ts';

const lora = (over: Partial<LoraConfig> = {}): LoraConfig => ({ r: 3, alpha: 6, dropout: 0.25, targetModules: 'all-linear', bias: 'none', useRslora: false, ...over });

function setup(p: Program, batch: Batch, seed = 5) {
  const weights = randomWeights(p, seed);
  const { offsets, total } = trainableOffsets(p);
  const flat = new Float64Array(total);
  for (const [name, off] of offsets) flat.set(weights.get(name)!, off);
  const inp = prepareBatch(p, batch);
  const masks32 = dropoutMasks(p, inp.N, 11, 'micro-step');
  // the plan keeps 0/1 flags and multiplies by 1/(1−p) in full precision: give the reference the same multipliers
  const keepScale = new Map(p.nodes.flatMap((n) => (n.op === 'linear' && n.lora ? [[n.module, 1 / (1 - n.lora.dropout)] as const] : [])));
  const masks64 = new Map([...masks32].map(([k, v]) => [k, Float64Array.from(v, (x) => (x > 0 ? keepScale.get(k)! : 0))]));
  const ref = new ReferenceExecutor(p, weights);
  return { weights, flat, offsets, inp, masks32, masks64, ref };
}

function runPlan(plan: Plan, p: Program, s: ReturnType<typeof setup>, batch: Batch) {
  const h = new PlanHarness(plan, p, s.weights, s.flat);
  const out = h.run({ B: batch.B, T: batch.T, ids: batch.inputIds, labels: batch.labels, mask: batch.attentionMask, segments: batch.segmentIds, positions: s.inp.positions, cos: s.inp.cos, sin: s.inp.sin, cosLocal: s.inp.cosLocal, sinLocal: s.inp.sinLocal, dropMasks: s.masks32 });
  return { ...out, grads: h.gradAcc };
}

function expectMatchesReference(p: Program, batch: Batch, checkpointing: boolean) {
  const s = setup(p, batch);
  const fwd = s.ref.forward(s.inp, s.masks64);
  const grads = s.ref.backward(s.inp, fwd, s.masks64);
  const plan = lowerProgram(p, { mode: 'train', checkpointing, chunkRows: 3 });
  const got = runPlan(plan, p, s, batch);
  expect(relErr(got.nll, fwd.nll)).toBeLessThan(1e-9);
  let checked = 0;
  for (const [name, off] of s.offsets) {
    const g = grads.get(name)!;
    expect(relErr(got.grads.subarray(off, off + g.length), g), name).toBeLessThan(1e-9);
    checked++;
  }
  expect(checked).toBeGreaterThan(0);
  return { plan, got };
}

describe('CUDA plan lowering vs the float64 reference executor', () => {
  for (const family of ['llama', 'qwen2', 'qwen3', 'mistral'] as const)
    it(`${family}: NLL and every LoRA gradient (all-linear, dropout), with and without checkpointing`, () => {
      const p = applyLora(buildLlamaProgram(tinyConfig(family, { numLayers: 3 })), lora()).program;
      const batch = tinyBatch(p.vocab, 6);
      const a = expectMatchesReference(p, batch, false);
      const b = expectMatchesReference(p, batch, true);
      // recompute replays the same float64 ops: identical, not merely close
      expect(Array.from(b.got.grads)).toEqual(Array.from(a.got.grads));
      expect(b.plan.steps.length).toBeGreaterThan(a.plan.steps.length);
    });

  // GPT-2: learned positions, fused c_attn split by slices, LayerNorm, GELU. Gemma 3: (1+w) norms, q/k norms, GeGLU,
  // local rope tables and sliding windows, query_pre_attn_scalar, logit soft-capping fused into the LM head.
  const specs = {
    gpt2: () => specFromConfig(tinyModelConfig('gpt2', { config: { vocab_size: 13, n_embd: 8, n_head: 2, n_inner: 12, n_positions: 9 } }), 'gpt2/config.json'),
    gemma3: () => specFromConfig(tinyModelConfig('gemma3', {
      layers: 3,
      config: { vocab_size: 13, hidden_size: 8, intermediate_size: 12, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 6, query_pre_attn_scalar: 5, sliding_window: 3, rope_theta: 1000, rope_local_base_freq: 50, final_logit_softcapping: 2.5 },
    }), 'gemma3/config.json'),
  };
  for (const [name, spec] of Object.entries(specs))
    it(`${name}: NLL and LoRA gradients through the family's own ops, with and without checkpointing`, () => {
      const p = applyLora(buildProgramFromSpec(spec()), lora()).program;
      const batch = tinyBatch(p.vocab, 6);
      const a = expectMatchesReference(p, batch, false);
      const b = expectMatchesReference(p, batch, true);
      expect(Array.from(b.got.grads)).toEqual(Array.from(a.got.grads));
      const kinds = new Set(a.plan.steps.map((s) => s.kind));
      if (name === 'gpt2') for (const k of ['position_embedding', 'slice', 'slice_bwd', 'zero', 'layernorm_bwd', 'gelu_bwd']) expect(kinds).toContain(k);
      else {
        for (const k of ['geglu_bwd', 'rmsnorm_bwd']) expect(kinds).toContain(k);
        expect(a.plan.steps.find((s) => s.kind === 'lm_head_loss')).toMatchObject({ softcap: 2.5 });
        expect(a.plan.steps.some((s) => s.kind === 'rope' && s.local)).toBe(true);
      }
    });

  for (const [name, build] of [['llama', () => buildLlamaProgram(tinyConfig('llama', { numLayers: 3 }))], ['gpt2', () => buildProgramFromSpec(specs.gpt2())], ['gemma3', () => buildProgramFromSpec(specs.gemma3())]] as const)
    it(`${name}: checkpointing replays every node of every block once, and nothing without it`, () => {
      const p = applyLora(build(), lora()).program;
      const replayed = (plan: Plan) => plan.tensors.filter((t) => t.dtype === 'act' && t.name.endsWith('(recompute)')).map((t) => t.name.slice(0, -'(recompute)'.length));
      const inBlocks = p.blocks.flatMap((b) => p.nodes.slice(b.start, b.end).map((n) => n.out));
      expect(p.blocks.length).toBeGreaterThan(1);
      expect(replayed(lowerProgram(p, { mode: 'train' }))).toEqual([]);
      const ckpt = lowerProgram(p, { mode: 'train', checkpointing: true });
      // blocks are replayed last layer first, each in forward order
      const expected = [...p.blocks].reverse().flatMap((b) => p.nodes.slice(b.start, b.end).map((n) => n.out));
      expect(replayed(ckpt)).toEqual(expected);
      expect(new Set(replayed(ckpt))).toEqual(new Set(inBlocks));
    });

  it('packed rows (segment ids) and LoRA on q/v only (k and the MLP carry no gradient of their own)', () => {
    const p = applyLora(buildLlamaProgram(tinyConfig('llama')), lora({ targetModules: ['q_proj', 'v_proj'], dropout: 0 })).program;
    const batch = { ...tinyBatch(p.vocab, 6), segmentIds: Int32Array.from([1, 1, 1, 2, 2, 2, 1, 1, 2, 2, 0, 0]) };
    const { plan } = expectMatchesReference(p, batch, false);
    expect(plan.steps.some((s) => s.kind === 'dropout_mask')).toBe(false);
  });

  it('eval and logits plans give the reference NLL and logits, and keep no backward', () => {
    const p = applyLora(buildLlamaProgram(tinyConfig('qwen2')), lora({ dropout: 0 })).program;
    const batch = tinyBatch(p.vocab, 5);
    const s = setup(p, batch);
    const fwd = s.ref.forward(s.inp);
    const evalPlan = lowerProgram(p, { mode: 'eval', chunkRows: 4 });
    expect(evalPlan.steps.some((x) => x.kind.endsWith('_bwd'))).toBe(false);
    expect(relErr(runPlan(evalPlan, p, s, batch).nll, fwd.nll)).toBeLessThan(1e-12);
    const logitsPlan = lowerProgram(p, { mode: 'logits' });
    const got = runPlan(logitsPlan, p, s, batch);
    expect(relErr(got.logits!, fwd.logits)).toBeLessThan(1e-12);
    expect(relErr(got.nll, fwd.nll)).toBeLessThan(1e-12);
  });
});

describe('slots and memory', () => {
  const p = applyLora(buildLlamaProgram(tinyConfig('llama', { numLayers: 6 })), lora()).program;

  it('reuses slots, and checkpointing by layer needs fewer activation bytes', () => {
    const plain = lowerProgram(p, { mode: 'train' });
    const ckpt = lowerProgram(p, { mode: 'train', checkpointing: true });
    expect(plain.slots.length).toBeLessThan(plain.tensors.length / 2);
    expect(planSlotBytes(ckpt, 4096, 'bf16')).toBeLessThan(planSlotBytes(plain, 4096, 'bf16') * 0.6);
  });

  it('the harness catches a slot handed out while its tenant is still needed', () => {
    const plan = lowerProgram(p, { mode: 'train' });
    const batch = tinyBatch(p.vocab, 4);
    const s = setup(p, batch);
    expect(allocateSlots(plan.tensors, plan.steps, [plan.nll]).slotOf).toEqual(plan.slotOf); // deterministic
    // a broken allocation: every activation tensor squeezed into slot 0
    const squeezed: Plan = { ...plan, slotOf: plan.slotOf.map((sl, t) => (plan.tensors[t].dtype === 'act' ? 0 : sl)), slots: plan.slots.map((sl, i) => (i === 0 ? { ...sl, width: Math.max(...plan.tensors.map((t) => t.width)) } : sl)) };
    squeezed.slots[0] = { ...squeezed.slots[0], dtype: 'act' };
    expect(() => runPlan(squeezed, p, s, batch)).toThrow(/plan harness: step \d+ \(\w+\) reads .* but slot 0 holds/);
  });

  it('trains biases (bias "all": their gradients accumulate in the flat layout) and refuses what it cannot train', () => {
    const withBias = applyLora(buildLlamaProgram(tinyConfig('qwen2')), lora({ bias: 'all', dropout: 0 })).program;
    const { plan } = expectMatchesReference(withBias, tinyBatch(withBias.vocab, 5), false);
    expect(plan.steps.filter((s) => s.kind === 'linear_bwd' && s.trainB !== null).length).toBeGreaterThan(0);
    const full = { ...withBias, params: withBias.params.map((d) => ({ ...d, trainable: true })) };
    expect(() => lowerProgram(full, { mode: 'train' })).toThrow(/input_layernorm.weight is not a LoRA matrix nor a linear's weight or bias.*CPU executor for full fine-tuning/);
    // a tied head trained in full would train the embedding table too
    const tiedHead = { ...withBias, params: withBias.params.map((d) => (d.name === 'model.embed_tokens.weight' ? { ...d, trainable: true } : d)) };
    expect(() => lowerProgram(tiedHead, { mode: 'train' })).toThrow(/embedding table model.embed_tokens.weight trains/);
    const bigRank = applyLora(buildLlamaProgram(tinyConfig('llama')), lora({ r: 65 })).program;
    expect(() => lowerProgram(bigRank, { mode: 'train' })).toThrow(/rank 65 .* above the supported 64/);
  });
});
