// `lora-studio export --format hf|gguf`: a merged model as a Hugging Face folder or a llama.cpp
// GGUF (f32/f16/bf16/q8_0/q4_0, and the K-quant mixes q6_k/q5_k_m/q4_k_m), or with `--lora-only` the adapter alone as a llama.cpp LoRA GGUF.
// `lora-studio export --run <id> --format …` exports a run's adapter through the studio's `export` job (exports.start,
// the Exports page's path): every format, and the encoder task formats — `onnx` (onnx/model.onnx + config with the
// labels + tokenizer, for transformers.js), `merged` / `hf` (…ForSequenceClassification / …ForQuestionAnswering) and
// `peft` (adapter + head under PEFT's keys); GGUF for an encoder run is refused naming those.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Adapter } from '../../../common/api/adapters.ts';
import { ExportFormat, ExportType, type Export } from '../../../common/api/exports.ts';
import type { Run } from '../../../common/api/runs.ts';
import { StudioError, type StudioCore } from '../../core/index.ts';
import { followJob } from './train.ts';
import { exportHfModel, type ExportDtype } from '../../formats/export/index.ts';
import { exportGguf, exportLoraGguf, type GgufOutType } from '../../formats/gguf/index.ts';
import { ProgressBar } from '../progress.ts';
import { dataDirOf, printJson, withCore } from '../context.ts';
import { dataDirContainers } from '../../core/output-targets.ts';
import { parseAdapterArg } from './merge.ts';
import { writeCliExportCard } from '../export-card.ts';

interface ExportOpts {
  format: string;
  run?: string;
  base?: string;
  adapter: { adapter: string; weight: number }[];
  out: string;
  type?: string;
  loraOnly?: boolean;
  overwrite?: boolean;
  json?: boolean;
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description(
      'Export a model (base + merged adapters) as a Hugging Face folder or GGUF, or an adapter as a LoRA GGUF; with --run, a run’s adapter in any export format (encoder task runs: onnx, merged, peft; a full fine-tune of one: onnx, merged)',
    )
    .requiredOption('--format <format>', 'hf | gguf; with --run also peft | lora-gguf | onnx | merged (= hf)')
    .option('--run <id>', 'a run: its adapter and base model, exported by the studio’s export job (as the Exports page does)')
    .option('--base <dir>', 'base model folder (without --run)')
    .option('--adapter <dir[=weight]>', 'adapter folder to merge, optionally weighted (repeatable)', parseAdapterArg, [])
    .requiredOption('--out <path>', 'output folder (hf) or file (gguf)')
    .option('--type <type>', 'hf: bf16 | f16 | f32 (default bf16); gguf: f32 | f16 | bf16 | q8_0 | q6_k | q5_k_m | q4_k_m | q4_0 (default f16)')
    .option('--lora-only', 'gguf: write the single adapter as a llama.cpp LoRA GGUF (for --lora) instead of merging')
    .option('--overwrite', 'replace an output of the same kind that an earlier export wrote there (nothing else)')
    .option('--json', 'print JSON')
    .action(async (opts: ExportOpts, command: Command) => {
      if (opts.run !== undefined) return withCore(command, (core) => exportRun(core, opts));
      if (opts.format === 'onnx' || opts.format === 'peft' || opts.format === 'merged')
        throw new StudioError(
          'invalid_input',
          `--format ${opts.format} exports a run: give --run <id> (lora-studio runs list shows them)${opts.format === 'merged' ? ', or --format hf with --base and --adapter' : ''}`,
        );
      if (!opts.base) throw new StudioError('invalid_input', '--base <dir> is required (or --run <id> to export a run)');
      const base = opts.base;
      const protect = dataDirContainers(dataDirOf(command));
      const bar = new ProgressBar('export');
      const onProgress = (done: number, total: number, tensor: string) => bar.update(done / total, tensor);
      let result: { where: string; detail: string; json: unknown };
      if (opts.format === 'hf') {
        if (opts.loraOnly) throw new Error('--lora-only applies to --format gguf (an adapter folder is already the PEFT format)');
        const res = await exportHfModel({ baseDir: base, adapters: opts.adapter, outDir: opts.out, dtype: (opts.type ?? 'bf16') as ExportDtype, overwrite: opts.overwrite, protect, onProgress });
        result = { where: res.outDir, detail: `${res.dtype}, ${res.files.length} files`, json: res };
      } else if (opts.format === 'gguf') {
        if (opts.loraOnly) {
          if (opts.adapter.length !== 1) throw new Error('--lora-only needs exactly one --adapter');
          const res = await exportLoraGguf({ baseDir: base, adapter: opts.adapter[0]!.adapter, outFile: opts.out, type: (opts.type ?? 'f32') as 'f32' | 'f16' | 'bf16', overwrite: opts.overwrite, protect });
          result = { where: res.outFile, detail: `LoRA adapter, ${res.tensors.length} tensors`, json: res };
        } else {
          const res = await exportGguf({ baseDir: base, adapters: opts.adapter, outFile: opts.out, type: (opts.type ?? 'f16') as GgufOutType, overwrite: opts.overwrite, protect, onProgress });
          result = { where: res.outFile, detail: `${res.type}, ${res.tensors.length} tensors, ${(res.bytes / 2 ** 20).toFixed(1)} MiB`, json: res };
        }
      } else {
        throw new Error(`--format must be hf or gguf, got "${opts.format}"`);
      }
      bar.done(`wrote ${result.where}`);
      const ollamaCreate = await writeCliExportCard({ format: opts.format, loraOnly: opts.loraOnly === true, base, adapters: opts.adapter, out: result.where });
      if (opts.json) return printJson(result.json);
      process.stdout.write(`Wrote ${result.where} (${result.detail})\n`);
      if (ollamaCreate) process.stdout.write(`Modelfile written beside it; load it into Ollama with:\n  ${ollamaCreate}\n`);
    });
}

/** `--run`: the run's adapter exported by an `export` job (exports.start), its progress on the terminal. */
async function exportRun(core: StudioCore, opts: ExportOpts): Promise<void> {
  if (opts.base !== undefined || opts.adapter.length)
    throw new StudioError('invalid_input', '--run exports the run’s own adapter on its base: leave out --base and --adapter');
  if (opts.loraOnly) throw new StudioError('invalid_input', 'with --run, ask for the LoRA GGUF as --format lora-gguf');
  const format = ExportFormat.safeParse(opts.format === 'merged' ? 'hf' : opts.format);
  if (!format.success)
    throw new StudioError('invalid_input', `--format must be one of ${ExportFormat.options.join(', ')} or merged, got "${opts.format}"`);
  const type = opts.type === undefined ? undefined : ExportType.safeParse(opts.type);
  if (type && !type.success)
    throw new StudioError('invalid_input', `--type must be one of ${ExportType.options.join(', ')}, got "${opts.type}"`);
  const run = (await core.invoke('runs.get', { id: opts.run! })) as Run;
  // a full fine-tune of an encoder task is exported whole (onnx, merged); other runs by their adapter
  const wholeModel = run.config.method === 'full' && run.config.task !== 'causal-lm';
  const adapters = wholeModel ? [] : ((await core.invoke('adapters.list', { projectId: run.projectId })) as Adapter[]);
  const adapter = adapters.find((a) => a.runId === run.id);
  if (!wholeModel && !adapter) {
    const where = run.summary?.adapterPath;
    throw new StudioError(
      'invalid_input',
      run.config.method === 'full' && where
        ? `run “${run.name}” fine-tuned every weight: ${where} is already the whole model (config.json, safetensors, tokenizer); convert it with --format hf|gguf --base ${where}`
        : `run “${run.name}” has no adapter to export (status ${run.status}); wait for it to finish, or choose another run`,
      { field: 'run' },
    );
  }
  const started = (await core.invoke('exports.start', {
    ...(adapter ? { adapterId: adapter.id } : { runId: run.id }),
    format: format.data,
    ...(type ? { type: type.data } : {}),
    outPath: resolve(opts.out),
    overwrite: opts.overwrite === true,
  })) as Export;
  const job = await followJob(core, started.jobId!, 'export', { cancel: () => core.invoke('jobs.cancel', { id: started.jobId! }) });
  const done = (await core.invoke('exports.get', { id: started.id })) as Export;
  if (job.status !== 'succeeded') {
    process.exitCode = job.status === 'cancelled' ? 130 : 1;
    throw new StudioError('failed', `export ${job.status}: ${done.error ?? job.error ?? 'see the job log'}`);
  }
  if (opts.json) return printJson(done);
  process.stdout.write(`Wrote ${done.path} (${done.format}, ${done.type}, ${done.sizeBytes ?? 0} bytes)\n`);
  if (done.format === 'onnx')
    process.stdout.write('Runs in a browser with transformers.js (the folder is the model id), or with onnxruntime: onnx/model.onnx\n');
}
