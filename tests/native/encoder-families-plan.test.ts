// The encoder families as enc-core builds them (BERT, DistilBERT, RoBERTa; classification, regression, QA heads),
// trained as PEFT's SEQ_CLS / QUESTION_ANS do (LoRA on the body, the task head in modules_to_save): the device
// accepts them, and its plan, replayed by the float64 harness, gives the reference executor's per-row losses and
// every trainable's gradient (LoRA, and the head's weight and bias), with and without checkpointing.
import { describe, expect, it } from 'vitest';
import type { ModelSpec } from '../../src/main/model/spec.ts';
import type { Program } from '../../src/main/model/ir.ts';
import type { Batch } from '../../src/main/engine/session.ts';
import { specFromConfig } from '../../src/main/formats/model/registry.ts';
import { buildProgramFromSpec } from '../../src/main/model/families/index.ts';
import { applyLora } from '../../src/main/engine/lora/model.ts';
import { checkSupported } from '../../src/main/engine/executors/plan/plan.ts';
import { tinyEncoderConfig, TINY, type EncoderKind } from '../fixtures/tiny-encoders.ts';
import { expectPlanMatches, referenceRun } from '../engine/executor-checks.ts';

const T = 6;

function batchFor(p: Program, pairs: boolean): Batch {
  const B = 2;
  const mask = Uint8Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]); // the second sequence right-padded
  const inputIds = Int32Array.from({ length: B * T }, (_, i) => (mask[i] ? 3 + ((i * 7) % (TINY.V - 3)) : 1));
  const labels = new Int32Array(B * T).fill(-100);
  const base: Batch = { B, T, inputIds, attentionMask: mask, labels };
  if (pairs) base.tokenTypeIds = Int32Array.from({ length: B * T }, (_, i) => (i % T >= 3 ? 1 : 0)); // BERT's sentence pairs
  if (p.loss === 'mse') return { ...base, regressionTargets: Float64Array.of(0.4, -0.9) };
  if (p.loss === 'span') return { ...base, spanStarts: Int32Array.of(1, 2), spanEnds: Int32Array.of(4, 3) };
  [labels[0], labels[T]] = [2, 0];
  return base;
}

const cases: [EncoderKind, 'sequence_classification' | 'question_answering', string[] | undefined][] = [
  ['bert', 'sequence_classification', undefined],
  ['bert', 'sequence_classification', ['only']], // num_labels 1: regression
  ['distilbert', 'sequence_classification', undefined],
  ['roberta', 'question_answering', undefined],
];

describe('encoder family programs on the device plan (harness) vs the reference', () => {
  for (const [kind, head, labels] of cases) {
    const spec = specFromConfig(tinyEncoderConfig(kind, head, labels)) as ModelSpec;
    const base = buildProgramFromSpec(spec);
    const headModule = head === 'question_answering' ? 'qa_outputs' : 'classifier';
    const p = applyLora(base, {
      r: 2,
      alpha: 4,
      dropout: 0,
      targetModules: ['query', 'value', 'q_lin', 'v_lin'],
      bias: 'none',
      useRslora: false,
      modulesToSave: [headModule],
    }).program;
    const batch = batchFor(p, kind === 'bert');
    it(`${kind} ${head}${p.loss ? ` (${p.loss})` : ''}: accepted, and the plan gives the reference losses and gradients`, () => {
      expect(() => checkSupported(p)).not.toThrow();
      const trained = p.params.filter((d) => d.trainable).map((d) => d.name);
      expect(trained.some((n) => n.includes('lora_A'))).toBe(true);
      expect(trained.some((n) => n.includes(headModule) && !n.includes('lora_'))).toBe(true);
      const { weights, inp, fwd, grads } = referenceRun(p, 3, batch);
      expect(fwd.tokens).toBeGreaterThan(0);
      for (const checkpointing of [false, true]) expectPlanMatches(p, weights, batch, inp, fwd, grads, checkpointing);
    });
  }
});
