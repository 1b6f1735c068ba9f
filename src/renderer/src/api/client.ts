// The renderer's one StudioClient, over either transport:
// - in Electron, the preload's `window.studio` bridge (IPC);
// - in a browser opened from `lora-studio serve`, the wire protocol of src/common/api/contract.ts
//   (POST /api/invoke with a bearer token, WebSocket /api/events?token=… for events).
// Pages only see `StudioConnection`, so they run unchanged in both. The transports take their I/O
// (fetch, WebSocket, storage) as arguments so the logic is tested in Node against a real socket server.
import {
  ApiErrorShape,
  WIRE,
  type EventPayload,
  type EventTopic,
  type MethodInput,
  type MethodName,
  type MethodOutput,
  type StudioClient,
} from '../../../common/api/contract.ts';
import type { Phrase } from '../../../common/api/phrases.ts';
import { sayPhrase } from '../i18n/phrase.ts';
import { t } from '../i18n/t.ts';

/** Errors the client itself raises, beside the ones the core returns (ApiErrorShape codes). */
export type StudioErrorCode = ApiErrorShape['code'] | 'unreachable' | 'bad_response' | 'missing_token';

/** Every failed call rejects with this: a stable code and a sentence a person can act on. */
export class StudioApiError extends Error {
  readonly code: StudioErrorCode;
  readonly details: unknown;
  constructor(code: StudioErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'StudioApiError';
    this.code = code;
    this.details = details;
  }
}

/** connecting: never connected yet; connected: events flow; reconnecting: lost, retrying; closed: by us. */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface StudioConnection extends StudioClient {
  readonly transport: 'ipc' | 'http';
  /** An address the browser can follow to fetch a file the server hands out (serve only: the token rides along). */
  fileUrl?(path: string): string;
  connectionState(): ConnectionState;
  onConnectionChange(listener: (state: ConnectionState) => void): () => void;
  close(): void;
}

// ---------------------------------------------------------------------------------------------
// Errors

const KNOWN_CODES = new Set<string>(ApiErrorShape.shape.code.options);

// Electron's ipcRenderer.invoke rejects with "Error invoking remote method 'studio:invoke': Error: <message>";
// the person should only read <message>.
const IPC_PREFIX = /^Error invoking remote method '[^']*':\s*(?:[A-Za-z]*Error:\s*)?/;

/** Normalises whatever a transport rejected with into a StudioApiError. */
export function toStudioApiError(error: unknown): StudioApiError {
  if (error instanceof StudioApiError) return error;
  if (typeof error === 'object' && error !== null) {
    const candidate = error as { code?: unknown; message?: unknown; details?: unknown; phrase?: Phrase };
    const english = typeof candidate.message === 'string' ? candidate.message.replace(IPC_PREFIX, '') : String(error);
    const message = sayPhrase(candidate.phrase, english);
    if (typeof candidate.code === 'string' && KNOWN_CODES.has(candidate.code)) {
      return new StudioApiError(candidate.code as StudioErrorCode, message, candidate.details);
    }
    return new StudioApiError('internal', message);
  }
  return new StudioApiError('internal', String(error));
}

// ---------------------------------------------------------------------------------------------
// Token handling (browser transport)

export const TOKEN_STORAGE_KEY = 'lora-studio.token';

export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/**
 * Finds the serve token: from `?token=` in the address (then remembered in session storage, so a reload
 * or a bookmark-free refresh keeps working) or from storage. `cleanUrl` is the address without the token,
 * to be put in the address bar so the secret does not linger in history or screenshots; null if unchanged.
 */
export function resolveToken(href: string, storage: KeyValueStorage | null): { token: string | null; cleanUrl: string | null } {
  const url = new URL(href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl !== null && fromUrl.trim() !== '') {
    storage?.setItem(TOKEN_STORAGE_KEY, fromUrl.trim());
    url.searchParams.delete('token');
    return { token: fromUrl.trim(), cleanUrl: url.toString() };
  }
  const stored = storage?.getItem(TOKEN_STORAGE_KEY) ?? null;
  return { token: stored && stored.trim() !== '' ? stored : null, cleanUrl: null };
}

// ---------------------------------------------------------------------------------------------
// Shared listener bookkeeping

class Listeners<T> {
  private readonly set = new Set<(value: T) => void>();
  add(listener: (value: T) => void): () => void {
    this.set.add(listener);
    return () => this.set.delete(listener);
  }
  emit(value: T): void {
    for (const listener of [...this.set]) {
      try {
        listener(value);
      } catch (error) {
        // One faulty listener must not starve the others of events.
        console.warn('studio: an event listener threw', error);
      }
    }
  }
  get size(): number {
    return this.set.size;
  }
}

/** An event with the core's sentence in the UI's language (a job's progress line said as a phrase). */
function inUiLanguage(topic: string, payload: unknown): unknown {
  if (topic === 'job.status') return jobInUiLanguage(payload);
  if (topic !== 'job.progress' || typeof payload !== 'object' || payload === null) return payload;
  const progress = payload as { message?: unknown; phrase?: Phrase | null };
  if (!progress.phrase || typeof progress.message !== 'string') return payload;
  return { ...progress, message: sayPhrase(progress.phrase, progress.message) };
}

/** A job row with its error in the UI's language, where the core said it as a phrase (errorPhrase). */
function jobInUiLanguage(job: unknown): unknown {
  if (typeof job !== 'object' || job === null) return job;
  const row = job as { error?: unknown; errorPhrase?: Phrase };
  if (!row.errorPhrase || typeof row.error !== 'string') return job;
  return { ...row, error: sayPhrase(row.errorPhrase, row.error) };
}

/** A method's result in the UI's language: the job rows jobs.get, jobs.list and jobs.cancel return. */
function resultInUiLanguage(method: string, result: unknown): unknown {
  if (method === 'jobs.get' || method === 'jobs.cancel') return jobInUiLanguage(result);
  if (method === 'jobs.list' && Array.isArray(result)) return result.map(jobInUiLanguage);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Electron IPC transport

/** What the preload exposes as `window.studio`. */
export interface StudioBridge {
  invoke(method: string, input: unknown): Promise<unknown>;
  subscribe(topic: string, listener: (payload: unknown) => void): () => void;
}

export function createBridgeClient(bridge: StudioBridge): StudioConnection {
  return {
    transport: 'ipc',
    async invoke<M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>> {
      try {
        return resultInUiLanguage(method, await bridge.invoke(method, input)) as MethodOutput<M>;
      } catch (error) {
        throw toStudioApiError(error);
      }
    },
    subscribe<T extends EventTopic>(topic: T, listener: (payload: EventPayload<T>) => void): () => void {
      return bridge.subscribe(topic, (payload) => listener(inUiLanguage(topic, payload) as EventPayload<T>));
    },
    // IPC to our own main process is either there or the app is gone; there is nothing to reconnect.
    connectionState: () => 'connected',
    onConnectionChange: () => () => {},
    close: () => {},
  };
}

// ---------------------------------------------------------------------------------------------
// HTTP + WebSocket transport (`serve`)

export interface FetchResponseLike {
  ok: boolean;
  status: number;
  text(): Promise<string>;
}
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string },
) => Promise<FetchResponseLike>;

/**
 * The part of a WebSocket the client uses. Handler parameters are typed `never` so that both the DOM's
 * WebSocket and Node's `ws` fit; each handler below declares what it reads from its event.
 */
export interface WebSocketLike {
  onopen: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
  onmessage: ((event: never) => void) | null;
  close(): void;
}
export type WebSocketFactory = (url: string) => WebSocketLike;

export interface HttpClientOptions {
  /** Origin of the serve process, e.g. http://127.0.0.1:5173 (no trailing slash needed). */
  baseUrl: string;
  token: string;
  fetch: FetchLike;
  openWebSocket: WebSocketFactory;
  /** Waits between reconnection attempts; the last one repeats. */
  reconnectDelaysMs?: readonly number[];
}

const DEFAULT_RECONNECT_DELAYS_MS = [250, 500, 1000, 2000, 4000] as const;

export function createHttpClient(options: HttpClientOptions): StudioConnection {
  const base = options.baseUrl.replace(/\/+$/, '');
  const delays = options.reconnectDelaysMs?.length ? options.reconnectDelaysMs : DEFAULT_RECONNECT_DELAYS_MS;
  const eventsUrl = `${base.replace(/^http/, 'ws')}${WIRE.eventsPath}?token=${encodeURIComponent(options.token)}`;

  const topics = new Map<string, Listeners<unknown>>();
  const stateListeners = new Listeners<ConnectionState>();
  let state: ConnectionState = 'connecting';
  let socket: WebSocketLike | null = null;
  let attempt = 0;
  let retryTimer: ReturnType<typeof setTimeout> | null = null;

  const setState = (next: ConnectionState): void => {
    if (next === state) return;
    state = next;
    stateListeners.emit(next);
  };

  const onFrame = (data: unknown): void => {
    if (typeof data !== 'string') return;
    let frame: unknown;
    try {
      frame = JSON.parse(data);
    } catch {
      console.warn('studio: ignored an event frame that is not JSON');
      return;
    }
    if (typeof frame !== 'object' || frame === null || typeof (frame as { topic?: unknown }).topic !== 'string') {
      console.warn('studio: ignored an event frame without a topic');
      return;
    }
    const { topic, payload } = frame as { topic: string; payload: unknown };
    topics.get(topic)?.emit(inUiLanguage(topic, payload));
  };

  const open = (): void => {
    if (state === 'closed') return;
    const ws = options.openWebSocket(eventsUrl);
    socket = ws;
    ws.onopen = () => {
      attempt = 0;
      setState('connected');
    };
    ws.onmessage = (event: { data: unknown }) => onFrame(event.data);
    ws.onerror = () => {
      // A close event always follows; reconnection is handled there.
    };
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = null;
      if (state === 'closed') return;
      setState('reconnecting');
      const delay = delays[Math.min(attempt, delays.length - 1)];
      attempt += 1;
      retryTimer = setTimeout(() => {
        retryTimer = null;
        open();
      }, delay);
    };
  };
  open();

  return {
    transport: 'http',
    fileUrl: (path: string) => `${base}${path}?token=${encodeURIComponent(options.token)}`,
    async invoke<M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>> {
      let response: FetchResponseLike;
      try {
        response = await options.fetch(`${base}${WIRE.invokePath}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${options.token}` },
          body: JSON.stringify({ method, input }),
        });
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new StudioApiError('unreachable', t('client.unreachable', { base, reason }));
      }
      const text = await response.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      if (typeof body === 'object' && body !== null && 'ok' in body) {
        const envelope = body as { ok: unknown; result?: unknown; error?: unknown };
        if (envelope.ok === true && response.ok) return resultInUiLanguage(method, envelope.result) as MethodOutput<M>;
        const parsed = ApiErrorShape.safeParse(envelope.error);
        if (envelope.ok === false && parsed.success) {
          throw new StudioApiError(parsed.data.code, sayPhrase(parsed.data.phrase, parsed.data.message), parsed.data.details);
        }
      }
      if (response.status === 401 || response.status === 403) {
        throw new StudioApiError('unauthorized', t('client.unauthorized'));
      }
      throw new StudioApiError('bad_response', t('client.badResponse', { method, status: response.status }), text.slice(0, 500));
    },
    subscribe<T extends EventTopic>(topic: T, listener: (payload: EventPayload<T>) => void): () => void {
      let set = topics.get(topic);
      if (!set) {
        set = new Listeners<unknown>();
        topics.set(topic, set);
      }
      return set.add(listener as (payload: unknown) => void);
    },
    connectionState: () => state,
    onConnectionChange: (listener) => stateListeners.add(listener),
    close() {
      setState('closed');
      if (retryTimer !== null) clearTimeout(retryTimer);
      retryTimer = null;
      const ws = socket;
      socket = null;
      ws?.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Choosing a transport in the running page

interface PageEnvironment {
  bridge: StudioBridge | undefined;
  href: string;
  origin: string;
  storage: KeyValueStorage | null;
  replaceUrl(url: string): void;
  fetch: FetchLike;
  openWebSocket: WebSocketFactory;
}

/** The page's globals, reached through globalThis so this module type-checks without the DOM lib too. */
function browserEnvironment(): PageEnvironment {
  const g = globalThis as unknown as {
    studio?: StudioBridge;
    location: { href: string; origin: string };
    sessionStorage?: KeyValueStorage;
    history: { replaceState(data: unknown, unused: string, url: string): void };
    fetch: FetchLike;
    WebSocket: new (url: string) => WebSocketLike;
  };
  let storage: KeyValueStorage | null;
  try {
    storage = g.sessionStorage ?? null;
  } catch {
    storage = null; // storage can be disabled by the browser; the token then lives only in this page
  }
  return {
    bridge: g.studio,
    href: g.location.href,
    origin: g.location.origin,
    storage,
    replaceUrl: (url) => g.history.replaceState(null, '', url),
    fetch: (url, init) => g.fetch(url, init),
    openWebSocket: (url) => new g.WebSocket(url),
  };
}

/** Connects the page to the core: the Electron bridge when present, else `serve` with the page's token. */
export function connectStudio(env: PageEnvironment = browserEnvironment()): StudioConnection {
  if (env.bridge && typeof env.bridge.invoke === 'function') return createBridgeClient(env.bridge);
  const { token, cleanUrl } = resolveToken(env.href, env.storage);
  if (cleanUrl !== null) env.replaceUrl(cleanUrl);
  if (token === null) {
    throw new StudioApiError('missing_token', t('client.missingToken'));
  }
  return createHttpClient({ baseUrl: env.origin, token, fetch: env.fetch, openWebSocket: env.openWebSocket });
}
