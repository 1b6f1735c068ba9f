// `lora-studio dataset import|preview|split|pull`: check a dataset file the way a run will read it (format,
// column mapping, bad rows, duplicates, content hash), look at rendered examples with the trained tokens
// marked and the token-length histogram, write a seeded train/eval split, and fetch Hub datasets.
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { StudioError } from '../../core/index.ts';
import {
  DatasetProblemError,
  formatProblem,
  importDataset,
  previewDataset,
  splitByRatio,
  type ColumnMapping,
  type DatasetExample,
  type DatasetFormat,
  type Example,
  type ImportedDataset,
} from '../../formats/dataset/index.ts';
import { explainWriteError, guardOutput, markOutputFile, type GuardedInput, type OutputKind } from '../../formats/output-guard.ts';
import type { TemplateSpec } from '../../formats/tokenizer/index.ts';
import { countOf } from '../../../common/api/phrases.ts';
import { formatBytes, pullDataset, type HubProgress } from '../../formats/hub/index.ts';
import { printJson } from '../context.ts';
import { parseStrictNumber } from '../numbers.ts';
import { ProgressBar } from '../progress.ts';

interface MappingOptions {
  format?: string;
  column?: string[];
}
interface ImportCliOptions extends MappingOptions {
  stopOnError?: boolean;
  dropDuplicates?: boolean;
  out?: string;
  overwrite?: boolean;
  json?: boolean;
  problems?: number;
}

const FORMATS = ['text', 'completion', 'alpaca', 'chat'] as const;
const MAPPING_KEYS = ['text', 'prompt', 'completion', 'instruction', 'input', 'output', 'messages', 'roleKey', 'contentKey'] as const;

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** --format + --column key=column → a ColumnMapping (undefined: detect). */
export function mappingFromOptions(opts: MappingOptions): ColumnMapping | undefined {
  if (!opts.format && !opts.column?.length) return undefined;
  if (!opts.format) throw new InvalidArgumentError('--column needs --format (text, completion, alpaca or chat)');
  if (!(FORMATS as readonly string[]).includes(opts.format)) throw new InvalidArgumentError(`--format must be one of ${FORMATS.join(', ')}, got "${opts.format}"`);
  const mapping: ColumnMapping = { format: opts.format as DatasetFormat };
  const defaults: Record<DatasetFormat, Partial<ColumnMapping>> = {
    text: { text: 'text' },
    completion: { prompt: 'prompt', completion: 'completion' },
    alpaca: { instruction: 'instruction', input: 'input', output: 'output' },
    chat: { messages: 'messages', roleKey: 'role', contentKey: 'content' },
  };
  Object.assign(mapping, defaults[mapping.format]);
  for (const pair of opts.column ?? []) {
    const [key, column] = pair.split('=', 2);
    if (!column || !(MAPPING_KEYS as readonly string[]).includes(key)) {
      throw new InvalidArgumentError(`--column expects key=column with key one of ${MAPPING_KEYS.join(', ')}, got "${pair}"`);
    }
    (mapping as unknown as Record<string, string>)[key] = column;
  }
  return mapping;
}

/** The file's rows as a run reads them, with a progress bar on stderr. */
async function load(file: string, opts: ImportCliOptions, limit?: number): Promise<ImportedDataset> {
  const bar = new ProgressBar('reading');
  const started = Date.now();
  const result = await importDataset(file, {
    mapping: mappingFromOptions(opts),
    onProblem: opts.stopOnError ? 'stop' : 'skip',
    dropDuplicates: opts.dropDuplicates,
    limit,
    onProgress: (p) => {
      const elapsed = (Date.now() - started) / 1000;
      const fraction = p.totalBytes ? p.bytesRead / p.totalBytes : null;
      const eta = fraction && fraction > 0 ? (elapsed / fraction) * (1 - fraction) : null;
      bar.update(fraction, `${grouped(p.rowsRead)} rows`, eta);
    },
  });
  bar.done(`${grouped(result.rowsRead)} rows in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  return result;
}

/** One example in the canonical JSONL shape (what the studio and TRL read back). */
export function canonicalRow(example: Example): Record<string, unknown> {
  switch (example.kind) {
    case 'text':
      return { text: example.text };
    case 'completion':
      return { prompt: example.prompt, completion: example.completion };
    case 'chat':
      return { messages: example.messages };
  }
}

/** Writes rows as canonical JSONL beside the target, then renames it into place and marks it as the studio's output. */
async function writeJsonl(path: string, examples: DatasetExample[], kind: OutputKind): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, examples.map((e) => JSON.stringify(canonicalRow(e.example))).join('\n') + (examples.length ? '\n' : ''));
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw explainWriteError(err, path);
  }
  await markOutputFile(path, kind);
}

/** "3 bad (4 problems)": rows left out, and the problems in them when a row has more than one. */
function badRowsText(rows: number, problems: number): string {
  return problems > rows ? `${grouped(rows)} bad (${grouped(problems)} problems)` : `${grouped(rows)} bad`;
}

/** A count as the rest of the CLI writes one (the core's progress.step, the import's bar): grouped, plain ASCII ("12,000"). */
export function grouped(n: number): string {
  return n.toLocaleString('en-US');
}

/** The "Rows" line of `dataset import` and `dataset preview`: "12,000 read, 11,998 usable, 2 bad". */
export function rowsLine(read: number, usable: number, bad: number, problems: number): string {
  return `${grouped(read)} read, ${grouped(usable)} usable, ${badRowsText(bad, problems)}`;
}

function summary(d: ImportedDataset) {
  return {
    file: d.path,
    fileFormat: d.fileFormat,
    format: d.mapping.format,
    mapping: d.mapping,
    mappingReason: d.mappingReason,
    rowsRead: d.rowsRead,
    examples: d.examples.length,
    badRows: d.badRows,
    problemCount: d.problemCount,
    problems: d.problems.map(formatProblem),
    duplicateRows: d.duplicates.duplicateRows,
    duplicates: d.duplicates.groups.slice(0, 20),
    contentHash: d.contentHash,
  };
}

function printSummary(d: ImportedDataset, maxProblems: number): void {
  const lines: [string, string][] = [
    ['File', `${d.path} (${d.fileFormat})`],
    ['Format', `${d.mapping.format} — ${d.mappingReason}`],
    ['Rows', rowsLine(d.rowsRead, d.examples.length, d.badRows, d.problemCount)],
    ['Duplicates', d.duplicates.duplicateRows ? `${grouped(d.duplicates.duplicateRows)} rows repeat an earlier row exactly` : 'none'],
    ['Content hash', d.contentHash],
  ];
  for (const [k, v] of lines) process.stdout.write(`${k.padEnd(13)} ${v}\n`);
  if (d.problemCount) {
    process.stdout.write(`\nBad rows (${grouped(d.problemCount)}${d.problemCount > maxProblems ? `, first ${grouped(maxProblems)}` : ''}):\n`);
    for (const p of d.problems.slice(0, maxProblems)) process.stdout.write(`  ${formatProblem(p)}\n`);
  }
  for (const g of d.duplicates.groups.slice(0, 5)) {
    const where = (w: { row: number; line?: number }) => (w.line !== undefined ? `line ${w.line}` : `row ${w.row}`);
    process.stdout.write(`  duplicate of ${where(g.first)}: ${g.duplicates.map(where).join(', ')}\n`);
  }
}

/** --template → a TemplateSpec; undefined = the default for the data (the model's chat template, or plain). */
function templateFrom(value: string | undefined): TemplateSpec | undefined {
  if (value === undefined || value === 'auto') return undefined;
  if (value === 'chat') return { type: 'chat' };
  if (value === 'plain') return { type: 'plain' };
  if (value.startsWith('prompt:')) return { type: 'prompt', template: value.slice('prompt:'.length).replaceAll('\\n', '\n') };
  throw new InvalidArgumentError(`--template must be auto, chat, plain or prompt:<text with {placeholders}>, got "${value}"`);
}

const positiveInt = (name: string) => (v: string) => {
  const n = parseStrictNumber(name, v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive integer, got "${v}"`);
  return n;
};

export function registerDataset(program: Command): void {
  const dataset = program.command('dataset').description('Check, preview and split dataset files (JSONL, JSON, CSV/TSV, Parquet)');
  const mappingOptions = (c: Command) =>
    c
      .option('--format <format>', `row shape: ${FORMATS.join(', ')} (default: detected from the columns)`)
      .option('--column <key=column>', `map a column, e.g. prompt=question (keys: ${MAPPING_KEYS.join(', ')}); repeatable`, collect);

  mappingOptions(
    dataset
      .command('import')
      .argument('<file>', 'dataset file')
      .description('Read a dataset as a run will: detected format, bad rows with file/line/field, duplicates, content hash')
      .option('--stop-on-error', 'stop at the first bad row (exit code 2) instead of skipping and listing them')
      .option('--drop-duplicates', 'leave exact duplicate rows out')
      .option('--out <file.jsonl>', 'write the usable rows in canonical JSONL (messages / prompt+completion / text); never the input itself')
      .option('--overwrite', 'replace a JSONL that an earlier `dataset import --out` wrote (nothing else)')
      .option('--problems <n>', 'how many bad rows to list', positiveInt('--problems'), 20)
      .option('--json', 'print JSON'),
  ).action(async (file: string, opts: ImportCliOptions) => {
    if (opts.out) await guardOutput({ out: opts.out, kind: 'dataset-jsonl', inputs: [{ path: file, role: 'dataset being imported' }], overwrite: opts.overwrite });
    const d = await load(file, opts).catch((err: unknown) => {
      // A bad row under --stop-on-error is bad input: exit code 2, like a bad command line.
      if (err instanceof DatasetProblemError) throw new StudioError('invalid_input', err.message, err.problem);
      throw err;
    });
    if (opts.out) {
      await writeJsonl(opts.out, d.examples, 'dataset-jsonl');
      process.stderr.write(`wrote ${grouped(d.examples.length)} rows to ${opts.out}\n`);
    }
    if (opts.json) printJson(summary(d));
    else printSummary(d, opts.problems ?? 20);
    if (d.examples.length === 0) process.exitCode = 1;
  });

  mappingOptions(
    dataset
      .command('preview')
      .argument('<file>', 'dataset file')
      .description('Show rows rendered for training (trained tokens marked) and token-length statistics')
      .option('--model <dir>', "model folder whose tokenizer and chat template to use (without it: the rows' text only)")
      .option('--template <t>', 'auto, chat, plain, or prompt:<text with {placeholders}>', 'auto')
      .option('--rows <n>', 'rows to show', positiveInt('--rows'), 3)
      .option('--max-length <n>', 'max tokens per example (truncation)', positiveInt('--max-length'), 2048)
      .option('--sample <n>', 'measure token lengths on at most this many rows, evenly spread', positiveInt('--sample'), 5000)
      .option('--json', 'print JSON'),
  ).action(async (file: string, opts: ImportCliOptions & { model?: string; template?: string; rows: number; maxLength: number; sample: number }) => {
    const template = templateFrom(opts.template);
    if (!opts.model) {
      const d = await load(file, opts);
      const shown = d.examples.slice(0, opts.rows);
      if (opts.json) return printJson({ ...summary(d), rows: shown.map((e) => ({ row: e.row, ...canonicalRow(e.example) })) });
      printSummary(d, 5);
      for (const e of shown) process.stdout.write(`\n── row ${e.row} ──\n${JSON.stringify(canonicalRow(e.example), null, 2)}\n`);
      return;
    }
    const bar = new ProgressBar('reading');
    const p = await previewDataset(file, {
      mapping: mappingFromOptions(opts),
      modelDir: opts.model,
      template,
      maxLength: opts.maxLength,
      rows: opts.rows,
      sample: opts.sample,
      onProgress: (x) => bar.update(x.totalBytes ? x.bytesRead / x.totalBytes : null, `${grouped(x.rowsRead)} rows`),
    });
    bar.done(`${grouped(p.rowsRead)} rows`);
    if (opts.json) return printJson(p);
    const lines: [string, string][] = [
      ['File', `${file}`],
      ['Format', `${p.format} — ${p.mappingReason}`],
      ['Rows', rowsLine(p.rowsRead, p.examples, p.badRows, p.problemCount)],
      ['Duplicates', p.duplicateRows ? `${grouped(p.duplicateRows)} rows repeat an earlier row exactly` : 'none'],
      ['Content hash', p.contentHash],
    ];
    for (const [k, v] of lines) process.stdout.write(`${k.padEnd(13)} ${v}\n`);
    for (const line of p.problemLines.slice(0, 5)) process.stdout.write(`  ${line}\n`);
    const spec = p.template!;
    const color = Boolean(process.stdout.isTTY);
    process.stdout.write(`\nTemplate: ${spec.type}${spec.type === 'prompt' ? ` "${spec.template}"` : ''}; trained tokens ${color ? 'in green' : 'between ⟦ ⟧'}\n`);
    for (const r of p.rows) {
      if (!r.rendered) {
        process.stdout.write(`\n── row ${r.row}: cannot be rendered: ${r.error} ──\n`);
        continue;
      }
      const x = r.rendered;
      process.stdout.write(`\n── row ${r.row}: ${x.tokens} tokens, ${x.trainedTokens} trained${x.truncated ? `, TRUNCATED from ${x.fullLength}` : ''} ──\n`);
      let out = '';
      let open = false;
      for (const piece of x.pieces) {
        if (piece.trained !== open) {
          out += color ? (piece.trained ? '\x1b[32m' : '\x1b[0m') : piece.trained ? '⟦' : '⟧';
          open = piece.trained;
        }
        out += piece.text;
      }
      if (open) out += color ? '\x1b[0m' : '⟧';
      process.stdout.write(`${out}\n`);
      for (const w of x.warnings) process.stdout.write(`  warning: ${w}\n`);
    }
    const stats = p.stats!;
    process.stdout.write(
      `\nTokens per example: min ${grouped(stats.min)}, median ${grouped(stats.median)}, mean ${stats.mean.toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 })}, p95 ${grouped(stats.p95)}, max ${grouped(stats.max)}\n` +
        `Truncated at ${grouped(opts.maxLength)}: ${grouped(stats.truncated)} of ${grouped(stats.count)}${stats.count < p.examples ? ' measured' : ''} (${(stats.truncatedShare * 100).toFixed(1)}%)` +
        `${stats.untrainable ? `; ${grouped(stats.untrainable)} with nothing to train` : ''}\n`,
    );
    const peak = Math.max(1, ...stats.histogram.counts);
    const first = stats.histogram.counts.findIndex((c) => c > 0);
    const last = stats.histogram.counts.findLastIndex((c) => c > 0);
    stats.histogram.counts.forEach((c, i) => {
      if (i < first || i > last) return; // empty tails say nothing
      const lo = stats.histogram.edges[i];
      const hi = stats.histogram.edges[i + 1];
      const label = `${grouped(Math.round(lo))}–${grouped(Math.round(hi))}`.padStart(13);
      const cut = stats.maxLength !== null && lo >= stats.maxLength ? '  (truncated)' : '';
      process.stdout.write(`${label} ${'█'.repeat(Math.round((c / peak) * 40))} ${grouped(c)}${cut}\n`);
    });
    for (const f of stats.failures.slice(0, 5)) process.stdout.write(`  row ${f.row} cannot be rendered: ${f.message}\n`);
  });

  mappingOptions(
    dataset
      .command('split')
      .argument('<file>', 'dataset file')
      .description('Write a seeded train/eval split as canonical JSONL (the same seed gives the same split)')
      .requiredOption('--out-dir <dir>', 'folder for train.jsonl and eval.jsonl')
      .option('--eval-ratio <r>', 'share of rows for evaluation', (v) => {
        const r = parseStrictNumber('--eval-ratio', v);
        if (!(r > 0 && r < 1)) throw new InvalidArgumentError(`--eval-ratio must be between 0 and 1 (exclusive), got "${v}"`);
        return r;
      }, 0.1)
      .option('--seed <n>', 'split seed', (v) => {
        const n = parseStrictNumber('--seed', v);
        if (!Number.isInteger(n)) throw new InvalidArgumentError(`--seed must be an integer, got "${v}"`);
        return n;
      }, 42)
      .option('--stop-on-error', 'stop at the first bad row instead of skipping it')
      .option('--drop-duplicates', 'leave exact duplicate rows out')
      .option('--overwrite', 'replace a train/eval split that an earlier `dataset split` wrote there (nothing else)')
      .option('--json', 'print JSON'),
  ).action(async (file: string, opts: ImportCliOptions & { outDir: string; evalRatio: number; seed: number }) => {
    const trainPath = join(opts.outDir, 'train.jsonl');
    const evalPath = join(opts.outDir, 'eval.jsonl');
    const input: GuardedInput[] = [{ path: file, role: 'dataset being split' }];
    for (const out of [trainPath, evalPath]) await guardOutput({ out, kind: 'dataset-split', inputs: input, overwrite: opts.overwrite });
    const d = await load(file, opts);
    const split = splitByRatio(d.examples, { evalRatio: opts.evalRatio, seed: opts.seed });
    await mkdir(opts.outDir, { recursive: true }).catch((err: unknown) => Promise.reject(explainWriteError(err, trainPath)));
    await writeJsonl(trainPath, split.train, 'dataset-split');
    await writeJsonl(evalPath, split.eval, 'dataset-split');
    const result = { train: { path: trainPath, rows: split.train.length }, eval: { path: evalPath, rows: split.eval.length }, overlap: split.overlap, seed: opts.seed, badRows: d.problemCount };
    if (opts.json) return printJson(result);
    process.stdout.write(`train ${grouped(split.train.length)} rows → ${trainPath}\neval  ${grouped(split.eval.length)} rows → ${evalPath}\n`);
    if (split.overlap) process.stdout.write(`warning: ${split.overlap} eval rows also appear in train (exact duplicates): eval loss will look better than it is; try --drop-duplicates\n`);
    if (d.problemCount) process.stdout.write(`${grouped(d.problemCount)} bad rows left out (see \`lora-studio dataset import ${file}\`)\n`);
  });

  dataset
    .command('pull')
    .argument('<repo>', 'Hub dataset id, e.g. org/name')
    .description('Download a Hub dataset’s Parquet files into the Hugging Face cache (HF_TOKEN, HF_ENDPOINT, HF_HUB_OFFLINE honoured)')
    .option('--revision <rev>', 'branch, tag or commit', undefined)
    .option('--split <name>', 'only this split (train, test, …)')
    .option('--config <name>', 'only this config (subset)')
    .option('--offline', 'use the cache only')
    .option('--json', 'print JSON')
    .action(async (repo: string, opts: { revision?: string; split?: string; config?: string; offline?: boolean; json?: boolean }) => {
      const bar = new ProgressBar('downloading');
      const pulled = await pullDataset({ repo, revision: opts.revision, split: opts.split, config: opts.config, offline: opts.offline || undefined, onProgress: hubProgress(bar) });
      bar.done(`${formatBytes(pulled.downloadedBytes)} downloaded, ${countOf(pulled.fromCache.length, 'file')} from the cache`);
      if (opts.json) return printJson(pulled);
      process.stdout.write(`${repo}@${pulled.revision} (${pulled.commit})\n`);
      for (const [split, paths] of Object.entries(pulled.splits)) for (const p of paths) process.stdout.write(`${split.padEnd(10)} ${p}\n`);
    });
}

/** A HubProgress callback drawing on a ProgressBar. */
export function hubProgress(bar: ProgressBar): (p: HubProgress) => void {
  const started = Date.now();
  let startBytes = -1;
  return (p) => {
    if (p.phase === 'done') return;
    if (startBytes < 0) startBytes = p.bytes;
    const elapsed = (Date.now() - started) / 1000;
    const rate = elapsed > 0 ? (p.bytes - startBytes) / elapsed : 0;
    const eta = rate > 0 ? (p.totalBytes - p.bytes) / rate : null;
    const fraction = p.totalBytes ? p.bytes / p.totalBytes : null;
    bar.update(fraction, `${formatBytes(p.bytes)}/${formatBytes(p.totalBytes)} ${p.file ?? ''} (${p.filesDone}/${p.filesTotal} files)`, eta);
  };
}
