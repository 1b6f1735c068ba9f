// Where the studio keeps its store and artefacts. One function decides it for every face:
// an explicit directory (CLI/serve `--data-dir`, Electron's userData) wins, then LORA_STUDIO_HOME,
// then ~/.lora-studio. Never inside the install, so reinstalling the app keeps the user's work.
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const DATA_DIR_ENV = 'LORA_STUDIO_HOME';

export function resolveDataDir(explicit?: string | null, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit && explicit.trim() !== '') return resolve(explicit);
  const fromEnv = env[DATA_DIR_ENV];
  if (fromEnv && fromEnv.trim() !== '') return resolve(fromEnv);
  return join(homedir(), '.lora-studio');
}

/** Creates the data dir (and its standard sub-folders) if needed and returns the layout. */
export function ensureDataDir(dataDir: string): DataDirLayout {
  const layout = dataDirLayout(dataDir);
  for (const dir of [layout.root, layout.models, layout.datasets, layout.runs, layout.exports, layout.logs]) {
    mkdirSync(dir, { recursive: true });
  }
  return layout;
}

export interface DataDirLayout {
  root: string;
  storeFile: string; // SQLite database
  models: string; // downloaded / imported base models
  datasets: string; // imported datasets
  runs: string; // one folder per run: checkpoints, adapters
  exports: string; // merged models, GGUF files
  logs: string; // job logs
}

export function dataDirLayout(dataDir: string): DataDirLayout {
  const root = resolve(dataDir);
  return {
    root,
    storeFile: join(root, 'studio.db'),
    models: join(root, 'models'),
    datasets: join(root, 'datasets'),
    runs: join(root, 'runs'),
    exports: join(root, 'exports'),
    logs: join(root, 'logs'),
  };
}
