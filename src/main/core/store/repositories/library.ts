// Base models, datasets, adapters and exports: the things a project's runs consume and produce.
// Basic insert / get / list for now; later issues add the queries their screens need.
import type { Db } from '../database.ts';
import { newId, now, parseJson, translateConstraint } from './util.ts';

const noProject = (id: string) => `no project with id "${id}"`;

// ── base models ───────────────────────────────────────────────────────────────────────────────────
export interface BaseModelRecord {
  id: string;
  source: string;
  sourceKind: 'hub' | 'local';
  localPath: string;
  revision: string | null;
  architecture: string;
  parameterCount: number | null;
  sizeBytes: number | null;
  config: Record<string, unknown>;
  createdAt: string;
}
export type NewBaseModel = Omit<BaseModelRecord, 'id' | 'createdAt' | 'config' | 'revision' | 'parameterCount' | 'sizeBytes'> &
  Partial<Pick<BaseModelRecord, 'config' | 'revision' | 'parameterCount' | 'sizeBytes'>>;

interface BaseModelRow {
  id: string; source: string; source_kind: 'hub' | 'local'; local_path: string; revision: string | null;
  architecture: string; parameter_count: number | null; size_bytes: number | null; config_json: string; created_at: string;
}
const toBaseModel = (r: BaseModelRow): BaseModelRecord => ({
  id: r.id, source: r.source, sourceKind: r.source_kind, localPath: r.local_path, revision: r.revision,
  architecture: r.architecture, parameterCount: r.parameter_count, sizeBytes: r.size_bytes,
  config: parseJson(r.config_json, {}), createdAt: r.created_at,
});

export class BaseModelRepository {
  constructor(private readonly db: Db) {}
  insert(m: NewBaseModel): BaseModelRecord {
    const row: BaseModelRow = {
      id: newId(), source: m.source, source_kind: m.sourceKind, local_path: m.localPath, revision: m.revision ?? null,
      architecture: m.architecture, parameter_count: m.parameterCount ?? null, size_bytes: m.sizeBytes ?? null,
      config_json: JSON.stringify(m.config ?? {}), created_at: now(),
    };
    this.db.prepare(`INSERT INTO base_models VALUES (@id, @source, @source_kind, @local_path, @revision, @architecture,
      @parameter_count, @size_bytes, @config_json, @created_at)`).run(row);
    return toBaseModel(row);
  }
  get(id: string): BaseModelRecord | null {
    const r = this.db.prepare('SELECT * FROM base_models WHERE id = ?').get(id) as BaseModelRow | undefined;
    return r ? toBaseModel(r) : null;
  }
  list(): BaseModelRecord[] {
    return (this.db.prepare('SELECT * FROM base_models ORDER BY created_at DESC, rowid DESC').all() as BaseModelRow[]).map(toBaseModel);
  }
  delete(id: string): boolean {
    return this.db.prepare('DELETE FROM base_models WHERE id = ?').run(id).changes > 0;
  }
  /** The record of a folder already opened (or a Hub snapshot already pulled), if any. */
  findByPath(localPath: string): BaseModelRecord | null {
    const r = this.db.prepare('SELECT * FROM base_models WHERE local_path = ? ORDER BY created_at DESC, rowid DESC LIMIT 1').get(localPath) as BaseModelRow | undefined;
    return r ? toBaseModel(r) : null;
  }
}

// ── datasets ──────────────────────────────────────────────────────────────────────────────────────
export interface DatasetRecord {
  id: string;
  projectId: string;
  name: string;
  filePath: string;
  format: string;
  hash: string;
  rowCount: number;
  split: Record<string, unknown>;
  meta: Record<string, unknown>;
  createdAt: string;
}
export type NewDataset = Omit<DatasetRecord, 'id' | 'createdAt' | 'split' | 'meta'> & Partial<Pick<DatasetRecord, 'split' | 'meta'>>;

interface DatasetRow {
  id: string; project_id: string; name: string; file_path: string; format: string; hash: string; row_count: number;
  split: string; meta_json: string; created_at: string;
}
const toDataset = (r: DatasetRow): DatasetRecord => ({
  id: r.id, projectId: r.project_id, name: r.name, filePath: r.file_path, format: r.format, hash: r.hash,
  rowCount: r.row_count, split: parseJson(r.split, {}), meta: parseJson(r.meta_json, {}), createdAt: r.created_at,
});

export class DatasetRepository {
  constructor(private readonly db: Db) {}
  insert(d: NewDataset): DatasetRecord {
    const row: DatasetRow = {
      id: newId(), project_id: d.projectId, name: d.name, file_path: d.filePath, format: d.format, hash: d.hash,
      row_count: d.rowCount, split: JSON.stringify(d.split ?? {}), meta_json: JSON.stringify(d.meta ?? {}), created_at: now(),
    };
    translateConstraint(
      () => this.db.prepare(`INSERT INTO datasets VALUES (@id, @project_id, @name, @file_path, @format, @hash, @row_count,
        @split, @meta_json, @created_at)`).run(row),
      { foreignKey: noProject(d.projectId) },
    );
    return toDataset(row);
  }
  get(id: string): DatasetRecord | null {
    const r = this.db.prepare('SELECT * FROM datasets WHERE id = ?').get(id) as DatasetRow | undefined;
    return r ? toDataset(r) : null;
  }
  listByProject(projectId: string): DatasetRecord[] {
    return (this.db.prepare('SELECT * FROM datasets WHERE project_id = ? ORDER BY created_at DESC, rowid DESC').all(projectId) as DatasetRow[]).map(toDataset);
  }
  setSplit(id: string, split: Record<string, unknown>): DatasetRecord | null {
    this.db.prepare('UPDATE datasets SET split = ? WHERE id = ?').run(JSON.stringify(split), id);
    return this.get(id);
  }
  delete(id: string): boolean {
    return this.db.prepare('DELETE FROM datasets WHERE id = ?').run(id).changes > 0;
  }
}

// ── adapters ──────────────────────────────────────────────────────────────────────────────────────
export interface AdapterRecord {
  id: string;
  projectId: string;
  runId: string | null;
  baseModelId: string | null;
  name: string;
  path: string;
  rank: number;
  alpha: number;
  targetModules: string[];
  step: number | null;
  createdAt: string;
}
export type NewAdapter = Omit<AdapterRecord, 'id' | 'createdAt' | 'runId' | 'baseModelId' | 'step' | 'targetModules'> &
  Partial<Pick<AdapterRecord, 'runId' | 'baseModelId' | 'step' | 'targetModules' | 'createdAt'>>;

interface AdapterRow {
  id: string; project_id: string; run_id: string | null; base_model_id: string | null; name: string; path: string;
  rank: number; alpha: number; target_modules: string; step: number | null; created_at: string;
}
const toAdapter = (r: AdapterRow): AdapterRecord => ({
  id: r.id, projectId: r.project_id, runId: r.run_id, baseModelId: r.base_model_id, name: r.name, path: r.path,
  rank: r.rank, alpha: r.alpha, targetModules: parseJson(r.target_modules, []), step: r.step, createdAt: r.created_at,
});

export class AdapterRepository {
  constructor(private readonly db: Db) {}
  insert(a: NewAdapter): AdapterRecord {
    const row: AdapterRow = {
      id: newId(), project_id: a.projectId, run_id: a.runId ?? null, base_model_id: a.baseModelId ?? null, name: a.name,
      path: a.path, rank: a.rank, alpha: a.alpha, target_modules: JSON.stringify(a.targetModules ?? []), step: a.step ?? null,
      created_at: a.createdAt ?? now(),
    };
    translateConstraint(
      () => this.db.prepare(`INSERT INTO adapters VALUES (@id, @project_id, @run_id, @base_model_id, @name, @path, @rank,
        @alpha, @target_modules, @step, @created_at)`).run(row),
      { foreignKey: `no project "${a.projectId}" (or run / base model) to attach the adapter to` },
    );
    return toAdapter(row);
  }
  get(id: string): AdapterRecord | null {
    const r = this.db.prepare('SELECT * FROM adapters WHERE id = ?').get(id) as AdapterRow | undefined;
    return r ? toAdapter(r) : null;
  }
  listByProject(projectId: string): AdapterRecord[] {
    return (this.db.prepare('SELECT * FROM adapters WHERE project_id = ? ORDER BY created_at DESC, rowid DESC').all(projectId) as AdapterRow[]).map(toAdapter);
  }
  /** The adapter recorded for a run's final output, if any. */
  findByRun(runId: string): AdapterRecord | null {
    const r = this.db.prepare('SELECT * FROM adapters WHERE run_id = ? ORDER BY created_at DESC, rowid DESC LIMIT 1').get(runId) as AdapterRow | undefined;
    return r ? toAdapter(r) : null;
  }
  delete(id: string): boolean {
    return this.db.prepare('DELETE FROM adapters WHERE id = ?').run(id).changes > 0;
  }
}

// ── exports ───────────────────────────────────────────────────────────────────────────────────────
export interface ExportRecord {
  id: string;
  projectId: string;
  adapterId: string | null;
  kind: string;
  path: string;
  sizeBytes: number | null;
  meta: Record<string, unknown>;
  createdAt: string;
}
export type NewExport = Omit<ExportRecord, 'id' | 'createdAt' | 'adapterId' | 'sizeBytes' | 'meta'> &
  Partial<Pick<ExportRecord, 'adapterId' | 'sizeBytes' | 'meta'>>;

interface ExportRow {
  id: string; project_id: string; adapter_id: string | null; kind: string; path: string; size_bytes: number | null;
  meta_json: string; created_at: string;
}
const toExport = (r: ExportRow): ExportRecord => ({
  id: r.id, projectId: r.project_id, adapterId: r.adapter_id, kind: r.kind, path: r.path, sizeBytes: r.size_bytes,
  meta: parseJson(r.meta_json, {}), createdAt: r.created_at,
});

export class ExportRepository {
  constructor(private readonly db: Db) {}
  insert(e: NewExport): ExportRecord {
    const row: ExportRow = {
      id: newId(), project_id: e.projectId, adapter_id: e.adapterId ?? null, kind: e.kind, path: e.path,
      size_bytes: e.sizeBytes ?? null, meta_json: JSON.stringify(e.meta ?? {}), created_at: now(),
    };
    translateConstraint(
      () => this.db.prepare(`INSERT INTO exports VALUES (@id, @project_id, @adapter_id, @kind, @path, @size_bytes,
        @meta_json, @created_at)`).run(row),
      { foreignKey: `no project "${e.projectId}" (or adapter) for this export` },
    );
    return toExport(row);
  }
  listByProject(projectId: string): ExportRecord[] {
    return (this.db.prepare('SELECT * FROM exports WHERE project_id = ? ORDER BY created_at DESC, rowid DESC').all(projectId) as ExportRow[]).map(toExport);
  }
  get(id: string): ExportRecord | null {
    const r = this.db.prepare('SELECT * FROM exports WHERE id = ?').get(id) as ExportRow | undefined;
    return r ? toExport(r) : null;
  }
  /** Records what an export's job reported (its size, its job, its outcome in meta). */
  update(id: string, patch: { sizeBytes?: number | null; meta?: Record<string, unknown> }): ExportRecord | null {
    const current = this.get(id);
    if (!current) return null;
    this.db.prepare('UPDATE exports SET size_bytes = ?, meta_json = ? WHERE id = ?').run(
      patch.sizeBytes !== undefined ? patch.sizeBytes : current.sizeBytes,
      JSON.stringify(patch.meta ?? current.meta),
      id,
    );
    return this.get(id);
  }
}
