// The studio's core: one object behind every face. `createStudioCore({dataDir})` opens the store,
// starts the job supervisor, and returns invoke/subscribe/close. Plain Node: no Electron, no HTTP.
import type { EventPayload, EventTopic, MethodInput, MethodName, MethodOutput } from '../../common/api/contract.ts';
import { appVersion } from './app-version.ts';
import { ensureDataDir } from './data-dir.ts';
import { EventBus, type AnyEvent } from './events.ts';
import { JobSupervisor, type SupervisorOptions } from './jobs/supervisor.ts';
import { Store } from './store/index.ts';
import { route, routeSafe, type InvokeResult } from './api/router.ts';
import type { CoreContext } from './api/handlers/types.ts';
import { fileHubTokenStore, readSettings, workerEnvFromSettings, type HubTokenStore } from './settings.ts';

export interface StudioCoreOptions {
  dataDir: string;
  /** Supervisor settings (worker launcher, grace periods, concurrency). */
  jobs?: Omit<SupervisorOptions, 'store' | 'events' | 'dataDir'>;
  /** Allow diagnostic job kinds; defaults to LORA_STUDIO_TEST_JOBS=1 in the environment. */
  testJobs?: boolean;
  /** Where the Hub token is kept: the desktop app passes its keychain store; default a 0600 file in the data dir. */
  hubToken?: (dataDir: string) => HubTokenStore;
}

export interface StudioCore {
  readonly dataDir: string;
  readonly store: Store;
  readonly jobs: JobSupervisor;
  readonly events: EventBus;
  /** Validates and runs a method; throws StudioError. For faces that pass along what arrived on their wire. */
  invoke(method: string, input: unknown): Promise<unknown>;
  /** `invoke`, typed from the contract, for code inside this process (CLI commands, services). */
  call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>>;
  /** Like invoke, but returns the wire's {ok, result} | {ok: false, error} instead of throwing. */
  invokeSafe(method: string, input: unknown): Promise<InvokeResult>;
  /** Every event of every topic. */
  subscribe(listener: (event: AnyEvent) => void): () => void;
  on<T extends EventTopic>(topic: T, listener: (payload: EventPayload<T>) => void): () => void;
  /** Stops running jobs and closes the store. */
  close(): Promise<void>;
}

export function createStudioCore(options: StudioCoreOptions): StudioCore {
  const layout = ensureDataDir(options.dataDir);
  const store = Store.open(layout.storeFile);
  const events = new EventBus();
  const testJobs = options.testJobs ?? process.env.LORA_STUDIO_TEST_JOBS === '1';
  const hubToken = (options.hubToken ?? fileHubTokenStore)(layout.root);
  const jobs = new JobSupervisor({
    ...options.jobs,
    store,
    events,
    dataDir: layout.root,
    workerEnv: { ...(testJobs ? { LORA_STUDIO_TEST_JOBS: '1' } : {}), ...options.jobs?.workerEnv },
    envAtLaunch: () => workerEnvFromSettings(store, hubToken),
    residentIdleMs: () => readSettings(store).modelKeepAliveMinutes * 60_000,
  });
  const ctx: CoreContext = { store, events, jobs, dataDir: layout.root, appVersion: appVersion(), testJobs, hubToken };
  let closing: Promise<void> | null = null;

  return {
    dataDir: layout.root,
    store,
    jobs,
    events,
    invoke: (method, input) => route(method, input, ctx),
    call: (method, input) => route(method, input, ctx) as Promise<never>,
    invokeSafe: (method, input) => routeSafe(method, input, ctx),
    subscribe: (listener) => events.subscribe(listener),
    on: (topic, listener) => events.on(topic, listener),
    close: () =>
      (closing ??= (async () => {
        await jobs.close();
        store.close();
      })()),
  };
}

export type { AnyEvent } from './events.ts';
export type { InvokeResult } from './api/router.ts';
export { StudioError } from './errors.ts';
export { resolveDataDir } from './data-dir.ts';
export type { HubTokenStore } from './settings.ts';
