// Evaluations of a run / adapter on a dataset, with per-example results.
import type { Db } from '../database.ts';
import type { JobStatus } from '../../../../common/api/jobs.ts';
import { newId, now, parseJson, translateConstraint } from './util.ts';

export interface EvaluationRecord {
  id: string;
  projectId: string;
  runId: string | null;
  adapterId: string | null;
  datasetId: string | null;
  status: JobStatus;
  config: Record<string, unknown>;
  summary: Record<string, unknown>;
  createdAt: string;
  endedAt: string | null;
}
export interface EvaluationExample {
  idx: number;
  input: string;
  expected: string | null;
  output: string;
  scores: Record<string, number>;
}

interface EvaluationRow {
  id: string; project_id: string; run_id: string | null; adapter_id: string | null; dataset_id: string | null; status: JobStatus;
  config_json: string; summary_json: string; created_at: string; ended_at: string | null;
}
const toEvaluation = (r: EvaluationRow): EvaluationRecord => ({
  id: r.id, projectId: r.project_id, runId: r.run_id, adapterId: r.adapter_id, datasetId: r.dataset_id, status: r.status,
  config: parseJson(r.config_json, {}), summary: parseJson(r.summary_json, {}), createdAt: r.created_at, endedAt: r.ended_at,
});

export class EvaluationRepository {
  constructor(private readonly db: Db) {}

  insert(e: { projectId: string; runId?: string | null; adapterId?: string | null; datasetId?: string | null; config?: Record<string, unknown> }): EvaluationRecord {
    const row: EvaluationRow = {
      id: newId(), project_id: e.projectId, run_id: e.runId ?? null, adapter_id: e.adapterId ?? null, dataset_id: e.datasetId ?? null,
      status: 'queued', config_json: JSON.stringify(e.config ?? {}), summary_json: '{}', created_at: now(), ended_at: null,
    };
    translateConstraint(
      () => this.db.prepare(`INSERT INTO evaluations VALUES (@id, @project_id, @run_id, @adapter_id, @dataset_id, @status,
        @config_json, @summary_json, @created_at, @ended_at)`).run(row),
      { foreignKey: `no project "${e.projectId}" (or run / adapter / dataset) for this evaluation` },
    );
    return toEvaluation(row);
  }

  finish(id: string, status: JobStatus, summary: Record<string, unknown>): EvaluationRecord | null {
    this.db.prepare('UPDATE evaluations SET status = ?, summary_json = ?, ended_at = ? WHERE id = ?').run(status, JSON.stringify(summary), now(), id);
    return this.get(id);
  }

  /** Changes the status and/or the stored config (e.g. to record the job that runs it). */
  update(id: string, patch: { status?: JobStatus; config?: Record<string, unknown> }): EvaluationRecord | null {
    this.db
      .prepare('UPDATE evaluations SET status = COALESCE(@status, status), config_json = COALESCE(@config, config_json) WHERE id = @id')
      .run({ id, status: patch.status ?? null, config: patch.config === undefined ? null : JSON.stringify(patch.config) });
    return this.get(id);
  }

  get(id: string): EvaluationRecord | null {
    const r = this.db.prepare('SELECT * FROM evaluations WHERE id = ?').get(id) as EvaluationRow | undefined;
    return r ? toEvaluation(r) : null;
  }

  listByProject(projectId: string): EvaluationRecord[] {
    return (this.db.prepare('SELECT * FROM evaluations WHERE project_id = ? ORDER BY created_at DESC, rowid DESC').all(projectId) as EvaluationRow[]).map(toEvaluation);
  }

  /** Adds examples in one transaction (one fsync for the batch, not one per example). */
  addExamples(evaluationId: string, examples: EvaluationExample[]): void {
    const stmt = this.db.prepare('INSERT INTO evaluation_examples VALUES (?, ?, ?, ?, ?, ?)');
    this.db.transaction(() => {
      for (const x of examples) stmt.run(evaluationId, x.idx, x.input, x.expected, x.output, JSON.stringify(x.scores));
    })();
  }

  examples(evaluationId: string): EvaluationExample[] {
    const rows = this.db.prepare('SELECT * FROM evaluation_examples WHERE evaluation_id = ? ORDER BY idx').all(evaluationId) as {
      idx: number; input: string; expected: string | null; output: string; scores_json: string;
    }[];
    return rows.map((r) => ({ idx: r.idx, input: r.input, expected: r.expected, output: r.output, scores: parseJson(r.scores_json, {}) }));
  }
}
