// `serve`: the studio in a browser. One node:http server gives the built renderer, POST /api/invoke and the
// WebSocket /api/events, all in front of the same core the desktop app uses. Bound to 127.0.0.1 unless told
// otherwise; every API call and event stream needs the token.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { resolve } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { WIRE, type ApiErrorShape } from '../../common/api/contract.ts';
import type { StudioCore } from '../core/index.ts';
import {
  bearerToken,
  contentSecurityPolicy,
  generateToken,
  hostAllowed,
  hostPort,
  originAllowed,
  tokenMatches,
  validateToken,
  type OriginPolicy,
} from './security.ts';
import { missingRendererPage, rendererBuilt, sendStatic } from './static-files.ts';
import { downloadExportId, sendExportDownload } from './downloads.ts';

export const DEFAULT_RENDERER_DIR = resolve(import.meta.dirname, '../../../out/renderer');
const MAX_BODY_BYTES = 1 << 20;
const HEARTBEAT_MS = 30_000;
const MAX_BUFFERED_BYTES = 16 << 20; // a client this far behind is stuck; drop it rather than grow without bound

export interface ServeOptions {
  core: StudioCore;
  host?: string;
  port?: number;
  token?: string;
  rendererDir?: string;
}

export interface StudioServer {
  host: string;
  port: number;
  token: string;
  /** The URL to open: http://<host>:<port>/?token=<token> (127.0.0.1 when bound to every interface). */
  url: string;
  rendererBuilt: boolean;
  close(): Promise<void>;
}

const STATUS_BY_CODE: Record<ApiErrorShape['code'], number> = {
  invalid_input: 400,
  unknown_method: 400,
  unauthorized: 401,
  not_found: 404,
  conflict: 409,
  failed: 422,
  internal: 500,
};

export async function startStudioServer(options: ServeOptions): Promise<StudioServer> {
  const { core } = options;
  const host = options.host ?? '127.0.0.1';
  const token = options.token !== undefined ? validateToken(options.token) : generateToken();
  const rendererDir = resolve(options.rendererDir ?? DEFAULT_RENDERER_DIR);
  const policy: OriginPolicy = { boundHost: host, port: 0 };

  const baseHeaders = (req: IncomingMessage): Record<string, string> => ({
    'Content-Security-Policy': contentSecurityPolicy(req.headers.host ?? hostPort(host, policy.port)),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer', // the page URL carries the token: never send it to anyone
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
  });

  const sendJson = (req: IncomingMessage, res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { ...baseHeaders(req), 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(text);
  };
  const sendError = (req: IncomingMessage, res: ServerResponse, status: number, code: ApiErrorShape['code'], message: string) =>
    sendJson(req, res, status, { ok: false, error: { code, message } });

  /** Host, Origin and token checks shared by HTTP and WebSocket; returns the refusal or null. */
  const refusal = (req: IncomingMessage, givenToken: string | null): { status: number; code: ApiErrorShape['code']; message: string } | null => {
    if (!hostAllowed(req, policy)) return { status: 403, code: 'unauthorized', message: `refused: Host "${req.headers.host ?? ''}" is not this server` };
    if (!originAllowed(req)) return { status: 403, code: 'unauthorized', message: `refused: requests from origin ${req.headers.origin} are not allowed` };
    if (!tokenMatches(token, givenToken)) return { status: 401, code: 'unauthorized', message: 'missing or wrong token: open the URL that `serve` printed' };
    return null;
  };

  const handleInvoke = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      return sendError(req, res, 405, 'invalid_input', `${WIRE.invokePath} accepts POST only`);
    }
    const refused = refusal(req, bearerToken(req));
    if (refused) return sendError(req, res, refused.status, refused.code, refused.message);
    let body: string;
    try {
      body = await readBody(req, MAX_BODY_BYTES);
    } catch (err) {
      res.setHeader('Connection', 'close');
      return sendError(req, res, 413, 'invalid_input', (err as Error).message);
    }
    let request: { method?: unknown; input?: unknown };
    try {
      request = JSON.parse(body) as typeof request;
    } catch {
      return sendError(req, res, 400, 'invalid_input', 'the request body is not JSON; expected {"method": "...", "input": {...}}');
    }
    if (typeof request !== 'object' || request === null || typeof request.method !== 'string') {
      return sendError(req, res, 400, 'invalid_input', 'the request body must be {"method": "<name>", "input": {...}}');
    }
    const outcome = await core.invokeSafe(request.method, request.input);
    sendJson(req, res, outcome.ok ? 200 : STATUS_BY_CODE[outcome.error.code], outcome);
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === WIRE.invokePath) {
      handleInvoke(req, res).catch((err) => {
        console.error('serve: invoke failed:', err);
        if (!res.headersSent) sendError(req, res, 500, 'internal', 'internal error');
      });
      return;
    }
    const downloadId = downloadExportId(url.pathname);
    if (downloadId !== null) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(req, res, 405, 'invalid_input', 'downloads accept GET only');
      // a link the browser follows cannot carry a header: the token comes as ?token=, as for the event stream
      const refused = refusal(req, url.searchParams.get('token') ?? bearerToken(req));
      if (refused) return sendError(req, res, refused.status, refused.code, refused.message);
      sendExportDownload(core, downloadId, req, res, baseHeaders(req)).catch((err) => {
        console.error('serve: download failed:', err);
        if (!res.headersSent) sendError(req, res, 500, 'internal', 'internal error');
      });
      return;
    }
    if (url.pathname.startsWith('/api/')) return sendError(req, res, 404, 'not_found', `no API endpoint ${url.pathname}`);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...baseHeaders(req), Allow: 'GET, HEAD' });
      return res.end();
    }
    if (!hostAllowed(req, policy)) return sendError(req, res, 403, 'unauthorized', `refused: Host "${req.headers.host ?? ''}" is not this server`);
    if (!rendererBuilt(rendererDir)) {
      res.writeHead(503, { ...baseHeaders(req), 'Content-Type': 'text/html; charset=utf-8' });
      return res.end(missingRendererPage(rendererDir));
    }
    sendStatic(res, rendererDir, url.pathname, baseHeaders(req), req.method);
  });

  // ── events over WebSocket ─────────────────────────────────────────────────────────────────────
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  server.on('upgrade', (req, socket: Socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== WIRE.eventsPath) return rejectUpgrade(socket, 404, 'Not Found');
    const refused = refusal(req, url.searchParams.get('token'));
    if (refused) return rejectUpgrade(socket, refused.status, refused.message);
    wss.handleUpgrade(req, socket, head, (ws) => attach(ws));
  });

  const attach = (ws: WebSocket) => {
    let alive = true;
    ws.on('pong', () => (alive = true));
    const heartbeat = setInterval(() => {
      if (!alive) return ws.terminate();
      alive = false;
      ws.ping();
    }, HEARTBEAT_MS);
    const unsubscribe = core.subscribe((event) => {
      if (ws.readyState !== ws.OPEN) return;
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES) return ws.close(1013, 'event stream too far behind; reconnect');
      ws.send(JSON.stringify(event));
    });
    // The stream is one-way; anything the client sends is ignored (pings are handled by ws).
    ws.on('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
    });
    ws.on('error', () => ws.terminate());
  };

  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolvePromise();
    });
  });
  policy.port = (server.address() as AddressInfo).port;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const url = `http://${hostPort(urlHost, policy.port)}/?token=${token}`;

  let closing: Promise<void> | null = null;
  return {
    host,
    port: policy.port,
    token,
    url,
    rendererBuilt: rendererBuilt(rendererDir),
    close: () =>
      (closing ??= new Promise<void>((resolvePromise) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.close(() => resolvePromise());
        server.closeAllConnections();
      })),
  };
}

/** Past this many bytes an oversized body is no longer drained: the socket is closed (the client may see a reset). */
const MAX_DRAIN_BYTES = 64 << 20;

/**
 * The body as text, or a rejection once it is known to exceed `limit`. An oversized body is still read to its end
 * (up to MAX_DRAIN_BYTES, keeping nothing) before the rejection, so the 413 answer is sent to a client that has
 * finished sending: answering while it still writes would close the socket under it (a broken pipe, not a 413).
 */
function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    const refuse = () => reject(new Error(`the request body is larger than ${limit} bytes`));
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (tooLarge) {
        if (size > MAX_DRAIN_BYTES) {
          req.removeAllListeners('data');
          refuse();
        }
        return;
      }
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => (tooLarge ? refuse() : resolvePromise(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

function rejectUpgrade(socket: Socket, status: number, message: string): void {
  const reason = status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Not Found';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(message)}\r\n\r\n${message}`);
}
