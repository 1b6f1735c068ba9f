// Fusion for encoder classification runs (issue 15) on the bundled encoder: two classification adapters trained
// on different data AND label subsets generated from the bundled SST-2 rows — "plain" sentences labelled
// negative/positive, and "marked" sentences (the same kind of rows with a marker phrase appended) labelled
// marked-negative/marked-positive — then their combination learned on a mix of both over all four labels. Each
// adapter alone can only name its own two labels, so on the mix it is right on at most its half; the learned
// combination (weights or AdapterFusion attention, with the head trained as in the paper's second stage) must
// beat both, and the report compares by accuracy. The fuse CLI's config builder turns SEQ_CLS adapters into a
// classification run over their labels and refuses a mix of kinds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RunConfig, type RunConfigInput } from '../../../src/common/api/runs.ts';
import { FusionReport } from '../../../src/common/api/fusion.ts';
import { fineTune, type FineTuneReporter } from '../../../src/main/engine/trainer/fine-tune.ts';
import { readAdapter } from '../../../src/main/formats/peft/index.ts';
import { FUSION_CONFIG, isFusionFolder } from '../../../src/main/formats/fusion/index.ts';
import { FUSION_REPORT } from '../../../src/main/engine/fusion/report.ts';
import { adaptersTask, buildFuseConfig } from '../../../src/main/cli/commands/fuse.ts';

const MODEL = resolve(import.meta.dirname, '../../../resources/encoder-model');
const SST2 = resolve(import.meta.dirname, '../../../resources/encoder-data/sst2/train.jsonl');
const MARK = ' Really very really.';

let root: string;
const files = { plain: '', marked: '', mix: '', plainEval: '', markedEval: '', mixEval: '' };
const adapters: string[] = [];

const reporter = (logs: string[] = []): FineTuneReporter => ({ log: (l) => logs.push(l), progress: () => {}, metric: () => {} });

function config(path: string, evalPath: string, labels: string[], over: Partial<RunConfigInput> = {}): RunConfig {
  return RunConfig.parse({
    model: MODEL,
    task: 'classification',
    classification: { labels },
    dataset: { path, eval_split: { kind: 'file', path: evalPath } },
    method: 'lora',
    lora: { r: 8, lora_alpha: 32, lora_dropout: 0 },
    micro_batch_size: 16,
    learning_rate: 3e-3,
    lr_scheduler_type: 'linear',
    max_steps: 60,
    eval_steps: 60,
    max_seq_length: 48,
    save_steps: null,
    seed: 7,
    ...over,
  });
}

async function run(name: string, c: RunConfig, logs: string[] = []) {
  const outputDir = join(root, name);
  const r = await fineTune({ config: c, outputDir, resume: false, signal: new AbortController().signal, reporter: reporter(logs) });
  expect(r.status).toBe('completed');
  return { outputDir, adapter: r.summary.adapterPath!, summary: r.summary };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'encoder-fuse-'));
  const rows = (await readFile(SST2, 'utf8'))
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { sentence: string; label: number });
  const write = async (name: string, list: { sentence: string; label: number }[]) => {
    const p = join(root, `${name}.jsonl`);
    await writeFile(p, list.map((r) => JSON.stringify(r)).join('\n') + '\n');
    return p;
  };
  // label ids: plain 0/1 (negative/positive), marked 0/1 of their own task, 2/3 in the four-label mix
  const plain = rows.slice(0, 960);
  const marked = rows.slice(960, 1920).map((r) => ({ sentence: r.sentence + MARK, label: r.label }));
  const evalPlain = rows.slice(1920, 2000);
  const evalMarked = rows.slice(2000, 2080).map((r) => ({ sentence: r.sentence + MARK, label: r.label }));
  files.plain = await write('plain', plain);
  files.marked = await write('marked', marked);
  files.plainEval = await write('plain-eval', evalPlain);
  files.markedEval = await write('marked-eval', evalMarked);
  const four = (r: { sentence: string; label: number }, m: boolean) => ({ sentence: r.sentence, label: r.label + (m ? 2 : 0) });
  files.mix = await write('mix', plain.slice(0, 480).flatMap((r, i) => [four(r, false), four(marked[i], true)]));
  files.mixEval = await write('mix-eval', evalPlain.flatMap((r, i) => [four(r, false), four(evalMarked[i], true)]));
  adapters.push((await run('plain', config(files.plain, files.plainEval, ['negative', 'positive']))).adapter);
  adapters.push((await run('marked', config(files.marked, files.markedEval, ['marked-negative', 'marked-positive']))).adapter);
}, 900_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const ALL = ['negative', 'positive', 'marked-negative', 'marked-positive'];

describe('fuse on an encoder: classification adapters', () => {
  it('the fuse command reads them as a classification run over their labels, and refuses a mix of kinds', async () => {
    expect(await adaptersTask(adapters)).toEqual({ kind: 'classification', labels: ALL });
    const c = await buildFuseConfig({ base: MODEL, adapter: adapters, dataset: files.mix, evalFile: files.mixEval, mode: 'weights', maxSteps: '10' });
    expect(c.task).toBe('classification');
    expect(c.classification?.labels).toEqual(ALL);
    expect(c.fusion?.adapters).toEqual(adapters);
    const lm = join(root, 'lm-adapter');
    await import('node:fs/promises').then((fs) => fs.mkdir(lm, { recursive: true }));
    await writeFile(join(lm, 'adapter_config.json'), JSON.stringify({ task_type: 'CAUSAL_LM' }));
    await expect(buildFuseConfig({ base: MODEL, adapter: [adapters[0], lm], dataset: files.mix, mode: 'weights', maxSteps: '10' })).rejects.toThrow(
      /is a classification adapter and --adapter .*lm-adapter a causal-LM one/,
    );
  });

  for (const mode of ['weights', 'attention'] as const)
    it(`${mode}: trains the combination with the head on the four-label mix; the report compares by accuracy and the learned one beats each adapter alone`, async () => {
      const logs: string[] = [];
      const c = config(files.mix, files.mixEval, ALL, {
        learning_rate: mode === 'weights' ? 5e-2 : 5e-3,
        max_steps: 40,
        eval_steps: 40,
        fusion: { adapters, mode, attention_dim: 8, value_rank: 2 },
      });
      const r = await run(`fuse-${mode}`, c, logs);
      expect(logs.join('\n')).toMatch(new RegExp(`combining 2 frozen adapters \\(${mode} mode\\).*the head \\(pooler, classifier, score\\) trained`));
      const report = FusionReport.parse(JSON.parse(await readFile(join(r.outputDir, FUSION_REPORT), 'utf8')));
      expect(report.comparison.metric).toBe('accuracy');
      const single = report.comparison.single.map((s) => s.value);
      expect(single).toHaveLength(2);
      for (const v of [...single, report.comparison.uniform, report.comparison.learned]) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      }
      // each adapter names only its own two labels: right on at most its half of the mix
      for (const v of single) expect(v).toBeLessThanOrEqual(0.5 + 1e-9);
      expect(report.comparison.learned).toBeGreaterThan(Math.max(...single) + 0.1);
      // the trained run's own final eval is the same figure as the report's learned accuracy
      expect(r.summary.evalMetrics?.eval_accuracy).toBeCloseTo(report.comparison.learned, 6);
      if (mode === 'weights') {
        const combined = await readAdapter(r.adapter);
        expect(combined.config.task_type).toBe('SEQ_CLS');
        expect(combined.taskHead?.id2label).toEqual({ 0: 'negative', 1: 'positive', 2: 'marked-negative', 3: 'marked-positive' });
        expect(combined.extra.get('base_model.model.classifier.weight')?.shape).toEqual([4, 128]);
        expect(report.weights?.['*']).toHaveLength(2);
      } else {
        expect(isFusionFolder(r.adapter)).toBe(true);
        const folder = JSON.parse(await readFile(join(r.adapter, FUSION_CONFIG), 'utf8'));
        expect(folder.task_head.architecture).toBe('BertForSequenceClassification');
        expect(folder.modules_to_save).toEqual(['pooler', 'classifier', 'score']);
      }
    }, 600_000);
});
