// The one typed API contract between the studio's core and its three faces (Electron IPC, `serve`, CLI).
// Every method names a zod schema for its input and one for its output; the core validates inputs at the
// boundary with these schemas, and the renderer's client types its calls from them. Events are pushed
// to subscribers by topic. Each domain keeps its methods in its own file; this file only gathers them.
import { z } from 'zod';
import { Phrase } from './phrases.ts';
import { projectMethods } from './projects.ts';
import { jobMethods, jobEvents } from './jobs.ts';
import { systemMethods } from './system.ts';
import { runMethods } from './runs.ts';
import { chatMethods, chatEvents } from './chat.ts';
import { modelMethods } from './models.ts';
import { datasetMethods } from './datasets.ts';
import { dialogMethods } from './dialogs.ts';
import { adapterMethods } from './adapters.ts';
import { exportMethods } from './exports.ts';
import { settingsMethods } from './settings.ts';
import { hubMethods } from './hub.ts';
import { bundleMethods } from './bundles.ts';
import { taskMethods } from './tasks.ts';
import { compareMethods } from './compare.ts';
import { taskDataMethods } from './task-data.ts';
import { fusionEvalMethods } from './fusion-eval.ts';

export type MethodSpec = { input: z.ZodType; output: z.ZodType; doc: string };

export const methods = {
  ...systemMethods,
  ...projectMethods,
  ...jobMethods,
  ...runMethods,
  ...chatMethods,
  ...modelMethods,
  ...datasetMethods,
  ...dialogMethods,
  ...adapterMethods,
  ...exportMethods,
  ...settingsMethods,
  ...hubMethods,
  ...bundleMethods,
  ...taskMethods,
  ...compareMethods,
  ...taskDataMethods,
  ...fusionEvalMethods,
} satisfies Record<string, MethodSpec>;

export const events = {
  ...jobEvents,
  ...chatEvents,
} satisfies Record<string, z.ZodType>;

export type Methods = typeof methods;
export type MethodName = keyof Methods;
export type MethodInput<M extends MethodName> = z.input<Methods[M]['input']>;
export type MethodOutput<M extends MethodName> = z.output<Methods[M]['output']>;

export type Events = typeof events;
export type EventTopic = keyof Events;
export type EventPayload<T extends EventTopic> = z.output<Events[T]>;

/** An error that crosses the boundary: a stable code, a sentence for a person, and where it applies. */
export const ApiErrorShape = z.object({
  code: z.enum(['invalid_input', 'not_found', 'conflict', 'failed', 'unauthorized', 'unknown_method', 'internal']),
  message: z.string(),
  details: z.unknown().optional(),
  /** The message as a code + parameters (common/api/phrases.ts), for a UI in another language. */
  phrase: Phrase.optional(),
});
export type ApiErrorShape = z.infer<typeof ApiErrorShape>;

/** What every face implements the same way: call a method, listen to a topic. */
export interface StudioClient {
  invoke<M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>>;
  subscribe<T extends EventTopic>(topic: T, listener: (payload: EventPayload<T>) => void): () => void;
}

/**
 * Wire protocol of `serve` (the renderer's browser client and the tests speak it):
 * - POST /api/invoke  body {method, input}  header `Authorization: Bearer <token>`
 *   → 200 {ok: true, result} | 4xx/5xx {ok: false, error: ApiErrorShape}
 * - WebSocket /api/events?token=<token>; server pushes {topic, payload} frames for every event.
 * - Requests without the token, or with an Origin other than the server's own, are refused (401/403).
 */
export const WIRE = { invokePath: '/api/invoke', eventsPath: '/api/events' } as const;
