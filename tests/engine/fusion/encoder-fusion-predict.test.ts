// Predict and task evaluation with an encoder AdapterFusion folder (issue 15: the attention result "loaded by chat,
// eval and predict"): two tiny classification adapters and two tiny QA adapters of the bundled encoder, each pair
// combined in attention mode by a short fusion run (a few steps: the numbers, not the quality, are under test).
//   - tasks.predict (the CLI's `predict --adapter <fusion folder>`) gives the label probabilities, resp. the span and
//     its score, that the fusion's training-side session (engine/fusion/encoder.ts openEncoderFusion, the session
//     the run trained and evaluated with) gives with the folder's tensors loaded — within 1e-4;
//   - tasks.evaluate on the run's request (what `eval --run` and the studio's Evaluate ask), and the CLI's
//     `eval --model --adapter <fusion folder> --dataset <file>`, report the metrics the fusion run itself reported at
//     its last eval on the same rows;
//   - --compare-base answers with the base's fresh head beside it; a changed adapter is refused (its hash).
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RunConfig, type RunConfigInput, type Run } from '../../../src/common/api/runs.ts';
import { taskEvaluationOfRun } from '../../../src/common/api/task-runs.ts';
import type { PredictResult, TaskEvaluateResult } from '../../../src/common/api/tasks.ts';
import { createStudioCore, type StudioCore } from '../../../src/main/core/index.ts';
import { fineTune } from '../../../src/main/engine/trainer/fine-tune.ts';
import { openEncoderFusion } from '../../../src/main/engine/fusion/encoder.ts';
import { FUSION_CONFIG, FUSION_WEIGHTS, isFusionFolder } from '../../../src/main/formats/fusion/index.ts';
import { SafetensorsFile } from '../../../src/main/formats/safetensors/index.ts';
import { EncoderTokenizer } from '../../../src/main/formats/tokenizer/encoder/index.ts';
import { classificationInput, TaskBatchPlan, type TaskInput } from '../../../src/main/engine/trainer/task-data.ts';
import { logitsSession, sequenceLogits, spanLogits } from '../../../src/main/engine/trainer/task-evaluate.ts';
import { postprocessQa, qaFeatures, softmax } from '../../../src/main/engine/tasks/index.ts';
import type { TensorMap } from '../../../src/main/engine/session.ts';

const MODEL = resolve(import.meta.dirname, '../../../resources/encoder-model');
const SST2 = resolve(import.meta.dirname, '../../../resources/encoder-data/sst2/train.jsonl');
const SQUAD = resolve(import.meta.dirname, '../../../resources/encoder-data/squad');
const bin = resolve(import.meta.dirname, '../../../bin/lora-studio.js');
const MARK = ' Really very really.';
const ALL = ['negative', 'positive', 'marked-negative', 'marked-positive'];

let root: string;
let core: StudioCore;
const cls = { adapters: [] as string[], run: null as null | { config: RunConfig; outputDir: string; adapter: string; evalMetrics: Record<string, number> } };
const qa = { adapters: [] as string[], run: null as null | { config: RunConfig; outputDir: string; adapter: string; evalMetrics: Record<string, number> } };
let qaEval: { question: string; context: string };

const base = (over: Partial<RunConfigInput> & Pick<RunConfigInput, 'dataset'>): RunConfigInput => ({
  model: MODEL,
  method: 'lora',
  lora: { r: 4, lora_alpha: 16, lora_dropout: 0 },
  micro_batch_size: 16,
  learning_rate: 5e-3,
  max_steps: 4,
  eval_steps: 4,
  save_steps: null,
  seed: 7,
  executor: 'cpu',
  ...over,
});

async function train(name: string, input: RunConfigInput) {
  const config = RunConfig.parse(input);
  const outputDir = join(root, name);
  const r = await fineTune({ config, outputDir, resume: false, signal: new AbortController().signal, reporter: { log: () => {}, progress: () => {}, metric: () => {} } });
  expect(r.status).toBe('completed');
  return { config, outputDir, adapter: r.summary.adapterPath!, evalMetrics: (r.summary.evalMetrics ?? {}) as Record<string, number> };
}

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = execFile(process.execPath, [bin, '--data-dir', join(root, 'data'), ...args], { timeout: 180_000 }, (error, stdout, stderr) =>
      done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end();
  });
}

/** The fusion folder's tensors read straight from its safetensors file (not through the predict path's reader). */
async function folderTensors(dir: string): Promise<TensorMap> {
  const st = await SafetensorsFile.open(join(dir, FUSION_WEIGHTS));
  const out: TensorMap = new Map();
  try {
    for (const name of st.names()) out.set(name, { shape: st.info(name).shape, data: await st.readFloat32(name) });
  } finally {
    await st.close();
  }
  return out;
}

/** The run as the faces hold it: enough for the shared request builder (its config and final adapter). */
const asRun = (r: { config: RunConfig; adapter: string }) => ({ id: 'r', status: 'completed', config: r.config, summary: { adapterPath: r.adapter } }) as unknown as Run;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'encoder-fusion-predict-'));
  core = createStudioCore({ dataDir: join(root, 'data') });
  const write = async (name: string, text: string) => {
    const p = join(root, name);
    await writeFile(p, text);
    return p;
  };
  // classification: plain negative/positive, marked marked-negative/marked-positive, the fusion on the four-label mix
  const rows = (await readFile(SST2, 'utf8')).split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as { sentence: string; label: number });
  const jsonl = (list: unknown[]) => list.map((r) => JSON.stringify(r)).join('\n') + '\n';
  const marked = (r: { sentence: string; label: number }, shift: number) => ({ sentence: r.sentence + MARK, label: r.label + shift });
  const plain = await write('plain.jsonl', jsonl(rows.slice(0, 64)));
  const mark = await write('marked.jsonl', jsonl(rows.slice(64, 128).map((r) => marked(r, 0))));
  const mix = await write('mix.jsonl', jsonl(rows.slice(128, 192).flatMap((r, i) => (i % 2 ? [marked(r, 2)] : [r]))));
  const mixEval = await write('mix-eval.jsonl', jsonl(rows.slice(192, 216).flatMap((r, i) => (i % 2 ? [marked(r, 2)] : [r]))));
  const clsRun = (path: string, labels: string[], over: Partial<RunConfigInput> = {}) =>
    base({ task: 'classification', classification: { labels }, dataset: { path, eval_split: { kind: 'file', path: mixEval } }, max_seq_length: 40, ...over });
  // each adapter is evaluated on the mix only to have an eval split: its labels are its own two
  cls.adapters.push((await train('plain', clsRun(plain, ['negative', 'positive'], { dataset: { path: plain, eval_split: { kind: 'ratio', ratio: 0.25 } } }))).adapter);
  cls.adapters.push((await train('marked', clsRun(mark, ['marked-negative', 'marked-positive'], { dataset: { path: mark, eval_split: { kind: 'ratio', ratio: 0.25 } } }))).adapter);
  cls.run = await train('fuse-cls', clsRun(mix, ALL, { fusion: { adapters: cls.adapters, mode: 'attention', attention_dim: 4, value_rank: 2 } }));

  // extractive QA: the "Animals" paragraphs and the children's-day ones, the fusion on a mix
  type Article = { title: string; paragraphs: { context: string; qas: { question: string }[] }[] };
  const read = async (f: string) => (JSON.parse(await readFile(join(SQUAD, f), 'utf8')) as { data: Article[] }).data;
  const [trainSet, dev] = [await read('train-v1.1.json'), await read('dev-v1.1.json')];
  const of = (data: Article[], title: string, from: number, count: number) => data.find((a) => a.title === title)!.paragraphs.slice(from, from + count);
  const squad = (articles: Article[]) => JSON.stringify({ version: '1.1', data: articles });
  const animals = await write('animals.json', squad([{ title: 'Animals', paragraphs: of(trainSet, 'Animals', 0, 24) }]));
  const days = await write('days.json', squad([{ title: 'Two friends', paragraphs: of(trainSet, 'Two friends', 0, 24) }]));
  const qaMix = await write('qa-mix.json', squad([{ title: 'Animals', paragraphs: of(trainSet, 'Animals', 24, 12) }, { title: 'Two friends', paragraphs: of(trainSet, 'Two friends', 24, 12) }]));
  const evalParagraphs = [...of(dev, 'Animals', 0, 3), ...of(dev, 'Two friends', 0, 3)];
  const qaMixEval = await write('qa-mix-eval.json', squad([{ title: 'mix', paragraphs: evalParagraphs }]));
  qaEval = { question: evalParagraphs[0].qas[0].question, context: evalParagraphs[0].context };
  const qaRun = (path: string, over: Partial<RunConfigInput> = {}) =>
    base({ task: 'question-answering', question_answering: { doc_stride: 32 }, dataset: { path, eval_split: { kind: 'file', path: qaMixEval } }, max_seq_length: 80, ...over });
  qa.adapters.push((await train('animals', qaRun(animals))).adapter);
  qa.adapters.push((await train('days', qaRun(days))).adapter);
  qa.run = await train('fuse-qa', qaRun(qaMix, { fusion: { adapters: qa.adapters, mode: 'attention', attention_dim: 4, value_rank: 2 } }));
}, 600_000);

afterAll(async () => {
  await core?.close();
  await rm(root, { recursive: true, force: true });
});

describe('predict and task evaluation with an encoder AdapterFusion folder', () => {
  it('classification: predict gives the probabilities of the fusion run’s own session; --compare-base the base beside it', async () => {
    const run = cls.run!;
    expect(isFusionFolder(run.adapter)).toBe(true);
    const text = 'a gorgeous, witty, seductive movie .' + MARK;
    const got = (await core.invoke('tasks.predict', { model: MODEL, adapterPath: run.adapter, compareBase: true, maxLength: 40, input: { kind: 'classification', text } })) as PredictResult;
    // the reference: the session the run trains with (a fresh fused program), the folder's trained tensors set into it
    const opened = await openEncoderFusion(run.config, ALL);
    try {
      opened.session.setTrainables(await folderTensors(run.adapter));
      const tokenizer = EncoderTokenizer.load(MODEL);
      const { input } = classificationInput(tokenizer, text, null, 40);
      const plan = new TaskBatchPlan([input], { seed: 0, microBatchSize: 1, maxLength: 40, padId: tokenizer.padId, shuffle: false }, 'none');
      const [out] = await sequenceLogits(logitsSession(opened.session), plan);
      const want = softmax(out.rows.subarray(0, out.width));
      if (got.tuned.kind !== 'classification') throw new Error('expected a classification answer');
      expect(got.tuned.probabilities).toHaveLength(4);
      for (const { label, probability } of got.tuned.probabilities) expect(Math.abs(probability - want[ALL.indexOf(label)])).toBeLessThan(1e-4);
      // the base side: the encoder alone with a fresh head over the same four labels — another answer
      if (got.base?.kind !== 'classification') throw new Error('expected the base side');
      expect(got.base.probabilities.map((p) => p.label).sort()).toEqual([...ALL].sort());
      const gap = Math.max(...got.base.probabilities.map(({ label, probability }) => Math.abs(probability - want[ALL.indexOf(label)])));
      expect(gap).toBeGreaterThan(1e-3);
    } finally {
      await opened.session.dispose();
    }
  }, 120_000);

  it('classification: evaluation on the run’s request reports the run’s own accuracy and macro-F1', async () => {
    const run = cls.run!;
    const built = taskEvaluationOfRun(asRun(run), { compareBase: false, worst: 3 });
    if (!built.ok) throw new Error(built.problem);
    expect(built.request.adapterPath).toBe(run.adapter);
    const r = (await core.invoke('tasks.evaluate', built.request)) as TaskEvaluateResult;
    expect(r.labels).toEqual(ALL);
    expect(r.examples).toBe(24);
    expect(r.tuned.metrics.eval_accuracy).toBeCloseTo(run.evalMetrics.eval_accuracy, 6);
    expect(r.tuned.metrics.eval_macro_f1).toBeCloseTo(run.evalMetrics.eval_macro_f1, 6);
    // the CLI without a run: every row of the file, by the fusion's task metrics, the base (a fresh head) beside
    const mixEval = (run.config.dataset.eval_split as { path: string }).path;
    const c = await cli('eval', '--model', MODEL, '--adapter', run.adapter, '--dataset', mixEval, '--max-length', '40', '--json');
    expect(c.stderr).not.toMatch(/error|\n\s+at /i);
    expect(c.code).toBe(0);
    const viaCli = JSON.parse(c.stdout.slice(c.stdout.indexOf('{'))) as TaskEvaluateResult;
    expect(viaCli.examples).toBe(24);
    expect(viaCli.tuned.metrics.eval_accuracy).toBeCloseTo(run.evalMetrics.eval_accuracy, 6);
    expect(viaCli.tuned.metrics.eval_macro_f1).toBeCloseTo(run.evalMetrics.eval_macro_f1, 6);
    expect(viaCli.base?.metrics.eval_accuracy).toBeTypeOf('number');
  }, 180_000);

  it('question answering: the CLI predicts the span the fusion run’s session finds, and eval reports its exact match and F1', async () => {
    const run = qa.run!;
    const r = await cli('predict', '--model', MODEL, '--adapter', run.adapter, '--question', qaEval.question, '--context', qaEval.context, '--max-length', '80', '--json');
    expect(r.stderr).not.toMatch(/error|\n\s+at /i);
    expect(r.code).toBe(0);
    const got = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as PredictResult;
    if (got.tuned.kind !== 'question-answering') throw new Error('expected a span');
    const opened = await openEncoderFusion(run.config, null);
    try {
      opened.session.setTrainables(await folderTensors(run.adapter));
      const tokenizer = EncoderTokenizer.load(MODEL);
      const examples = [{ id: 'q', question: qaEval.question, context: qaEval.context, answers: { text: [], answerStart: [] } }];
      const features = qaFeatures(tokenizer, examples, { maxLength: 80, docStride: 78 });
      const inputs: TaskInput[] = features.map((f) => ({ ids: Int32Array.from(f.inputIds), trained: new Uint8Array(f.inputIds.length), tokenTypeIds: Int32Array.from(f.tokenTypeIds) }));
      const plan = new TaskBatchPlan(inputs, { seed: 0, microBatchSize: 4, maxLength: 80, padId: tokenizer.padId, shuffle: false }, 'span');
      const [want] = postprocessQa(examples, features, (await sequenceLogits(logitsSession(opened.session), plan)).map(spanLogits), { nBestSize: 20, maxAnswerLength: 30 });
      expect([got.tuned.text, got.tuned.start, got.tuned.end]).toEqual([want.text, want.start, want.end]);
      expect(Math.abs(got.tuned.score - want.nBest[0].score)).toBeLessThan(1e-4);
    } finally {
      await opened.session.dispose();
    }
    const built = taskEvaluationOfRun(asRun(run), { compareBase: false, worst: 3 });
    if (!built.ok) throw new Error(built.problem);
    const e = (await core.invoke('tasks.evaluate', built.request)) as TaskEvaluateResult;
    expect(e.tuned.metrics.eval_exact_match).toBeCloseTo(run.evalMetrics.eval_exact_match, 6);
    expect(e.tuned.metrics.eval_f1).toBeCloseTo(run.evalMetrics.eval_f1, 6);
  }, 180_000);

  it('the CLI refuses a combination of decoder adapters with the sentence (no stack trace), and a changed adapter by its hash', async () => {
    const decoder = join(root, 'decoder-fusion');
    await mkdir(decoder);
    await writeFile(join(decoder, FUSION_CONFIG), JSON.stringify({ format: 'lora-studio.fusion/1', mode: 'attention', base_model: '/m', adapters: [] }));
    const r = await cli('predict', '--model', MODEL, '--adapter', decoder, '--text', 'hi');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/combination of decoder \(language-model\) adapters; predictions and task metrics answer with encoder task models/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    // the fusion was trained on those exact adapters: one changed → refused, naming it
    await appendFile(join(cls.adapters[0], 'adapter_config.json'), '\n');
    const changed = await core.invokeSafe('tasks.predict', { model: MODEL, adapterPath: cls.run!.adapter, input: { kind: 'classification', text: 'hi' } });
    expect(changed.ok).toBe(false);
    if (!changed.ok) expect(changed.error.message).toMatch(/adapter plain\/adapter .* changed since the fusion was trained/);
  }, 120_000);
});
