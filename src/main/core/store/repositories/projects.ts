import type { Db } from '../database.ts';
import type { Project } from '../../../../common/api/projects.ts';
import { newId, now, translateConstraint } from './util.ts';

interface ProjectRow {
  id: string;
  name: string;
  description: string;
  created_at: string;
  updated_at: string;
}

const toProject = (r: ProjectRow): Project => ({
  id: r.id,
  name: r.name,
  description: r.description,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const duplicate = (name: string) => `a project named "${name}" already exists (names are unique, ignoring case)`;

export class ProjectRepository {
  constructor(private readonly db: Db) {}

  list(): Project[] {
    // rowid breaks ties between projects created within the same millisecond, keeping "newest first" exact.
    const rows = this.db.prepare('SELECT * FROM projects ORDER BY created_at DESC, rowid DESC').all() as ProjectRow[];
    return rows.map(toProject);
  }

  get(id: string): Project | null {
    const row = this.db.prepare('SELECT * FROM projects WHERE id = ?').get(id) as ProjectRow | undefined;
    return row ? toProject(row) : null;
  }

  findByName(name: string): Project | null {
    const row = this.db.prepare('SELECT * FROM projects WHERE name = ?').get(name) as ProjectRow | undefined;
    return row ? toProject(row) : null;
  }

  create(input: { name: string; description?: string }): Project {
    const at = now();
    const row: ProjectRow = { id: newId(), name: input.name, description: input.description ?? '', created_at: at, updated_at: at };
    translateConstraint(
      () =>
        this.db
          .prepare('INSERT INTO projects (id, name, description, created_at, updated_at) VALUES (@id, @name, @description, @created_at, @updated_at)')
          .run(row),
      { unique: duplicate(input.name) },
    );
    return toProject(row);
  }

  /** Returns the updated project, or null when no project has this id. */
  update(id: string, patch: { name?: string; description?: string }): Project | null {
    const current = this.get(id);
    if (!current) return null;
    const next = { id, name: patch.name ?? current.name, description: patch.description ?? current.description, updated_at: now() };
    translateConstraint(
      () => this.db.prepare('UPDATE projects SET name = @name, description = @description, updated_at = @updated_at WHERE id = @id').run(next),
      { unique: duplicate(next.name) },
    );
    return this.get(id);
  }

  /** Deletes the project and, through ON DELETE CASCADE, everything recorded under it. */
  delete(id: string): boolean {
    return this.db.prepare('DELETE FROM projects WHERE id = ?').run(id).changes > 0;
  }
}
