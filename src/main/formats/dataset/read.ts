/**
 * Row readers for JSONL, JSON (array), CSV/TSV and Parquet. Each yields raw rows (column → value) with
 * where they came from, or a problem for a row that cannot be read; reading goes on after a bad row so the
 * caller sees every problem and decides. JSONL, CSV/TSV and Parquet stream (constant memory per row /
 * row group); a JSON array is parsed whole, as JSON has no row boundaries.
 */
import { createReadStream, promises as fsp } from 'node:fs';
import { basename, extname } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { say, VALUE_KINDS, type Phrase, type Said, type ValueKind } from '../../../common/api/phrases.ts';
import { jsonSyntax } from './json-syntax.ts';
import type { DatasetProblem } from './problems.ts';

export type FileFormat = 'jsonl' | 'json' | 'csv' | 'tsv' | 'parquet';

export interface RawRow {
  /** 0-based index among the file's data rows (header excluded). */
  row: number;
  /** 1-based line where the row starts (text formats); absent for Parquet and JSON arrays. */
  line?: number;
  fields: Record<string, unknown>;
}

export type ReadItem = { ok: true; row: RawRow } | { ok: false; problem: DatasetProblem };

export interface ReadProgress {
  file: string;
  bytesRead: number;
  totalBytes: number;
  rowsRead: number;
}

export interface ReadOptions {
  format?: FileFormat;
  onProgress?: (progress: ReadProgress) => void;
  /** Stop after this many rows (previews). */
  limit?: number;
}

/** A file that cannot be read as a dataset. `phrase`: its sentence for a UI in another language (the worker sends it). */
export class DatasetReadError extends Error {
  readonly phrase: Phrase | undefined;
  constructor(
    message: string | Said,
    readonly file: string,
  ) {
    super(typeof message === 'string' ? message : message.message);
    this.name = 'DatasetReadError';
    this.phrase = typeof message === 'string' ? undefined : message.phrase;
  }
}

/** The format from the file extension (.jsonl/.ndjson, .json, .csv, .tsv/.tab, .parquet). */
export function formatFromPath(path: string): FileFormat {
  const ext = extname(path).toLowerCase();
  switch (ext) {
    case '.jsonl':
    case '.ndjson':
      return 'jsonl';
    case '.json':
      return 'json';
    case '.csv':
      return 'csv';
    case '.tsv':
    case '.tab':
      return 'tsv';
    case '.parquet':
    case '.pq':
      return 'parquet';
    default:
      throw new DatasetReadError(say('dataset.unknownType', { file: basename(path), ext }), path);
  }
}

/** Reads a file's rows; problems (bad lines) are yielded in order with the rows. */
export async function* readRows(path: string, options: ReadOptions = {}): AsyncGenerator<ReadItem> {
  const format = options.format ?? formatFromPath(path);
  let stat;
  try {
    stat = await fsp.stat(path);
  } catch (err) {
    throw new DatasetReadError(say('dataset.cannotOpen', { path, code: (err as NodeJS.ErrnoException).code ?? (err as Error).message }), path);
  }
  if (!stat.isFile()) throw new DatasetReadError(say('dataset.notAFile', { path }), path);
  if (format !== 'parquet') await checkTextEncoding(path);
  const limit = options.limit ?? Infinity;
  let rows = 0;
  const source =
    format === 'jsonl'
      ? readJsonl(path, stat.size, options)
      : format === 'json'
        ? readJsonArray(path, stat.size, options)
        : format === 'parquet'
          ? readParquet(path, stat.size, options)
          : readDelimited(path, stat.size, format === 'tsv' ? '\t' : ',', options);
  for await (const item of source) {
    if (rows >= limit) return;
    if (item.ok) rows++;
    yield item;
  }
}

/** Rows nested deeper than this are refused (a row is a flat record; deeper nesting is a broken or hostile line). */
export const MAX_NESTING = 64;

/** A text dataset must be UTF-8: a UTF-16/32 byte-order mark is named (the usual "Unicode" export of Windows tools). */
async function checkTextEncoding(path: string): Promise<void> {
  const handle = await fsp.open(path, 'r');
  const head = Buffer.alloc(4);
  try {
    await handle.read(head, 0, 4, 0);
  } finally {
    await handle.close();
  }
  const bom =
    head[0] === 0xff && head[1] === 0xfe && head[2] === 0 && head[3] === 0
      ? 'UTF-32 (little-endian)'
      : head[0] === 0 && head[1] === 0 && head[2] === 0xfe && head[3] === 0xff
        ? 'UTF-32 (big-endian)'
        : head[0] === 0xff && head[1] === 0xfe
          ? 'UTF-16 (little-endian)'
          : head[0] === 0xfe && head[1] === 0xff
            ? 'UTF-16 (big-endian)'
            : null;
  if (bom) throw new DatasetReadError(say('dataset.bom', { file: basename(path), encoding: bom }), path);
}

/** Byte offset of the first byte that does not belong to valid UTF-8 in `bytes` (from `from`), or -1. */
export function firstInvalidUtf8(bytes: Uint8Array, from = 0): number {
  let i = from;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    const need = b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    if (need < 0 || i + need >= bytes.length) return i; // not a lead byte, or the sequence is cut off by the end
    const b1 = bytes[i + 1];
    // The second byte's range excludes overlong forms and surrogates (Unicode's well-formed byte sequences table).
    const lo = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80;
    const hi = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf;
    if (b1 < lo || b1 > hi) return i;
    for (let k = 2; k <= need; k++) if ((bytes[i + k] & 0xc0) !== 0x80) return i;
    i += need + 1;
  }
  return -1;
}

/** Where a file stops being UTF-8: byte offset, 1-based line, and the byte, for the message that refuses it. */
async function invalidUtf8Error(path: string): Promise<DatasetReadError> {
  const bytes = await fsp.readFile(path);
  const at = firstInvalidUtf8(bytes);
  if (at < 0) return new DatasetReadError(say('dataset.notUtf8', { file: basename(path) }), path);
  let line = 1;
  for (let i = 0; i < at; i++) if (bytes[i] === 0x0a) line++;
  const byte = bytes[at].toString(16).toUpperCase().padStart(2, '0');
  return new DatasetReadError(say('dataset.notUtf8At', { file: basename(path), line, byte: at, hex: byte }), path);
}

/** Decodes UTF-8 strictly: a byte sequence that is not UTF-8 is an error naming file, line and byte (never U+FFFD). */
function strictDecoder(path: string): (chunk?: Buffer) => Promise<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  return async (chunk) => {
    try {
      return chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
    } catch {
      throw await invalidUtf8Error(path);
    }
  };
}

/** How deeply a parsed value nests arrays/objects, counted without recursion and stopping past `limit`. */
export function nestingDepth(value: unknown, limit = MAX_NESTING): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > deepest) deepest = depth + 1;
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** Line-oriented reading that decodes UTF-8 across chunk boundaries and tracks bytes for progress. */
async function* readLines(path: string, size: number, options: ReadOptions): AsyncGenerator<{ text: string; line: number }> {
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  const decode = strictDecoder(path);
  let pending = '';
  let line = 0;
  let bytes = 0;
  let first = true;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    pending += await decode(chunk);
    if (first && pending.charCodeAt(0) === 0xfeff) pending = pending.slice(1);
    first = false;
    let start = 0;
    let nl: number;
    while ((nl = pending.indexOf('\n', start)) >= 0) {
      line++;
      yield { text: pending.slice(start, nl > start && pending[nl - 1] === '\r' ? nl - 1 : nl), line };
      start = nl + 1;
    }
    pending = pending.slice(start);
    options.onProgress?.({ file: path, bytesRead: bytes, totalBytes: size, rowsRead: line });
  }
  pending += await decode();
  if (pending.length > 0) {
    line++;
    yield { text: pending.endsWith('\r') ? pending.slice(0, -1) : pending, line };
  }
}

async function* readJsonl(path: string, size: number, options: ReadOptions): AsyncGenerator<ReadItem> {
  const file = basename(path);
  let row = 0;
  for await (const { text, line } of readLines(path, size, options)) {
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      yield { ok: false, problem: { file, line, row, ...said(malformedJson(err, text), say('expected.jsonPerLine')) } };
      row++;
      continue;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      yield { ok: false, problem: { file, line, row, ...said(say('problem.lineHolds', { kind: valueKind(value) }), say('expected.jsonObject')) } };
    } else if (nestingDepth(value) > MAX_NESTING) {
      yield { ok: false, problem: { file, line, row, ...said(say('problem.lineNestsDeep', { levels: MAX_NESTING }), say('expected.flatRecordChat')) } };
    } else yield { ok: true, row: { row, line, fields: value as Record<string, unknown> } };
    row++;
  }
}

/** Where a 1-based character offset of a whole file falls: its line and the character within that line, from 1. */
function lineAndCharacter(text: string, offset: number): { line: number; character: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < Math.min(offset - 1, text.length); i++)
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      start = i + 1;
    }
  return { line, character: offset - start };
}

/** A line JSON.parse refused: the reason and column when V8's message is one json-syntax.ts knows, else its words. */
function malformedJson(err: unknown, text: string): Said {
  const syntax = jsonSyntax(err, text);
  if (syntax === null) return say('problem.malformedJson', { detail: (err as Error).message });
  return syntax.character === null
    ? say('problem.jsonSyntaxNoColumn', { reason: syntax.reason })
    : say('problem.jsonSyntax', { reason: syntax.reason, character: syntax.character });
}

async function* readJsonArray(path: string, size: number, options: ReadOptions): AsyncGenerator<ReadItem> {
  const file = basename(path);
  const decode = strictDecoder(path);
  let text = (await decode(await fsp.readFile(path))) + (await decode());
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    // A .json file that is really JSON Lines is common: say so rather than just "bad JSON".
    const firstLine = text.split('\n', 1)[0].trim();
    const looksJsonl = firstLine.startsWith('{') && text.trim().split('\n').length > 1 && isJsonObject(firstLine);
    if (looksJsonl) throw new DatasetReadError(say('dataset.jsonLooksJsonl', { file }), path);
    const syntax = jsonSyntax(err, text);
    if (syntax === null || syntax.character === null)
      throw new DatasetReadError(say('dataset.jsonInvalidDetail', { file, detail: (err as Error).message }), path);
    throw new DatasetReadError(say('dataset.jsonInvalid', { file, reason: syntax.reason, ...lineAndCharacter(text, syntax.character) }), path);
  }
  let items: unknown[];
  if (Array.isArray(value)) items = value;
  else if (value !== null && typeof value === 'object') {
    // {"data": [...]} / {"train": [...]}: a single array under one key.
    const arrays = Object.entries(value).filter(([, v]) => Array.isArray(v));
    if (arrays.length !== 1) {
      throw new DatasetReadError(say('dataset.jsonArrays', { file, keys: Object.keys(value).join(', ') }), path);
    }
    items = arrays[0][1] as unknown[];
  } else throw new DatasetReadError(say('dataset.jsonNotArray', { file, kind: valueKind(value) }), path);
  for (let row = 0; row < items.length; row++) {
    const item = items[row];
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      yield { ok: false, problem: { file, row, ...said(say('problem.elementIs', { element: row, kind: valueKind(item) }), say('expected.jsonObject')) } };
    } else if (nestingDepth(item) > MAX_NESTING) {
      yield { ok: false, problem: { file, row, ...said(say('problem.elementNestsDeep', { element: row, levels: MAX_NESTING }), say('expected.flatRecord')) } };
    } else yield { ok: true, row: { row, fields: item as Record<string, unknown> } };
    if (row % 1000 === 999 || row === items.length - 1) {
      options.onProgress?.({ file: path, bytesRead: Math.round((size * (row + 1)) / items.length), totalBytes: size, rowsRead: row + 1 });
    }
  }
}

/**
 * RFC 4180 records: fields quoted with ", "" inside quotes is a quote, separators and newlines inside
 * quotes belong to the field, CRLF or LF line ends. The first record is the header. A record with the
 * wrong number of fields is a problem, not a guess. A state machine, so chunk boundaries fall anywhere.
 */
async function* readDelimited(path: string, size: number, sep: string, options: ReadOptions): AsyncGenerator<ReadItem> {
  const file = basename(path);
  const START = 0, UNQUOTED = 1, QUOTED = 2, QUOTE_SEEN = 3;
  let state = START;
  let header: string[] | null = null;
  let row = 0;
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let problem: string | null = null;

  function* endRecord(): Generator<ReadItem> {
    fields.push(field);
    const record = fields;
    const startLine = recordLine;
    const recordProblem = problem;
    fields = [];
    field = '';
    problem = null;
    state = START;
    recordLine = line + 1;
    if (record.length === 1 && record[0] === '' && !recordProblem) return; // blank line
    if (header === null) {
      header = record.map((h) => h.trim());
      const seen = new Set<string>();
      for (const name of header) {
        if (name === '') throw new DatasetReadError(say('dataset.headerEmptyName', { file, line: startLine }), path);
        if (seen.has(name)) throw new DatasetReadError(say('dataset.headerTwice', { file, line: startLine, name }), path);
        seen.add(name);
      }
      return;
    }
    if (recordProblem) {
      yield { ok: false, problem: { file, line: startLine, row, message: recordProblem, ...expectation(say('expected.quotedFieldEnd')) } };
    } else if (record.length !== header.length) {
      yield {
        ok: false,
        problem: { file, line: startLine, row, ...said(say('problem.fieldCount', { count: record.length }), say('expected.fieldCount', { count: header.length, names: header.join(', ') })) },
      };
    } else {
      const obj: Record<string, unknown> = {};
      header.forEach((name, i) => (obj[name] = record[i]));
      yield { ok: true, row: { row, line: startLine, fields: obj } };
    }
    row++;
  }

  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  const decode = strictDecoder(path);
  let bytes = 0;
  let first = true;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    let text = await decode(chunk);
    if (first && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    first = false;
    for (let i = 0; i < text.length; i++) {
      const ch = text[i];
      switch (state) {
        case QUOTED:
          if (ch === '"') state = QUOTE_SEEN;
          else {
            if (ch === '\n') line++;
            field += ch;
          }
          break;
        case QUOTE_SEEN:
          if (ch === '"') {
            field += '"';
            state = QUOTED;
          } else if (ch === sep) {
            fields.push(field);
            field = '';
            state = START;
          } else if (ch === '\n') {
            yield* endRecord();
            line++;
          } else if (ch !== '\r') {
            problem ??= `text after the closing quote of field ${fields.length + 1} ("${field.slice(0, 20)}"…)`;
            field += ch;
            state = UNQUOTED;
          }
          break;
        default:
          if (ch === sep) {
            fields.push(field);
            field = '';
            state = START;
          } else if (ch === '\n') {
            if (field.endsWith('\r')) field = field.slice(0, -1);
            yield* endRecord();
            line++;
          } else if (ch === '"' && state === START) state = QUOTED;
          else {
            field += ch;
            state = UNQUOTED;
          }
      }
    }
    options.onProgress?.({ file: path, bytesRead: bytes, totalBytes: size, rowsRead: row });
  }
  await decode(); // a UTF-8 sequence cut off by the end of the file is refused too
  if (state === QUOTED) {
    yield { ok: false, problem: { file, line: recordLine, row, ...said(say('problem.unclosedQuote'), say('expected.closingQuote')) } };
    return;
  }
  if (field.endsWith('\r')) field = field.slice(0, -1);
  if (field !== '' || fields.length > 0 || state === QUOTE_SEEN) yield* endRecord();
  if (header === null) throw new DatasetReadError(say('dataset.csvEmpty', { file }), path);
}

let parquetLeakGuard = false;
/**
 * hyparquet starts the reads of every column chunk of a row group at once; when a damaged chunk fails, the read
 * rejects (and we report it), but a sibling chunk's later failure can surface as an unhandled rejection, which
 * would crash the worker or the CLI with a stack trace. Those (and only those: their stack is inside hyparquet)
 * are dropped here; any other unhandled rejection is rethrown, exactly as Node would have treated it.
 */
function guardParquetLeaks(): void {
  if (parquetLeakGuard) return;
  parquetLeakGuard = true;
  process.on('unhandledRejection', (reason) => {
    if (reason instanceof Error && /[/\\]hyparquet[/\\]/.test(reason.stack ?? '')) return;
    // Anything else keeps the host's own treatment: another listener handles it, Electron only warns, Node throws.
    if (process.listenerCount('unhandledRejection') > 1) return;
    if (process.versions.electron) return void console.error('Unhandled rejection:', reason);
    throw reason;
  });
}

async function* readParquet(path: string, size: number, options: ReadOptions): AsyncGenerator<ReadItem> {
  guardParquetLeaks();
  const file = await asyncBufferFromFile(path);
  let metadata;
  try {
    metadata = await parquetMetadataAsync(file);
  } catch (err) {
    throw new DatasetReadError(say('dataset.parquetUnreadable', { file: basename(path), detail: (err as Error).message }), path);
  }
  const total = Number(metadata.num_rows);
  let row = 0;
  let groupStart = 0;
  // One row group at a time keeps memory bounded by the largest group.
  for (const group of metadata.row_groups) {
    const groupRows = Number(group.num_rows);
    let objects: Record<string, unknown>[];
    try {
      objects = (await parquetReadObjects({ file, metadata, compressors, rowStart: groupStart, rowEnd: groupStart + groupRows })) as Record<string, unknown>[];
    } catch (err) {
      throw new DatasetReadError(
        say('dataset.parquetRows', { file: basename(path), from: groupStart, to: groupStart + groupRows - 1, detail: (err as Error).message }),
        path,
      );
    }
    for (const obj of objects) {
      yield { ok: true, row: { row, fields: plainValues(obj) } };
      row++;
    }
    groupStart += groupRows;
    options.onProgress?.({ file: path, bytesRead: Math.round((size * groupStart) / Math.max(1, total)), totalBytes: size, rowsRead: row });
  }
}

/** Parquet integers may come back as BigInt: make them numbers (JSON-friendly) when they fit. */
function plainValues(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) out[k] = typeof v === 'bigint' && Number.isSafeInteger(Number(v)) ? Number(v) : v;
  return out;
}

function isJsonObject(text: string): boolean {
  try {
    const v = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  } catch {
    return false;
  }
}

/** A problem's message and expectation with their phrases, as DatasetProblem fields. */
function said(message: Said, expected: Said): Pick<DatasetProblem, 'message' | 'phrase' | 'expected' | 'expectedPhrase'> {
  return { message: message.message, phrase: message.phrase, ...expectation(expected) };
}
function expectation(expected: Said): Pick<DatasetProblem, 'expected' | 'expectedPhrase'> {
  return { expected: expected.message, expectedPhrase: expected.phrase };
}

export function describe(value: unknown): string {
  return VALUE_KINDS[valueKind(value)];
}

/** What kind of value a field holds, as a problem names it (VALUE_KINDS says it in English). */
export function valueKind(value: unknown): ValueKind {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'string') return value === '' ? 'emptyString' : 'string';
  return typeof value;
}
