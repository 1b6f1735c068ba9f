// The encoder families (BERT, DistilBERT, RoBERTa / XLM-RoBERTa) with each head, loaded from tiny random folders in
// the real Hugging Face layout: their logits against a float64 forward written here straight from transformers'
// modeling equations (reading the saved tensors by their saved names, not through the engine), the float32 ONNX
// forward against the same, end-to-end gradients against finite differences, a base-only checkpoint opened for a
// task (the head created, seeded, and said so), TF-era LayerNorm names, and config errors that name the field.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openModelFolder } from '../../../src/main/formats/model/index.ts';
import { specFromConfig } from '../../../src/main/formats/model/registry.ts';
import { buildProgramFromSpec } from '../../../src/main/model/families/index.ts';
import { encoderForTask, type EncoderTaskRequest } from '../../../src/main/model/families/bert/task.ts';
import type { EncoderSpec } from '../../../src/main/model/families/bert/spec.ts';
import type { ModelSpec } from '../../../src/main/model/spec.ts';
import { readProgramWeights } from '../../../src/main/engine/models/load.ts';
import { fullFineTuneProgram } from '../../../src/main/engine/models/index.ts';
import { ReferenceExecutor } from '../../../src/main/engine/executors/reference/executor.ts';
import { prepareBatch } from '../../../src/main/engine/batch-inputs.ts';
import { createCpuTrainingSession } from '../../../src/main/engine/executors/onnx/session.ts';
import type { Batch } from '../../../src/main/engine/session.ts';
import type { Program } from '../../../src/main/model/ir.ts';
import {
  PAD,
  TINY,
  writeTinyEncoder,
  type EncoderHeadKind,
  type EncoderKind,
  type TinyEncoder,
} from '../../fixtures/tiny-encoders.ts';
import { expectFiniteDifferences, expectOnnxMatches } from '../../engine/executor-checks.ts';
import { relErr } from '../../engine/helpers.ts';

type T = Map<string, Float64Array>;

/** erf for the reference: its Maclaurin series below 3, the asymptotic erfc series above (both well past 1e-12). */
function erf(x: number): number {
  const a = Math.abs(x);
  let r: number;
  if (a < 3) {
    let term = a,
      sum = a;
    for (let n = 1; n < 200 && Math.abs(term) > 1e-18; n++) {
      term *= (-a * a) / n;
      sum += term / (2 * n + 1);
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    let s = 1,
      t = 1;
    for (let n = 1; n < 12; n++) s += t *= -(2 * n - 1) / (2 * a * a);
    r = 1 - (Math.exp(-a * a) / (a * Math.sqrt(Math.PI))) * s;
  }
  return x < 0 ? -r : r;
}
const gelu = (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2));

/** y = x·Wᵀ + b over rows of x (R, IN); W (OUT, IN) as nn.Linear stores it. */
function linear(x: Float64Array, R: number, W: Float64Array, b: Float64Array | undefined, OUT: number): Float64Array {
  const IN = W.length / OUT;
  const y = new Float64Array(R * OUT);
  for (let r = 0; r < R; r++)
    for (let o = 0; o < OUT; o++) {
      let s = b ? b[o] : 0;
      for (let i = 0; i < IN; i++) s += x[r * IN + i] * W[o * IN + i];
      y[r * OUT + o] = s;
    }
  return y;
}
function layerNorm(x: Float64Array, R: number, w: Float64Array, b: Float64Array, eps: number): Float64Array {
  const C = w.length;
  const y = new Float64Array(x.length);
  for (let r = 0; r < R; r++) {
    let mean = 0,
      v = 0;
    for (let i = 0; i < C; i++) mean += x[r * C + i] / C;
    for (let i = 0; i < C; i++) v += (x[r * C + i] - mean) ** 2 / C;
    for (let i = 0; i < C; i++) y[r * C + i] = ((x[r * C + i] - mean) / Math.sqrt(v + eps)) * w[i] + b[i];
  }
  return y;
}
const addTo = (a: Float64Array, b: Float64Array) => a.map((v, i) => v + b[i]);

interface RefInput {
  B: number;
  T: number;
  ids: Int32Array;
  mask: Uint8Array;
  types: Int32Array;
}

/**
 * transformers' forward of the saved model, float64: Bert/Roberta/DistilBert embeddings (RoBERTa's position ids
 * from create_position_ids_from_input_ids: padding_idx + cumulative count of non-pad tokens), self-attention with the
 * extended attention mask (padding keys get the dtype minimum), post-LN layers, and the class's head.
 */
function referenceForward(
  kind: EncoderKind,
  head: EncoderHeadKind,
  w: T,
  x: RefInput,
  numLabels: number,
): { out: Float64Array; width: number } {
  const { C, NH, I, L } = TINY;
  const HD = C / NH;
  const N = x.B * x.T;
  const distil = kind === 'distilbert';
  const roberta = kind === 'roberta' || kind === 'xlm-roberta';
  const electra = kind === 'electra';
  const eps = roberta ? 1e-5 : 1e-12;
  const pfx = head === 'base' ? '' : distil ? 'distilbert.' : roberta ? 'roberta.' : electra ? 'electra.' : 'bert.';
  const E = electra ? TINY.E : C; // ELECTRA's embeddings are E wide, then embeddings_project → C
  const g = (n: string) => {
    const v = w.get(n);
    if (!v) throw new Error(`reference: no tensor ${n}`);
    return v;
  };
  let h: Float64Array = new Float64Array(N * E);
  for (let b = 0; b < x.B; b++) {
    let count = 0;
    for (let t = 0; t < x.T; t++) {
      const r = b * x.T + t;
      const id = x.ids[r];
      let pos = t;
      if (roberta) {
        const real = id !== PAD[kind];
        if (real) count++;
        pos = real ? count + PAD[kind] : PAD[kind];
      }
      for (let i = 0; i < E; i++) {
        let v =
          g(`${pfx}embeddings.word_embeddings.weight`)[id * E + i] +
          g(`${pfx}embeddings.position_embeddings.weight`)[pos * E + i];
        if (!distil) v += g(`${pfx}embeddings.token_type_embeddings.weight`)[x.types[r] * E + i];
        h[r * E + i] = v;
      }
    }
  }
  h = layerNorm(h, N, g(`${pfx}embeddings.LayerNorm.weight`), g(`${pfx}embeddings.LayerNorm.bias`), eps);
  if (electra) h = linear(h, N, g(`${pfx}embeddings_project.weight`), g(`${pfx}embeddings_project.bias`), C);
  for (let l = 0; l < L; l++) {
    const p = distil ? `${pfx}transformer.layer.${l}` : `${pfx}encoder.layer.${l}`;
    const names = distil
      ? {
          q: 'attention.q_lin',
          k: 'attention.k_lin',
          v: 'attention.v_lin',
          o: 'attention.out_lin',
          ln1: 'sa_layer_norm',
          up: 'ffn.lin1',
          down: 'ffn.lin2',
          ln2: 'output_layer_norm',
        }
      : {
          q: 'attention.self.query',
          k: 'attention.self.key',
          v: 'attention.self.value',
          o: 'attention.output.dense',
          ln1: 'attention.output.LayerNorm',
          up: 'intermediate.dense',
          down: 'output.dense',
          ln2: 'output.LayerNorm',
        };
    const lin = (m: string, inp: Float64Array, out: number) =>
      linear(inp, N, g(`${p}.${m}.weight`), g(`${p}.${m}.bias`), out);
    const [q, k, v] = [lin(names.q, h, C), lin(names.k, h, C), lin(names.v, h, C)];
    const ctx = new Float64Array(N * C);
    for (let b = 0; b < x.B; b++)
      for (let hh = 0; hh < NH; hh++)
        for (let i = 0; i < x.T; i++) {
          const scores = new Float64Array(x.T);
          for (let j = 0; j < x.T; j++) {
            let s = 0;
            for (let d = 0; d < HD; d++) s += q[(b * x.T + i) * C + hh * HD + d] * k[(b * x.T + j) * C + hh * HD + d];
            scores[j] = x.mask[b * x.T + j] ? s / Math.sqrt(HD) : -Infinity;
          }
          const m = Math.max(...scores);
          const e = scores.map((s) => Math.exp(s - m));
          const z = e.reduce((a, c) => a + c, 0);
          for (let d = 0; d < HD; d++) {
            let s = 0;
            for (let j = 0; j < x.T; j++) s += (e[j] / z) * v[(b * x.T + j) * C + hh * HD + d];
            ctx[(b * x.T + i) * C + hh * HD + d] = s;
          }
        }
    const a = layerNorm(
      addTo(lin(names.o, ctx, C), h),
      N,
      g(`${p}.${names.ln1}.weight`),
      g(`${p}.${names.ln1}.bias`),
      eps,
    );
    const f = lin(names.down, lin(names.up, a, I).map(gelu), C);
    h = layerNorm(addTo(f, a), N, g(`${p}.${names.ln2}.weight`), g(`${p}.${names.ln2}.bias`), eps);
  }
  const first = () => {
    const out = new Float64Array(x.B * C);
    for (let b = 0; b < x.B; b++) out.set(h.subarray(b * x.T * C, b * x.T * C + C), b * C);
    return out;
  };
  const lin = (m: string, inp: Float64Array, R: number, out: number, weight = `${m}.weight`, bias = `${m}.bias`) =>
    linear(inp, R, g(weight), g(bias), out);
  const words = `${pfx}embeddings.word_embeddings.weight`;
  if (head === 'base') return { out: h, width: C };
  if (head === 'question_answering') return { out: lin('qa_outputs', h, N, 2), width: 2 };
  if (head === 'sequence_classification') {
    const cls = first();
    if (distil)
      return {
        out: lin(
          'classifier',
          lin('pre_classifier', cls, x.B, C).map((u) => Math.max(0, u)),
          x.B,
          numLabels,
        ),
        width: numLabels,
      };
    if (roberta || electra)
      return {
        // RobertaClassificationHead: tanh; ElectraClassificationHead: get_activation("gelu")
        out: lin(
          'classifier.out_proj',
          lin('classifier.dense', cls, x.B, C).map(electra ? gelu : Math.tanh),
          x.B,
          numLabels,
        ),
        width: numLabels,
      };
    return {
      out: lin('classifier', lin('bert.pooler.dense', cls, x.B, C).map(Math.tanh), x.B, numLabels),
      width: numLabels,
    };
  }
  const [dense, norm, bias] = distil
    ? ['vocab_transform', 'vocab_layer_norm', 'vocab_projector.bias']
    : roberta
      ? ['lm_head.dense', 'lm_head.layer_norm', 'lm_head.bias']
      : electra
        ? ['generator_predictions.dense', 'generator_predictions.LayerNorm', 'generator_lm_head.bias']
        : ['cls.predictions.transform.dense', 'cls.predictions.transform.LayerNorm', 'cls.predictions.bias'];
  const t = layerNorm(lin(dense, h, N, E).map(gelu), N, g(`${norm}.weight`), g(`${norm}.bias`), eps);
  return { out: linear(t, N, g(words), g(bias), TINY.V), width: TINY.V };
}

/** Two sequences of 6 (the second with 2 padded positions, pad id = the model's), a sentence pair for BERT. */
function batchFor(kind: EncoderKind, head: EncoderHeadKind, numLabels: number): { batch: Batch; ref: RefInput } {
  const B = 2,
    T = 6;
  const ids = Int32Array.from({ length: B * T }, (_, i) => 3 + ((i * 5 + 1) % (TINY.V - 3)));
  const mask = new Uint8Array(B * T).fill(1);
  for (const i of [T + 4, T + 5]) {
    mask[i] = 0;
    ids[i] = PAD[kind];
  }
  const types = new Int32Array(B * T);
  if (kind === 'bert') for (const i of [3, 4, 5, T + 2, T + 3]) types[i] = 1;
  const labels = new Int32Array(B * T).fill(-100);
  if (head === 'sequence_classification') {
    labels[0] = numLabels - 1;
    labels[T] = 0;
  }
  if (head === 'masked_lm') for (const i of [1, 4, T + 2]) labels[i] = (ids[i] + 7) % TINY.V;
  const batch: Batch = {
    B,
    T,
    inputIds: ids,
    attentionMask: mask,
    labels,
    tokenTypeIds: types,
    ...(head === 'question_answering' ? { spanStarts: Int32Array.of(2, 1), spanEnds: Int32Array.of(4, 3) } : {}),
  };
  return { batch, ref: { B, T, ids, mask, types } };
}

/** The engine's logits at the rows the reference produces (first row per sequence for classification, real rows otherwise). */
function engineRows(logits: ArrayLike<number>, head: EncoderHeadKind, batch: Batch, width: number): Float64Array {
  const out: number[] = [];
  for (let b = 0; b < batch.B; b++)
    for (let t = 0; t < batch.T; t++) {
      if (head === 'sequence_classification' ? t > 0 : false) continue;
      const r = b * batch.T + t;
      for (let j = 0; j < width; j++) out.push(logits[r * width + j]);
    }
  return Float64Array.from(out);
}
/** The reference's rows, with padded rows of per-token heads kept (the check below skips them on both sides). */
const realMask = (head: EncoderHeadKind, batch: Batch, width: number) => {
  const keep: boolean[] = [];
  for (let b = 0; b < batch.B; b++)
    for (let t = 0; t < batch.T; t++) {
      if (head === 'sequence_classification' && t > 0) continue;
      for (let j = 0; j < width; j++) keep.push(batch.attentionMask[b * batch.T + t] === 1);
    }
  return keep;
};
const pick = (a: ArrayLike<number>, keep: boolean[]) => Float64Array.from(Array.from(a).filter((_, i) => keep[i]));

async function openAsSaved(dir: string, request?: EncoderTaskRequest, seed = 0) {
  const folder = await openModelFolder(dir, {
    ...(request ? { spec: (s: ModelSpec) => encoderForTask(s, request) as ModelSpec } : {}),
    seed,
  });
  try {
    const program = buildProgramFromSpec(folder.spec);
    const raw = await readProgramWeights(folder, program);
    const weights = new Map([...raw].map(([k, v]) => [k, Float64Array.from(v as Float32Array)]));
    return { spec: folder.spec as EncoderSpec, program, weights, created: folder.created, warnings: folder.warnings };
  } finally {
    await folder.close();
  }
}

const CASES: [EncoderKind, EncoderHeadKind][] = [
  ['bert', 'sequence_classification'],
  ['bert', 'question_answering'],
  ['bert', 'masked_lm'],
  ['bert', 'base'],
  ['distilbert', 'sequence_classification'],
  ['distilbert', 'question_answering'],
  ['distilbert', 'masked_lm'],
  ['roberta', 'sequence_classification'],
  ['roberta', 'question_answering'],
  ['roberta', 'masked_lm'],
  ['xlm-roberta', 'sequence_classification'],
  ['electra', 'sequence_classification'],
  ['electra', 'question_answering'],
  ['electra', 'masked_lm'],
  ['electra', 'base'],
];

let root: string;
beforeAll(async () => void (root = await mkdtemp(join(tmpdir(), 'enc-families-'))));
afterAll(async () => rm(root, { recursive: true, force: true }));

describe.each(CASES)('%s %s from a Hugging Face folder', (kind, head) => {
  let saved: TinyEncoder;
  let opened: Awaited<ReturnType<typeof openAsSaved>>;
  const numLabels = 3;
  const { batch, ref } = batchFor(kind, head, numLabels);
  beforeAll(async () => {
    saved = await writeTinyEncoder(join(root, `${kind}-${head}`), kind, head, {
      seed: CASES.findIndex((c) => c[0] === kind && c[1] === head) + 1,
    });
    opened = await openAsSaved(saved.dir);
  });

  it('reads the class config.json names, every saved tensor bound, nothing created', () => {
    expect(opened.spec.architecture).toBe((saved.config.architectures as string[])[0]);
    expect(opened.spec.head.task).toBe(head);
    expect(opened.created).toEqual([]);
    expect(opened.warnings).toEqual([]);
    const used = new Set(opened.program.params.map((d) => d.name));
    // every saved tensor is a program param (the MLM decoder's weight is the word embeddings, tied, not saved)
    expect([...saved.tensors.keys()].filter((n) => !used.has(n))).toEqual(
      head === 'base' && kind === 'bert' ? ['pooler.dense.weight', 'pooler.dense.bias'] : [],
    );
  });

  it('logits equal the float64 transformers-equations forward (reference executor)', () => {
    const r = referenceForward(kind, head, saved.tensors, ref, numLabels);
    const exe = new ReferenceExecutor(opened.program, opened.weights);
    const fwd = exe.forward(prepareBatch(opened.program, batch));
    expect(opened.program.vocab).toBe(r.width);
    const keep = realMask(head, batch, r.width);
    const ours = pick(engineRows(fwd.logits, head, batch, r.width), keep);
    const theirs = pick(r.out, keep);
    expect(ours.length).toBeGreaterThan(0);
    expect(relErr(ours, theirs)).toBeLessThan(1e-8); // float64 both sides; summation order and erf differ
  });

  it('the float32 ONNX forward gives the same logits', async () => {
    const r = referenceForward(kind, head, saved.tensors, ref, numLabels);
    const s = await createCpuTrainingSession({
      program: opened.program,
      weights: opened.weights,
      seed: 0,
      elem: 'float32',
      threads: 1,
    });
    try {
      const { logits } = await s.forward(batch);
      const keep = realMask(head, batch, r.width);
      expect(relErr(pick(engineRows(logits, head, batch, r.width), keep), pick(r.out, keep))).toBeLessThan(2e-5);
    } finally {
      await s.dispose();
    }
  });

  if (head !== 'base')
    it('end-to-end gradients of full fine-tuning match finite differences (tables, a layer, the head)', () => {
      const full: Program = fullFineTuneProgram(opened.program);
      const exe = new ReferenceExecutor(full, new Map([...opened.weights].map(([k, v]) => [k, v.slice()])));
      const inp = prepareBatch(full, batch);
      const fwd = exe.forward(inp);
      expect(fwd.tokens).toBeGreaterThan(0);
      const grads = exe.backward(inp, fwd);
      const names = full.params.map((d) => d.name);
      const layer1 = names.filter((n) => /layer\.1\./.test(n) && /(query|q_lin|intermediate|lin1)\.weight$/.test(n));
      const headParams = full.params.slice(-2).map((d) => d.name);
      const pickNames = [
        names[0],
        ...names.filter((n) => /position_embeddings|token_type/.test(n)),
        ...layer1,
        ...headParams,
      ];
      expectFiniteDifferences(exe, inp, grads, [...new Set(pickNames)], 5);
    });

  if (head !== 'base')
    it('the float64 ONNX training graph gives the reference loss and every gradient (full fine-tuning)', async () => {
      const full: Program = fullFineTuneProgram(opened.program);
      const exe = new ReferenceExecutor(full, opened.weights);
      const inp = prepareBatch(full, batch);
      const fwd = exe.forward(inp);
      await expectOnnxMatches(full, opened.weights, batch, fwd, exe.backward(inp, fwd), {
        elem: 'float64',
        lossTol: 1e-10,
        gradTol: 1e-6,
      });
    });
});

describe('a checkpoint saved without the task head', () => {
  for (const kind of ['bert', 'distilbert', 'roberta'] as const)
    it(`${kind}: the base-only folder opened for classification gets a created, seeded head and a warning naming it`, async () => {
      const base = await writeTinyEncoder(join(root, `${kind}-base-only`), kind, 'sequence_classification', {
        seed: 41,
        baseOnly: true,
      });
      const req: EncoderTaskRequest = { task: 'sequence_classification', labels: ['neg', 'pos'] };
      const a = await openAsSaved(base.dir, req, 7);
      const b = await openAsSaved(base.dir, req, 7);
      const c = await openAsSaved(base.dir, req, 8);
      const expected = {
        bert: ['classifier'],
        distilbert: ['pre_classifier', 'classifier'],
        roberta: ['classifier.dense', 'classifier.out_proj'],
      }[kind];
      expect(a.created).toEqual(expected.flatMap((m) => [`${m}.weight`, `${m}.bias`]));
      expect(a.warnings).toHaveLength(1);
      expect(a.warnings[0]).toContain(`has no ${expected.join(', ')}`);
      expect(a.warnings[0]).toMatch(/created with seed 7; it must be trained/);
      expect(a.spec.architecture).toMatch(/ForSequenceClassification$/);
      const w = a.weights.get(`${expected.at(-1)}.weight`)!;
      expect(w.length).toBe(2 * TINY.C);
      expect([...a.weights.get(`${expected.at(-1)}.bias`)!]).toEqual([0, 0]);
      // seeded: the same seed creates the same head, another seed another one; std ≈ initializer_range
      expect([...w]).toEqual([...b.weights.get(`${expected.at(-1)}.weight`)!]);
      expect([...w]).not.toEqual([...c.weights.get(`${expected.at(-1)}.weight`)!]);
      const big = a.weights.get(`${expected[0]}.weight`)!;
      const std = Math.sqrt(big.reduce((s, v) => s + v * v, 0) / big.length);
      expect(std).toBeGreaterThan(0.005);
      expect(std).toBeLessThan(0.05);
      // the encoder body is the saved one (read without the base prefix)
      const pfx = kind === 'distilbert' ? 'distilbert.' : kind === 'roberta' ? 'roberta.' : 'bert.';
      expect([...a.weights.get(`${pfx}embeddings.word_embeddings.weight`)!]).toEqual([
        ...base.tensors.get('embeddings.word_embeddings.weight')!,
      ]);
      if (kind === 'bert')
        expect([...a.weights.get('bert.pooler.dense.weight')!]).toEqual([...base.tensors.get('pooler.dense.weight')!]);
    });

  it('BertForMaskedLM (no pooler) opened for classification creates the pooler too; for QA only qa_outputs', async () => {
    const mlm = await writeTinyEncoder(join(root, 'bert-mlm-for-cls'), 'bert', 'masked_lm', { seed: 5 });
    const cls = await openAsSaved(mlm.dir, { task: 'sequence_classification', labels: ['a', 'b', 'c'] });
    expect(cls.created).toEqual([
      'bert.pooler.dense.weight',
      'bert.pooler.dense.bias',
      'classifier.weight',
      'classifier.bias',
    ]);
    const qa = await openAsSaved(mlm.dir, { task: 'question_answering' });
    expect(qa.created).toEqual(['qa_outputs.weight', 'qa_outputs.bias']);
    expect(qa.spec.architecture).toBe('BertForQuestionAnswering');
  });

  it('an ELECTRA discriminator (ElectraForPreTraining) opens as the base model, its replaced-token head ignored', async () => {
    const dir = join(root, 'electra-discriminator');
    const saved = await writeTinyEncoder(dir, 'electra', 'question_answering', { seed: 12 });
    const { writeSafetensors } = await import('../../../src/main/formats/safetensors/index.ts');
    const shapes = new Map(
      (await import('../../fixtures/tiny-encoders.ts')).tinyEncoderShapes('electra', 'question_answering'),
    );
    const body = [...saved.tensors].filter(([n]) => n.startsWith('electra.'));
    const C = TINY.C;
    await writeSafetensors(join(dir, 'model.safetensors'), [
      ...body.map(([name, data]) => ({
        name,
        dtype: 'F32' as const,
        shape: shapes.get(name)!,
        data: Float32Array.from(data),
      })),
      {
        name: 'discriminator_predictions.dense.weight',
        dtype: 'F32' as const,
        shape: [C, C],
        data: new Float32Array(C * C),
      },
      { name: 'discriminator_predictions.dense.bias', dtype: 'F32' as const, shape: [C], data: new Float32Array(C) },
      {
        name: 'discriminator_predictions.dense_prediction.weight',
        dtype: 'F32' as const,
        shape: [1, C],
        data: new Float32Array(C),
      },
      {
        name: 'discriminator_predictions.dense_prediction.bias',
        dtype: 'F32' as const,
        shape: [1],
        data: new Float32Array(1),
      },
    ]);
    await writeFile(
      join(dir, 'config.json'),
      JSON.stringify({ ...saved.config, architectures: ['ElectraForPreTraining'] }),
    );
    const asSaved = await openAsSaved(dir);
    expect(asSaved.spec.head.task).toBe('base');
    expect(asSaved.program.vocab).toBe(C); // the hidden states
    const qa = await openAsSaved(dir, { task: 'question_answering' });
    expect(qa.spec.architecture).toBe('ElectraForQuestionAnswering');
    expect(qa.created).toEqual(['qa_outputs.weight', 'qa_outputs.bias']);
    expect([...qa.weights.get('electra.embeddings_project.weight')!]).toEqual([
      ...saved.tensors.get('electra.embeddings_project.weight')!,
    ]);
  });

  it('a classifier fine-tuned on another label set is replaced by a new head, said so (ignore_mismatched_sizes)', async () => {
    const three = await writeTinyEncoder(join(root, 'roberta-three-labels'), 'roberta', 'sequence_classification', { seed: 13 });
    const two = await openAsSaved(three.dir, { task: 'sequence_classification', labels: ['no', 'yes'] }, 2);
    expect(two.created).toEqual(['classifier.out_proj.weight', 'classifier.out_proj.bias']);
    expect(two.warnings).toEqual([
      expect.stringMatching(/holds another head \(classifier\.out_proj\.weight \[3,8\], classifier\.out_proj\.bias \[3\]\), not this RobertaForSequenceClassification's: replaced by a new one, created with seed 2/),
    ]);
    // the rest of the head (classifier.dense) fits and is kept
    expect([...two.weights.get('classifier.dense.weight')!]).toEqual([...three.tensors.get('classifier.dense.weight')!]);
  });

  it('TF-era LayerNorm.gamma / beta names load as weight / bias', async () => {
    const old = await writeTinyEncoder(join(root, 'bert-gamma'), 'bert', 'question_answering', {
      seed: 3,
      oldLayerNorm: true,
    });
    const a = await openAsSaved(old.dir);
    expect(a.created).toEqual([]);
    expect([...a.weights.get('bert.embeddings.LayerNorm.weight')!]).toEqual([
      ...old.tensors.get('bert.embeddings.LayerNorm.gamma')!,
    ]);
  });

  it('a BertForPreTraining checkpoint as the Hub has them (next-sentence head, tied decoder copy, int64 position_ids) opens as masked LM and for QA', async () => {
    const dir = join(root, 'bert-pretraining');
    const saved = await writeTinyEncoder(dir, 'bert', 'masked_lm', { seed: 6 });
    const { writeSafetensors } = await import('../../../src/main/formats/safetensors/index.ts');
    const shapes = new Map((await import('../../fixtures/tiny-encoders.ts')).tinyEncoderShapes('bert', 'masked_lm'));
    const f32 = [...saved.tensors].map(([name, data]) => ({
      name,
      dtype: 'F32' as const,
      shape: shapes.get(name)!,
      data: Float32Array.from(data),
    }));
    const C = TINY.C;
    const extra = [
      {
        name: 'bert.pooler.dense.weight',
        dtype: 'F32' as const,
        shape: [C, C],
        data: new Float32Array(C * C).fill(0.01),
      },
      { name: 'bert.pooler.dense.bias', dtype: 'F32' as const, shape: [C], data: new Float32Array(C) },
      { name: 'cls.seq_relationship.weight', dtype: 'F32' as const, shape: [2, C], data: new Float32Array(2 * C) },
      { name: 'cls.seq_relationship.bias', dtype: 'F32' as const, shape: [2], data: new Float32Array(2) },
      {
        name: 'cls.predictions.decoder.weight',
        dtype: 'F32' as const,
        shape: [TINY.V, C],
        data: Float32Array.from(saved.tensors.get('bert.embeddings.word_embeddings.weight')!),
      },
      {
        name: 'bert.embeddings.position_ids',
        dtype: 'I64' as const,
        shape: [1, TINY.P],
        data: new Uint8Array(BigInt64Array.from({ length: TINY.P }, (_, i) => BigInt(i)).buffer),
      },
    ];
    await writeSafetensors(join(dir, 'model.safetensors'), [...f32, ...extra]);
    await writeFile(
      join(dir, 'config.json'),
      JSON.stringify({ ...saved.config, architectures: ['BertForPreTraining'] }),
    );
    const mlm = await openAsSaved(dir);
    expect(mlm.spec.head.task).toBe('masked_lm');
    expect(mlm.created).toEqual([]);
    const cls = await openAsSaved(dir, { task: 'sequence_classification', labels: ['x', 'y'] });
    expect(cls.created).toEqual(['classifier.weight', 'classifier.bias']); // the pretrained pooler is used
    expect(cls.weights.get('bert.pooler.dense.weight')![0]).toBeCloseTo(0.01, 7);
  });

  it('a body tensor missing is still an error naming it (only heads are created)', async () => {
    const dir = join(root, 'bert-broken');
    const saved = await writeTinyEncoder(dir, 'bert', 'question_answering', { seed: 4 });
    const { writeSafetensors } = await import('../../../src/main/formats/safetensors/index.ts');
    const kept = [...saved.tensors].filter(([n]) => n !== 'bert.encoder.layer.1.output.dense.weight');
    const shapes = new Map(
      (await import('../../fixtures/tiny-encoders.ts')).tinyEncoderShapes('bert', 'question_answering'),
    );
    await writeSafetensors(
      join(dir, 'model.safetensors'),
      kept.map(([name, data]) => ({
        name,
        dtype: 'F32' as const,
        shape: shapes.get(name)!,
        data: Float32Array.from(data),
      })),
    );
    await expect(openModelFolder(dir)).rejects.toThrow(
      /missing 1 tensor\(s\): bert\.encoder\.layer\.1\.output\.dense\.weight/,
    );
  });
});

describe('config.json errors name the field', () => {
  const bert = (over: Record<string, unknown>) => ({
    architectures: ['BertForSequenceClassification'],
    model_type: 'bert',
    vocab_size: 10,
    hidden_size: 8,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    intermediate_size: 8,
    ...over,
  });
  it.each([
    [bert({ hidden_act: 'relu' }), /hidden_act "relu" is not supported for encoders/],
    [bert({ position_embedding_type: 'relative_key' }), /position_embedding_type "relative_key" is not supported/],
    [bert({ is_decoder: true }), /is_decoder=true is not supported/],
    [bert({ hidden_size: 9 }), /hidden size \(9\) must be divisible by the attention heads \(2\)/],
    [bert({ id2label: { 0: 'a', 2: 'b' } }), /field "id2label" must number its labels 0\.\.1 \(missing "1"\)/],
    [
      bert({ problem_type: 'multi_label_classification' }),
      /field "problem_type" "multi_label_classification" is not supported/,
    ],
    [bert({ num_hidden_layers: 'two' }), /field "num_hidden_layers" must be a non-negative integer/],
    [bert({ intermediate_size: undefined }), /required field "intermediate_size" is missing/],
    [
      {
        architectures: ['DistilBertForSequenceClassification'],
        model_type: 'distilbert',
        vocab_size: 10,
        dim: 8,
        n_layers: 1,
        n_heads: 2,
        hidden_dim: 8,
        sinusoidal_pos_embds: true,
      },
      /sinusoidal_pos_embds=true is not supported/,
    ],
  ])('%#', (config, error) => expect(() => specFromConfig(config, 'x/config.json')).toThrow(error));

  it('labels: num_labels 1 is regression (MSE), id2label sets the count', () => {
    const r = specFromConfig(bert({ num_labels: 1 })) as EncoderSpec;
    expect(r.head).toMatchObject({ numLabels: 1, problemType: 'regression' });
    expect(buildProgramFromSpec(r as ModelSpec).loss).toBe('mse');
    const c = specFromConfig(bert({ id2label: { 0: 'x', 1: 'y', 2: 'z' } })) as EncoderSpec;
    expect(c.head).toMatchObject({ numLabels: 3, problemType: 'single_label_classification' });
    expect(buildProgramFromSpec(c as ModelSpec).vocab).toBe(3);
  });

  it('a decoder is refused for an encoder task, and labels must be two or more and distinct', async () => {
    const llama = {
      architectures: ['LlamaForCausalLM'],
      model_type: 'llama',
      vocab_size: 10,
      hidden_size: 8,
      intermediate_size: 8,
      num_hidden_layers: 1,
      num_attention_heads: 2,
    };
    expect(() => encoderForTask(specFromConfig(llama), { task: 'question_answering' })).toThrow(
      /LlamaForCausalLM is a decoder .* need an encoder/,
    );
    const s = specFromConfig(bert({}));
    expect(() => encoderForTask(s, { task: 'sequence_classification', labels: ['a'] })).toThrow(/at least two labels/);
    expect(() => encoderForTask(s, { task: 'sequence_classification', labels: ['a', 'b', 'a'] })).toThrow(
      /"a" appears twice/,
    );
    await writeFile(join(root, 'unused'), '');
  });
});
