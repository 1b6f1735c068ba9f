import type { Command } from 'commander';
import { printJson, withCore } from '../context.ts';

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('Check this machine: Node, platform, CPU threads, memory, onnxruntime-node, CUDA, data dir')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, command: Command) =>
      withCore(command, async (core) => {
        const r = await core.call('system.doctor', {});
        if (opts.json) return printJson(r);
        const ort = r.onnxruntime.available
          ? `ok, ${r.onnxruntime.version} (backends: ${r.onnxruntime.backends.join(', ')})`
          : `NOT AVAILABLE: ${r.onnxruntime.error}`;
        const cuda = r.cuda.available ? `yes, ${r.cuda.device} — ${r.cuda.reason}` : `no — ${r.cuda.reason}`;
        // what a run's executor "auto" (train --device) trains on here; the addon itself is probed when a run starts
        const executor = r.cuda.available
          ? 'cuda when the native addon is built (npm run build:native) and the method is LoRA/QLoRA, else cpu'
          : 'cpu (no usable NVIDIA GPU); --device cuda would be refused';
        const lines = [
          ['LoRA Studio', r.appVersion],
          ['Node', r.node],
          ['Platform', `${r.platform} ${r.arch}`],
          ['CPU threads', String(r.cpuThreads)],
          ['Memory', gib(r.totalMemoryBytes)],
          ['onnxruntime-node', ort],
          ['CUDA', cuda],
          ['Executor (auto)', executor],
          ['Data dir', r.dataDir],
        ];
        for (const [k, v] of lines) process.stdout.write(`${k!.padEnd(17)} ${v}\n`);
        if (!r.onnxruntime.available) process.exitCode = 1;
      }),
    );
}
