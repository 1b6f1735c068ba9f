// What every CLI command shares: the global options, opening the core for one command, printing, and
// turning core errors into a message and an exit code.
import { InvalidArgumentError, type Command } from 'commander';
import { createStudioCore, resolveDataDir, StudioError, type StudioCore } from '../core/index.ts';
import { OutputGuardError } from '../formats/output-guard.ts';

export interface GlobalOptions {
  dataDir?: string;
}

export function dataDirOf(command: Command): string {
  return resolveDataDir((command.optsWithGlobals() as GlobalOptions).dataDir);
}

/** Opens the core on the command's data dir, runs `fn`, and always closes it. */
export async function withCore<T>(command: Command, fn: (core: StudioCore) => Promise<T>): Promise<T> {
  const core = createStudioCore({ dataDir: dataDirOf(command) });
  try {
    return await fn(core);
  } finally {
    await core.close();
  }
}

/** Exit codes: 2 for a bad command line or input, 1 for everything else that failed. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof StudioError && (err.code === 'invalid_input' || err.code === 'unknown_method')) return 2;
  // A refused output path (an input of the command, or something overwrite may not replace) is a bad command line.
  if (err instanceof OutputGuardError || err instanceof InvalidArgumentError) return 2;
  return 1;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A plain-text table: columns padded to their widest cell. */
export function printTable(headers: string[], rows: string[][]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  process.stdout.write(`${line(headers)}\n`);
  for (const row of rows) process.stdout.write(`${line(row)}\n`);
}

/** An ISO timestamp as "YYYY-MM-DD HH:MM" in local time, for tables. */
export function shortTime(iso: string | null): string {
  if (!iso) return '-';
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** An error's message in the command line's words (the formats layer speaks of the API's `overwrite: true`). */
export function cliMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return err instanceof OutputGuardError ? message.replace('pass overwrite: true', 'pass --overwrite') : message;
}
