// The one error type the core throws across its boundary. Faces turn it into ApiErrorShape unchanged, so a
// code chosen here is what the browser, the desktop window and the CLI all see.
import type { ApiErrorShape } from '../../common/api/contract.ts';

export type ErrorCode = ApiErrorShape['code'];

export class StudioError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'StudioError';
    this.code = code;
    this.details = details;
  }

  toShape(): ApiErrorShape {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/** Any thrown value as an ApiErrorShape; unexpected errors become `internal` with their message kept. */
export function toApiError(err: unknown): ApiErrorShape {
  if (err instanceof StudioError) return err.toShape();
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'internal', message: `internal error: ${message}` };
}

export function notFound(what: string, id: string): StudioError {
  return new StudioError('not_found', `no ${what} with id "${id}"`, { id });
}
