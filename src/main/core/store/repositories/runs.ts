// Runs (one fine-tune: its full config and provenance) and their per-step metrics.
import type { Db } from '../database.ts';
import type { JobStatus } from '../../../../common/api/jobs.ts';
import { newId, now, parseJson, translateConstraint } from './util.ts';

export type RunStatus = JobStatus;

export interface RunRecord {
  id: string;
  projectId: string;
  name: string;
  baseModelId: string | null;
  datasetId: string | null;
  jobId: string | null;
  config: unknown; // the full run config, exactly as started
  status: RunStatus;
  startedAt: string | null;
  endedAt: string | null;
  error: string | null;
  seed: number;
  appVersion: string;
  datasetHash: string | null;
  modelRevision: string | null;
  createdAt: string;
}
export interface NewRun {
  projectId: string;
  name: string;
  config: unknown;
  seed: number;
  appVersion: string;
  baseModelId?: string | null;
  datasetId?: string | null;
  jobId?: string | null;
  datasetHash?: string | null;
  modelRevision?: string | null;
  status?: RunStatus;
}

interface RunRow {
  id: string; project_id: string; name: string; base_model_id: string | null; dataset_id: string | null; job_id: string | null;
  config_json: string; status: RunStatus; started_at: string | null; ended_at: string | null; error: string | null; seed: number;
  app_version: string; dataset_hash: string | null; model_revision: string | null; created_at: string;
}
const toRun = (r: RunRow): RunRecord => ({
  id: r.id, projectId: r.project_id, name: r.name, baseModelId: r.base_model_id, datasetId: r.dataset_id, jobId: r.job_id,
  config: parseJson(r.config_json, null), status: r.status, startedAt: r.started_at, endedAt: r.ended_at, error: r.error,
  seed: r.seed, appVersion: r.app_version, datasetHash: r.dataset_hash, modelRevision: r.model_revision, createdAt: r.created_at,
});

export interface RunMetric {
  runId: string;
  split: string;
  step: number;
  values: Record<string, number>;
  at: string;
}

export class RunRepository {
  constructor(private readonly db: Db) {}

  insert(n: NewRun): RunRecord {
    const row: RunRow = {
      id: newId(), project_id: n.projectId, name: n.name, base_model_id: n.baseModelId ?? null, dataset_id: n.datasetId ?? null,
      job_id: n.jobId ?? null, config_json: JSON.stringify(n.config), status: n.status ?? 'queued', started_at: null,
      ended_at: null, error: null, seed: n.seed, app_version: n.appVersion, dataset_hash: n.datasetHash ?? null,
      model_revision: n.modelRevision ?? null, created_at: now(),
    };
    translateConstraint(
      () => this.db.prepare(`INSERT INTO runs VALUES (@id, @project_id, @name, @base_model_id, @dataset_id, @job_id, @config_json,
        @status, @started_at, @ended_at, @error, @seed, @app_version, @dataset_hash, @model_revision, @created_at)`).run(row),
      { foreignKey: `no project "${n.projectId}" (or base model / dataset / job) for this run` },
    );
    return toRun(row);
  }

  get(id: string): RunRecord | null {
    const r = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
    return r ? toRun(r) : null;
  }

  listByProject(projectId: string): RunRecord[] {
    return (this.db.prepare('SELECT * FROM runs WHERE project_id = ? ORDER BY created_at DESC, rowid DESC').all(projectId) as RunRow[]).map(toRun);
  }

  setStatus(id: string, patch: { status: RunStatus; startedAt?: string; endedAt?: string; error?: string | null; jobId?: string }): RunRecord | null {
    this.db
      .prepare(`UPDATE runs SET status = @status, started_at = COALESCE(@startedAt, started_at), ended_at = COALESCE(@endedAt, ended_at),
        error = COALESCE(@error, error), job_id = COALESCE(@jobId, job_id) WHERE id = @id`)
      .run({ id, status: patch.status, startedAt: patch.startedAt ?? null, endedAt: patch.endedAt ?? null, error: patch.error ?? null, jobId: patch.jobId ?? null });
    return this.get(id);
  }

  /**
   * Claims a stopped (failed or cancelled) run for a resume in one statement: true for exactly one of several
   * callers racing on it (two CLIs, or a CLI and the UI, share the data dir); the job link is cleared so the
   * old job's end cannot be read back as the run's status before the new job is linked.
   */
  claimForResume(id: string): boolean {
    return this.db.prepare(`UPDATE runs SET status = 'queued', job_id = NULL WHERE id = ? AND status IN ('failed', 'cancelled')`).run(id).changes === 1;
  }

  /** A resumed run is running again: its previous end time and error no longer describe it. */
  reopen(id: string): void {
    this.db.prepare('UPDATE runs SET ended_at = NULL, error = NULL WHERE id = ?').run(id);
  }

  rename(id: string, name: string): RunRecord | null {
    this.db.prepare('UPDATE runs SET name = ? WHERE id = ?').run(name, id);
    return this.get(id);
  }

  /** Forgets a run; its metrics go with it, evaluations and adapters keep their figures without the link. */
  delete(id: string): boolean {
    return this.db.prepare('DELETE FROM runs WHERE id = ?').run(id).changes > 0;
  }

  /** Records what the run actually trained on, once the worker has read it. */
  setProvenance(id: string, patch: { datasetHash?: string | null; modelRevision?: string | null }): void {
    this.db
      .prepare('UPDATE runs SET dataset_hash = COALESCE(@datasetHash, dataset_hash), model_revision = COALESCE(@modelRevision, model_revision) WHERE id = @id')
      .run({ id, datasetHash: patch.datasetHash ?? null, modelRevision: patch.modelRevision ?? null });
  }

  /** Records (or replaces, if a resumed run repeats a step) one step's metrics. */
  addMetric(runId: string, step: number, values: Record<string, number>, split = 'train'): void {
    this.db
      .prepare('INSERT OR REPLACE INTO run_metrics (run_id, split, step, values_json, at) VALUES (?, ?, ?, ?, ?)')
      .run(runId, split, step, JSON.stringify(values), now());
  }

  /** The newest training point that logged a loss (what a list shows while the run trains). */
  lastTrainLoss(runId: string): number | null {
    const row = this.db
      .prepare("SELECT json_extract(values_json, '$.loss') AS loss FROM run_metrics WHERE run_id = ? AND split = 'train' AND json_extract(values_json, '$.loss') IS NOT NULL ORDER BY step DESC LIMIT 1")
      .get(runId) as { loss: number } | undefined;
    return row ? row.loss : null;
  }

  metrics(runId: string, split?: string): RunMetric[] {
    const rows = (split === undefined
      ? this.db.prepare('SELECT * FROM run_metrics WHERE run_id = ? ORDER BY split, step').all(runId)
      : this.db.prepare('SELECT * FROM run_metrics WHERE run_id = ? AND split = ? ORDER BY step').all(runId, split)) as {
      run_id: string; split: string; step: number; values_json: string; at: string;
    }[];
    return rows.map((r) => ({ runId: r.run_id, split: r.split, step: r.step, values: parseJson(r.values_json, {}), at: r.at }));
  }
}
