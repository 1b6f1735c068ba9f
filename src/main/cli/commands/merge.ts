// `lora-studio merge --base <model> --adapter <dir>[=weight] … --out <dir>`: merge adapters into
// the base and write a Hugging Face folder (same as `export --format hf`).
import type { Command } from 'commander';
import { exportHfModel, type ExportDtype } from '../../formats/export/index.ts';
import { ProgressBar } from '../progress.ts';
import { dataDirOf, printJson } from '../context.ts';
import { sizeOption } from '../numbers.ts';
import { dataDirContainers } from '../../core/output-targets.ts';

/** "dir" or "dir=0.5" → adapter and weight. */
export function parseAdapterArg(value: string, previous: { adapter: string; weight: number }[] = []): { adapter: string; weight: number }[] {
  const m = /^(.*)=(-?\d+(?:\.\d+)?)$/.exec(value);
  const entry = m ? { adapter: m[1]!, weight: Number(m[2]) } : { adapter: value, weight: 1 };
  return [...previous, entry];
}

export function registerMerge(program: Command): void {
  program
    .command('merge')
    .description('Merge one or more LoRA adapters into the base model and write a Hugging Face folder')
    .requiredOption('--base <dir>', 'base model folder')
    .requiredOption('--adapter <dir[=weight]>', 'adapter folder, optionally with a weight (repeatable)', parseAdapterArg, [])
    .requiredOption('--out <dir>', 'output folder (must not exist unless --overwrite)')
    .option('--dtype <dtype>', 'bf16 | f16 | f32', 'bf16')
    .option('--max-shard-size <size>', 'shard the safetensors above this size: bytes, or 500MB, 5GB, 2GiB (default 5GB)', sizeOption('--max-shard-size'))
    .option('--overwrite', 'replace a merged model folder that an earlier merge/export wrote there (nothing else)')
    .option('--json', 'print JSON')
    .action(async (opts: { base: string; adapter: { adapter: string; weight: number }[]; out: string; dtype: ExportDtype; maxShardSize?: number; overwrite?: boolean; json?: boolean }, command: Command) => {
      const bar = new ProgressBar('merge');
      const res = await exportHfModel({
        baseDir: opts.base,
        adapters: opts.adapter,
        outDir: opts.out,
        dtype: opts.dtype,
        maxShardBytes: opts.maxShardSize,
        overwrite: opts.overwrite,
        protect: dataDirContainers(dataDirOf(command)),
        onProgress: (done, total, tensor) => bar.update(done / total, tensor),
      });
      bar.done(`merged into ${res.outDir}`);
      if (opts.json) return printJson(res);
      process.stdout.write(`Wrote ${res.outDir} (${res.dtype}, ${res.files.length} files, ${(res.totalBytes / 2 ** 20).toFixed(1)} MiB of weights)\n`);
    });
}
