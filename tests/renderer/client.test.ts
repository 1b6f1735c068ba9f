// The renderer's StudioClient: token handling, transport choice, and the HTTP + WebSocket transport
// exercised against a real socket server that speaks serve's wire protocol.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { say } from '../../src/common/api/phrases.ts';
import { setCurrentLocale } from '../../src/renderer/src/i18n/locale.ts';
import {
  connectStudio,
  createBridgeClient,
  createHttpClient,
  resolveToken,
  StudioApiError,
  toStudioApiError,
  TOKEN_STORAGE_KEY,
  type ConnectionState,
  type KeyValueStorage,
  type StudioBridge,
  type StudioConnection,
} from '../../src/renderer/src/api/client.ts';

class MemoryStorage implements KeyValueStorage {
  readonly map = new Map<string, string>();
  getItem(key: string) {
    return this.map.get(key) ?? null;
  }
  setItem(key: string, value: string) {
    this.map.set(key, value);
  }
  removeItem(key: string) {
    this.map.delete(key);
  }
}

describe('resolveToken', () => {
  it('takes the token from the address, remembers it and gives the address without it', () => {
    const storage = new MemoryStorage();
    const { token, cleanUrl } = resolveToken('http://127.0.0.1:4000/?token=abc123&view=x#/runs', storage);
    expect(token).toBe('abc123');
    expect(storage.getItem(TOKEN_STORAGE_KEY)).toBe('abc123');
    expect(cleanUrl).toBe('http://127.0.0.1:4000/?view=x#/runs');
  });

  it('falls back to the remembered token after the address was cleaned (a reload)', () => {
    const storage = new MemoryStorage();
    storage.setItem(TOKEN_STORAGE_KEY, 'remembered');
    expect(resolveToken('http://127.0.0.1:4000/#/projects', storage)).toEqual({ token: 'remembered', cleanUrl: null });
  });

  it('prefers a new token in the address over a remembered one (serve was restarted)', () => {
    const storage = new MemoryStorage();
    storage.setItem(TOKEN_STORAGE_KEY, 'old');
    expect(resolveToken('http://127.0.0.1:4000/?token=new', storage).token).toBe('new');
    expect(storage.getItem(TOKEN_STORAGE_KEY)).toBe('new');
  });

  it('has no token when neither the address nor storage carries one, or it is blank', () => {
    expect(resolveToken('http://127.0.0.1:4000/', new MemoryStorage()).token).toBeNull();
    expect(resolveToken('http://127.0.0.1:4000/?token=', new MemoryStorage()).token).toBeNull();
    expect(resolveToken('http://127.0.0.1:4000/?token=t', null)).toEqual({ token: 't', cleanUrl: 'http://127.0.0.1:4000/' });
  });
});

describe('connectStudio', () => {
  const noNetwork = {
    fetch: () => Promise.reject(new Error('no network in this test')),
    openWebSocket: () => ({ onopen: null, onclose: null, onerror: null, onmessage: null, close() {} }),
  };

  it('uses the Electron bridge when the preload exposed one', async () => {
    const calls: [string, unknown][] = [];
    const bridge: StudioBridge = {
      invoke: async (method, input) => {
        calls.push([method, input]);
        return [];
      },
      subscribe: () => () => {},
    };
    const client = connectStudio({ bridge, href: 'file:///app/index.html', origin: 'null', storage: null, replaceUrl: () => {}, ...noNetwork });
    expect(client.transport).toBe('ipc');
    expect(client.connectionState()).toBe('connected');
    await expect(client.invoke('projects.list', {})).resolves.toEqual([]);
    expect(calls).toEqual([['projects.list', {}]]);
  });

  it('strips the token from the address bar and speaks HTTP without a bridge', () => {
    const replaced: string[] = [];
    const client = connectStudio({
      bridge: undefined,
      href: 'http://127.0.0.1:4000/?token=secret#/settings',
      origin: 'http://127.0.0.1:4000',
      storage: new MemoryStorage(),
      replaceUrl: (url) => replaced.push(url),
      ...noNetwork,
    });
    expect(client.transport).toBe('http');
    expect(replaced).toEqual(['http://127.0.0.1:4000/#/settings']);
    client.close();
  });

  it('refuses to start without a token, saying which address to open', () => {
    let error: unknown;
    try {
      connectStudio({ bridge: undefined, href: 'http://127.0.0.1:4000/', origin: 'http://127.0.0.1:4000', storage: new MemoryStorage(), replaceUrl: () => {}, ...noNetwork });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(StudioApiError);
    expect((error as StudioApiError).code).toBe('missing_token');
    expect((error as StudioApiError).message).toContain('lora-studio serve');
    expect((error as StudioApiError).message).toContain('?token=');
  });
});

describe('a failed job’s error in the UI’s language', () => {
  it('renders a job row’s errorPhrase from job.status events and jobs.get / jobs.list, and leaves a row without one', async () => {
    const said = say('dataset.formatUnknown', { file: 'a.jsonl', columns: 'foo' });
    const failed = { id: 'j1', status: 'failed', error: said.message, errorPhrase: said.phrase };
    const plain = { id: 'j2', status: 'failed', error: 'the worker exited with code 1' };
    let listener: ((payload: unknown) => void) | undefined;
    const client = createBridgeClient({
      invoke: (method) => Promise.resolve(method === 'jobs.list' ? [failed, plain] : failed),
      subscribe: (_topic, l) => {
        listener = l;
        return () => {};
      },
    });
    const seen: unknown[] = [];
    client.subscribe('job.status', (job) => seen.push(job));
    setCurrentLocale('ko');
    try {
      listener!(failed);
      const korean = 'a.jsonl: 열(foo)만으로는 데이터셋 형식을 알 수 없습니다';
      expect((seen[0] as { error: string }).error.startsWith(korean)).toBe(true);
      expect(((await client.invoke('jobs.get', { id: 'j1' })) as { error: string }).error.startsWith(korean)).toBe(true);
      const listed = (await client.invoke('jobs.list', {})) as { error: string }[];
      expect(listed[0].error.startsWith(korean)).toBe(true);
      expect(listed[1].error).toBe('the worker exited with code 1');
    } finally {
      setCurrentLocale('en');
    }
    listener!(failed);
    expect((seen[1] as { error: string }).error).toBe(said.message);
  });
});

describe('bridge client errors', () => {
  it('keeps the core error code and strips Electron’s remote-method prefix', async () => {
    const client = createBridgeClient({
      invoke: () => Promise.reject(Object.assign(new Error("Error invoking remote method 'studio:invoke': Error: A project named “a” already exists."), { code: 'conflict' })),
      subscribe: () => () => {},
    });
    const error = await client.invoke('projects.create', { name: 'a' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StudioApiError);
    expect(error).toMatchObject({ code: 'conflict', message: 'A project named “a” already exists.' });
  });

  it('turns an unknown rejection into an internal error with its message', () => {
    expect(toStudioApiError(new Error('boom'))).toMatchObject({ code: 'internal', message: 'boom' });
    expect(toStudioApiError('plain text')).toMatchObject({ code: 'internal', message: 'plain text' });
  });
});

describe('HTTP + WebSocket client against a wire-protocol server', () => {
  const TOKEN = 'test-token-0123456789';
  let server: Server;
  let sockets: WebSocketServer;
  let baseUrl: string;
  let received: { method: string; input: unknown; authorization: string | undefined }[];
  let reply: (method: string) => { status: number; body: string };
  const clients: StudioConnection[] = [];

  const readBody = (request: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => resolve(body));
    });

  beforeEach(async () => {
    received = [];
    reply = () => ({ status: 200, body: JSON.stringify({ ok: true, result: [] }) });
    server = createServer(async (request, response) => {
      if (request.method === 'POST' && request.url === '/api/invoke') {
        const { method, input } = JSON.parse(await readBody(request)) as { method: string; input: unknown };
        received.push({ method, input, authorization: request.headers.authorization });
        const { status, body } = request.headers.authorization === `Bearer ${TOKEN}` ? reply(method) : { status: 401, body: 'no' };
        response.writeHead(status, { 'content-type': 'application/json' }).end(body);
        return;
      }
      response.writeHead(404).end();
    });
    sockets = new WebSocketServer({ noServer: true });
    server.on('upgrade', (request, socket, head) => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      if (url.pathname !== '/api/events' || url.searchParams.get('token') !== TOKEN) {
        socket.destroy();
        return;
      }
      sockets.handleUpgrade(request, socket, head, (ws) => sockets.emit('connection', ws));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    for (const ws of sockets.clients) ws.terminate();
    sockets.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const connect = (token = TOKEN) => {
    const client = createHttpClient({
      baseUrl: `${baseUrl}/`,
      token,
      fetch: (url, init) => fetch(url, init),
      openWebSocket: (url) => new WebSocket(url),
      reconnectDelaysMs: [20],
    });
    clients.push(client);
    return client;
  };

  const waitForState = (client: StudioConnection, wanted: ConnectionState) =>
    new Promise<void>((resolve, reject) => {
      if (client.connectionState() === wanted) return resolve();
      const timer = setTimeout(() => reject(new Error(`still ${client.connectionState()}, wanted ${wanted}`)), 3000);
      const stop = client.onConnectionChange((state) => {
        if (state === wanted) {
          clearTimeout(timer);
          stop();
          resolve();
        }
      });
    });

  it('posts {method, input} with the bearer token and returns the result', async () => {
    reply = () => ({ status: 200, body: JSON.stringify({ ok: true, result: [{ id: 'p1', name: 'Support bot', description: '', createdAt: 'x', updatedAt: 'x' }] }) });
    const projects = await connect().invoke('projects.list', {});
    expect(projects.map((p) => p.name)).toEqual(['Support bot']);
    expect(received).toEqual([{ method: 'projects.list', input: {}, authorization: `Bearer ${TOKEN}` }]);
  });

  it('rejects with the core’s error code and message', async () => {
    reply = () => ({ status: 409, body: JSON.stringify({ ok: false, error: { code: 'conflict', message: 'A project named “x” already exists.' } }) });
    const error = await connect().invoke('projects.create', { name: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StudioApiError);
    expect(error).toMatchObject({ code: 'conflict', message: 'A project named “x” already exists.' });
  });

  it('says the page was refused when the token is wrong', async () => {
    const error = await connect('wrong').invoke('projects.list', {}).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'unauthorized' });
    expect((error as Error).message).toContain('?token=');
  });

  it('names the method and status when the reply is not the API’s', async () => {
    reply = () => ({ status: 502, body: '<html>Bad gateway</html>' });
    const error = await connect().invoke('system.doctor', {}).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'bad_response', details: '<html>Bad gateway</html>' });
    expect((error as Error).message).toContain('system.doctor');
    expect((error as Error).message).toContain('502');
  });

  it('says the server is unreachable when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const client = createHttpClient({
      baseUrl: `http://127.0.0.1:${port}`,
      token: TOKEN,
      fetch: (url, init) => fetch(url, init),
      openWebSocket: (url) => new WebSocket(url),
      reconnectDelaysMs: [1000],
    });
    clients.push(client);
    const error = await client.invoke('projects.list', {}).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'unreachable' });
    expect((error as Error).message).toContain(`127.0.0.1:${port}`);
  });

  it('delivers event frames to the listeners of their topic only', async () => {
    const client = connect();
    const progress: unknown[] = [];
    const logs: unknown[] = [];
    client.subscribe('job.progress', (payload) => progress.push(payload));
    const stopLogs = client.subscribe('job.log', (payload) => logs.push(payload));
    await waitForState(client, 'connected');
    const frame = { topic: 'job.progress', payload: { jobId: 'j1', progress: 0.5, message: 'half' } };
    for (const ws of sockets.clients) {
      ws.send('not json');
      ws.send(JSON.stringify({ payload: 'no topic' }));
      ws.send(JSON.stringify(frame));
    }
    stopLogs();
    for (const ws of sockets.clients) ws.send(JSON.stringify({ topic: 'job.log', payload: { jobId: 'j1', level: 'info', line: 'x', at: 'now' } }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(progress).toEqual([frame.payload]);
    expect(logs).toEqual([]);
  });

  it('reports reconnecting when the event stream drops, then reconnects and keeps delivering', async () => {
    const client = connect();
    const states: ConnectionState[] = [];
    client.onConnectionChange((state) => states.push(state));
    const seen: unknown[] = [];
    client.subscribe('job.status', (payload) => seen.push(payload));
    await waitForState(client, 'connected');
    for (const ws of sockets.clients) ws.terminate();
    await waitForState(client, 'reconnecting');
    await waitForState(client, 'connected');
    expect(states).toEqual(['connected', 'reconnecting', 'connected']);
    for (const ws of sockets.clients) ws.send(JSON.stringify({ topic: 'job.status', payload: { id: 'j2' } }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen).toEqual([{ id: 'j2' }]);
  });

  it('stops reconnecting once closed', async () => {
    const client = connect();
    await waitForState(client, 'connected');
    client.close();
    expect(client.connectionState()).toBe('closed');
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(sockets.clients.size).toBe(0);
    expect(client.connectionState()).toBe('closed');
  });
});
