// What `serve` checks on every API request and WebSocket upgrade: the token, the Origin, the Host.
// The token is the real lock (printed only to the person who started `serve`); the Origin check stops a
// foreign web page from using a token it somehow learned, and the Host check (on a loopback bind) stops
// DNS-rebinding pages from posing as 127.0.0.1.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

const TOKEN_PATTERN = /^[A-Za-z0-9._~-]{16,256}$/;

/** Checks a token given by the user (`--token`, LORA_STUDIO_TOKEN): it travels in URLs, so URL-safe only. */
export function validateToken(token: string): string {
  if (!TOKEN_PATTERN.test(token)) {
    throw new Error('the serve token must be 16 to 256 characters of A-Z, a-z, 0-9, ".", "_", "~" or "-"');
  }
  return token;
}

/** Constant-time comparison (hashing first makes the lengths equal). */
export function tokenMatches(expected: string, given: string | null | undefined): boolean {
  if (!given) return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}

export function bearerToken(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1]! : null;
}

export function isLoopbackHost(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** `host:port` as it appears in a URL (IPv6 in brackets). */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export interface OriginPolicy {
  boundHost: string;
  port: number;
}

/** The Host header must name this server when it listens on loopback only. */
export function hostAllowed(req: IncomingMessage, policy: OriginPolicy): boolean {
  if (!isLoopbackHost(policy.boundHost)) return true; // bound to a LAN/any address: any name may reach it
  const host = req.headers.host;
  if (!host) return false;
  const allowed = ['127.0.0.1', 'localhost', '[::1]'].map((h) => `${h}:${policy.port}`);
  return allowed.includes(host.toLowerCase());
}

/**
 * A request may carry no Origin (curl, the CLI, Node); when it does, it must be this server's own
 * origin: the page was loaded from the same scheme://host:port the request goes to.
 */
export function originAllowed(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  const host = req.headers.host;
  if (!host) return false;
  return origin.toLowerCase() === `http://${host.toLowerCase()}`;
}

/** The Content-Security-Policy for the renderer: our own scripts only, no eval, our own WebSocket. */
export function contentSecurityPolicy(requestHost: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'", // React's style={} props
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self' ws://${requestHost}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}
