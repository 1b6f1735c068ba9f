// An encoder opened for a task (engine/encoders/open.ts): LoRA with PEFT's SEQ_CLS / QUESTION_ANS heads trained in
// full as modules_to_save and saved under PEFT's keys, read back by our reader (and PEFT < 0.14's key form); the
// error for targets the model does not have; full fine-tuning writing the task model's folder; QLoRA; masked-LM
// pretraining from scratch; and LoRA + head gradients against finite differences.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEncoderSession, type EncoderSession } from '../../../src/main/engine/encoders/open.ts';
import { SafetensorsFile, writeSafetensors } from '../../../src/main/formats/safetensors/index.ts';
import { openModelFolder } from '../../../src/main/formats/model/index.ts';
import { readAdapter } from '../../../src/main/formats/peft/index.ts';
import { readProgramWeights } from '../../../src/main/engine/models/load.ts';
import { ReferenceExecutor } from '../../../src/main/engine/executors/reference/executor.ts';
import { prepareBatch } from '../../../src/main/engine/batch-inputs.ts';
import { peftKey } from '../../../src/main/model/ir.ts';
import type { Batch } from '../../../src/main/engine/session.ts';
import type { LoraSection } from '../../../src/common/api/runs.ts';
import { PAD, TINY, writeTinyEncoder } from '../../fixtures/tiny-encoders.ts';
import { expectFiniteDifferences } from '../executor-checks.ts';

const UPDATE = { lr: 0.02, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 1 };
const lora = (targets: string[]): LoraSection => ({
  r: 2,
  lora_alpha: 4,
  lora_dropout: 0,
  target_modules: targets,
  bias: 'none',
  use_rslora: false,
});

/** Four sequences of 5 whose label is whether token 5 appears (a separable toy task), the last one padded. */
function classificationBatch(pad: number): Batch {
  const B = 4,
    T = 5;
  const rows = [
    [4, 5, 9, 11, 7],
    [4, 8, 9, 11, 7],
    [4, 12, 5, 6, 7],
    [4, 13, 14, pad, pad],
  ];
  const inputIds = Int32Array.from(rows.flat());
  const attentionMask = Uint8Array.from(rows.flat().map((id, i) => (i % T >= 3 && id === pad ? 0 : 1)));
  const labels = new Int32Array(B * T).fill(-100);
  rows.forEach((r, b) => (labels[b * T] = r.includes(5) ? 1 : 0));
  return { B, T, inputIds, attentionMask, labels };
}
const qaBatch = (): Batch => ({
  B: 2,
  T: 6,
  inputIds: Int32Array.of(4, 5, 6, 7, 8, 9, 4, 10, 11, 12, 0, 0),
  attentionMask: Uint8Array.of(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0),
  labels: new Int32Array(12).fill(-100),
  tokenTypeIds: Int32Array.of(0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0),
  spanStarts: Int32Array.of(2, 3),
  spanEnds: Int32Array.of(3, 3),
});

async function train(s: EncoderSession, batch: Batch, steps: number): Promise<number[]> {
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    const r = await s.session.microStep(batch);
    losses.push(r.lossSum / r.tokens);
    await s.session.applyUpdate(UPDATE);
  }
  return losses;
}

let root: string;
beforeAll(async () => void (root = await mkdtemp(join(tmpdir(), 'enc-open-'))));
afterAll(async () => rm(root, { recursive: true, force: true }));

describe('LoRA for sequence classification (PEFT task_type SEQ_CLS)', () => {
  const cases = [
    {
      kind: 'distilbert',
      targets: ['q_lin', 'v_lin'],
      head: ['pre_classifier', 'classifier'],
      module: 'distilbert.transformer.layer.0.attention.q_lin',
    },
    {
      kind: 'bert',
      targets: ['query', 'value'],
      head: ['classifier'],
      module: 'bert.encoder.layer.0.attention.self.query',
    },
    {
      kind: 'roberta',
      targets: ['query', 'value'],
      head: ['classifier.dense', 'classifier.out_proj'],
      module: 'roberta.encoder.layer.0.attention.self.query',
    },
  ] as const;
  for (const c of cases)
    it(`${c.kind}: the head trains in full, saves under PEFT's keys with task_type and modules_to_save, and loads back`, async () => {
      const base = await writeTinyEncoder(join(root, `${c.kind}-mlm`), c.kind, 'masked_lm', { seed: 11 });
      const s = await openEncoderSession({
        model: base.dir,
        task: { task: 'sequence_classification', labels: ['no', 'yes'] },
        method: 'lora',
        lora: lora([...c.targets]),
        seed: 3,
      });
      try {
        expect(s.spec.architecture).toMatch(/ForSequenceClassification$/);
        expect(s.taskType).toBe('SEQ_CLS');
        // a pooler the checkpoint lacks (BERT's MLM checkpoints) trains with the head instead of staying random
        expect(s.modulesToSave).toEqual(
          c.kind === 'bert' ? ['pooler', 'classifier', 'score'] : ['classifier', 'score'],
        );
        expect(s.labels).toEqual(['no', 'yes']);
        const trainable = s.program.params.filter((d) => d.trainable).map((d) => d.name);
        const headParams = [...(c.kind === 'bert' ? ['bert.pooler.dense'] : []), ...c.head].flatMap((m) => [
          `${m}.weight`,
          `${m}.bias`,
        ]);
        expect(trainable.filter((n) => !n.includes('lora_'))).toEqual(headParams);
        expect(trainable.filter((n) => n.includes('lora_'))).toHaveLength(2 * TINY.L * 2);
        expect(s.warnings.join('\n')).toContain('created with seed 3');
        const batch = classificationBatch(PAD[c.kind]);
        const losses = await train(s, batch, 25);
        expect(losses.at(-1)!).toBeLessThan(losses[0] * 0.5);
        const out = await s.forward(batch);
        if (out.task !== 'sequence_classification') throw new Error(out.task);
        expect(Array.from({ length: 4 }, (_, b) => (out.probabilities[b * 2 + 1] > 0.5 ? 1 : 0))).toEqual([1, 0, 1, 0]);

        const dir = join(root, `${c.kind}-adapter`);
        await s.writeAdapter(dir, s.session.getTrainables());
        expect((await readdir(dir)).sort()).toEqual([
          'adapter_config.json',
          'adapter_model.safetensors',
          'task_head.json',
        ]);
        const st = await SafetensorsFile.open(join(dir, 'adapter_model.safetensors'));
        const keys = st.names();
        await st.close();
        // PEFT ≥ 0.14 get_peft_model_state_dict: ModulesToSaveWrapper.adapter_state_dict gives the wrapped module's own
        // keys under the wrapper's name (base_model.model.<module>.<param>), then ".default" is removed
        expect(keys.filter((k) => !k.includes('lora_')).sort()).toEqual(
          headParams.map((n) => `base_model.model.${n}`).sort(),
        );
        expect(keys).toContain(`base_model.model.${c.module}.lora_A.weight`);
        expect(keys).toContain(`base_model.model.${c.module}.lora_B.weight`);
        const config = JSON.parse(await readFile(join(dir, 'adapter_config.json'), 'utf8'));
        expect(config).toMatchObject({
          task_type: 'SEQ_CLS',
          modules_to_save: s.modulesToSave,
          peft_type: 'LORA',
          r: 2,
          lora_alpha: 4,
          target_modules: [...c.targets],
        });
        expect(JSON.parse(await readFile(join(dir, 'task_head.json'), 'utf8'))).toEqual({
          format: 'lora-studio.task-head/1',
          architecture: s.spec.architecture,
          id2label: { 0: 'no', 1: 'yes' },
          problem_type: 'single_label_classification',
        });

        // read back: the same outputs from the base + the adapter (its head replaces the created one)
        const again = await openEncoderSession({ model: base.dir, method: 'lora', adapter: dir, seed: 99 });
        try {
          expect(again.labels).toEqual(['no', 'yes']);
          expect(again.warnings).toEqual([]);
          const out2 = await again.forward(batch);
          if (out2.task !== 'sequence_classification') throw new Error(out2.task);
          for (let i = 0; i < out.logits.length; i++) expect(out2.logits[i]).toBeCloseTo(out.logits[i], 5);
        } finally {
          await again.dispose();
        }
      } finally {
        await s.dispose();
      }
    });

  it("PEFT < 0.14's modules_to_save keys (<module>.modules_to_save.<param>) are read as the module's", async () => {
    const dir = join(root, 'distilbert-adapter');
    const st = await SafetensorsFile.open(join(dir, 'adapter_model.safetensors'));
    const tensors = [];
    for (const name of st.names()) {
      const info = st.info(name);
      tensors.push({
        name: name.replace(/^base_model\.model\.(pre_classifier|classifier)\./, 'base_model.model.$1.modules_to_save.'),
        dtype: 'F32' as const,
        shape: info.shape,
        data: await st.readFloat32(name),
      });
    }
    await st.close();
    expect(tensors.map((t) => t.name)).toContain('base_model.model.classifier.modules_to_save.weight');
    await writeSafetensors(join(dir, 'adapter_model.safetensors'), tensors);
    const a = await readAdapter(dir);
    expect([...a.extra.keys()].sort()).toEqual([
      'base_model.model.classifier.bias',
      'base_model.model.classifier.weight',
      'base_model.model.pre_classifier.bias',
      'base_model.model.pre_classifier.weight',
    ]);
  });

  it('"all-linear" takes every encoder linear and leaves the head to modules_to_save, without a warning', async () => {
    const base = await writeTinyEncoder(join(root, 'distilbert-all-linear'), 'distilbert', 'sequence_classification', {
      seed: 9,
      labels: ['a', 'b'],
    });
    const s = await openEncoderSession({
      model: base.dir,
      method: 'lora',
      lora: { ...lora([]), target_modules: 'all-linear' },
      seed: 0,
    });
    try {
      const adapted = s.program.nodes.flatMap((n) => (n.op === 'linear' && n.lora ? [n.module.split('.').pop()] : []));
      expect(adapted).toEqual(Array(TINY.L).fill(['q_lin', 'k_lin', 'v_lin', 'out_lin', 'lin1', 'lin2']).flat());
      expect(s.warnings).toEqual([]);
    } finally {
      await s.dispose();
    }
  });

  it('targets the model does not have name the modules it does have (DistilBERT: q_lin, v_lin, …)', async () => {
    const base = await writeTinyEncoder(join(root, 'distilbert-for-targets'), 'distilbert', 'masked_lm', { seed: 2 });
    await expect(
      openEncoderSession({
        model: base.dir,
        task: { task: 'sequence_classification', labels: ['a', 'b'] },
        method: 'lora',
        lora: lora(['query', 'value']),
        seed: 0,
      }),
    ).rejects.toThrow(
      /LoRA target_modules \[query, value\] match no linear layer; this model's linear layers are: q_lin, k_lin, v_lin, out_lin, lin1, lin2/,
    );
  });

  it('LoRA and head gradients through the whole model match finite differences (reference executor)', async () => {
    const base = await writeTinyEncoder(join(root, 'roberta-fd'), 'roberta', 'sequence_classification', {
      seed: 8,
      labels: ['a', 'b', 'c'],
    });
    const s = await openEncoderSession({
      model: base.dir,
      method: 'lora',
      lora: lora(['query', 'value', 'dense']),
      seed: 1,
    });
    try {
      const folder = await openModelFolder(base.dir);
      const w = await readProgramWeights(folder, s.program);
      await folder.close();
      const weights = new Map([...w].map(([k, v]) => [k, Float64Array.from(v as Float32Array)]));
      // LoRA B starts at zero: give it values so A gets a gradient too
      for (const d of s.program.params)
        if (d.trainable)
          weights.set(
            d.name,
            Float64Array.from(
              s.session.getTrainables().get(peftKey(d.name))!.data,
              (v, i) => v || Math.sin(i + 1) * 0.3,
            ),
          );
      const ref = new ReferenceExecutor(s.program, weights);
      const batch = {
        ...classificationBatch(PAD.roberta),
        labels: classificationBatch(PAD.roberta).labels.map((l) => (l === 1 ? 2 : l)),
      };
      const inp = prepareBatch(s.program, batch);
      const fwd = ref.forward(inp);
      const names = s.program.params.filter((d) => d.trainable).map((d) => d.name);
      expect(names).toEqual(
        expect.arrayContaining([
          'roberta.encoder.layer.1.attention.output.dense.lora_A.weight',
          'classifier.dense.weight',
          'classifier.out_proj.bias',
        ]),
      );
      expect(names).not.toContain('classifier.dense.lora_A.weight'); // "dense" also names the head's, trained in full
      expect(s.warnings).toContain(
        'LoRA target classifier.dense is in modules_to_save (trained in full), so it gets no adapter',
      );
      expectFiniteDifferences(ref, inp, ref.backward(inp, fwd), names, 3);
    } finally {
      await s.dispose();
    }
  });
});

describe('LoRA for extractive QA (PEFT task_type QUESTION_ANS)', () => {
  it('BERT from a base-only checkpoint: qa_outputs created, trained in full, saved as base_model.model.qa_outputs.*', async () => {
    const base = await writeTinyEncoder(join(root, 'bert-base-qa'), 'bert', 'question_answering', {
      seed: 21,
      baseOnly: true,
    });
    const s = await openEncoderSession({
      model: base.dir,
      task: { task: 'question_answering' },
      method: 'lora',
      lora: lora(['query', 'value']),
      seed: 4,
    });
    try {
      expect(s.spec.architecture).toBe('BertForQuestionAnswering');
      expect(s.modulesToSave).toEqual(['qa_outputs']);
      expect(s.warnings[0]).toMatch(/has no qa_outputs .* created with seed 4/);
      const losses = await train(s, qaBatch(), 80);
      expect(losses.at(-1)!).toBeLessThan(losses[0] * 0.5);
      const out = await s.forward({ ...qaBatch(), spanStarts: undefined, spanEnds: undefined });
      if (out.task !== 'question_answering') throw new Error(out.task);
      const argmax = (v: Float32Array, b: number, n: number) =>
        Array.from(v.subarray(b * 6, b * 6 + n)).reduce((best, x, i, a) => (x > a[best] ? i : best), 0);
      expect([argmax(out.start, 0, 6), argmax(out.end, 0, 6), argmax(out.start, 1, 4)]).toEqual([2, 3, 3]);
      const dir = join(root, 'bert-qa-adapter');
      await s.writeAdapter(dir, s.session.getTrainables());
      const a = await readAdapter(dir);
      expect(a.config.task_type).toBe('QUESTION_ANS');
      expect(a.config.modules_to_save).toEqual(['qa_outputs']);
      expect([...a.extra.keys()].sort()).toEqual([
        'base_model.model.qa_outputs.bias',
        'base_model.model.qa_outputs.weight',
      ]);
      expect(a.taskHead).toEqual({ architecture: 'BertForQuestionAnswering', id2label: null, problemType: null });
    } finally {
      await s.dispose();
    }
  });
});

describe('full fine-tuning, QLoRA and masked-LM pretraining', () => {
  it('full fine-tuning writes the task model folder (architectures, id2label / label2id) that opens as it', async () => {
    const base = await writeTinyEncoder(join(root, 'distilbert-full'), 'distilbert', 'masked_lm', { seed: 31 });
    const s = await openEncoderSession({
      model: base.dir,
      task: { task: 'sequence_classification', labels: ['neg', 'pos'] },
      method: 'full',
      seed: 5,
    });
    try {
      expect(s.trainableParameters).toBe(s.totalParameters);
      const batch = classificationBatch(PAD.distilbert);
      const losses = await train(s, batch, 15);
      expect(losses.at(-1)!).toBeLessThan(losses[0]);
      const dir = join(root, 'distilbert-full-out');
      await s.writeAdapter(dir, s.session.getTrainables());
      const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
      expect(config).toMatchObject({
        architectures: ['DistilBertForSequenceClassification'],
        id2label: { 0: 'neg', 1: 'pos' },
        label2id: { neg: 0, pos: 1 },
        problem_type: 'single_label_classification',
        dim: TINY.C,
      });
      const reopened = await openEncoderSession({ model: dir, method: 'full', seed: 0 });
      try {
        expect(reopened.warnings).toEqual([]);
        const [a, b] = [await s.forward(batch), await reopened.forward(batch)];
        if (a.task !== 'sequence_classification' || b.task !== 'sequence_classification') throw new Error('task');
        for (let i = 0; i < a.logits.length; i++) expect(b.logits[i]).toBeCloseTo(a.logits[i], 5);
      } finally {
        await reopened.dispose();
      }
    } finally {
      await s.dispose();
    }
  });

  it('QLoRA: every linear but the head held as NF4, the head and LoRA train', async () => {
    const base = await writeTinyEncoder(join(root, 'bert-qlora'), 'bert', 'sequence_classification', {
      seed: 41,
      labels: ['a', 'b'],
    });
    const s = await openEncoderSession({ model: base.dir, method: 'qlora', lora: lora(['query', 'value']), seed: 6 });
    try {
      const nf4 = s.program.params.filter((d) => d.quant === 'nf4').map((d) => d.name);
      expect(nf4).toContain('bert.encoder.layer.0.attention.self.query.weight');
      expect(nf4).toContain('bert.pooler.dense.weight');
      expect(nf4).not.toContain('classifier.weight');
      const losses = await train(s, classificationBatch(PAD.bert), 20);
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(losses.at(-1)!).toBeLessThan(losses[0]);
    } finally {
      await s.dispose();
    }
  });

  it('masked-LM pretraining from scratch (full, weights from config.json) lowers the loss', async () => {
    const base = await writeTinyEncoder(join(root, 'roberta-scratch'), 'roberta', 'masked_lm', { seed: 51 });
    const s = await openEncoderSession({ model: base.dir, method: 'full', fromScratch: true, seed: 7 });
    try {
      expect(s.spec.architecture).toBe('RobertaForMaskedLM');
      const batch = classificationBatch(PAD.roberta);
      const labels = new Int32Array(batch.B * batch.T).fill(-100);
      for (const i of [1, 2, 6, 11, 16]) labels[i] = batch.inputIds[i];
      const losses = await train(s, { ...batch, labels }, 40);
      expect(losses.at(-1)!).toBeLessThan(losses[0] * 0.7);
    } finally {
      await s.dispose();
    }
  });
});
