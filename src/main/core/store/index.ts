// The project store: one SQLite file in the data dir, with a typed repository per entity.
import type { Db } from './database.ts';
import { openDatabase } from './database.ts';
import { ProjectRepository } from './repositories/projects.ts';
import { JobRepository } from './repositories/jobs.ts';
import { RunRepository } from './repositories/runs.ts';
import { EvaluationRepository } from './repositories/evaluations.ts';
import { ChatRepository } from './repositories/chat.ts';
import { SettingsRepository } from './repositories/settings.ts';
import { AdapterRepository, BaseModelRepository, DatasetRepository, ExportRepository } from './repositories/library.ts';

export class Store {
  readonly projects: ProjectRepository;
  readonly jobs: JobRepository;
  readonly baseModels: BaseModelRepository;
  readonly datasets: DatasetRepository;
  readonly runs: RunRepository;
  readonly evaluations: EvaluationRepository;
  readonly adapters: AdapterRepository;
  readonly exports: ExportRepository;
  readonly chat: ChatRepository;
  readonly settings: SettingsRepository;

  constructor(readonly db: Db) {
    this.projects = new ProjectRepository(db);
    this.jobs = new JobRepository(db);
    this.baseModels = new BaseModelRepository(db);
    this.datasets = new DatasetRepository(db);
    this.runs = new RunRepository(db);
    this.evaluations = new EvaluationRepository(db);
    this.adapters = new AdapterRepository(db);
    this.exports = new ExportRepository(db);
    this.chat = new ChatRepository(db);
    this.settings = new SettingsRepository(db);
  }

  static open(file: string): Store {
    return new Store(openDatabase(file));
  }

  /** Runs `fn` in one transaction (one fsync for all its writes). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

export { openDatabase, migrate } from './database.ts';
export type { Db } from './database.ts';
export type { JobRecord } from './repositories/jobs.ts';
export type { RunRecord, RunMetric } from './repositories/runs.ts';
export type { BaseModelRecord, DatasetRecord, AdapterRecord, ExportRecord } from './repositories/library.ts';
export type { EvaluationRecord, EvaluationExample } from './repositories/evaluations.ts';
export type { ChatSessionRecord, ChatMessageRecord } from './repositories/chat.ts';
