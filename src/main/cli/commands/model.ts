// `lora-studio model info <dir>`: what the studio reads from a Hugging Face model folder — the
// architecture spec, parameter count, weights and tokenizer files — after validating the weights
// against the architecture; `model open <dir>` records such a folder as a base model in the store and
// `model list` shows the recorded ones. (`model pull` downloads from the Hub; see the hub formats module.)
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { openModelFolder, parameterCount, type ModelFolder } from '../../formats/model/index.ts';
import { HfTokenizer } from '../../formats/tokenizer/index.ts';
import { printJson, printTable, shortTime, withCore } from '../context.ts';

export function modelSummary(m: ModelFolder) {
  const s = m.spec;
  const dtypes = [...new Set(m.weights.names().map((n) => m.weights.info(n).dtype))];
  return {
    dir: m.dir,
    architecture: s.architecture,
    family: s.family,
    parameters: parameterCount(s),
    layers: s.numLayers,
    hidden: s.hiddenSize,
    intermediate: s.intermediateSize,
    heads: s.numHeads,
    kvHeads: s.numKvHeads,
    headDim: s.headDim,
    vocab: s.vocabSize,
    maxPositions: s.maxPositions,
    rope: s.rope,
    norm: `${s.normKind} (eps ${s.normEps})`,
    activation: s.activation,
    tiedEmbeddings: s.tiedEmbeddings,
    slidingWindow: s.slidingWindow,
    weightFiles: m.weights.fileNames,
    weightDtypes: dtypes,
    tokenizerFiles: m.tokenizerFiles,
    bosTokenId: s.bosTokenId,
    eosTokenIds: s.eosTokenIds,
    padTokenId: s.padTokenId,
  };
}

function human(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}K`;
  return String(n);
}

export function registerModel(program: Command): void {
  // `model pull` (Hub download) registers on the same group; whichever registers first creates it.
  const model = program.commands.find((c) => c.name() === 'model') ?? program.command('model').description('Hugging Face models: download, inspect');
  model
    .command('info')
    .argument('<dir>', 'a Hugging Face model folder (config.json + safetensors)')
    .description('Show the architecture, sizes, weights and tokenizer of a model folder (weights are validated)')
    .option('--json', 'print JSON')
    .action(async (dir: string, opts: { json?: boolean }) => {
      const m = await openModelFolder(dir);
      try {
        // The tokenizer is checked against the model as training will (ids within vocab_size, special tokens known).
        if (m.tokenizerFiles.includes('tokenizer.json')) HfTokenizer.load(dir);
        const s = modelSummary(m);
        if (opts.json) return printJson(s);
        const rope = s.rope ? `θ=${s.rope.theta}${s.rope.scaling ? `, ${s.rope.scaling.type} ×${s.rope.scaling.factor}` : ''}` : 'learned positions';
        const rows: [string, string][] = [
          ['Architecture', `${s.architecture} (${s.family})`],
          ['Parameters', `${human(s.parameters)} (${s.parameters.toLocaleString('en-US')})`],
          ['Layers', String(s.layers)],
          ['Hidden / MLP', `${s.hidden} / ${s.intermediate}`],
          ['Heads', `${s.heads} query, ${s.kvHeads} key/value, head_dim ${s.headDim}`],
          ['Vocab', String(s.vocab)],
          ['Context', String(s.maxPositions)],
          ['Rope', rope],
          ['Norm', s.norm],
          ['Activation', s.activation],
          ['Tied embeddings', s.tiedEmbeddings ? 'yes' : 'no'],
          ['Weights', `${s.weightFiles.join(', ')} (${s.weightDtypes.join(', ')})`],
          ['Tokenizer', s.tokenizerFiles.length ? s.tokenizerFiles.join(', ') : 'none'],
        ];
        for (const [k, v] of rows) process.stdout.write(`${k.padEnd(16)} ${v}\n`);
      } finally {
        await m.close();
      }
    });

  model
    .command('open')
    .argument('<dir>', 'a Hugging Face model folder (config.json + safetensors + tokenizer)')
    .description('Validate a local model folder and record it as a base model (what the app’s model picker does)')
    .option('--json', 'print JSON')
    .action(async (dir: string, opts: { json?: boolean }, command: Command) =>
      withCore(command, async (core) => {
        const m = await core.call('models.open', { path: resolve(dir) });
        if (opts.json) return printJson(m);
        process.stdout.write(`Recorded ${m.name} (${m.architecture}, ${human(m.parameterCount)} parameters, ${m.dtype}) as base model ${m.id}\n`);
      }),
    );

  model
    .command('list')
    .description('List the recorded base models, newest first')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, command: Command) =>
      withCore(command, async (core) => {
        const list = await core.call('models.list', {});
        if (opts.json) return printJson(list);
        if (list.length === 0) return void process.stdout.write('No base models yet. Record one: lora-studio model open <dir>\n');
        printTable(
          ['NAME', 'ARCHITECTURE', 'PARAMETERS', 'SOURCE', 'ID', 'ADDED'],
          list.map((m) => [m.name, m.architecture, human(m.parameterCount), m.source, m.id, shortTime(m.createdAt)]),
        );
      }),
    );
}
