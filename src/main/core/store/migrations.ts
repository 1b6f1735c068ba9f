// Versioned schema migrations, applied in order at open. A migration is never edited once released:
// changes go in a new entry with the next version. `PRAGMA user_version` mirrors the latest applied
// version (cheap to read, survives tools that don't know our table); `schema_migrations` keeps the history.

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE projects (
        id          TEXT PRIMARY KEY,
        name        TEXT NOT NULL COLLATE NOCASE UNIQUE,
        description TEXT NOT NULL DEFAULT '',
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL
      );

      -- Base models are shared by all projects: one download serves many fine-tunes.
      CREATE TABLE base_models (
        id              TEXT PRIMARY KEY,
        source          TEXT NOT NULL,            -- Hub repo id or the folder it was imported from
        source_kind     TEXT NOT NULL CHECK (source_kind IN ('hub', 'local')),
        local_path      TEXT NOT NULL,
        revision        TEXT,                     -- Hub commit sha; NULL for a local folder
        architecture    TEXT NOT NULL,
        parameter_count INTEGER,
        size_bytes      INTEGER,
        config_json     TEXT NOT NULL DEFAULT '{}',
        created_at      TEXT NOT NULL
      );

      CREATE TABLE datasets (
        id          TEXT PRIMARY KEY,
        project_id  TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        name        TEXT NOT NULL,
        file_path   TEXT NOT NULL,
        format      TEXT NOT NULL,                -- jsonl / csv / parquet / …, and the record shape
        hash        TEXT NOT NULL,                -- sha256 of the file as imported
        row_count   INTEGER NOT NULL,
        split       TEXT NOT NULL DEFAULT '{}',   -- JSON: how rows divide into train/validation/test
        meta_json   TEXT NOT NULL DEFAULT '{}',
        created_at  TEXT NOT NULL
      );
      CREATE INDEX datasets_project ON datasets(project_id);

      CREATE TABLE jobs (
        id             TEXT PRIMARY KEY,
        kind           TEXT NOT NULL,
        project_id     TEXT REFERENCES projects(id) ON DELETE CASCADE,
        status         TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
        progress       REAL,
        message        TEXT,
        error          TEXT,
        exit_code      INTEGER,
        params_json    TEXT NOT NULL DEFAULT '{}',
        result_json    TEXT,
        supervisor_pid INTEGER,                   -- the process that runs it; lets a restart find orphans
        created_at     TEXT NOT NULL,
        started_at     TEXT,
        ended_at       TEXT
      );
      CREATE INDEX jobs_project ON jobs(project_id);
      CREATE INDEX jobs_status ON jobs(status);

      CREATE TABLE runs (
        id             TEXT PRIMARY KEY,
        project_id     TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        name           TEXT NOT NULL,
        base_model_id  TEXT REFERENCES base_models(id) ON DELETE SET NULL,
        dataset_id     TEXT REFERENCES datasets(id) ON DELETE SET NULL,
        job_id         TEXT REFERENCES jobs(id) ON DELETE SET NULL,
        config_json    TEXT NOT NULL,             -- the full run config, exactly as started
        status         TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
        started_at     TEXT,
        ended_at       TEXT,
        error          TEXT,
        seed           INTEGER NOT NULL,
        app_version    TEXT NOT NULL,
        dataset_hash   TEXT,
        model_revision TEXT,
        created_at     TEXT NOT NULL
      );
      CREATE INDEX runs_project ON runs(project_id);

      CREATE TABLE run_metrics (
        run_id      TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        split       TEXT NOT NULL DEFAULT 'train',  -- 'train' per optimizer step, 'eval' per evaluation
        step        INTEGER NOT NULL,
        values_json TEXT NOT NULL,                  -- {"loss": …, "lr": …, "grad_norm": …, "tokens_per_s": …}
        at          TEXT NOT NULL,
        PRIMARY KEY (run_id, split, step)
      );

      CREATE TABLE adapters (
        id             TEXT PRIMARY KEY,
        project_id     TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        run_id         TEXT REFERENCES runs(id) ON DELETE SET NULL,
        base_model_id  TEXT REFERENCES base_models(id) ON DELETE SET NULL,
        name           TEXT NOT NULL,
        path           TEXT NOT NULL,             -- PEFT folder (adapter_config.json + adapter_model.safetensors)
        rank           INTEGER NOT NULL,
        alpha          REAL NOT NULL,
        target_modules TEXT NOT NULL DEFAULT '[]',
        step           INTEGER,
        created_at     TEXT NOT NULL
      );
      CREATE INDEX adapters_project ON adapters(project_id);

      CREATE TABLE evaluations (
        id           TEXT PRIMARY KEY,
        project_id   TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        run_id       TEXT REFERENCES runs(id) ON DELETE SET NULL,
        adapter_id   TEXT REFERENCES adapters(id) ON DELETE SET NULL,
        dataset_id   TEXT REFERENCES datasets(id) ON DELETE SET NULL,
        status       TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
        config_json  TEXT NOT NULL DEFAULT '{}',
        summary_json TEXT NOT NULL DEFAULT '{}',  -- aggregate scores
        created_at   TEXT NOT NULL,
        ended_at     TEXT
      );
      CREATE INDEX evaluations_project ON evaluations(project_id);

      CREATE TABLE evaluation_examples (
        evaluation_id TEXT NOT NULL REFERENCES evaluations(id) ON DELETE CASCADE,
        idx           INTEGER NOT NULL,
        input         TEXT NOT NULL,
        expected      TEXT,
        output        TEXT NOT NULL,
        scores_json   TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (evaluation_id, idx)
      );

      CREATE TABLE exports (
        id         TEXT PRIMARY KEY,
        project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        adapter_id TEXT REFERENCES adapters(id) ON DELETE SET NULL,
        kind       TEXT NOT NULL,                 -- 'peft' / 'merged-safetensors' / 'gguf'
        path       TEXT NOT NULL,
        size_bytes INTEGER,
        meta_json  TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL
      );
      CREATE INDEX exports_project ON exports(project_id);

      CREATE TABLE chat_sessions (
        id            TEXT PRIMARY KEY,
        project_id    TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        base_model_id TEXT REFERENCES base_models(id) ON DELETE SET NULL,
        adapter_id    TEXT REFERENCES adapters(id) ON DELETE SET NULL,
        title         TEXT NOT NULL,
        settings_json TEXT NOT NULL DEFAULT '{}',  -- sampling settings, system prompt
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL
      );
      CREATE INDEX chat_sessions_project ON chat_sessions(project_id);

      CREATE TABLE chat_messages (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL REFERENCES chat_sessions(id) ON DELETE CASCADE,
        role       TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
        content    TEXT NOT NULL,
        meta_json  TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL
      );
      CREATE INDEX chat_messages_session ON chat_messages(session_id, id);
    `,
  },
  {
    version: 2,
    name: 'settings',
    // Studio-wide preferences (threads, offline mode) as JSON values by key. Secrets never go here: the Hub
    // token lives in the OS keychain (desktop) or a 0600 file (serve/CLI), see core/settings.ts.
    sql: `
      CREATE TABLE settings (
        key        TEXT PRIMARY KEY,
        value_json TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: 'run groups',
    // Runs started together to be compared ("LoRA vs full fine-tuning", an r / target_modules sweep): the group
    // keeps their order (they train one after the other, so their times compare) and what each one varies.
    sql: `
      CREATE TABLE run_groups (
        id         TEXT PRIMARY KEY,
        project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        kind       TEXT NOT NULL CHECK (kind IN ('methods', 'sweep')),
        name       TEXT NOT NULL,
        meta_json  TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL
      );
      CREATE INDEX run_groups_project ON run_groups(project_id);

      CREATE TABLE run_group_members (
        group_id TEXT NOT NULL REFERENCES run_groups(id) ON DELETE CASCADE,
        run_id   TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        label    TEXT NOT NULL,
        PRIMARY KEY (group_id, run_id)
      );
      CREATE INDEX run_group_members_run ON run_group_members(run_id);
    `,
  },
  {
    version: 4,
    name: 'job error phrases',
    // A failed job's error as a phrase (code + parameters, common/api/phrases.ts) beside its English text, so the
    // UI can say it in its own language; NULL for an error that said none and for every job before this version.
    sql: `ALTER TABLE jobs ADD COLUMN error_phrase_json TEXT;`,
  },
];
