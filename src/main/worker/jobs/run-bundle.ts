// The `run.bundle` job: a run's dataset rendered exactly as the studio trains on it (the same import, seeded
// split, template, masking and truncation as a `train` job: engine/data/run-examples.ts), written as a job
// bundle for Axolotl and TRL with its configs, README and reproducibility record (formats/bundle).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  BUNDLE_RECORD_FORMAT,
  RUN_BUNDLE_JOB_KIND,
  RunBundleJobParams,
  type ReproducibilityRecord,
  type RunBundleJobResult,
} from '../../../common/api/bundles.ts';
import type { RunConfig } from '../../../common/api/runs.ts';
import { say } from '../../../common/api/phrases.ts';
import type { Example } from '../../formats/dataset/types.ts';
import { importDataset } from '../../formats/dataset/import.ts';
import { HfTokenizer, pinTemplate, type TemplateSpec } from '../../formats/tokenizer/index.ts';
import { modelReference, writeBundle, type BundleContent, type BundleRow } from '../../formats/bundle/write.ts';
import { defineJobKind } from '../job-kind.ts';

/** The trainer-format row for reading: chat `messages`, or the rendered `prompt`/`completion`, or `text`. */
function readableRow(
  example: Example | undefined,
  template: TemplateSpec,
  row: { ids: ArrayLike<number>; trained: ArrayLike<number> },
  tokenizer: HfTokenizer,
): Record<string, unknown> {
  if (template.type === 'chat' && example) {
    const messages =
      example.kind === 'chat'
        ? example.messages
        : example.kind === 'completion'
          ? [
              { role: 'user', content: example.prompt },
              { role: 'assistant', content: example.completion },
            ]
          : null;
    if (messages)
      return {
        messages:
          template.systemPrompt !== undefined && messages[0]?.role !== 'system'
            ? [{ role: 'system', content: template.systemPrompt }, ...messages]
            : messages,
      };
  }
  const first = Array.from(row.trained).indexOf(1);
  if (first <= 0) return { text: tokenizer.decode(row.ids) };
  return {
    prompt: tokenizer.decode(Array.from(row.ids).slice(0, first)),
    completion: tokenizer.decode(Array.from(row.ids).slice(first)),
  };
}

function byRow(examples: { row: number; example: Example }[]): Map<number, Example> {
  return new Map(examples.map((e) => [e.row, e.example]));
}

async function architectureOf(model: string): Promise<string | null> {
  try {
    const config = JSON.parse(await readFile(join(model, 'config.json'), 'utf8')) as { architectures?: unknown };
    return Array.isArray(config.architectures) && typeof config.architectures[0] === 'string'
      ? config.architectures[0]
      : null;
  } catch {
    return null;
  }
}

/** Everything a bundle holds, computed the way a `train` job computes its rows. */
export async function buildBundleContent(
  params: Pick<RunBundleJobParams, 'config' | 'run' | 'appVersion' | 'model'>,
): Promise<BundleContent> {
  const config: RunConfig = params.config;
  const { loadRunExamples, columnMapping } = await import('../../engine/data/run-examples.ts');
  const tokenizer = HfTokenizer.load(config.model);
  const data = await loadRunExamples({ config, tokenizer });
  const template = pinTemplate(tokenizer, data.template);
  const chatTemplate = template.type === 'chat' ? (template.template ?? null) : null;
  // Readable rows need the source examples; the row numbers of the rendered rows point into these files.
  const main = await importDataset(config.dataset.path, { mapping: columnMapping(config.dataset), onProblem: 'skip' });
  const trainSource = byRow(main.examples);
  const evalSplit = config.dataset.eval_split;
  const evalSource =
    evalSplit.kind === 'file'
      ? byRow((await importDataset(evalSplit.path, { mapping: main.mapping, onProblem: 'skip' })).examples)
      : trainSource;
  const toRows = (rows: typeof data.train, source: Map<number, Example>): BundleRow[] =>
    rows.map((r) => ({
      readable: readableRow(source.get(r.row), template, r, tokenizer),
      ids: r.ids,
      trained: r.trained,
    }));
  const train = toRows(data.train, trainSource);
  const evalRows = toRows(data.eval, evalSource);
  const architecture = await architectureOf(config.model);
  const record: ReproducibilityRecord = {
    format: BUNDLE_RECORD_FORMAT,
    app_version: params.appVersion,
    created_at: new Date().toISOString(),
    run: params.run,
    model: { path: config.model, hub_id: params.model.hubId, revision: params.model.revision, architecture },
    dataset: {
      hash: data.datasetHash,
      train_rows: train.length,
      eval_rows: evalRows.length,
      train_tokens: train.reduce((n, r) => n + r.ids.length, 0),
    },
    template: { spec: template as unknown as Record<string, unknown>, chat_template: chatTemplate },
    settings: config,
    seed: config.seed,
  };
  return {
    record,
    model: modelReference({
      path: config.model,
      hubId: params.model.hubId,
      revision: params.model.revision,
      architecture,
    }),
    train,
    eval: evalRows,
    chatTemplate,
  };
}

export const runBundleJob = defineJobKind({
  name: RUN_BUNDLE_JOB_KIND,
  doc: 'Write a job bundle (dataset as the studio trains on it, Axolotl and TRL configs, README, reproducibility record) for a run.',
  params: RunBundleJobParams,
  async run(params, ctx): Promise<RunBundleJobResult> {
    ctx.progress(null, say('progress.bundleRendering'));
    const content = await buildBundleContent(params);
    ctx.log(
      `rendered ${content.train.length} training and ${content.eval.length} eval rows (data hash ${content.record.dataset.hash})`,
    );
    ctx.progress(0.8, say('progress.bundleWriting'));
    const files = await writeBundle(params.outDir, content, { overwrite: params.overwrite, inputs: params.inputs });
    ctx.log(`wrote ${files.length} files to ${params.outDir}`);
    return {
      outDir: params.outDir,
      files,
      trainRows: content.train.length,
      evalRows: content.eval.length,
      datasetHash: content.record.dataset.hash,
    };
  },
});
