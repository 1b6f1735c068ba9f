import type { Db } from '../database.ts';
import type { Job, JobStatus } from '../../../../common/api/jobs.ts';
import { Phrase } from '../../../../common/api/phrases.ts';
import { newId, now, parseJson, translateConstraint } from './util.ts';

interface JobRow {
  id: string;
  kind: string;
  project_id: string | null;
  status: JobStatus;
  progress: number | null;
  message: string | null;
  error: string | null;
  error_phrase_json: string | null;
  exit_code: number | null;
  params_json: string;
  result_json: string | null;
  supervisor_pid: number | null;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
}

/** A job as stored: the contract's Job plus what only the core needs. */
export interface JobRecord extends Job {
  params: unknown;
  result: unknown;
  supervisorPid: number | null;
}

/** A stored phrase that no longer parses (a newer or older core's) is dropped: the English error stays. */
function errorPhraseOf(json: string | null): { errorPhrase?: Phrase } {
  if (json === null) return {};
  const phrase = Phrase.safeParse(parseJson(json, null));
  return phrase.success ? { errorPhrase: phrase.data } : {};
}

const toRecord = (r: JobRow): JobRecord => ({
  id: r.id,
  kind: r.kind,
  projectId: r.project_id,
  status: r.status,
  progress: r.progress,
  message: r.message,
  error: r.error,
  ...errorPhraseOf(r.error_phrase_json),
  exitCode: r.exit_code,
  createdAt: r.created_at,
  startedAt: r.started_at,
  endedAt: r.ended_at,
  params: parseJson(r.params_json, {}),
  result: parseJson(r.result_json, null),
  supervisorPid: r.supervisor_pid,
});

/** The contract's view of a job record (drops params/result/pid). */
export function toJob(r: JobRecord): Job {
  return {
    id: r.id,
    kind: r.kind,
    projectId: r.projectId,
    status: r.status,
    progress: r.progress,
    message: r.message,
    error: r.error,
    ...(r.errorPhrase ? { errorPhrase: r.errorPhrase } : {}),
    exitCode: r.exitCode,
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    endedAt: r.endedAt,
  };
}

export interface JobPatch {
  status?: JobStatus;
  progress?: number | null;
  message?: string | null;
  error?: string | null;
  errorPhrase?: Phrase | null;
  exitCode?: number | null;
  result?: unknown;
  supervisorPid?: number | null;
  startedAt?: string | null;
  endedAt?: string | null;
}

const columns: Record<keyof JobPatch, string> = {
  status: 'status',
  progress: 'progress',
  message: 'message',
  error: 'error',
  errorPhrase: 'error_phrase_json',
  exitCode: 'exit_code',
  result: 'result_json',
  supervisorPid: 'supervisor_pid',
  startedAt: 'started_at',
  endedAt: 'ended_at',
};

export class JobRepository {
  constructor(private readonly db: Db) {}

  create(input: { kind: string; projectId?: string | null; params?: unknown; supervisorPid?: number }): JobRecord {
    const row: JobRow = {
      id: newId(),
      kind: input.kind,
      project_id: input.projectId ?? null,
      status: 'queued',
      progress: null,
      message: null,
      error: null,
      error_phrase_json: null,
      exit_code: null,
      params_json: JSON.stringify(input.params ?? {}),
      result_json: null,
      supervisor_pid: input.supervisorPid ?? null,
      created_at: now(),
      started_at: null,
      ended_at: null,
    };
    translateConstraint(
      () =>
        this.db
          .prepare(
            `INSERT INTO jobs (id, kind, project_id, status, progress, message, error, exit_code, params_json, result_json,
               supervisor_pid, created_at, started_at, ended_at)
             VALUES (@id, @kind, @project_id, @status, @progress, @message, @error, @exit_code, @params_json, @result_json,
               @supervisor_pid, @created_at, @started_at, @ended_at)`,
          )
          .run(row),
      { foreignKey: `no project with id "${input.projectId}"` },
    );
    return toRecord(row);
  }

  get(id: string): JobRecord | null {
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
    return row ? toRecord(row) : null;
  }

  list(filter: { projectId?: string; statuses?: JobStatus[] } = {}): JobRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.projectId !== undefined) {
      where.push('project_id = ?');
      args.push(filter.projectId);
    }
    if (filter.statuses && filter.statuses.length > 0) {
      where.push(`status IN (${filter.statuses.map(() => '?').join(', ')})`);
      args.push(...filter.statuses);
    }
    const sql = `SELECT * FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, rowid DESC`;
    return (this.db.prepare(sql).all(...args) as JobRow[]).map(toRecord);
  }

  update(id: string, patch: JobPatch): JobRecord | null {
    const keys = (Object.keys(patch) as (keyof JobPatch)[]).filter((k) => patch[k] !== undefined);
    if (keys.length > 0) {
      const values: Record<string, unknown> = { id };
      for (const k of keys)
        values[k] =
          k === 'result' ? JSON.stringify(patch.result) : k === 'errorPhrase' ? (patch.errorPhrase ? JSON.stringify(patch.errorPhrase) : null) : patch[k];
      this.db.prepare(`UPDATE jobs SET ${keys.map((k) => `${columns[k]} = @${k}`).join(', ')} WHERE id = @id`).run(values);
    }
    return this.get(id);
  }
}
