// Exports of a trained encoder: the merged Hugging Face folder (…ForSequenceClassification / …ForQuestionAnswering,
// labels in config.json) through the existing export code, and the ONNX folder (onnx/model.onnx + config +
// tokenizer files, Optimum / transformers.js layout) run by onnxruntime-node itself — its logits compared with the
// engine's for the base + adapter.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { openEncoderSession, type EncoderSession } from '../../../src/main/engine/encoders/open.ts';
import { exportEncoderOnnx } from '../../../src/main/engine/encoders/onnx-export.ts';
import { exportHfModel } from '../../../src/main/formats/export/index.ts';
import type { Batch } from '../../../src/main/engine/session.ts';
import type { LoraSection } from '../../../src/common/api/runs.ts';
import { PAD, writeTinyEncoder, type EncoderKind } from '../../fixtures/tiny-encoders.ts';

const UPDATE = { lr: 0.02, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 1 };
const lora = (targets: string[]): LoraSection => ({
  r: 2,
  lora_alpha: 4,
  lora_dropout: 0,
  target_modules: targets,
  bias: 'none',
  use_rslora: false,
});
const TARGETS: Record<EncoderKind, string[]> = {
  bert: ['query', 'value'],
  distilbert: ['q_lin', 'v_lin'],
  roberta: ['query', 'value'],
  'xlm-roberta': ['query', 'value'],
  electra: ['query', 'value'],
};

/** Three sequences of 6, two of them right-padded, sentence pairs for BERT. */
function batchFor(kind: EncoderKind): Batch {
  const B = 3,
    T = 6;
  const inputIds = Int32Array.from({ length: B * T }, (_, i) => 3 + ((i * 7 + 2) % 19));
  const attentionMask = new Uint8Array(B * T).fill(1);
  for (const i of [T + 5, 2 * T + 3, 2 * T + 4, 2 * T + 5]) {
    attentionMask[i] = 0;
    inputIds[i] = PAD[kind];
  }
  const tokenTypeIds = new Int32Array(B * T);
  if (kind === 'bert' || kind === 'electra') for (const i of [3, 4, 5, T + 3, T + 4, 2 * T + 2]) tokenTypeIds[i] = 1;
  const labels = new Int32Array(B * T).fill(-100);
  labels[0] = 1;
  labels[T] = 0;
  labels[2 * T] = 1;
  return {
    B,
    T,
    inputIds,
    attentionMask,
    labels,
    tokenTypeIds,
    spanStarts: Int32Array.of(1, 2, 1),
    spanEnds: Int32Array.of(2, 4, 2),
  };
}

async function trained(
  dir: string,
  kind: EncoderKind,
  task: 'classification' | 'qa',
): Promise<{ s: EncoderSession; base: string; adapter: string }> {
  const base = await writeTinyEncoder(join(dir, `${kind}-${task}-base`), kind, 'masked_lm', { seed: 17 });
  await writeFile(join(base.dir, 'tokenizer.json'), '{"version":"1.0","model":{"type":"WordPiece"}}');
  await writeFile(join(base.dir, 'vocab.txt'), '[PAD]\n[UNK]\n[CLS]\n[SEP]\n');
  const s = await openEncoderSession({
    model: base.dir,
    method: 'lora',
    lora: lora(TARGETS[kind]),
    seed: 2,
    task:
      task === 'qa'
        ? { task: 'question_answering' }
        : { task: 'sequence_classification', labels: ['negative', 'positive'] },
  });
  for (let i = 0; i < 8; i++) {
    await s.session.microStep(batchFor(kind));
    await s.session.applyUpdate(UPDATE);
  }
  const adapter = join(dir, `${kind}-${task}-adapter`);
  await s.writeAdapter(adapter, s.session.getTrainables());
  return { s, base: base.dir, adapter };
}

const int64 = (a: ArrayLike<number>, B: number, T: number) =>
  new ort.Tensor('int64', BigInt64Array.from(Array.from(a, (v) => BigInt(v))), [B, T]);

let root: string;
beforeAll(async () => void (root = await mkdtemp(join(tmpdir(), 'enc-export-'))));
afterAll(async () => rm(root, { recursive: true, force: true }));

describe('merged Hugging Face export of a task adapter', () => {
  it('DistilBERT classification: …ForSequenceClassification with labels, no generation config, the same logits', async () => {
    const { s, base, adapter } = await trained(root, 'distilbert', 'classification');
    try {
      const out = join(root, 'distilbert-merged');
      await exportHfModel({ baseDir: base, adapters: [{ adapter }], outDir: out, dtype: 'f32' });
      const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
      expect(config).toMatchObject({
        architectures: ['DistilBertForSequenceClassification'],
        id2label: { 0: 'negative', 1: 'positive' },
        label2id: { negative: 0, positive: 1 },
        torch_dtype: 'float32',
      });
      const files = await readdir(out);
      expect(files).toContain('tokenizer.json');
      expect(files).not.toContain('generation_config.json');
      const merged = await openEncoderSession({ model: out, method: 'full', seed: 0 });
      try {
        expect(merged.warnings).toEqual([]); // every tensor, the head included, is in the folder
        const [a, b] = [await s.forward(batchFor('distilbert')), await merged.forward(batchFor('distilbert'))];
        if (a.task !== 'sequence_classification' || b.task !== 'sequence_classification') throw new Error('task');
        for (let i = 0; i < a.logits.length; i++) expect(b.logits[i]).toBeCloseTo(a.logits[i], 5);
      } finally {
        await merged.dispose();
      }
    } finally {
      await s.dispose();
    }
  });

  it('an adapter PEFT wrote (no task_head.json): task_type SEQ_CLS and the saved classifier give the class and LABEL_i labels', async () => {
    const { s, base, adapter } = await trained(root, 'roberta', 'classification');
    try {
      await rm(join(adapter, 'task_head.json'));
      const out = join(root, 'roberta-peft-merged');
      await exportHfModel({ baseDir: base, adapters: [{ adapter }], outDir: out, dtype: 'f32' });
      const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
      expect(config).toMatchObject({
        architectures: ['RobertaForSequenceClassification'],
        id2label: { 0: 'LABEL_0', 1: 'LABEL_1' },
      });
      const again = await openEncoderSession({ model: base, method: 'lora', adapter, seed: 0 });
      try {
        expect(again.labels).toEqual(['LABEL_0', 'LABEL_1']);
        const [a, b] = [await s.forward(batchFor('roberta')), await again.forward(batchFor('roberta'))];
        if (a.task !== 'sequence_classification' || b.task !== 'sequence_classification') throw new Error('task');
        for (let i = 0; i < a.logits.length; i++) expect(b.logits[i]).toBeCloseTo(a.logits[i], 5);
      } finally {
        await again.dispose();
      }
    } finally {
      await s.dispose();
    }
  });

  it('a base without the head and no adapter bringing it is refused by name', async () => {
    const { s, base, adapter } = await trained(root, 'bert', 'qa');
    await s.dispose();
    // the adapter's head removed: its task (QUESTION_ANS) still opens the base as BertForQuestionAnswering
    const stripped = join(root, 'bert-qa-no-head');
    const { readAdapter, writeAdapter } = await import('../../../src/main/formats/peft/index.ts');
    const a = await readAdapter(adapter);
    a.extra.clear();
    await writeAdapter(stripped, a);
    await expect(
      exportHfModel({ baseDir: base, adapters: [{ adapter: stripped }], outDir: join(root, 'never'), dtype: 'f32' }),
    ).rejects.toThrow(/has no qa_outputs\.weight, qa_outputs\.bias and no adapter brings them/);
  });
});

describe('ONNX export (onnx/model.onnx, Optimum / transformers.js layout) run by onnxruntime-node', () => {
  const cases: [EncoderKind, 'classification' | 'qa'][] = [
    ['distilbert', 'classification'],
    ['bert', 'classification'],
    ['roberta', 'classification'],
    ['bert', 'qa'],
    ['roberta', 'qa'],
    ['electra', 'classification'],
  ];
  for (const [kind, task] of cases)
    it(`${kind} ${task}: the exported model's logits are the engine's`, async () => {
      const { s, base, adapter } = await trained(root, kind, task);
      try {
        const out = join(root, `${kind}-${task}-onnx`);
        const r = await exportEncoderOnnx({ baseDir: base, adapters: [{ adapter }], outDir: out });
        expect((await readdir(out)).sort()).toEqual([
          '.lora-studio-output.json',
          'config.json',
          'onnx',
          'tokenizer.json',
          'vocab.txt',
        ]);
        expect(r.inputs).toEqual(
          kind === 'bert' || kind === 'electra'
            ? ['input_ids', 'attention_mask', 'token_type_ids']
            : ['input_ids', 'attention_mask'],
        );
        expect(r.outputs).toEqual(task === 'qa' ? ['start_logits', 'end_logits'] : ['logits']);
        const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
        expect(config.architectures[0]).toMatch(task === 'qa' ? /ForQuestionAnswering$/ : /ForSequenceClassification$/);

        const batch = batchFor(kind);
        const session = await ort.InferenceSession.create(join(out, 'onnx', 'model.onnx'));
        const feeds: Record<string, ort.Tensor> = {
          input_ids: int64(batch.inputIds, batch.B, batch.T),
          attention_mask: int64(batch.attentionMask, batch.B, batch.T),
        };
        if (kind === 'bert' || kind === 'electra') feeds.token_type_ids = int64(batch.tokenTypeIds!, batch.B, batch.T);
        const res = await session.run(feeds);
        await session.release();
        const ours = await s.forward({ ...batch, spanStarts: undefined, spanEnds: undefined });
        if (ours.task === 'sequence_classification') {
          expect(res.logits.dims).toEqual([batch.B, 2]);
          const theirs = res.logits.data as Float32Array;
          for (let i = 0; i < ours.logits.length; i++) expect(theirs[i]).toBeCloseTo(ours.logits[i], 4);
        } else if (ours.task === 'question_answering') {
          expect(res.start_logits.dims).toEqual([batch.B, batch.T]);
          const [st, en] = [res.start_logits.data as Float32Array, res.end_logits.data as Float32Array];
          // padded positions are not compared: neither side defines them (transformers' neither)
          for (let i = 0; i < st.length; i++)
            if (batch.attentionMask[i]) {
              expect(st[i]).toBeCloseTo(ours.start[i], 4);
              expect(en[i]).toBeCloseTo(ours.end[i], 4);
            }
        } else throw new Error(ours.task);
      } finally {
        await s.dispose();
      }
    });

  it('an existing folder that is not an ONNX export is never replaced', async () => {
    const { s, base, adapter } = await trained(root, 'distilbert', 'classification');
    await s.dispose();
    const taken = join(root, 'taken');
    await writeTinyEncoder(taken, 'bert', 'base');
    await expect(
      exportEncoderOnnx({ baseDir: base, adapters: [{ adapter }], outDir: taken, overwrite: true }),
    ).rejects.toThrow(/already exists and is not something LoRA Studio wrote/);
    await expect(
      exportEncoderOnnx({ baseDir: base, adapters: [{ adapter }], outDir: join(base, 'onnx-inside') }),
    ).rejects.toThrow(/inside the base model/);
  });
});
