// What the studio recorded about an adapter, gathered for its model card: the run that trained it (config,
// summary, loss curve), its newest finished evaluation, its dataset, and its base model's own files (Hub id,
// license, architecture, chat-template stop strings). Read from the store and the folders as they are now;
// whatever is not recorded stays null, so the card leaves it out.
import { basename, resolve } from 'node:path';
import type { ModelCardFacts } from '../../common/api/hub.ts';
import { RunConfig, RunSummary } from '../../common/api/runs.ts';
import { folderCardFacts, hubIdFromCachePath } from '../formats/card/index.ts';
import type { AdapterRecord } from './store/index.ts';
import type { CoreContext } from './api/handlers/types.ts';

const numOrNull = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Facts every card can state: the studio version and the sampling defaults of Chat; everything else unknown. */
export function emptyCardFacts(ctx: CoreContext): Promise<ModelCardFacts> {
  return folderCardFacts({ baseDir: null, adapterDir: null, studioVersion: ctx.appVersion });
}

/** The Hub id of a base model folder's record when the studio pulled it from the Hub (its files may not say). */
function recordedHubId(dir: string, ctx: CoreContext): string | null {
  const record = ctx.store.baseModels.findByPath(resolve(dir));
  return record?.sourceKind === 'hub' ? record.source : null;
}

/** What the folders say, completed with the base model's record. */
export async function foldersWithRecords(
  baseDir: string | null,
  adapterDir: string | null,
  ctx: CoreContext,
): Promise<ModelCardFacts> {
  const facts = await folderCardFacts({ baseDir, adapterDir, studioVersion: ctx.appVersion });
  const recorded = baseDir ? recordedHubId(baseDir, ctx) : null;
  if (!facts.baseModelHubId && recorded) Object.assign(facts, { baseModelHubId: recorded, baseModelName: recorded });
  return facts;
}

const TEMPLATE_NAMES: Record<string, string> = {
  auto: "the model's chat template for chat and pair data, raw text otherwise",
  chat: "the model's chat template",
  chat_template: 'a custom Jinja chat template',
  prompt: 'a prompt template',
  plain: 'plain text, no template',
};

/** Everything known about an adapter: its run, evaluation, dataset and base model. */
export async function adapterCardFacts(
  adapter: AdapterRecord,
  baseModelDir: string | null,
  ctx: CoreContext,
): Promise<ModelCardFacts> {
  const facts = await foldersWithRecords(baseModelDir, adapter.path, ctx);
  const run = adapter.runId ? ctx.store.runs.get(adapter.runId) : null;
  const parsed = run ? RunConfig.safeParse(run.config) : null;
  if (!run || !parsed?.success) return facts;
  const config = parsed.data;
  const job = run.jobId ? ctx.store.jobs.get(run.jobId) : null;
  const summary = RunSummary.safeParse(job?.result ?? null);
  const s = summary.success ? summary.data : null;
  facts.method = config.method;
  if (config.method !== 'full' && facts.lora) facts.lora.dropout = config.lora.lora_dropout;
  facts.training = {
    epochs: config.max_steps === null ? config.num_train_epochs : null,
    maxSteps: config.max_steps,
    steps: s?.steps ?? null,
    learningRate: config.learning_rate,
    scheduler: config.lr_scheduler_type,
    warmupRatio: config.warmup_steps > 0 ? null : config.warmup_ratio,
    warmupSteps: config.warmup_steps > 0 ? config.warmup_steps : null,
    microBatchSize: config.micro_batch_size,
    gradientAccumulationSteps: config.gradient_accumulation_steps,
    maxSeqLength: config.max_seq_length,
    seed: config.seed,
    template: TEMPLATE_NAMES[config.dataset.template.kind] ?? config.dataset.template.kind,
    seconds: s?.seconds ?? null,
    tokens: s?.trainedTokens ?? null,
    trainLoss: s?.trainLoss ?? null,
    evalLoss: s?.evalLoss ?? null,
  };
  const dataset = run.datasetId ? ctx.store.datasets.get(run.datasetId) : null;
  const datasetPath = dataset?.filePath ?? config.dataset.path;
  facts.dataset = {
    name: dataset?.name ?? basename(datasetPath),
    hash: run.datasetHash ?? dataset?.hash ?? null,
    hubId: hubIdFromCachePath(resolve(datasetPath), 'dataset'),
    examples: dataset?.rowCount ?? null,
  };
  facts.lossCurve = ctx.store.runs
    .metrics(run.id, 'train')
    .filter((m) => typeof m.values.loss === 'number')
    .map((m) => ({ step: m.step, loss: m.values.loss }));
  facts.evalCurve = ctx.store.runs
    .metrics(run.id, 'eval')
    .filter((m) => typeof m.values.eval_loss === 'number')
    .map((m) => ({ step: m.step, loss: m.values.eval_loss }));
  const evaluation = ctx.store.evaluations
    .listByProject(run.projectId)
    .filter((e) => e.runId === run.id && e.status === 'succeeded')
    .sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1))[0];
  if (evaluation) {
    facts.evaluation = {
      examples: numOrNull(evaluation.summary.examples) ?? 0,
      basePerplexity: numOrNull(evaluation.summary.basePerplexity),
      tunedPerplexity: numOrNull(evaluation.summary.adapterPerplexity),
    };
  }
  return facts;
}
