// GPT-2 and Gemma 3 (and, for full fine-tuning's sake, Qwen2) programs on small in-memory specs (parsed from the fixtures' config.json with shrunken
// shapes): gradients of the float64 reference against finite differences for LoRA (every linear) and for full
// fine-tuning (embeddings — token, learned positions, tied head —, LayerNorm/RMSNorm weights, linear weights and
// biases), and the ONNX executor (float64 graphs) against the reference: loss, logits and every gradient.
import { describe, expect, it } from 'vitest';
import { tinyModelConfig } from '../../fixtures/tiny-models.ts';
import { specFromConfig, type ModelSpec } from '../../../src/main/formats/model/index.ts';
import { buildProgramFromSpec } from '../../../src/main/model/families/index.ts';
import { fullFineTuneProgram } from '../../../src/main/engine/models/index.ts';
import { countParams } from '../../../src/main/model/ir.ts';
import { applyLora } from '../../../src/main/engine/lora/model.ts';
import { ReferenceExecutor } from '../../../src/main/engine/executors/reference/executor.ts';
import { prepareBatch } from '../../../src/main/engine/batch-inputs.ts';
import { createCpuTrainingSession } from '../../../src/main/engine/executors/onnx/session.ts';
import { peftKey, type Program } from '../../../src/main/model/ir.ts';
import { relErr } from '../helpers.ts';
import { randomWeights, tinyBatch } from '../tiny.ts';

const V = 13;
function smallSpec(kind: 'qwen2' | 'gpt2' | 'gemma3' | 'gemma3-softcap'): ModelSpec {
  // Qwen2: the Llama family with q/k/v biases and a tied head (full fine-tuning's tied-embedding case)
  if (kind === 'qwen2') return specFromConfig(tinyModelConfig('qwen2', { config: { vocab_size: V, hidden_size: 8, intermediate_size: 12, num_attention_heads: 4, num_key_value_heads: 2 } }), 'qwen2/config.json');
  if (kind === 'gpt2') return specFromConfig(tinyModelConfig('gpt2', { config: { vocab_size: V, n_embd: 8, n_head: 2, n_inner: 12, n_positions: 9 } }), 'gpt2/config.json');
  return specFromConfig(tinyModelConfig('gemma3', {
    layers: 3,
    config: {
      vocab_size: V, hidden_size: 8, intermediate_size: 12, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 6,
      query_pre_attn_scalar: 5, sliding_window: 3, rope_theta: 1000, rope_local_base_freq: 50,
      final_logit_softcapping: kind === 'gemma3-softcap' ? 2.5 : null,
    },
  }), 'gemma3/config.json');
}

const cases = ['qwen2', 'gpt2', 'gemma3', 'gemma3-softcap'] as const;

function programs(kind: (typeof cases)[number]): { lora: Program; full: Program } {
  const base = buildProgramFromSpec(smallSpec(kind));
  const lora = applyLora(base, { r: 2, alpha: 4, dropout: 0, targetModules: 'all-linear', bias: 'none', useRslora: false }).program;
  return { lora, full: fullFineTuneProgram(base) };
}

function checkFiniteDifferences(program: Program, seed: number): void {
  const weights = randomWeights(program, seed);
  const batch = tinyBatch(V, 6);
  const ref = new ReferenceExecutor(program, weights);
  const inp = prepareBatch(program, batch);
  const grads = ref.backward(inp, ref.forward(inp));
  const trainables = program.params.filter((d) => d.trainable);
  expect(trainables.length).toBeGreaterThan(0);
  for (const d of trainables) {
    const w = weights.get(d.name)!;
    const g = grads.get(d.name)!;
    // probe the largest-gradient entry too, so an all-zero gradient for a used tensor cannot pass
    let big = 0;
    for (let i = 1; i < g.length; i++) if (Math.abs(g[i]) > Math.abs(g[big])) big = i;
    for (const i of [0, Math.floor(w.length / 2), w.length - 1, big]) {
      const old = w[i];
      const central = (h: number) => {
        w[i] = old + h;
        const fp = ref.forward(inp).lossSum;
        w[i] = old - h;
        const fm = ref.forward(inp).lossSum;
        w[i] = old;
        return (fp - fm) / (2 * h);
      };
      // Richardson extrapolation cancels the h² term: Gemma's (1 + w) norms and √C embedding scale make the loss
      // sharply curved at random weights, where a plain central difference is off in the sixth digit
      const num = (4 * central(5e-6) - central(1e-5)) / 3;
      expect(Math.abs(g[i] - num), `${d.name}[${i}]`).toBeLessThan(1e-6 * Math.max(1, Math.abs(num)));
    }
    expect(Math.abs(g[big]), `${d.name} gets a gradient`).toBeGreaterThan(0);
  }
}

async function checkOnnxAgainstReference(program: Program, seed: number): Promise<void> {
  // float32-representable weights, so the session's float32 trainables map holds the reference's exact values
  const weights = new Map([...randomWeights(program, seed)].map(([k, v]) => [k, Float64Array.from(Float32Array.from(v))]));
  const batch = tinyBatch(V, 6);
  const ref = new ReferenceExecutor(program, weights);
  const inp = prepareBatch(program, batch);
  const fwd = ref.forward(inp);
  const grads = ref.backward(inp, fwd);
  const s = await createCpuTrainingSession({ program, weights, seed: 0, elem: 'float64', threads: 1 });
  try {
    s.setTrainables(new Map(program.params.filter((d) => d.trainable).map((d) => [peftKey(d.name), { shape: d.shape, data: Float32Array.from(weights.get(d.name)!) }])));
    const r = await s.microStep(batch);
    expect(r.tokens).toBe(fwd.tokens);
    expect(Math.abs(r.lossSum - fwd.lossSum)).toBeLessThan(1e-10 * Math.abs(fwd.lossSum));
    const acc = s.getAccumulatedGradients();
    for (const d of program.params.filter((p) => p.trainable)) expect(relErr(acc.get(peftKey(d.name))!.data, grads.get(d.name)!), d.name).toBeLessThan(1e-6);
    const { logits } = await s.forward(batch);
    expect(relErr(logits, fwd.logits)).toBeLessThan(1e-12);
  } finally {
    await s.dispose();
  }
}

describe.each(cases)('%s program', (kind) => {
  const { lora, full } = programs(kind);

  it('has the family traits in its ops', () => {
    const ops = new Set(lora.nodes.map((n) => n.op));
    if (kind === 'gpt2') {
      expect([...ops]).toEqual(expect.arrayContaining(['position_embedding', 'layernorm', 'slice', 'gelu_tanh']));
      expect(lora.params.find((d) => d.name === 'transformer.h.0.attn.c_attn.lora_B.weight')!.shape).toEqual([24, 2]); // 3·hidden
      expect(lora.params.find((d) => d.name === 'transformer.h.0.attn.c_attn.weight')!.storedTransposed).toBe(true);
    } else if (kind === 'qwen2') {
      expect([...ops]).toEqual(expect.arrayContaining(['swiglu', 'rmsnorm', 'rope']));
    } else {
      expect([...ops]).toEqual(expect.arrayContaining(['geglu', 'rmsnorm', 'rope']));
      expect(lora.nodes.filter((n) => n.op === 'rmsnorm').length).toBe(3 * 6 + 1); // four per layer + q/k norms + final
      const att = lora.nodes.filter((n) => n.op === 'attention');
      expect(att.map((n) => (n.op === 'attention' ? n.window : 0))).toEqual([3, 3, null]);
      expect(lora.nodes.filter((n) => n.op === 'rope' && n.local).length).toBe(4);
      expect(ops.has('softcap')).toBe(kind === 'gemma3-softcap');
    }
    if (kind === 'gpt2') // 9 learned positions: a 10-token row is refused with the reason, not read past the table
      expect(() => prepareBatch(lora, tinyBatch(V, 10))).toThrow(/position 9 .*9 learned positions/);
    // weight decay: biases and norm weights excluded, everything else decayed
    for (const d of full.params) expect(d.noDecay, d.name).toBe(d.shape.length === 1);
  });

  it('reference LoRA gradients match finite differences', () => checkFiniteDifferences(lora, 3));
  it('reference full fine-tuning gradients (every parameter kind) match finite differences', () => checkFiniteDifferences(full, 4));
  it('ONNX (float64) matches the reference with LoRA', () => checkOnnxAgainstReference(lora, 5));
  it('ONNX (float64) matches the reference in full fine-tuning', () => checkOnnxAgainstReference(full, 6));
});

describe('Gemma-3-1b shapes (config only, no weights)', () => {
  it('LoRA r=16 with the typo\'d targets trains what PEFT printed: 1,171,456 of 1,001,057,408', () => {
    const spec = specFromConfig({
      architectures: ['Gemma3ForCausalLM'], model_type: 'gemma3_text', vocab_size: 262144, hidden_size: 1152, intermediate_size: 6912,
      num_hidden_layers: 26, num_attention_heads: 4, num_key_value_heads: 1, head_dim: 256, query_pre_attn_scalar: 256,
      sliding_window: 512, sliding_window_pattern: 6, rope_theta: 1000000, rope_local_base_freq: 10000, rms_norm_eps: 1e-6,
      hidden_activation: 'gelu_pytorch_tanh', max_position_embeddings: 32768, final_logit_softcapping: null, attn_logit_softcapping: null,
      tie_word_embeddings: true,
    }, 'gemma-3-1b/config.json');
    const base = buildProgramFromSpec(spec);
    const { program, warnings } = applyLora(base, { r: 16, alpha: 32, dropout: 0, targetModules: ['q_prog', 'k_proj', 'v_proj', 'o_prog'], bias: 'none', useRslora: false });
    const trainable = countParams(program, (d) => d.trainable);
    expect(trainable).toBe(1_171_456);
    expect(countParams(program)).toBe(1_001_057_408); // PEFT's "all params" includes the adapter
    expect(warnings.join('\n')).toMatch(/q_prog[\s\S]*o_prog/);
    expect(program.nodes.filter((n) => n.op === 'attention' && n.window === null).length).toBe(4); // layers 6, 12, 18, 24
  });
});
