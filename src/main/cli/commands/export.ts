// `lora-studio export --format hf|gguf`: a merged model as a Hugging Face folder or a llama.cpp
// GGUF (f32/f16/bf16/q8_0/q4_0, and the K-quant mixes q6_k/q5_k_m/q4_k_m), or with `--lora-only` the adapter alone as a llama.cpp LoRA GGUF.
import type { Command } from 'commander';
import { exportHfModel, type ExportDtype } from '../../formats/export/index.ts';
import { exportGguf, exportLoraGguf, type GgufOutType } from '../../formats/gguf/index.ts';
import { ProgressBar } from '../progress.ts';
import { dataDirOf, printJson } from '../context.ts';
import { dataDirContainers } from '../../core/output-targets.ts';
import { parseAdapterArg } from './merge.ts';
import { writeCliExportCard } from '../export-card.ts';

interface ExportOpts {
  format: 'hf' | 'gguf';
  base: string;
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
    .description('Export a model (base + merged adapters) as a Hugging Face folder or GGUF, or an adapter as a LoRA GGUF')
    .requiredOption('--format <format>', 'hf | gguf')
    .requiredOption('--base <dir>', 'base model folder')
    .option('--adapter <dir[=weight]>', 'adapter folder to merge, optionally weighted (repeatable)', parseAdapterArg, [])
    .requiredOption('--out <path>', 'output folder (hf) or file (gguf)')
    .option('--type <type>', 'hf: bf16 | f16 | f32 (default bf16); gguf: f32 | f16 | bf16 | q8_0 | q6_k | q5_k_m | q4_k_m | q4_0 (default f16)')
    .option('--lora-only', 'gguf: write the single adapter as a llama.cpp LoRA GGUF (for --lora) instead of merging')
    .option('--overwrite', 'replace an output of the same kind that an earlier export wrote there (nothing else)')
    .option('--json', 'print JSON')
    .action(async (opts: ExportOpts, command: Command) => {
      const protect = dataDirContainers(dataDirOf(command));
      const bar = new ProgressBar('export');
      const onProgress = (done: number, total: number, tensor: string) => bar.update(done / total, tensor);
      let result: { where: string; detail: string; json: unknown };
      if (opts.format === 'hf') {
        if (opts.loraOnly) throw new Error('--lora-only applies to --format gguf (an adapter folder is already the PEFT format)');
        const res = await exportHfModel({ baseDir: opts.base, adapters: opts.adapter, outDir: opts.out, dtype: (opts.type ?? 'bf16') as ExportDtype, overwrite: opts.overwrite, protect, onProgress });
        result = { where: res.outDir, detail: `${res.dtype}, ${res.files.length} files`, json: res };
      } else if (opts.format === 'gguf') {
        if (opts.loraOnly) {
          if (opts.adapter.length !== 1) throw new Error('--lora-only needs exactly one --adapter');
          const res = await exportLoraGguf({ baseDir: opts.base, adapter: opts.adapter[0]!.adapter, outFile: opts.out, type: (opts.type ?? 'f32') as 'f32' | 'f16' | 'bf16', overwrite: opts.overwrite, protect });
          result = { where: res.outFile, detail: `LoRA adapter, ${res.tensors.length} tensors`, json: res };
        } else {
          const res = await exportGguf({ baseDir: opts.base, adapters: opts.adapter, outFile: opts.out, type: (opts.type ?? 'f16') as GgufOutType, overwrite: opts.overwrite, protect, onProgress });
          result = { where: res.outFile, detail: `${res.type}, ${res.tensors.length} tensors, ${(res.bytes / 2 ** 20).toFixed(1)} MiB`, json: res };
        }
      } else {
        throw new Error(`--format must be hf or gguf, got "${opts.format}"`);
      }
      bar.done(`wrote ${result.where}`);
      const ollamaCreate = await writeCliExportCard({ format: opts.format, loraOnly: opts.loraOnly === true, base: opts.base, adapters: opts.adapter, out: result.where });
      if (opts.json) return printJson(result.json);
      process.stdout.write(`Wrote ${result.where} (${result.detail})\n`);
      if (ollamaCreate) process.stdout.write(`Modelfile written beside it; load it into Ollama with:\n  ${ollamaCreate}\n`);
    });
}
