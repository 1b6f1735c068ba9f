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

export class DatasetReadError extends Error {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
    this.name = 'DatasetReadError';
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
      throw new DatasetReadError(
        `${basename(path)}: unknown dataset file type "${ext || '(none)'}" (expected .jsonl, .json, .csv, .tsv or .parquet)`,
        path,
      );
  }
}

/** Reads a file's rows; problems (bad lines) are yielded in order with the rows. */
export async function* readRows(path: string, options: ReadOptions = {}): AsyncGenerator<ReadItem> {
  const format = options.format ?? formatFromPath(path);
  let stat;
  try {
    stat = await fsp.stat(path);
  } catch (err) {
    throw new DatasetReadError(`cannot open ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, path);
  }
  if (!stat.isFile()) throw new DatasetReadError(`${path} is not a file`, path);
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

/** Line-oriented reading that decodes UTF-8 across chunk boundaries and tracks bytes for progress. */
async function* readLines(path: string, size: number, options: ReadOptions): AsyncGenerator<{ text: string; line: number }> {
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  const decoder = new TextDecoder('utf-8');
  let pending = '';
  let line = 0;
  let bytes = 0;
  let first = true;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    pending += decoder.decode(chunk, { stream: true });
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
  pending += decoder.decode();
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
      yield { ok: false, problem: { file, line, row, message: `malformed JSON: ${(err as Error).message}`, expected: 'one JSON object per line' } };
      row++;
      continue;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      yield { ok: false, problem: { file, line, row, message: `the line holds ${describe(value)}`, expected: 'a JSON object' } };
    } else yield { ok: true, row: { row, line, fields: value as Record<string, unknown> } };
    row++;
  }
}

async function* readJsonArray(path: string, size: number, options: ReadOptions): AsyncGenerator<ReadItem> {
  const file = basename(path);
  let text = await fsp.readFile(path, 'utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    // A .json file that is really JSON Lines is common: say so rather than just "bad JSON".
    const firstLine = text.split('\n', 1)[0].trim();
    const looksJsonl = firstLine.startsWith('{') && text.trim().split('\n').length > 1 && isJsonObject(firstLine);
    throw new DatasetReadError(
      `${file} is not valid JSON: ${(err as Error).message}${looksJsonl ? ' (it looks like JSON Lines: rename it to .jsonl)' : ''}`,
      path,
    );
  }
  let items: unknown[];
  if (Array.isArray(value)) items = value;
  else if (value !== null && typeof value === 'object') {
    // {"data": [...]} / {"train": [...]}: a single array under one key.
    const arrays = Object.entries(value).filter(([, v]) => Array.isArray(v));
    if (arrays.length !== 1) {
      throw new DatasetReadError(`${file}: expected a JSON array of rows (or an object with exactly one array of rows), found an object with keys ${Object.keys(value).join(', ')}`, path);
    }
    items = arrays[0][1] as unknown[];
  } else throw new DatasetReadError(`${file}: expected a JSON array of rows, found ${describe(value)}`, path);
  for (let row = 0; row < items.length; row++) {
    const item = items[row];
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      yield { ok: false, problem: { file, row, message: `element ${row} is ${describe(item)}`, expected: 'a JSON object' } };
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
        if (name === '') throw new DatasetReadError(`${file}: line ${startLine}: the header has an empty column name`, path);
        if (seen.has(name)) throw new DatasetReadError(`${file}: line ${startLine}: the header names column "${name}" twice`, path);
        seen.add(name);
      }
      return;
    }
    if (recordProblem) {
      yield { ok: false, problem: { file, line: startLine, row, message: recordProblem, expected: 'a quoted field to end right before a separator or the line end' } };
    } else if (record.length !== header.length) {
      yield {
        ok: false,
        problem: { file, line: startLine, row, message: `the row has ${record.length} fields`, expected: `${header.length} fields (${header.join(', ')})` },
      };
    } else {
      const obj: Record<string, unknown> = {};
      header.forEach((name, i) => (obj[name] = record[i]));
      yield { ok: true, row: { row, line: startLine, fields: obj } };
    }
    row++;
  }

  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  const decoder = new TextDecoder('utf-8');
  let bytes = 0;
  let first = true;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    let text = decoder.decode(chunk, { stream: true });
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
  if (state === QUOTED) {
    yield { ok: false, problem: { file, line: recordLine, row, message: 'a quoted field is never closed', expected: 'a closing " before the end of the file' } };
    return;
  }
  if (field.endsWith('\r')) field = field.slice(0, -1);
  if (field !== '' || fields.length > 0 || state === QUOTE_SEEN) yield* endRecord();
  if (header === null) throw new DatasetReadError(`${file} is empty: expected a header line with column names`, path);
}

async function* readParquet(path: string, size: number, options: ReadOptions): AsyncGenerator<ReadItem> {
  const file = await asyncBufferFromFile(path);
  let metadata;
  try {
    metadata = await parquetMetadataAsync(file);
  } catch (err) {
    throw new DatasetReadError(`${basename(path)} is not a readable Parquet file: ${(err as Error).message}`, path);
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
      throw new DatasetReadError(`${basename(path)}: cannot read rows ${groupStart}–${groupStart + groupRows - 1}: ${(err as Error).message}`, path);
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

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value === '' ? 'an empty string' : 'a string';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}
