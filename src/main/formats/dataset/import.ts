/**
 * Importing a dataset file: read rows, detect (or apply) the column mapping, normalise each row into an
 * Example, and report every bad row with file, line/row, field and what was expected. The caller picks
 * 'skip' (bad rows left out, all reported) or 'stop' (the first problem throws). Also computes the
 * exact-duplicate report and a content hash of the normalised examples (what training actually sees).
 */
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { say, type Phrase } from '../../../common/api/phrases.ts';
import type { Example } from './types.ts';
import { DatasetProblemError, type DatasetProblem } from './problems.ts';
import { formatFromPath, readRows, type FileFormat, type RawRow, type ReadProgress } from './read.ts';
import { detectFormat, DatasetFormatError, missingColumns, normalizeRow, type ColumnMapping } from './schema.ts';

export interface DatasetExample {
  row: number;
  line?: number;
  example: Example;
}

export interface DuplicateGroup {
  /** The first occurrence (kept). */
  first: { row: number; line?: number };
  /** Later rows with exactly the same content. */
  duplicates: Array<{ row: number; line?: number }>;
}

export interface DuplicateReport {
  /** Rows that repeat an earlier row exactly. */
  duplicateRows: number;
  /** Up to `maxGroups` groups, in file order. */
  groups: DuplicateGroup[];
}

export interface ImportOptions {
  /** Column mapping; detected from the first rows when absent. */
  mapping?: ColumnMapping;
  format?: FileFormat;
  /** 'skip' (default): leave bad rows out and report them all. 'stop': throw DatasetProblemError at the first. */
  onProblem?: 'skip' | 'stop';
  /** Leave exact duplicates out (they are reported either way). Default false. */
  dropDuplicates?: boolean;
  /** Read only this many rows (previews). */
  limit?: number;
  /** Keep at most this many problem records (all are counted). Default 1000. */
  maxProblems?: number;
  onProgress?: (progress: ReadProgress) => void;
}

export interface ImportedDataset {
  path: string;
  file: string;
  fileFormat: FileFormat;
  mapping: ColumnMapping;
  /** Why this mapping (detected) or "given". */
  mappingReason: string;
  mappingReasonPhrase: Phrase;
  examples: DatasetExample[];
  rowsRead: number;
  problems: DatasetProblem[];
  problemCount: number;
  /** Rows left out: a row with two problems counts once here and twice in problemCount. */
  badRows: number;
  duplicates: DuplicateReport;
  /** sha256 of the normalised examples in order ("sha256:<hex>"). Same content → same hash, whatever the file format. */
  contentHash: string;
}

const DETECT_ROWS = 100;

export async function importDataset(path: string, options: ImportOptions = {}): Promise<ImportedDataset> {
  const file = basename(path);
  const fileFormat = options.format ?? formatFromPath(path);
  const onProblem = options.onProblem ?? 'skip';
  const maxProblems = options.maxProblems ?? 1000;
  const problems: DatasetProblem[] = [];
  let problemCount = 0;
  let badRows = 0;
  const report = (p: DatasetProblem) => {
    if (onProblem === 'stop') throw new DatasetProblemError(p);
    problemCount++;
    if (problems.length < maxProblems) problems.push(p);
  };

  let mapping = options.mapping;
  let { message: mappingReason, phrase: mappingReasonPhrase } = say('mapping.given');
  const pending: RawRow[] = [];
  const examples: DatasetExample[] = [];
  const dedup = new DuplicateTracker();
  const hash = createHash('sha256');
  let rowsRead = 0;

  const accept = (raw: RawRow) => {
    const result = normalizeRow(raw, mapping!, file);
    if (!result.ok) {
      badRows++;
      for (const p of result.problems) report(p);
      return;
    }
    const key = exampleKey(result.example);
    const duplicate = dedup.add(key, raw);
    if (duplicate && options.dropDuplicates) return;
    hash.update(key);
    hash.update('\n');
    examples.push({ row: raw.row, line: raw.line, example: result.example });
  };
  let settled = false;
  const settleMapping = () => {
    settled = true;
    if (mapping === undefined) {
      if (pending.length === 0) throw new DatasetFormatError(say('dataset.noReadableRows', { file }));
      // named by the file: the message is shown where several files may be in play (train and eval)
      const detection = detectFormat(pending, file);
      mapping = detection.mapping;
      mappingReason = detection.reason;
      mappingReasonPhrase = detection.reasonPhrase;
    } else if (pending.length > 0) {
      const columns = new Set(pending.flatMap((r) => Object.keys(r.fields)));
      const missing = missingColumns(mapping, columns);
      if (missing.length > 0) {
        throw new DatasetFormatError(say('dataset.mappingMissing', { file, missing: missing.map((c) => `"${c}"`).join(', '), has: [...columns].join(', ') }));
      }
    }
    for (const raw of pending) accept(raw);
    pending.length = 0;
  };

  for await (const item of readRows(path, { format: fileFormat, limit: options.limit, onProgress: options.onProgress })) {
    if (!item.ok) {
      // 'stop' names the first bad row in file order: the rows held back for detection, read before this one, go first
      if (onProblem === 'stop' && !settled && pending.length > 0) settleMapping();
      rowsRead++;
      badRows++;
      report(item.problem);
      continue;
    }
    rowsRead++;
    if (!settled) {
      pending.push(item.row);
      if (pending.length >= DETECT_ROWS) settleMapping();
    } else accept(item.row);
  }
  if (!settled) settleMapping();
  // Rows held back for detection report after later read errors: put problems back in file order.
  problems.sort((a, b) => a.row - b.row);

  return {
    path,
    file,
    fileFormat,
    mapping: mapping!,
    mappingReason,
    mappingReasonPhrase,
    examples,
    rowsRead,
    problems,
    problemCount,
    badRows,
    duplicates: dedup.report(),
    contentHash: `sha256:${hash.digest('hex')}`,
  };
}

/** Canonical text of an example's trainable content (column extras left out), for dedup and hashing. */
export function exampleKey(example: Example): string {
  switch (example.kind) {
    case 'text':
      return JSON.stringify(['text', example.text]);
    case 'completion':
      return JSON.stringify(['completion', example.prompt, example.completion]);
    case 'chat':
      return JSON.stringify(['chat', example.messages.map((m) => [m.role, m.content])]);
  }
}

class DuplicateTracker {
  private readonly firstByKey = new Map<string, number>();
  private readonly groups: DuplicateGroup[] = [];
  private readonly groupOf = new Map<string, DuplicateGroup>();
  private readonly rows: Array<{ row: number; line?: number }> = [];
  private duplicateRows = 0;

  constructor(private readonly maxGroups = 200) {}

  /** Records a row; true when it repeats an earlier one. */
  add(key: string, raw: RawRow): boolean {
    const where = raw.line === undefined ? { row: raw.row } : { row: raw.row, line: raw.line };
    const first = this.firstByKey.get(key);
    if (first === undefined) {
      this.firstByKey.set(key, this.rows.length);
      this.rows.push(where);
      return false;
    }
    this.duplicateRows++;
    let group = this.groupOf.get(key);
    if (!group && this.groups.length < this.maxGroups) {
      group = { first: this.rows[first], duplicates: [] };
      this.groups.push(group);
      this.groupOf.set(key, group);
    }
    group?.duplicates.push(where);
    return true;
  }

  report(): DuplicateReport {
    return { duplicateRows: this.duplicateRows, groups: this.groups };
  }
}
