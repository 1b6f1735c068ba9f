// The ops encoders add to the IR, as an encoder uses them: BERT's embeddings (words + learned positions, here with
// RoBERTa's offset, + token types, then LayerNorm) and a post-LN layer with bidirectional attention over a padded
// batch (the attention op with causal false) and the exact (erf) GELU. Checked on every executor: reference
// gradients against finite differences (LoRA, and full fine-tuning for the tables), the float64 ONNX training
// graph (and a float32 one, which runs ONNX Erf) and the device plan (replayed by the float64 harness, with and
// without checkpointing) against the reference.
import { describe, expect, it } from 'vitest';
import type { OpNode, ParamDecl, Program } from '../../src/main/model/ir.ts';
import { peftKey } from '../../src/main/model/ir.ts';
import { applyLora } from '../../src/main/engine/lora/model.ts';
import { fullFineTuneProgram } from '../../src/main/engine/models/index.ts';
import type { Batch } from '../../src/main/engine/session.ts';
import { ReferenceExecutor } from '../../src/main/engine/executors/reference/executor.ts';
import { cudaKernelGap, lowerProgram } from '../../src/main/engine/executors/plan/plan.ts';
import { createCpuTrainingSession } from '../../src/main/engine/executors/onnx/session.ts';
import { prepareBatch } from '../../src/main/engine/batch-inputs.ts';
import { buildDecodeGraph } from '../../src/main/engine/executors/onnx/decode-graph.ts';
import { tinyBatch } from './tiny.ts';
import { relErr } from './helpers.ts';
import { expectFiniteDifferences, expectOnnxMatches, expectPlanMatches, referenceRun } from './executor-checks.ts';

const V = 13;
const C = 8;
const NH = 2;
const HD = 4;
const I = 12;
const POSITION_OFFSET = 2; // RoBERTa: padding_idx + 1

/**
 * BERT's order: words + positions + token types → LN → [attn(bidirectional) → +res → LN → fc1 → gelu_erf → fc2 →
 * +res → LN] → head, the bracket one block.
 */
function baseProgram(causal = false): Program {
  const param = (name: string, shape: number[], noDecay = false): ParamDecl => ({ name, shape, trainable: false, noDecay });
  const params = [
    param('embed.weight', [V, C]), param('embed.positions', [8, C]), param('embed.token_types', [2, C]),
    param('embed.norm.weight', [C], true), param('embed.norm.bias', [C], true),
    ...['q', 'k', 'v', 'o'].flatMap((m) => [param(`layer.${m}.weight`, [C, C]), param(`layer.${m}.bias`, [C], true)]),
    param('layer.attn_norm.weight', [C], true), param('layer.attn_norm.bias', [C], true),
    param('layer.fc1.weight', [I, C]), param('layer.fc1.bias', [I], true), param('layer.fc2.weight', [C, I]), param('layer.fc2.bias', [C], true),
    param('layer.out_norm.weight', [C], true), param('layer.out_norm.bias', [C], true),
    param('head.weight', [V, C]),
  ];
  const lin = (m: string, x: string, out: string, inF: number, outF: number): OpNode =>
    ({ op: 'linear', module: `layer.${m}`, x, weight: `layer.${m}.weight`, bias: `layer.${m}.bias`, lora: null, out, inF, outF });
  const nodes: OpNode[] = [
    { op: 'embedding', weight: 'embed.weight', out: 'w', width: C, scale: 1 },
    { op: 'position_embedding', weight: 'embed.positions', out: 'pe', width: C, offset: POSITION_OFFSET },
    { op: 'token_type_embedding', weight: 'embed.token_types', out: 'te', width: C },
    { op: 'add', a: 'w', b: 'pe', out: 'wp', width: C },
    { op: 'add', a: 'wp', b: 'te', out: 'wpt', width: C },
    { op: 'layernorm', x: 'wpt', weight: 'embed.norm.weight', bias: 'embed.norm.bias', out: 'e', width: C, eps: 1e-12 },
    lin('q', 'e', 'q', C, C), lin('k', 'e', 'k', C, C), lin('v', 'e', 'v', C, C),
    { op: 'attention', q: 'q', k: 'k', v: 'v', out: 'a', NH, NKV: NH, HD, window: null, causal },
    lin('o', 'a', 'ao', C, C),
    { op: 'add', a: 'e', b: 'ao', out: 'r1', width: C },
    { op: 'layernorm', x: 'r1', weight: 'layer.attn_norm.weight', bias: 'layer.attn_norm.bias', out: 'h1', width: C, eps: 1e-12 },
    lin('fc1', 'h1', 'f1', C, I),
    { op: 'gelu_erf', x: 'f1', out: 'g', width: I },
    lin('fc2', 'g', 'f2', I, C),
    { op: 'add', a: 'h1', b: 'f2', out: 'r2', width: C },
    { op: 'layernorm', x: 'r2', weight: 'layer.out_norm.weight', bias: 'layer.out_norm.bias', out: 'h2', width: C, eps: 1e-12 },
    { op: 'linear', module: 'head', x: 'h2', weight: 'head.weight', bias: null, lora: null, out: 'logits', inF: C, outF: V },
  ];
  const widths = new Map<string, number>([...nodes.map((n) => [n.out, C] as const), ['f1', I], ['g', I], ['logits', V]]);
  return { family: 'test', params, nodes, widths, blocks: [{ name: 'layer', start: 6, end: nodes.length - 1 }], logits: 'logits', vocab: V, rope: null, maxPositions: 8 - POSITION_OFFSET };
}
const encoderProgram = (causal = false) =>
  applyLora(baseProgram(causal), { r: 2, alpha: 4, dropout: 0, targetModules: ['q', 'v', 'fc1'], bias: 'none', useRslora: false }).program;

/** Two sequences, the second right-padded, as sentence pairs: token types 0 then 1. */
function pairBatch(): Batch {
  const b = tinyBatch(V, 5);
  return { ...b, tokenTypeIds: Int32Array.from([0, 0, 1, 1, 1, 0, 1, 1, 0, 0]) };
}

describe('encoder ops (bidirectional attention with padding, exact GELU) inside a block', () => {
  const p = encoderProgram();
  const batch = pairBatch();
  const { weights, inp, ref, fwd, grads, trainables } = referenceRun(p, 5, batch);

  it('attention is bidirectional: an earlier position sees later tokens, never padding', () => {
    expect(inp.bidirectionalBias).not.toBeNull();
    const causal = new ReferenceExecutor(encoderProgram(true), weights).forward(prepareBatch(encoderProgram(true), batch));
    expect(relErr(causal.logits.subarray(0, V), fwd.logits.subarray(0, V))).toBeGreaterThan(1e-3); // row 0 differs
    // changing a padded token changes no real row's logits; changing a later real token changes row 0's
    const logitsWith = (i: number, id: number) => {
      const ids = batch.inputIds.slice();
      ids[i] = id;
      return ref.forward(prepareBatch(p, { ...batch, inputIds: ids })).logits;
    };
    const padded = logitsWith(batch.T * 2 - 1, 7);
    expect([...padded.subarray(batch.T * V, (2 * batch.T - 2) * V)]).toEqual([...fwd.logits.subarray(batch.T * V, (2 * batch.T - 2) * V)]);
    expect(relErr(logitsWith(batch.T - 1, (batch.inputIds[batch.T - 1] + 1) % V).subarray(0, V), fwd.logits.subarray(0, V))).toBeGreaterThan(1e-6);
  });

  it('reference gradients match finite differences', () => {
    expect(trainables.map((d) => d.name)).toEqual(expect.arrayContaining(['layer.q.lora_A.weight', 'layer.v.lora_B.weight', 'layer.fc1.lora_A.weight']));
    expectFiniteDifferences(ref, inp, grads, trainables.map((d) => d.name));
  });

  for (const elem of ['float64', 'float32'] as const)
    it(`the ${elem} ONNX training graph gives the reference loss and gradients`, () =>
      expectOnnxMatches(p, weights, batch, fwd, grads, elem === 'float64' ? { elem, lossTol: 1e-10, gradTol: 1e-6 } : { elem, lossTol: 1e-4, gradTol: 1e-5 }));

  for (const checkpointing of [false, true])
    it(`the device plan gives the reference NLL and gradients (checkpointing ${checkpointing ? 'on' : 'off'})`, () => {
      const plan = expectPlanMatches(p, weights, batch, inp, fwd, grads, checkpointing);
      const replays = checkpointing ? 2 : 1;
      expect(plan.steps.filter((s) => s.kind === 'attention' && !s.causal)).toHaveLength(replays);
      expect(plan.steps.filter((s) => s.kind === 'attention_bwd' && !s.causal)).toHaveLength(1);
      expect(plan.steps.filter((s) => s.kind === 'gelu_erf')).toHaveLength(replays);
      expect(plan.steps.filter((s) => s.kind === 'gelu_erf_bwd')).toHaveLength(1);
      expect(plan.steps.filter((s) => s.kind === 'token_type_embedding')).toHaveLength(1);
      expect(plan.steps.filter((s) => s.kind === 'position_embedding' && s.offset === POSITION_OFFSET)).toHaveLength(1);
    });

  it('an encoder is not decoded token by token', () => {
    expect(() => buildDecodeGraph(p, { elem: 'float32', weight: (n) => weights.get(n)! })).toThrow(/bidirectional attention .* not decoded/);
  });

  it('the CUDA addon is not handed what it has no kernel for', () => {
    expect(cudaKernelGap(p)).toMatch(/no CUDA kernel yet; use the CPU executor/);
    const without = (drop: (n: OpNode) => boolean): Program => ({ ...p, nodes: p.nodes.filter((n) => !drop(n)) });
    expect(cudaKernelGap(without(() => false))).toMatch(/offset position ids \(embed.positions, RoBERTa\)/);
    expect(cudaKernelGap(without((n) => n.op === 'position_embedding'))).toMatch(/token-type embeddings \(embed.token_types\)/);
    const causal = encoderProgram(true);
    expect(cudaKernelGap({ ...causal, nodes: causal.nodes.filter((n) => n.op !== 'token_type_embedding' && n.op !== 'position_embedding') })).toMatch(/exact \(erf\) GELU/);
    expect(cudaKernelGap({ ...p, nodes: p.nodes.filter((n) => n.op !== 'token_type_embedding' && n.op !== 'position_embedding' && n.op !== 'gelu_erf') })).toMatch(/bidirectional attention/);
  });

  it('positions read the table past its offset, token types their own rows, and bad types are refused', () => {
    expect([...inp.positions.subarray(0, 5)]).toEqual([0, 1, 2, 3, 4]);
    const pos = weights.get('embed.positions')!, types = weights.get('embed.token_types')!;
    // row 1 (sequence 0, position 1, type 0): the embedding sum before LayerNorm, taken from the reference's acts
    const wpt = fwd.acts.get('wpt')!, word = weights.get('embed.weight')!;
    for (let j = 0; j < C; j++)
      expect(wpt[C + j]).toBeCloseTo(word[batch.inputIds[1] * C + j] + pos[(1 + POSITION_OFFSET) * C + j] + types[j], 14);
    expect(wpt[2 * C]).toBeCloseTo(word[batch.inputIds[2] * C] + pos[(2 + POSITION_OFFSET) * C] + types[C], 14); // type 1
    expect(() => prepareBatch(p, { ...batch, tokenTypeIds: new Int32Array(10).fill(2) })).toThrow(/token type 2 \(row 0\) is outside the model's 2 token types/);
    expect(() => prepareBatch(p, tinyBatch(V, 7))).toThrow(/position 6 .* past the model's 6 learned positions/);
  });

  describe('full fine-tuning: the tables get gradients', () => {
    const full = fullFineTuneProgram(baseProgram());
    const fw = new Map([...weights].filter(([k]) => !k.includes('lora_')));
    const fref = new ReferenceExecutor(full, fw);
    const finp = prepareBatch(full, batch);
    const fgrads = fref.backward(finp, fref.forward(finp));
    const tables = ['embed.weight', 'embed.positions', 'embed.token_types'];

    it('reference table gradients match finite differences', () => {
      expectFiniteDifferences(fref, finp, fgrads, tables, 2);
      // rows no token reads get nothing: positions below the offset (RoBERTa's padding rows)
      expect([...fgrads.get('embed.positions')!.subarray(0, POSITION_OFFSET * C)].every((x) => x === 0)).toBe(true);
    });

    it('the float64 ONNX training graph gives the same table gradients', () =>
      expectOnnxMatches(full, fw, batch, fref.forward(finp), fgrads, { elem: 'float64', lossTol: 1e-10, gradTol: 1e-6, names: tables }));
  });
});

/**
 * Sequence classification as the IR runs it: the encoder, then first-token pooling → pooler dense → tanh
 * (softcap 1) → classifier (L labels; no bias: the device plan fuses a bias-free head with its loss), and the
 * label on each sequence's first row (−100 elsewhere), so the program's cross-entropy is transformers' mean
 * cross-entropy over the pooled logits.
 */
function classifierProgram(L: number): Program {
  const base = baseProgram();
  const param = (name: string, shape: number[], noDecay = false): ParamDecl => ({ name, shape, trainable: false, noDecay });
  const nodes: OpNode[] = [
    ...base.nodes.slice(0, -1),
    { op: 'first_token', x: 'h2', out: 'cls', width: C },
    { op: 'linear', module: 'pooler.dense', x: 'cls', weight: 'pooler.dense.weight', bias: 'pooler.dense.bias', lora: null, out: 'pd', inF: C, outF: C },
    { op: 'softcap', x: 'pd', out: 'pooled', width: C, cap: 1 },
    { op: 'linear', module: 'classifier', x: 'pooled', weight: 'classifier.weight', bias: null, lora: null, out: 'logits', inF: C, outF: L },
  ];
  const params = [...base.params.filter((d) => d.name !== 'head.weight'), param('pooler.dense.weight', [C, C]), param('pooler.dense.bias', [C], true), param('classifier.weight', [L, C])];
  const widths = new Map(base.widths);
  for (const [k, v] of [['cls', C], ['pd', C], ['pooled', C], ['logits', L]] as const) widths.set(k, v);
  const prog: Program = { ...base, params, nodes, widths, vocab: L };
  return applyLora(prog, { r: 2, alpha: 4, dropout: 0, targetModules: ['q', 'v', 'pooler.dense'], bias: 'none', useRslora: false }).program;
}

describe('sequence classification: first-token pooling, pooler tanh, label on the first row', () => {
  const L = 3;
  const p = classifierProgram(L);
  const seqLabels = [2, 0];
  const T = 5;
  const labels = new Int32Array(2 * T).fill(-100);
  seqLabels.forEach((y, b) => (labels[b * T] = y));
  const batch: Batch = { ...pairBatch(), labels };
  const { weights, inp, ref, fwd, grads, trainables } = referenceRun(p, 9, batch);

  it("the loss is transformers' mean cross-entropy over the pooled logits", () => {
    // every row of a sequence carries its pooled logits
    for (let b = 0; b < 2; b++)
      for (let t = 1; t < T; t++) expect([...fwd.logits.subarray((b * T + t) * L, (b * T + t + 1) * L)]).toEqual([...fwd.logits.subarray(b * T * L, (b * T + 1) * L)]);
    // by hand from the first row's hidden state: tanh(W_p·h + b_p), then W_c·pooled, then the mean NLL
    const h2 = fwd.acts.get('h2')!;
    const lin = (w: Float64Array, x: ArrayLike<number>, out: number, bias?: Float64Array) =>
      Array.from({ length: out }, (_, o) => (bias?.[o] ?? 0) + Array.from(x).reduce((s, v, i) => s + w[o * C + i] * v, 0));
    const lora = (m: string, x: ArrayLike<number>) => {
      const A = weights.get(`${m}.lora_A.weight`)!, Bm = weights.get(`${m}.lora_B.weight`)!;
      const hA = [0, 1].map((r) => Array.from(x).reduce((s, v, i) => s + A[r * C + i] * v, 0));
      return Array.from({ length: C }, (_, o) => 2 * (Bm[o * 2] * hA[0] + Bm[o * 2 + 1] * hA[1])); // scale α/r = 2
    };
    let nll = 0;
    for (let b = 0; b < 2; b++) {
      const cls = h2.subarray(b * T * C, b * T * C + C);
      const dense = lin(weights.get('pooler.dense.weight')!, cls, C, weights.get('pooler.dense.bias')!);
      const extra = lora('pooler.dense', cls);
      const pooled = dense.map((v, i) => Math.tanh(v + extra[i]));
      const z = lin(weights.get('classifier.weight')!, pooled, L);
      nll += Math.log(z.reduce((s, v) => s + Math.exp(v), 0)) - z[seqLabels[b]];
    }
    expect(fwd.tokens).toBe(2);
    expect(fwd.lossSum / fwd.tokens).toBeCloseTo(nll / 2, 12);
  });

  it('reference gradients match finite differences', () => expectFiniteDifferences(ref, inp, grads, trainables.map((d) => d.name)));

  it('the float64 ONNX training graph gives the reference loss and gradients', () =>
    expectOnnxMatches(p, weights, batch, fwd, grads, { elem: 'float64', lossTol: 1e-10, gradTol: 1e-6 }));

  for (const checkpointing of [false, true])
    it(`the device plan gives the reference NLL and gradients (checkpointing ${checkpointing ? 'on' : 'off'})`, () => {
      const plan = expectPlanMatches(p, weights, batch, inp, fwd, grads, checkpointing);
      expect(plan.steps.filter((s) => s.kind === 'first_token')).toHaveLength(1); // after the block: never replayed
      expect(plan.steps.filter((s) => s.kind === 'first_token_bwd')).toHaveLength(1);
    });
});

/** The encoder with a task head in place of the LM head: regression (pooled → 1) or extractive QA (per token → 2). */
function taskProgram(loss: 'mse' | 'span'): Program {
  const base = baseProgram();
  const param = (name: string, shape: number[], noDecay = false): ParamDecl => ({ name, shape, trainable: false, noDecay });
  const out = loss === 'mse' ? 1 : 2;
  const head: OpNode[] =
    loss === 'mse'
      ? [
          { op: 'first_token', x: 'h2', out: 'cls', width: C },
          { op: 'linear', module: 'pooler.dense', x: 'cls', weight: 'pooler.dense.weight', bias: 'pooler.dense.bias', lora: null, out: 'pd', inF: C, outF: C },
          { op: 'softcap', x: 'pd', out: 'pooled', width: C, cap: 1 },
          { op: 'linear', module: 'classifier', x: 'pooled', weight: 'classifier.weight', bias: 'classifier.bias', lora: null, out: 'logits', inF: C, outF: 1 },
        ]
      : [{ op: 'linear', module: 'qa_outputs', x: 'h2', weight: 'classifier.weight', bias: 'classifier.bias', lora: null, out: 'logits', inF: C, outF: 2 }];
  const params = [
    ...base.params.filter((d) => d.name !== 'head.weight'),
    ...(loss === 'mse' ? [param('pooler.dense.weight', [C, C]), param('pooler.dense.bias', [C], true)] : []),
    param('classifier.weight', [out, C]), param('classifier.bias', [out], true),
  ];
  const widths = new Map(base.widths);
  for (const [k, v] of [['cls', C], ['pd', C], ['pooled', C], ['logits', out]] as const) widths.set(k, v);
  const prog: Program = { ...base, params, nodes: [...base.nodes.slice(0, -1), ...head], widths, vocab: out, loss };
  return applyLora(prog, { r: 2, alpha: 4, dropout: 0, targetModules: ['q', 'v'], bias: 'none', useRslora: false }).program;
}

describe('task-head losses (regression MSE, QA span): reference and ONNX', () => {
  const T = 5;
  const batch: Batch = { ...pairBatch(), regressionTargets: Float64Array.of(0.7, -1.2), spanStarts: Int32Array.of(1, 0), spanEnds: Int32Array.of(3, T) };
  for (const loss of ['mse', 'span'] as const)
    describe(loss, () => {
      const p = taskProgram(loss);
      const { weights, inp, ref, fwd, grads } = referenceRun(p, 11, batch);

      it("the loss is transformers' head loss", () => {
        const z = fwd.logits;
        if (loss === 'mse') {
          expect(fwd.tokens).toBe(2);
          expect(fwd.lossSum / fwd.tokens).toBeCloseTo(((z[0] - 0.7) ** 2 + (z[T] + 1.2) ** 2) / 2, 13); // MSELoss, mean
        } else {
          const ce = (b: number, side: number, gold: number) => {
            const col = Array.from({ length: T }, (_, t) => z[(b * T + t) * 2 + side]);
            return Math.log(col.reduce((s, v) => s + Math.exp(v), 0)) - col[gold];
          };
          // sequence 1's end is T (clamped out of range by transformers, its ignore_index): not trained; each
          // trained side adds half its cross-entropy over positions and half a count (gradcheck.test.ts checks the
          // mean against transformers' (start_loss + end_loss) / 2 when both sides are trained)
          expect(fwd.tokens).toBe(1.5);
          expect(fwd.lossSum).toBeCloseTo((ce(0, 0, 1) + ce(1, 0, 0) + ce(0, 1, 3)) / 2, 13);
          expect(fwd.nll[T]).toBeCloseTo(ce(1, 0, 0) / 2, 13); // per sequence, on its first row
        }
      });

      it('gradients (LoRA and the head) match finite differences', () => {
        const names = p.params.filter((d) => d.trainable).map((d) => d.name);
        expectFiniteDifferences(ref, inp, grads, names);
      });

      it('the float64 ONNX training graph gives the reference loss, count and gradients', () =>
        expectOnnxMatches(p, weights, batch, fwd, grads, { elem: 'float64', lossTol: 1e-10, gradTol: 1e-6 }));

      it('the ONNX evaluation graph gives the per-sequence losses', async () => {
        const s = await createCpuTrainingSession({ program: p, weights, seed: 0, elem: 'float64', threads: 1 });
        try {
          s.setTrainables(new Map(p.params.filter((d) => d.trainable).map((d) => [peftKey(d.name), { shape: d.shape, data: Float32Array.from(weights.get(d.name)!) }])));
          const r = await s.evaluate(batch);
          expect(relErr(r.nllPerSequence, [fwd.nll[0], fwd.nll[T]])).toBeLessThan(1e-10);
          expect([...r.tokensPerSequence]).toEqual([1, 1]);
        } finally {
          await s.dispose();
        }
      });

      it('a batch without its targets, and the device plan (not lowered yet), are refused', () => {
        expect(() => prepareBatch(p, pairBatch())).toThrow(loss === 'mse' ? /needs regressionTargets/ : /needs spanStarts/);
        expect(() => lowerProgram(p, { mode: 'train', checkpointing: false, chunkRows: 4 })).toThrow(new RegExp(`${loss} loss is not lowered yet`));
      });
    });
});
