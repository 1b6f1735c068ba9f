// `npm run build:default-model`: builds resources/default-model from nothing, on the CPU, with the studio's own
// engine. Seeded and reproducible:
//   1. corpus   — generated text (corpus.ts): stories, fact paragraphs, ChatML conversations;
//   2. tokenizer — a byte-level BPE learned on that corpus (formats/tokenizer/bpe-trainer.ts), ChatML template;
//   3. pretrain — a Llama-style model from a seeded random init, every weight trainable (full training) through
//      the same trainer the app uses (engine/trainer), on packed plain text;
//   4. chat     — a short full-training phase on conversations (assistant turns trained) mixed with plain text,
//      so the model follows the chat template.
// The folder is then an ordinary Hugging Face model folder (config.json, model.safetensors, tokenizer files).
//
// Usage: tsx scripts/default-model/build.ts [--out DIR] [--work DIR] [--pretrain-steps N] [--chat-steps N]
//        [--threads N] [--resume]
// Checkpoints go to <work>/pretrain and <work>/chat (default work dir: <os tmp>/lora-studio-default-model); --resume continues from the newest one after an interrupt.
import { mkdir, readFile, rm, writeFile, cp } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { trainByteLevelBpe, byteLevelBpeFiles } from '../../src/main/formats/tokenizer/bpe-trainer.ts';
import { HfTokenizer } from '../../src/main/formats/tokenizer/index.ts';
import { writeSafetensors } from '../../src/main/formats/safetensors/index.ts';
import { openModelFolder } from '../../src/main/formats/model/index.ts';
import {
  buildLlamaProgram,
  countParams,
  createCpuTrainingSession,
  peftKey,
  type LlamaConfig,
  type TensorMap,
} from '../../src/main/engine/index.ts';
import { BatchPlan, type TokenizedExample } from '../../src/main/engine/data/batches.ts';
import { train, type TrainerHyperparameters } from '../../src/main/engine/trainer/trainer.ts';
import { latestCheckpoint } from '../../src/main/engine/trainer/checkpoint.ts';
import { evaluateSplit } from '../../src/main/engine/trainer/evaluate.ts';
import { generateCorpus, renderChatML, type ChatMessage } from './corpus.ts';
import { Rng } from './world.ts';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Every number that decides the result. Changing one changes the model. */
export const RECIPE = {
  seed: 6,
  corpus: { stories: 40_000, facts: 12_000, chats: 24_000 },
  heldOutTexts: 400, // plain documents kept out of training for the reported eval loss
  vocab: { target: 2048, specialTokens: ['<|endoftext|>', '<|im_start|>', '<|im_end|>'] },
  model: {
    hidden: 256,
    intermediate: 688,
    layers: 4,
    heads: 4,
    kvHeads: 4,
    ropeTheta: 10_000,
    maxPositions: 512,
    initStd: 0.02,
  },
  pretrain: { steps: 600, microBatch: 8, maxLength: 256, lr: 2e-3, warmup: 60 },
  chat: { steps: 300, microBatch: 8, maxLength: 256, lr: 5e-4, warmup: 10, textShare: 0.25 },
} as const;

const CHATML_TEMPLATE =
  '{%- for message in messages %}' +
  "{%- if message['role'] not in ['system', 'user', 'assistant'] %}" +
  "{{- raise_exception('Unknown role: ' + message['role']) }}" +
  '{%- endif %}' +
  "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}" +
  '{%- endfor %}' +
  "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

function log(message: string): void {
  process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

function hyper(o: { steps: number; lr: number; warmup: number }, seed: number): TrainerHyperparameters {
  return {
    learning_rate: o.lr,
    num_train_epochs: 1,
    max_steps: o.steps,
    gradient_accumulation_steps: 1,
    warmup_steps: o.warmup,
    warmup_ratio: 0,
    lr_scheduler_type: 'cosine',
    weight_decay: 0.1,
    adam_beta1: 0.9,
    adam_beta2: 0.95,
    adam_epsilon: 1e-8,
    max_grad_norm: 1,
    seed,
    logging_steps: 10,
    eval_steps: null,
    save_steps: 50,
    save_total_limit: 2,
  } as TrainerHyperparameters;
}

/** Standard normal samples from the seeded generator (Box–Muller). */
function normal(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
}

interface BuildOptions {
  out: string;
  work: string;
  pretrainSteps: number;
  chatSteps: number;
  threads?: number;
  resume: boolean;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: join(ROOT, 'resources/default-model') },
      work: { type: 'string', default: join(tmpdir(), 'lora-studio-default-model') },
      'pretrain-steps': { type: 'string', default: String(RECIPE.pretrain.steps) },
      'chat-steps': { type: 'string', default: String(RECIPE.chat.steps) },
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
  await build({
    out: resolve(values.out!),
    work: resolve(values.work!),
    pretrainSteps: positive('pretrain-steps', values['pretrain-steps']!),
    chatSteps: positive('chat-steps', values['chat-steps']!),
    threads: values.threads ? positive('threads', values.threads) : undefined,
    resume: values.resume!,
  });
}

async function build(o: BuildOptions): Promise<void> {
  const started = Date.now();
  const stage = join(o.work, 'model'); // the folder being built; copied to --out at the end
  if (!o.resume) await rm(o.work, { recursive: true, force: true });
  await mkdir(stage, { recursive: true });

  // 1. corpus
  const corpus = generateCorpus({ seed: RECIPE.seed, ...RECIPE.corpus });
  const heldOut = corpus.texts.slice(0, RECIPE.heldOutTexts);
  const trainTexts = corpus.texts.slice(RECIPE.heldOutTexts);
  const chatTexts = corpus.chats.map(renderChatML);
  const corpusChars = corpus.texts.reduce((n, t) => n + t.length, 0) + chatTexts.reduce((n, t) => n + t.length, 0);
  log(
    `corpus: ${corpus.texts.length} documents, ${corpus.chats.length} conversations, ${(corpusChars / 1e6).toFixed(2)} M characters`,
  );

  // 2. tokenizer (chat markers are special tokens, so the BPE never sees them)
  const specials = [...RECIPE.vocab.specialTokens];
  const bpeText = [...corpus.texts, ...corpus.chats.flatMap((c) => c.map((m) => `${m.role}\n${m.content}\n`))];
  const merges = trainByteLevelBpe(bpeText, RECIPE.vocab.target - 256 - specials.length, {
    whenExhausted: 'stop',
    minPairCount: 2,
  });
  const files = byteLevelBpeFiles({
    merges,
    specialTokens: specials,
    bosToken: null,
    eosToken: '<|im_end|>',
    padToken: '<|endoftext|>',
    additionalSpecialTokens: ['<|im_start|>', '<|im_end|>'],
    chatTemplate: CHATML_TEMPLATE,
    modelMaxLength: RECIPE.model.maxPositions,
  });
  await writeFile(join(stage, 'tokenizer.json'), JSON.stringify(files.tokenizerJson, null, 2) + '\n');
  await writeFile(join(stage, 'tokenizer_config.json'), JSON.stringify(files.tokenizerConfig, null, 2) + '\n');
  await writeFile(join(stage, 'special_tokens_map.json'), JSON.stringify(files.specialTokensMap, null, 2) + '\n');
  log(`tokenizer: ${merges.length} merges, vocabulary ${files.vocabSize}`);
  const tokenizer = HfTokenizer.load(stage);
  const eot = files.specialIds['<|endoftext|>'];
  const imEnd = files.specialIds['<|im_end|>'];

  // 3. config + seeded init
  const m = RECIPE.model;
  const headDim = m.hidden / m.heads;
  const config = {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: files.vocabSize,
    hidden_size: m.hidden,
    intermediate_size: m.intermediate,
    num_hidden_layers: m.layers,
    num_attention_heads: m.heads,
    num_key_value_heads: m.kvHeads,
    head_dim: headDim,
    hidden_act: 'silu',
    max_position_embeddings: m.maxPositions,
    rms_norm_eps: 1e-5,
    rope_theta: m.ropeTheta,
    rope_scaling: null,
    attention_bias: false,
    mlp_bias: false,
    tie_word_embeddings: true,
    initializer_range: m.initStd,
    bos_token_id: null,
    eos_token_id: imEnd,
    pad_token_id: eot,
    torch_dtype: 'float32',
    use_cache: true,
  };
  await writeFile(join(stage, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  await writeFile(
    join(stage, 'generation_config.json'),
    JSON.stringify({ eos_token_id: [imEnd, eot], pad_token_id: eot, do_sample: false, max_new_tokens: 64 }, null, 2) +
      '\n',
  );
  const llama: LlamaConfig = {
    family: 'llama',
    vocabSize: files.vocabSize,
    hiddenSize: m.hidden,
    intermediateSize: m.intermediate,
    numLayers: m.layers,
    numHeads: m.heads,
    numKvHeads: m.kvHeads,
    headDim,
    rmsNormEps: 1e-5,
    rope: { theta: m.ropeTheta, headDim, scaling: null },
    tieWordEmbeddings: true,
    attentionBias: false,
    qkNorm: false,
    slidingWindow: null,
  };
  const base = buildLlamaProgram(llama);
  const program = { ...base, params: base.params.map((d) => ({ ...d, trainable: true })) };
  const rng = new Rng(RECIPE.seed);
  const initial = new Map<string, Float32Array>();
  for (const d of program.params) {
    const size = d.shape.reduce((a, b) => a * b, 1);
    const w = new Float32Array(size);
    // norms start at one; matrices N(0, std), residual outputs scaled down by √(2L) as GPT-2 does
    if (d.shape.length === 1) w.fill(1);
    else {
      const std = /o_proj|down_proj/.test(d.name) ? m.initStd / Math.sqrt(2 * m.layers) : m.initStd;
      for (let i = 0; i < size; i++) w[i] = normal(rng) * std;
    }
    initial.set(d.name, w);
  }
  log(`model: ${countParams(base)} parameters (${m.layers} layers, hidden ${m.hidden}, vocab ${files.vocabSize})`);

  const writeModel = async (dir: string, trainables: TensorMap) => {
    const prefix = peftKey('');
    await writeSafetensors(
      join(dir, 'model.safetensors'),
      [...trainables].map(([key, t]) => ({
        name: key.slice(prefix.length),
        dtype: 'F32' as const,
        shape: t.shape,
        data: t.data,
      })),
      { metadata: { format: 'pt' } },
    );
  };

  // tokenized data
  const textExample = (text: string): TokenizedExample => {
    const ids = Int32Array.from([...tokenizer.encode(text), eot]);
    return { ids, trained: new Uint8Array(ids.length).fill(1) };
  };
  const chatExample = (messages: ChatMessage[]): TokenizedExample => {
    const ids: number[] = [];
    const trained: number[] = [];
    const push = (text: string, flag: number) => {
      for (const id of tokenizer.encode(text)) {
        ids.push(id);
        trained.push(flag);
      }
    };
    for (const msg of messages) {
      push(`<|im_start|>${msg.role}\n`, 0);
      push(`${msg.content}<|im_end|>`, msg.role === 'assistant' ? 1 : 0);
      push('\n', 0);
    }
    return { ids: Int32Array.from(ids), trained: Uint8Array.from(trained) };
  };
  const t0 = Date.now();
  const trainExamples = trainTexts.map(textExample);
  const heldOutExamples = heldOut.map(textExample);
  const chatExamples = corpus.chats.map(chatExample);
  const textTokens = trainExamples.reduce((n, e) => n + e.ids.length, 0);
  const chatTokens = chatExamples.reduce((n, e) => n + e.ids.length, 0);
  log(`tokenized in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${textTokens} text tokens, ${chatTokens} chat tokens`);

  const heldOutPlan = new BatchPlan(heldOutExamples, {
    seed: RECIPE.seed,
    microBatchSize: 8,
    maxLength: RECIPE.pretrain.maxLength,
    padId: eot,
    shuffle: false,
  });
  const report: Record<string, unknown> = {
    recipe: RECIPE,
    corpus: {
      documents: corpus.texts.length,
      conversations: corpus.chats.length,
      characters: corpusChars,
      textTokens,
      chatTokens,
      heldOutDocuments: heldOut.length,
    },
    tokenizer: { merges: merges.length, vocabSize: files.vocabSize },
    parameters: countParams(base),
  };

  // 4. pretraining (full training, packed plain text)
  const p = RECIPE.pretrain;
  const pretrainDir = join(o.work, 'pretrain');
  let session = await createCpuTrainingSession({ program, weights: initial, seed: RECIPE.seed, threads: o.threads });
  const before = await evaluateSplit(session, heldOutPlan);
  log(`held-out loss at init: ${before.loss.toFixed(3)}`);
  const phase = async (name: string, dir: string, plan: BatchPlan, hp: TrainerHyperparameters) => {
    const resumeFrom = o.resume ? await latestCheckpoint(dir) : null;
    if (resumeFrom) log(`${name}: resuming from ${resumeFrom}`);
    const result = await train({
      session,
      hyperparameters: hp,
      train: plan,
      outputDir: dir,
      writeAdapter: writeModel,
      resumeFrom: resumeFrom ?? undefined,
      onLog: (e) => {
        if (e.loss !== undefined)
          log(
            `${name} step ${e.step}/${hp.max_steps} loss ${e.loss.toFixed(3)} lr ${e.lr?.toExponential(2)} ${Math.round(e.tokens_per_second ?? 0)} tok/s eta ${Math.round((e.eta_seconds ?? 0) / 60)} min`,
          );
      },
    });
    const evaluation = await evaluateSplit(session, heldOutPlan);
    log(
      `${name}: done, ${result.globalStep} steps, last loss ${result.trainLoss?.toFixed(3)}, held-out loss ${evaluation.loss.toFixed(3)} (ppl ${evaluation.perplexity.toFixed(2)}), ${Math.round(result.elapsedSeconds)} s`,
    );
    return {
      steps: result.globalStep,
      finalTrainLoss: result.trainLoss,
      heldOutLoss: evaluation.loss,
      heldOutPerplexity: evaluation.perplexity,
      trainedTokens: result.trainedTokens,
      seconds: Math.round(result.elapsedSeconds),
    };
  };
  const pretrainPlan = new BatchPlan(trainExamples, {
    seed: RECIPE.seed,
    microBatchSize: p.microBatch,
    maxLength: p.maxLength,
    padId: eot,
    packing: true,
  });
  report.pretrain = {
    heldOutLossAtInit: before.loss,
    ...(await phase('pretrain', pretrainDir, pretrainPlan, hyper({ ...p, steps: o.pretrainSteps }, RECIPE.seed))),
  };

  // 5. chat phase: a new session from the pretrained weights (fresh optimizer), conversations + some plain text
  const c = RECIPE.chat;
  const pretrained = session.getTrainables();
  await session.dispose();
  const weights = new Map([...pretrained].map(([key, t]) => [key.slice(peftKey('').length), t.data]));
  session = await createCpuTrainingSession({ program, weights, seed: RECIPE.seed + 1, threads: o.threads });
  const mixRng = new Rng(RECIPE.seed + 1);
  const textCount = Math.round((chatExamples.length * c.textShare) / (1 - c.textShare));
  const mixed = [...chatExamples, ...mixRng.shuffle([...trainExamples]).slice(0, textCount)];
  const chatPlan = new BatchPlan(mixed, {
    seed: RECIPE.seed + 1,
    microBatchSize: c.microBatch,
    maxLength: c.maxLength,
    padId: eot,
    packing: true,
  });
  report.chat = await phase(
    'chat',
    join(o.work, 'chat'),
    chatPlan,
    hyper({ ...c, steps: o.chatSteps }, RECIPE.seed + 1),
  );

  // 6. the model folder, reopened through the ordinary loader as a check
  await writeModel(stage, session.getTrainables());
  await session.dispose();
  const folder = await openModelFolder(stage);
  await folder.close();
  report.wallSeconds = Math.round((Date.now() - started) / 1000);
  await writeFile(join(stage, 'training_report.json'), JSON.stringify(report, null, 2) + '\n');
  const readme = join(o.out, 'README.md');
  const keepReadme = existsSync(readme) ? await readFile(readme) : null; // the README is written by hand
  await rm(o.out, { recursive: true, force: true });
  await mkdir(o.out, { recursive: true });
  await cp(stage, o.out, { recursive: true });
  if (keepReadme) await writeFile(readme, keepReadme);
  log(`wrote ${o.out} in ${report.wallSeconds} s`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `build:default-model failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
