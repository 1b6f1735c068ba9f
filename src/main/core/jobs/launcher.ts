// How the supervisor starts a worker process. From sources (CLI, serve, tests) it forks
// src/main/worker/entry.ts through tsx; in the desktop bundle, electron-vite emits out/main/worker.js next
// to out/main/index.js and the Electron shell passes that file with `bundledWorkerLauncher`.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface WorkerLauncher {
  /** The module the child runs. */
  modulePath: string;
  /** Node flags for the child (the tsx loader when running TypeScript sources). */
  execArgv: string[];
  /** Extra environment for the child. */
  env?: Record<string, string>;
}

const sourceEntry = resolve(import.meta.dirname, '../../worker/entry.ts');

/** The worker from TypeScript sources, loaded through tsx (resolved from this package, not the cwd). */
export function sourceWorkerLauncher(): WorkerLauncher {
  const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return { modulePath: sourceEntry, execArgv: ['--import', tsxLoader], env: {} };
}

/**
 * The bundled worker (plain JavaScript). Under Electron, fork() runs Electron's own binary; the
 * ELECTRON_RUN_AS_NODE flag makes it behave as Node.
 */
export function bundledWorkerLauncher(workerJs: string): WorkerLauncher {
  return { modulePath: workerJs, execArgv: [], env: { ELECTRON_RUN_AS_NODE: '1' } };
}

/** The bundled worker when one sits next to this module (we are bundled), else the sources. */
export function defaultWorkerLauncher(): WorkerLauncher {
  const bundled = join(import.meta.dirname, 'worker.js');
  if (!import.meta.filename.endsWith('.ts') && existsSync(bundled)) return bundledWorkerLauncher(bundled);
  return sourceWorkerLauncher();
}
