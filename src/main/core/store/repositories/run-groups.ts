// Run groups: runs started together to be compared (LoRA vs full fine-tuning, an r / target_modules sweep), in the
// order they train, each with the short label of what it varies. Deleting a run drops its membership; deleting the
// project drops the group.
import type { Db } from '../database.ts';
import { newId, now, parseJson, translateConstraint } from './util.ts';

export type RunGroupKind = 'methods' | 'sweep';

export interface RunGroupMemberRecord {
  runId: string;
  position: number;
  label: string;
}

export interface RunGroupRecord {
  id: string;
  projectId: string;
  kind: RunGroupKind;
  name: string;
  meta: Record<string, unknown>;
  createdAt: string;
  members: RunGroupMemberRecord[];
}

interface GroupRow {
  id: string;
  project_id: string;
  kind: RunGroupKind;
  name: string;
  meta_json: string;
  created_at: string;
}

export class RunGroupRepository {
  constructor(private readonly db: Db) {}

  /** Records a group and its members (in the order given) in one transaction. */
  insert(n: { projectId: string; kind: RunGroupKind; name: string; meta?: Record<string, unknown>; members: { runId: string; label: string }[] }): RunGroupRecord {
    const id = newId();
    const createdAt = now();
    this.db.transaction(() => {
      translateConstraint(
        () =>
          this.db
            .prepare('INSERT INTO run_groups (id, project_id, kind, name, meta_json, created_at) VALUES (?, ?, ?, ?, ?, ?)')
            .run(id, n.projectId, n.kind, n.name, JSON.stringify(n.meta ?? {}), createdAt),
        { foreignKey: `no project "${n.projectId}" for this run group` },
      );
      const member = this.db.prepare('INSERT INTO run_group_members (group_id, run_id, position, label) VALUES (?, ?, ?, ?)');
      n.members.forEach((m, position) =>
        translateConstraint(() => member.run(id, m.runId, position, m.label), { foreignKey: `no run "${m.runId}" for this run group` }),
      );
    })();
    return this.get(id)!;
  }

  get(id: string): RunGroupRecord | null {
    const row = this.db.prepare('SELECT * FROM run_groups WHERE id = ?').get(id) as GroupRow | undefined;
    return row ? this.withMembers(row) : null;
  }

  listByProject(projectId: string): RunGroupRecord[] {
    const rows = this.db.prepare('SELECT * FROM run_groups WHERE project_id = ? ORDER BY created_at DESC, rowid DESC').all(projectId) as GroupRow[];
    return rows.map((r) => this.withMembers(r));
  }

  /** The groups a run belongs to (a run is usually in one). */
  groupsOfRun(runId: string): string[] {
    return (this.db.prepare('SELECT group_id FROM run_group_members WHERE run_id = ?').all(runId) as { group_id: string }[]).map((r) => r.group_id);
  }

  delete(id: string): boolean {
    return this.db.prepare('DELETE FROM run_groups WHERE id = ?').run(id).changes > 0;
  }

  private withMembers(row: GroupRow): RunGroupRecord {
    const members = (
      this.db.prepare('SELECT run_id, position, label FROM run_group_members WHERE group_id = ? ORDER BY position').all(row.id) as {
        run_id: string;
        position: number;
        label: string;
      }[]
    ).map((m) => ({ runId: m.run_id, position: m.position, label: m.label }));
    return { id: row.id, projectId: row.project_id, kind: row.kind, name: row.name, meta: parseJson(row.meta_json, {}), createdAt: row.created_at, members };
  }
}
