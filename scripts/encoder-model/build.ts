// `npm run build:encoder-model`: builds resources/encoder-model — a small BERT (BertForMaskedLM) pretrained from
// nothing with masked-language modelling, on the CPU, with the studio's own engine. Seeded and reproducible:
//   1. corpus    — the default model's generated documents (scripts/default-model/corpus.ts: stories and fact
//                  paragraphs) plus unlabeled text of the encoder datasets' generators (scripts/encoder-data:
//                  opinion sentences and paragraphs about children's days, drawn with their own seed, no labels);
//   2. tokenizer — an uncased WordPiece vocabulary of that corpus (wordpiece.ts), BERT's tokenizer files;
//   3. pretrain  — BertForMaskedLM from transformers' init, every weight trainable (full training) through the
//                  same trainer the app uses; 15% of the tokens chosen per batch (BERT's 80% [MASK] / 10% random /
//                  10% kept), the loss on those only;
// then an ordinary Hugging Face folder (config.json, model.safetensors, tokenizer files) plus training_report.json.
// The studio's encoder tasks put their head on it (created and seeded, as transformers does for a base checkpoint).
//
// Usage: tsx scripts/encoder-model/build.ts [--out DIR] [--work DIR] [--steps N] [--threads N] [--resume]
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { HfTokenizer } from '../../src/main/formats/tokenizer/index.ts';
import { openModelFolder, readModelSpec } from '../../src/main/formats/model/index.ts';
import {
  buildProgramFromSpec,
  countParams,
  createCpuTrainingSession,
  fullFineTuneProgram,
  initProgramWeights,
} from '../../src/main/engine/index.ts';
import {
  BatchPlan,
  IGNORE_INDEX,
  type BatchPlanOptions,
  type DataPosition,
  type TokenizedExample,
} from '../../src/main/engine/data/batches.ts';
import { hashSeed } from '../../src/main/engine/data/random.ts';
import type { Batch } from '../../src/main/engine/session.ts';
import { train, type TrainerHyperparameters } from '../../src/main/engine/trainer/trainer.ts';
import { latestCheckpoint } from '../../src/main/engine/trainer/checkpoint.ts';
import { evaluateSplit } from '../../src/main/engine/trainer/evaluate.ts';
import { writeFullModel } from '../../src/main/engine/trainer/model-session.ts';
import { generateCorpus } from '../default-model/corpus.ts';
import { Rng } from '../default-model/world.ts';
import { generateSquad, sentimentSentence } from '../encoder-data/generate.ts';
import { buildWordPieceVocab, wordPieceFiles, SPECIAL_TOKENS } from './wordpiece.ts';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Every number that decides the result. Changing one changes the model. */
export const RECIPE = {
  seed: 21,
  corpus: { stories: 12_000, facts: 4_000, opinions: 12_000, days: 3_000 },
  heldOutTexts: 300,
  vocab: { target: 2000 },
  model: { hidden: 128, intermediate: 512, layers: 4, heads: 4, maxPositions: 256, initStd: 0.02 },
  pretrain: { steps: 1200, microBatch: 32, maxLength: 96, lr: 1e-3, warmup: 60, maskShare: 0.15 },
} as const;

function log(message: string): void {
  process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

/** A uniform [0, 1) from a hash of integers (the same batch always masks the same tokens: exact resume). */
function hashUniform(...parts: number[]): number {
  return hashSeed(...(parts as [number, ...number[]])) / 2 ** 32;
}

/**
 * Masked-language-modelling batches over a BatchPlan's: of every real, non-special token, `maskShare` become
 * targets (label = the original id); of those 80% are replaced by [MASK], 10% by a random ordinary token and 10%
 * kept, as BERT's pretraining does. Which tokens is decided by (seed, epoch, micro-batch, position).
 */
export class MaskedLmPlan extends BatchPlan {
  constructor(
    examples: TokenizedExample[],
    options: BatchPlanOptions,
    private readonly mask: {
      maskId: number;
      firstOrdinaryId: number;
      vocabSize: number;
      specialIds: Set<number>;
      share: number;
    },
  ) {
    super(examples, options);
  }

  override batchAt(position: DataPosition): { batch: Batch; exampleIndices: number[] } {
    const { batch, exampleIndices } = super.batchAt(position);
    const inputIds = batch.inputIds.slice();
    const labels = new Int32Array(inputIds.length).fill(IGNORE_INDEX);
    const m = this.mask;
    for (let i = 0; i < inputIds.length; i++) {
      if (!batch.attentionMask[i] || m.specialIds.has(inputIds[i])) continue;
      const seed = this.options.seed;
      if (hashUniform(seed, position.epoch, position.microBatch, i, 1) >= m.share) continue;
      labels[i] = inputIds[i];
      const r = hashUniform(seed, position.epoch, position.microBatch, i, 2);
      if (r < 0.8) inputIds[i] = m.maskId;
      else if (r < 0.9)
        inputIds[i] =
          m.firstOrdinaryId +
          Math.floor(hashUniform(seed, position.epoch, position.microBatch, i, 3) * (m.vocabSize - m.firstOrdinaryId));
    }
    return { batch: { ...batch, inputIds, labels }, exampleIndices };
  }
}

function hyper(p: typeof RECIPE.pretrain, steps: number, seed: number): TrainerHyperparameters {
  return {
    learning_rate: p.lr,
    num_train_epochs: 1,
    max_steps: steps,
    gradient_accumulation_steps: 1,
    warmup_steps: p.warmup,
    warmup_ratio: 0,
    lr_scheduler_type: 'linear',
    weight_decay: 0.01,
    adam_beta1: 0.9,
    adam_beta2: 0.999,
    adam_epsilon: 1e-6,
    max_grad_norm: 1,
    seed,
    logging_steps: 20,
    eval_steps: null,
    save_steps: 100,
    save_total_limit: 1,
  };
}

/** The pretraining text: the default model's documents and the encoder datasets' sentences without labels. */
export function encoderCorpus(): string[] {
  const c = RECIPE.corpus;
  const docs = generateCorpus({ seed: RECIPE.seed, stories: c.stories, facts: c.facts, chats: 0 }).texts;
  const rng = new Rng(RECIPE.seed + 1);
  const opinions: string[] = [];
  for (let i = 0; i < c.opinions; i++) opinions.push(sentimentSentence(rng).sentence);
  const days = generateSquad(RECIPE.seed + 2, c.days, 0).train.data.flatMap((d) => d.paragraphs.map((p) => p.context));
  return new Rng(RECIPE.seed + 3).shuffle([...docs, ...opinions, ...days]);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: join(ROOT, 'resources/encoder-model') },
      work: { type: 'string', default: join(tmpdir(), 'lora-studio-encoder-model') },
      steps: { type: 'string', default: String(RECIPE.pretrain.steps) },
      threads: { type: 'string' },
      resume: { type: 'boolean', default: false },
    },
  });
  const positive = (name: string, v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`--${name} must be a positive integer, got ${JSON.stringify(v)}`);
    return n;
  };
  const steps = positive('steps', values.steps!);
  const threads = values.threads ? positive('threads', values.threads) : undefined;
  const out = resolve(values.out!);
  const work = resolve(values.work!);
  const started = Date.now();
  const stage = join(work, 'model');
  const final = join(work, 'final');
  if (!values.resume) await rm(work, { recursive: true, force: true });
  await mkdir(stage, { recursive: true });

  // 1–2. corpus and tokenizer
  const texts = encoderCorpus();
  const heldOut = texts.slice(0, RECIPE.heldOutTexts);
  const trainTexts = texts.slice(RECIPE.heldOutTexts);
  const vocab = buildWordPieceVocab(trainTexts, RECIPE.vocab.target);
  const files = wordPieceFiles(vocab, RECIPE.model.maxPositions);
  await writeFile(join(stage, 'tokenizer.json'), JSON.stringify(files.tokenizerJson, null, 2) + '\n');
  await writeFile(join(stage, 'tokenizer_config.json'), JSON.stringify(files.tokenizerConfig, null, 2) + '\n');
  await writeFile(join(stage, 'special_tokens_map.json'), JSON.stringify(files.specialTokensMap, null, 2) + '\n');
  await writeFile(join(stage, 'vocab.txt'), files.vocabTxt);
  log(
    `corpus: ${texts.length} documents, ${(texts.reduce((n, t) => n + t.length, 0) / 1e6).toFixed(2)} M characters; vocabulary ${vocab.length}`,
  );

  // 3. config, program, init
  const m = RECIPE.model;
  const config = {
    architectures: ['BertForMaskedLM'],
    model_type: 'bert',
    vocab_size: vocab.length,
    hidden_size: m.hidden,
    intermediate_size: m.intermediate,
    num_hidden_layers: m.layers,
    num_attention_heads: m.heads,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.1,
    attention_probs_dropout_prob: 0.1,
    max_position_embeddings: m.maxPositions,
    type_vocab_size: 2,
    initializer_range: m.initStd,
    layer_norm_eps: 1e-12,
    pad_token_id: 0,
    position_embedding_type: 'absolute',
    torch_dtype: 'float32',
  };
  await writeFile(join(stage, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  const { spec, config: hfConfig } = await readModelSpec(stage);
  const base = buildProgramFromSpec(spec);
  const program = fullFineTuneProgram(base);
  log(`model: ${countParams(base).toLocaleString('en-US')} parameters (${m.layers} layers, hidden ${m.hidden})`);

  const tokenizer = HfTokenizer.load(stage);
  const example = (text: string): TokenizedExample => {
    const ids = Int32Array.from(tokenizer.encode(text, { addSpecialTokens: true }));
    return { ids, trained: new Uint8Array(ids.length) };
  };
  const t0 = Date.now();
  const trainExamples = trainTexts.map(example);
  const heldOutExamples = heldOut.map(example);
  const tokens = trainExamples.reduce((n, e) => n + Math.min(e.ids.length, RECIPE.pretrain.maxLength), 0);
  log(
    `tokenized in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${tokens} tokens (each text cut to ${RECIPE.pretrain.maxLength})`,
  );
  const p = RECIPE.pretrain;
  const mask = {
    maskId: vocab.indexOf('[MASK]'),
    firstOrdinaryId: SPECIAL_TOKENS.length,
    vocabSize: vocab.length,
    specialIds: new Set(SPECIAL_TOKENS.map((t) => vocab.indexOf(t))),
    share: p.maskShare,
  };
  const padId = vocab.indexOf('[PAD]');
  const plan = new MaskedLmPlan(
    trainExamples,
    { seed: RECIPE.seed, microBatchSize: p.microBatch, maxLength: p.maxLength, padId },
    mask,
  );
  const heldOutPlan = new MaskedLmPlan(
    heldOutExamples,
    { seed: RECIPE.seed + 9, microBatchSize: 32, maxLength: p.maxLength, padId, shuffle: false },
    mask,
  );

  const weights = initProgramWeights(program, { seed: RECIPE.seed, std: m.initStd, numLayers: m.layers });
  const session = await createCpuTrainingSession({ program, weights, seed: RECIPE.seed, threads });
  const before = await evaluateSplit(session, heldOutPlan);
  log(`held-out masked-token loss at init: ${before.loss.toFixed(3)}`);
  const writeModel = (dir: string, trainables: Parameters<typeof writeFullModel>[1]['trainables']) =>
    writeFullModel(dir, { modelDir: stage, spec, hfConfig, program, trainables, trainingTemplate: null });
  const pretrainDir = join(work, 'pretrain');
  const resumeFrom = values.resume ? await latestCheckpoint(pretrainDir) : null;
  const losses: Array<{ step: number; loss: number }> = [];
  const result = await train({
    session,
    hyperparameters: hyper(p, steps, RECIPE.seed),
    train: plan,
    outputDir: pretrainDir,
    writeAdapter: writeModel,
    resumeFrom: resumeFrom ?? undefined,
    onLog: (e) => {
      if (e.loss === undefined) return;
      losses.push({ step: e.step, loss: Number(e.loss.toFixed(4)) });
      log(
        `pretrain step ${e.step}/${steps} loss ${e.loss.toFixed(3)} lr ${e.lr?.toExponential(2)} ${Math.round(e.tokens_per_second ?? 0)} tok/s eta ${Math.round((e.eta_seconds ?? 0) / 60)} min`,
      );
    },
  });
  const after = await evaluateSplit(session, heldOutPlan);
  log(
    `pretrain: ${result.globalStep} steps in ${Math.round(result.elapsedSeconds)} s; held-out masked-token loss ${after.loss.toFixed(3)} (perplexity ${after.perplexity.toFixed(2)})`,
  );

  // 4. the model folder, reopened through the ordinary loader as a check
  await rm(final, { recursive: true, force: true });
  await mkdir(final, { recursive: true });
  await writeModel(final, session.getTrainables());
  await session.dispose();
  await writeFile(join(final, 'vocab.txt'), files.vocabTxt);
  const folder = await openModelFolder(final);
  await folder.close();
  const report = {
    recipe: RECIPE,
    corpus: { documents: texts.length, heldOut: heldOut.length, trainTokens: tokens },
    vocabSize: vocab.length,
    parameters: countParams(base),
    pretrain: {
      steps: result.globalStep,
      seconds: Math.round(result.elapsedSeconds),
      heldOutLossAtInit: Number(before.loss.toFixed(4)),
      heldOutLoss: Number(after.loss.toFixed(4)),
      heldOutPerplexity: Number(after.perplexity.toFixed(3)),
      trainLosses: losses,
    },
    threads: threads ?? null,
    wallSeconds: Math.round((Date.now() - started) / 1000),
  };
  await writeFile(join(final, 'training_report.json'), JSON.stringify(report, null, 2) + '\n');
  const readme = join(out, 'README.md');
  const keepReadme = existsSync(readme) ? await readFile(readme) : null; // the README is written by hand
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  await cp(final, out, { recursive: true });
  if (keepReadme) await writeFile(readme, keepReadme);
  log(`wrote ${out} in ${report.wallSeconds} s`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(
      `build:encoder-model failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  });
}
