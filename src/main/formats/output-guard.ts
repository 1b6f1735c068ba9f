// The one rule every writer of the studio follows before it writes a file or folder a user named: never write
// over, into or above an input of the same operation (a base model, an adapter, a dataset, a run folder, the data
// dir), whatever `overwrite` says; and `overwrite` replaces only a previous output of the same kind — one the
// studio wrote and marked — never an unrelated folder or file that happens to be there.
//
// Markers: a folder output carries `.lora-studio-output.json` inside it (written into the temporary folder, so
// it arrives with the rename); a file output is recorded in `.lora-studio-outputs.json` beside it, with its size,
// so a file the user replaced or edited since no longer counts as ours.
import { lstat, readdir, readFile, realpath, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { say, type Phrase, type Said } from '../../common/api/phrases.ts';

export const FOLDER_MARKER = '.lora-studio-output.json';
export const FILE_MARKERS = '.lora-studio-outputs.json';
const MARKER_FORMAT = 'lora-studio.output/1';

/** What the studio writes; `overwrite` replaces an existing output only when the kinds match. */
export const OUTPUT_KINDS = {
  'hf-model': { label: 'merged model folder', shape: 'folder' },
  'peft-adapter': { label: 'adapter folder', shape: 'folder' },
  gguf: { label: 'GGUF file', shape: 'file' },
  'lora-gguf': { label: 'LoRA GGUF file', shape: 'file' },
  'dataset-jsonl': { label: 'JSONL dataset written by `dataset import --out`', shape: 'file' },
  'dataset-split': { label: 'train/eval split file', shape: 'file' },
  'run-bundle': { label: 'job bundle folder (run-bundle)', shape: 'folder' },
  'onnx-model': { label: 'ONNX model folder', shape: 'folder' },
} as const;
export type OutputKind = keyof typeof OUTPUT_KINDS;

/** An input of the operation. A `container` (the data dir, its models/ or runs/) may be written into, never over or above. */
export interface GuardedInput {
  path: string;
  /** What it is, for the message: "base model", "adapter", "dataset", "data folder". */
  role: string;
  container?: boolean;
}

export interface OutputTarget {
  out: string;
  kind: OutputKind;
  inputs: readonly (GuardedInput | null | undefined)[];
  overwrite?: boolean;
}

export class OutputGuardError extends Error {
  /** 'input': the target is, holds or sits in an input; 'exists': a previous output without overwrite; 'foreign': not ours; 'io': the write itself failed. */
  readonly reason: 'input' | 'exists' | 'foreign' | 'io';
  /** The message as a code + parameters (common/api/phrases.ts), for a UI in another language. */
  readonly phrase: Phrase | undefined;
  constructor(reason: OutputGuardError['reason'], message: string | Said) {
    super(typeof message === 'string' ? message : message.message);
    this.name = 'OutputGuardError';
    this.reason = reason;
    this.phrase = typeof message === 'string' ? undefined : message.phrase;
  }
}

/** `path` with symlinks resolved as far as it exists (the rest appended), so a link cannot hide an input. */
export async function physicalPath(path: string): Promise<string> {
  let head = resolve(path);
  const tail: string[] = [];
  for (;;) {
    try {
      return join(await realpath(head), ...tail.reverse());
    } catch {
      const parent = dirname(head);
      if (parent === head) return resolve(path);
      tail.push(basename(head));
      head = parent;
    }
  }
}

/** True when `child` lies strictly inside `parent`. */
export function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/** How `out` relates to `input`: the same path, inside it, above it (containing it), or apart. */
export function relation(out: string, input: string): 'same' | 'inside' | 'above' | 'apart' {
  if (out === input) return 'same';
  if (isInside(out, input)) return 'inside';
  if (isInside(input, out)) return 'above';
  return 'apart';
}

async function kindOf(path: string): Promise<'folder' | 'file' | 'other' | null> {
  try {
    const info = await lstat(path);
    return info.isDirectory() ? 'folder' : info.isFile() ? 'file' : 'other';
  } catch {
    return null;
  }
}

/** "a, b, c and 4 more" — what is in a folder, for messages. */
async function contentsOf(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => n !== FOLDER_MARKER).sort();
  } catch {
    return [];
  }
}

/** "a GGUF file", "an adapter folder". */
function withArticle(label: string): string {
  return `${/^[aeiou]/i.test(label) ? 'an' : 'a'} ${label}`;
}

function listNames(names: string[]): string {
  const shown = names.slice(0, 4).join(', ');
  return names.length > 4 ? `${shown} and ${names.length - 4} more` : shown;
}

async function readJson(path: string): Promise<Record<string, unknown> | null> {
  try {
    const value = JSON.parse(await readFile(path, 'utf8')) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The kind recorded for an existing output at `path`, or null when the studio did not write it (or it changed since). */
export async function recordedKind(path: string): Promise<OutputKind | null> {
  const what = await kindOf(path);
  if (what === 'folder') {
    const marker = await readJson(join(path, FOLDER_MARKER));
    return marker?.format === MARKER_FORMAT && typeof marker.kind === 'string' && marker.kind in OUTPUT_KINDS
      ? (marker.kind as OutputKind)
      : null;
  }
  if (what === 'file') {
    const markers = await readJson(join(dirname(path), FILE_MARKERS));
    const entry = (markers?.files as Record<string, { kind?: string; size?: number }> | undefined)?.[basename(path)];
    if (markers?.format !== MARKER_FORMAT || !entry || typeof entry.kind !== 'string' || !(entry.kind in OUTPUT_KINDS))
      return null;
    const size = (await lstat(path)).size;
    return entry.size === size ? (entry.kind as OutputKind) : null;
  }
  return null;
}

function describeInput(
  relationship: 'same' | 'inside' | 'above',
  out: string,
  input: GuardedInput,
  inputPath: string,
): Said {
  const code = relationship === 'same' ? 'guard.sameAsInput' : relationship === 'inside' ? 'guard.insideInput' : 'guard.holdsInput';
  return say(code, { out, role: input.role, input: inputPath });
}

/**
 * Refuses (with an OutputGuardError naming the path and what is there) any target that is, holds or sits in one
 * of the inputs, any existing target the studio did not write as this kind, and a previous output of this kind
 * unless `overwrite`. An empty folder, or nothing at all, is always fine.
 */
export async function guardOutput(target: OutputTarget): Promise<void> {
  const out = await physicalPath(target.out);
  const spec = OUTPUT_KINDS[target.kind];
  for (const input of target.inputs) {
    if (!input || !input.path) continue;
    const inputPath = await physicalPath(input.path);
    const rel = relation(out, inputPath);
    if (rel === 'apart' || (rel === 'inside' && input.container)) continue;
    throw new OutputGuardError('input', describeInput(rel, out, input, inputPath));
  }
  const existing = await kindOf(out);
  if (existing === null) return;
  if (spec.shape === 'folder' && existing === 'folder' && (await contentsOf(out)).length === 0) return;
  if (spec.shape === 'folder' && existing !== 'folder') {
    throw new OutputGuardError(
      'foreign',
      `${out} is a file, and ${withArticle(spec.label)} is a folder; choose a folder path`,
    );
  }
  if (spec.shape === 'file' && existing !== 'file') {
    const names = existing === 'folder' ? await contentsOf(out) : [];
    throw new OutputGuardError(
      'foreign',
      `${out} is a folder${names.length ? ` (holding ${listNames(names)})` : ''}, and ${withArticle(spec.label)} is a file; choose a file path`,
    );
  }
  const recorded = await recordedKind(out);
  if (recorded === target.kind) {
    if (target.overwrite) return;
    throw new OutputGuardError(
      'exists',
      `${out} already exists (${withArticle(spec.label)} written earlier); choose another ${spec.shape} or pass overwrite: true to replace it`,
    );
  }
  const names = existing === 'folder' ? listNames(await contentsOf(out)) : null;
  const holds = names !== null ? `it holds ${names}` : `it is a file of ${(await lstat(out)).size} bytes`;
  const whose = recorded
    ? `${withArticle(OUTPUT_KINDS[recorded].label)}, not ${withArticle(spec.label)}`
    : `not something LoRA Studio wrote`;
  throw new OutputGuardError('foreign', {
    message: `${out} already exists and is ${whose} (${holds}); overwrite only replaces a previous ${spec.label}: choose a new or empty ${spec.shape}, or move it away yourself`,
    phrase: say('guard.notOurs', { out, holds: names ?? basename(out), shape: spec.shape }).phrase,
  });
}

/** The marker that makes a finished folder recognisable as this kind of output (written before it is renamed into place). */
export async function markOutputFolder(dir: string, kind: OutputKind): Promise<void> {
  await writeFile(
    join(dir, FOLDER_MARKER),
    JSON.stringify({ format: MARKER_FORMAT, kind, writtenAt: new Date().toISOString() }, null, 2) + '\n',
  );
}

/** Records a file output (its kind and size) in the folder's marker file, replacing the marker atomically. */
export async function markOutputFile(path: string, kind: OutputKind): Promise<void> {
  const markerPath = join(dirname(path), FILE_MARKERS);
  const previous = await readJson(markerPath);
  const files =
    previous?.format === MARKER_FORMAT && previous.files && typeof previous.files === 'object'
      ? (previous.files as Record<string, unknown>)
      : {};
  files[basename(path)] = { kind, size: (await lstat(path)).size, writtenAt: new Date().toISOString() };
  const tmp = `${markerPath}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify({ format: MARKER_FORMAT, files }, null, 2) + '\n');
  await rename(tmp, markerPath);
}

const WRITE_FAILURES: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'the operation is not permitted there',
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  ENOENT: 'the folder does not exist or went away',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'a folder is in the way',
};

/**
 * A failed write of `target` (often on a temporary sibling name) said in terms of the target the user chose, e.g.
 * "cannot write /x/model.gguf: permission denied in /x (EACCES)"; any other error is returned unchanged.
 */
export function explainWriteError(err: unknown, target: string): unknown {
  const e = err as NodeJS.ErrnoException;
  if (!(err instanceof Error) || typeof e.code !== 'string' || !(e.code in WRITE_FAILURES) || typeof e.syscall !== 'string') return err;
  const folder = dirname(resolve(target));
  const explained = new OutputGuardError(
    'io',
    `cannot write ${resolve(target)}: ${WRITE_FAILURES[e.code]} in ${folder} (${e.code}${e.syscall ? ` on ${e.syscall}` : ''}); choose a folder you can write to${e.code === 'ENOSPC' || e.code === 'EDQUOT' ? ', or free some space' : ''}`,
  );
  explained.cause = err;
  return explained;
}
