// Chat sessions (a model + optional adapter + settings) and their messages.
import type { Db } from '../database.ts';
import { newId, now, parseJson, translateConstraint } from './util.ts';

export interface ChatSessionRecord {
  id: string;
  projectId: string;
  baseModelId: string | null;
  adapterId: string | null;
  title: string;
  settings: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}
export interface ChatMessageRecord {
  id: number;
  sessionId: string;
  role: 'system' | 'user' | 'assistant';
  content: string;
  meta: Record<string, unknown>;
  createdAt: string;
}

interface SessionRow {
  id: string; project_id: string; base_model_id: string | null; adapter_id: string | null; title: string; settings_json: string;
  created_at: string; updated_at: string;
}
const toSession = (r: SessionRow): ChatSessionRecord => ({
  id: r.id, projectId: r.project_id, baseModelId: r.base_model_id, adapterId: r.adapter_id, title: r.title,
  settings: parseJson(r.settings_json, {}), createdAt: r.created_at, updatedAt: r.updated_at,
});

export class ChatRepository {
  constructor(private readonly db: Db) {}

  createSession(s: { projectId: string; title: string; baseModelId?: string | null; adapterId?: string | null; settings?: Record<string, unknown> }): ChatSessionRecord {
    const at = now();
    const row: SessionRow = {
      id: newId(), project_id: s.projectId, base_model_id: s.baseModelId ?? null, adapter_id: s.adapterId ?? null, title: s.title,
      settings_json: JSON.stringify(s.settings ?? {}), created_at: at, updated_at: at,
    };
    translateConstraint(
      () => this.db.prepare(`INSERT INTO chat_sessions VALUES (@id, @project_id, @base_model_id, @adapter_id, @title, @settings_json,
        @created_at, @updated_at)`).run(row),
      { foreignKey: `no project "${s.projectId}" (or model / adapter) for this chat` },
    );
    return toSession(row);
  }

  getSession(id: string): ChatSessionRecord | null {
    const r = this.db.prepare('SELECT * FROM chat_sessions WHERE id = ?').get(id) as SessionRow | undefined;
    return r ? toSession(r) : null;
  }

  listSessions(projectId: string): ChatSessionRecord[] {
    return (this.db.prepare('SELECT * FROM chat_sessions WHERE project_id = ? ORDER BY updated_at DESC, rowid DESC').all(projectId) as SessionRow[]).map(toSession);
  }

  /** Replaces a session's settings (e.g. the sampling sliders or adapter weights used for its latest turn). */
  updateSettings(id: string, settings: Record<string, unknown>): void {
    this.db.prepare('UPDATE chat_sessions SET settings_json = ?, updated_at = ? WHERE id = ?').run(JSON.stringify(settings), now(), id);
  }

  addMessage(m: { sessionId: string; role: ChatMessageRecord['role']; content: string; meta?: Record<string, unknown> }): ChatMessageRecord {
    const at = now();
    const info = this.db.transaction(() => {
      const result = translateConstraint(
        () => this.db.prepare('INSERT INTO chat_messages (session_id, role, content, meta_json, created_at) VALUES (?, ?, ?, ?, ?)')
          .run(m.sessionId, m.role, m.content, JSON.stringify(m.meta ?? {}), at),
        { foreignKey: `no chat session with id "${m.sessionId}"` },
      );
      this.db.prepare('UPDATE chat_sessions SET updated_at = ? WHERE id = ?').run(at, m.sessionId);
      return result;
    })();
    return { id: Number(info.lastInsertRowid), sessionId: m.sessionId, role: m.role, content: m.content, meta: m.meta ?? {}, createdAt: at };
  }

  messages(sessionId: string): ChatMessageRecord[] {
    const rows = this.db.prepare('SELECT * FROM chat_messages WHERE session_id = ? ORDER BY id').all(sessionId) as {
      id: number; session_id: string; role: ChatMessageRecord['role']; content: string; meta_json: string; created_at: string;
    }[];
    return rows.map((r) => ({ id: r.id, sessionId: r.session_id, role: r.role, content: r.content, meta: parseJson(r.meta_json, {}), createdAt: r.created_at }));
  }
}
