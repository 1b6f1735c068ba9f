// The ops encoders add to the IR, as an encoder uses them: BERT's embeddings (words + learned positions, here with
// RoBERTa's offset, + token types, then LayerNorm) and a post-LN layer with bidirectional attention over a padded
// batch (the attention op with causal false) and the exact (erf) GELU. Checked on every executor: reference
// gradients against finite differences (LoRA, and full fine-tuning for the tables), the float64 ONNX training
// graph (and a float32 one, which runs ONNX Erf) and the device plan (replayed by the float64 harness, with and
// without checkpointing) against the reference.
import { describe, expect, it } from 'vitest';
import { peftKey } from '../../src/main/model/ir.ts';
import { fullFineTuneProgram } from '../../src/main/engine/models/index.ts';
import type { Batch } from '../../src/main/engine/session.ts';
import { ReferenceExecutor } from '../../src/main/engine/executors/reference/executor.ts';
import { checkSupported } from '../../src/main/engine/executors/plan/plan.ts';
import { createCpuTrainingSession } from '../../src/main/engine/executors/onnx/session.ts';
import { prepareBatch } from '../../src/main/engine/batch-inputs.ts';
import { buildDecodeGraph } from '../../src/main/engine/executors/onnx/decode-graph.ts';
import { tinyBatch } from './tiny.ts';
import { relErr } from './helpers.ts';
import { expectFiniteDifferences, expectOnnxMatches, expectPlanMatches, referenceRun } from './executor-checks.ts';
import { baseProgram, C, classifierProgram, encoderProgram, pairBatch, POSITION_OFFSET, taskProgram, V } from './encoder-programs.ts';

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

  it('the device executor takes the encoder: every op has its CUDA kernel (the session tests run it)', () => {
    expect(() => checkSupported(p)).not.toThrow();
    expect(() => checkSupported(encoderProgram(true))).not.toThrow();
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
      const z = lin(weights.get('classifier.weight')!, pooled, L, weights.get('classifier.bias')!);
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
      expect(plan.steps.filter((s) => s.kind === 'lm_head_loss').map((s) => s.kind === 'lm_head_loss' && s.bias)).toEqual(['classifier.bias']); // fused with the loss
    });
});

describe("DistilBERT's classification head (ReLU) on every executor", () => {
  const T = 5;
  const p = classifierProgram(2, 'relu');
  const labels = new Int32Array(2 * T).fill(-100);
  [labels[0], labels[T]] = [1, 0];
  const batch: Batch = { ...pairBatch(), labels };
  const { weights, inp, ref, fwd, grads, trainables } = referenceRun(p, 13, batch);

  it('the ReLU cuts negative pre-activations (some of them, not all)', () => {
    const pd = fwd.acts.get('pd')!;
    expect(pd.some((x) => x < 0) && pd.some((x) => x > 0)).toBe(true);
    expect([...fwd.acts.get('pooled')!]).toEqual([...pd].map((x) => Math.max(0, x)));
  });

  it('reference gradients match finite differences', () => expectFiniteDifferences(ref, inp, grads, trainables.map((d) => d.name)));

  for (const checkpointing of [false, true])
    it(`the device plan gives the reference NLL and gradients (checkpointing ${checkpointing ? 'on' : 'off'})`, () => {
      const plan = expectPlanMatches(p, weights, batch, inp, fwd, grads, checkpointing);
      expect(plan.steps.filter((s) => s.kind === 'relu')).toHaveLength(1);
      expect(plan.steps.filter((s) => s.kind === 'relu_bwd')).toHaveLength(1);
    });
});

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

      for (const checkpointing of [false, true])
        it(`the device plan gives the reference per-sequence losses and gradients (checkpointing ${checkpointing ? 'on' : 'off'})`, () => {
          const plan = expectPlanMatches(p, weights, batch, inp, fwd, grads, checkpointing);
          // the head is an ordinary linear (its bias included), the loss a step of its own reading the logits
          expect(plan.steps.filter((s) => s.kind === 'lm_head_loss')).toHaveLength(0);
          expect(plan.steps.filter((s) => s.kind === `${loss}_loss`)).toHaveLength(1);
          expect(plan.steps.filter((s) => s.kind === 'linear_bwd' && s.weight === 'classifier.weight')).toHaveLength(1);
        });

      it('a batch without its targets is refused', () => {
        expect(() => prepareBatch(p, pairBatch())).toThrow(loss === 'mse' ? /needs regressionTargets/ : /needs spanStarts/);
      });
    });
});
