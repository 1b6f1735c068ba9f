// Fusion for extractive question answering (issue 15) on the bundled encoder: two QUESTION_ANS adapters (LoRA + the
// span head qa_outputs) trained on different data drawn from the bundled SQuAD-style file — one on the "Animals"
// paragraphs (what an animal says, eats, can do, where it lives), one on the children's-day paragraphs (where a
// child went, with whom, what they ate or saw, how they felt) — then their combination learned on a mix of both,
// the span head trained with it from the two heads averaged. On the held-out mix each adapter alone answers its own
// half; the learned combination (weights or attention) must beat both by F1, and the report gives F1 and exact
// match for each adapter alone, the uniform average and the learned one. The fuse command turns QUESTION_ANS
// adapters into a question-answering run.
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
import { adaptersTask, buildFuseConfig, fusionReportLines } from '../../../src/main/cli/commands/fuse.ts';
import type { Run } from '../../../src/common/api/runs.ts';

const MODEL = resolve(import.meta.dirname, '../../../resources/encoder-model');
const SQUAD = resolve(import.meta.dirname, '../../../resources/encoder-data/squad');

interface Article { title: string; paragraphs: { context: string; qas: unknown[] }[] }

let root: string;
const files = { animals: '', days: '', mix: '', animalsEval: '', daysEval: '', mixEval: '' };
const adapters: string[] = [];
const reporter = (logs: string[] = []): FineTuneReporter => ({ log: (l) => logs.push(l), progress: () => {}, metric: () => {} });

function config(path: string, evalPath: string, over: Partial<RunConfigInput> = {}): RunConfig {
  return RunConfig.parse({
    model: MODEL,
    task: 'question-answering',
    question_answering: { doc_stride: 32 },
    dataset: { path, eval_split: { kind: 'file', path: evalPath } },
    method: 'lora',
    lora: { r: 8, lora_alpha: 32, lora_dropout: 0 },
    micro_batch_size: 16,
    learning_rate: 5e-3,
    lr_scheduler_type: 'linear',
    max_steps: 40,
    eval_steps: 40,
    max_seq_length: 80,
    save_steps: null,
    seed: 7,
    executor: 'cpu',
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
  root = await mkdtemp(join(tmpdir(), 'encoder-qa-fuse-'));
  const read = async (f: string) => (JSON.parse(await readFile(join(SQUAD, f), 'utf8')) as { data: Article[] }).data;
  const [train, dev] = [await read('train-v1.1.json'), await read('dev-v1.1.json')];
  const of = (data: Article[], title: string, from: number, count: number) => data.find((a) => a.title === title)!.paragraphs.slice(from, from + count);
  const write = async (name: string, articles: Article[]) => {
    const p = join(root, `${name}.json`);
    await writeFile(p, JSON.stringify({ version: '1.1', data: articles }));
    return p;
  };
  const animals = of(train, 'Animals', 0, 240);
  const days = of(train, 'Two friends', 0, 150);
  const animalsEval = of(dev, 'Animals', 0, 24);
  const daysEval = of(dev, 'Two friends', 0, 16);
  files.animals = await write('animals', [{ title: 'Animals', paragraphs: animals }]);
  files.days = await write('days', [{ title: 'Two friends', paragraphs: days }]);
  files.animalsEval = await write('animals-eval', [{ title: 'Animals', paragraphs: animalsEval }]);
  files.daysEval = await write('days-eval', [{ title: 'Two friends', paragraphs: daysEval }]);
  files.mix = await write('mix', [{ title: 'Animals', paragraphs: animals.slice(0, 120) }, { title: 'Two friends', paragraphs: days.slice(0, 75) }]);
  files.mixEval = await write('mix-eval', [{ title: 'Animals', paragraphs: animalsEval }, { title: 'Two friends', paragraphs: daysEval }]);
  const t0 = Date.now();
  for (const kind of ['animals', 'days'] as const) {
    const logs: string[] = [];
    const r = await run(kind, config(files[kind], files[`${kind}Eval`]), logs);
    adapters.push(r.adapter);
    console.log(kind, JSON.stringify(r.summary.evalMetrics), ((Date.now() - t0) / 1000).toFixed(1), 's');
  }
}, 900_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('fuse on an encoder: question-answering adapters', () => {
  it('the fuse command reads them as a question-answering run', async () => {
    expect(await adaptersTask(adapters)).toEqual({ kind: 'question-answering' });
    const c = await buildFuseConfig({ base: MODEL, adapter: adapters, dataset: files.mix, evalFile: files.mixEval, mode: 'attention', maxSteps: '10' });
    expect(c.task).toBe('question-answering');
    expect(c.fusion?.adapters).toEqual(adapters);
    await expect(buildFuseConfig({ base: MODEL, adapter: adapters, dataset: files.mix, mode: 'weights', maxSteps: '10', labels: 'a,b' })).rejects.toThrow(
      /--labels, --text-column and --label-column are for classification adapters \(these are question-answering adapters\)/,
    );
  });

  for (const mode of ['weights', 'attention'] as const)
    it(`${mode}: trains the combination with the span head on the mix; the report compares by F1 and exact match and the learned one beats each adapter alone`, async () => {
      const t0 = Date.now();
      const logs: string[] = [];
      const c = config(files.mix, files.mixEval, {
        learning_rate: mode === 'weights' ? 5e-2 : 2.5e-3,
        max_steps: 30,
        eval_steps: 30,
        fusion: { adapters, mode, attention_dim: 8, value_rank: 2 },
      });
      const r = await run(`fuse-${mode}`, c, logs);
      console.log(mode, ((Date.now() - t0) / 1000).toFixed(1), 's', logs.filter((l) => l.startsWith('fusion')).join('\n'), JSON.stringify(JSON.parse(await readFile(join(r.outputDir, FUSION_REPORT), 'utf8')).attention?.layers));
      expect(logs.join('\n')).toMatch(new RegExp(`combining 2 frozen adapters \\(${mode} mode\\).*the head \\(qa_outputs\\) trained`));
      const report = FusionReport.parse(JSON.parse(await readFile(join(r.outputDir, FUSION_REPORT), 'utf8')));
      expect(report.comparison.metric).toBe('f1');
      expect(report.comparison.extra?.metric).toBe('exact_match');
      const single = report.comparison.single.map((s) => s.value);
      expect(single).toHaveLength(2);
      const x = report.comparison.extra!;
      // exact match is never above F1 (a right span is F1 1 too)
      for (const [f1, em] of [...single.map((v, k) => [v, x.single[k]]), [report.comparison.uniform, x.uniform], [report.comparison.learned, x.learned]]) {
        expect(em).toBeGreaterThanOrEqual(0);
        expect(em).toBeLessThanOrEqual(f1 + 1e-9);
        expect(f1).toBeLessThanOrEqual(1);
      }
      // measured (seed 7, 30 steps): adapters alone 0.23 / 0.18, uniform 0.26, weights 0.28, attention 0.36
      expect(report.comparison.learned).toBeGreaterThan(Math.max(...single) + 0.02);
      // the run's own final eval is the report's learned figure
      expect(r.summary.evalMetrics?.eval_f1).toBeCloseTo(report.comparison.learned, 6);
      expect(r.summary.evalMetrics?.eval_exact_match).toBeCloseTo(x.learned, 6);
      const lines = await fusionReportLines({ outputDir: r.outputDir, summary: r.summary } as unknown as Run);
      expect(lines[0]).toMatch(/^F1 on the eval split .*higher is better/);
      expect(lines.join('\n')).toMatch(/learned combination: \d\.\d{4}, exact match \d\.\d{4}/);
      if (mode === 'weights') {
        const combined = await readAdapter(r.adapter);
        expect(combined.config.task_type).toBe('QUESTION_ANS');
        expect(combined.config.modules_to_save).toEqual(['qa_outputs']);
        expect(combined.extra.get('base_model.model.qa_outputs.weight')?.shape).toEqual([2, 128]);
        expect(report.weights?.['*']).toHaveLength(2);
      } else {
        expect(isFusionFolder(r.adapter)).toBe(true);
        const folder = JSON.parse(await readFile(join(r.adapter, FUSION_CONFIG), 'utf8'));
        expect(folder.task_head.architecture).toBe('BertForQuestionAnswering');
        expect(folder.modules_to_save).toEqual(['qa_outputs']);
        // the heat map: each adapter's mean weight per encoder layer over the eval rows' tokens (a softmax: sums to 1)
        const map = report.attention!;
        expect(new Set(map.layers.map((l) => l.block)).size).toBe(4); // the bundled encoder's four layers
        for (const l of map.layers) expect(l.mean[0] + l.mean[1]).toBeCloseTo(1, 5);
        expect(map.tokens).toBeGreaterThan(0);
        expect(map.picks[0] + map.picks[1]).toBe(map.tokens);
      }
    }, 600_000);
});
