// The encoder families as enc-core builds them (BERT, DistilBERT, RoBERTa; classification, regression, QA heads),
// trained as PEFT's SEQ_CLS / QUESTION_ANS do (LoRA on the body, the task head in modules_to_save): the device
// accepts them, and its plan, replayed by the float64 harness, gives the reference executor's per-row losses and
// every trainable's gradient (LoRA, and the head's weight and bias), with and without checkpointing.
import { describe, expect, it } from 'vitest';
import type { ModelSpec } from '../../src/main/model/spec.ts';
import { specFromConfig } from '../../src/main/formats/model/registry.ts';
import { buildProgramFromSpec } from '../../src/main/model/families/index.ts';
import { applyLora } from '../../src/main/engine/lora/model.ts';
import { checkSupported } from '../../src/main/engine/executors/plan/plan.ts';
import { tinyEncoderConfig, TINY, type EncoderKind } from '../fixtures/tiny-encoders.ts';
import { expectPlanMatches, referenceRun } from '../engine/executor-checks.ts';
import { encoderTaskBatch } from '../engine/encoder-programs.ts';

const T = 6;

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
    const batch = encoderTaskBatch(p, 2, T, TINY.V, kind === 'bert');
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
