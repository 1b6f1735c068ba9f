import type { z } from 'zod';
import type { MethodName, MethodOutput, Methods } from '../../../../common/api/contract.ts';
import type { EventBus } from '../../events.ts';
import type { JobSupervisor } from '../../jobs/supervisor.ts';
import type { Store } from '../../store/index.ts';
import type { HubTokenStore } from '../../settings.ts';

/** What a handler may use: the core's services. */
export interface CoreContext {
  store: Store;
  events: EventBus;
  jobs: JobSupervisor;
  dataDir: string;
  appVersion: string;
  /** Diagnostic job kinds are allowed (LORA_STUDIO_TEST_JOBS=1). */
  testJobs: boolean;
  /** Where the Hugging Face token is kept (never in the store). */
  hubToken: HubTokenStore;
}

/** A handler receives its input already validated (defaults applied) and returns the contract's output. */
export type Handler<M extends MethodName> = (
  input: z.output<Methods[M]['input']>,
  ctx: CoreContext,
) => MethodOutput<M> | Promise<MethodOutput<M>>;

/** The handlers of one domain: its methods, and only its methods. */
export type HandlerGroup<Prefix extends string> = { [M in MethodName as M extends `${Prefix}.${string}` ? M : never]: Handler<M> };
