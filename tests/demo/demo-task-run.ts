// Runs `lora-studio demo --task <task>` as a user would (bin/lora-studio.js in a child process, its own data dir)
// and returns what it printed, its exit code, its last line's figures and how long it took on the wall clock.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const bin = resolve(import.meta.dirname, '../../bin/lora-studio.js');

export interface TaskDemoOutput {
  code: number;
  stdout: string;
  stderr: string;
  wallSeconds: number;
  /** The last line, `demo task=<t> metric=<name> base=<x> lora=<y> full=<z>`, parsed; null when it is not that. */
  last: { task: string; metric: string; base: number; lora: number; full: number } | null;
}

export const LAST_LINE = /^demo task=(\S+) metric=(\S+) base=(\d+\.\d{4}) lora=(\d+\.\d{4}) full=(\d+\.\d{4})$/;

export async function runTaskDemo(task: 'classification' | 'question-answering'): Promise<TaskDemoOutput> {
  const root = mkdtempSync(join(tmpdir(), `lora-demo-${task}-`));
  const started = Date.now();
  try {
    return await new Promise((done) => {
      execFile(
        process.execPath,
        [bin, '--data-dir', join(root, 'data'), 'demo', '--task', task],
        { maxBuffer: 64 * 2 ** 20, timeout: 2_400_000 },
        (err, stdout, stderr) => {
          const code = err ? ((err as { code?: number }).code ?? 1) : 0;
          const lines = stdout.split('\n').filter((l) => l.trim() !== '');
          const m = LAST_LINE.exec(lines.at(-1) ?? '');
          const wallSeconds = (Date.now() - started) / 1000;
          process.stderr.write(`demo --task ${task}: exit ${code}, ${wallSeconds.toFixed(0)} s on the wall clock\n`);
          if (code !== 0) process.stderr.write(stderr.slice(-4000));
          done({
            code,
            stdout,
            stderr,
            wallSeconds,
            last: m ? { task: m[1], metric: m[2], base: Number(m[3]), lora: Number(m[4]), full: Number(m[5]) } : null,
          });
        },
      );
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
