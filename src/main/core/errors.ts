// The one error type the core throws across its boundary. Faces turn it into ApiErrorShape unchanged, so a
// code chosen here is what the browser, the desktop window and the CLI all see.
import type { ApiErrorShape } from '../../common/api/contract.ts';
import type { Phrase, Said } from '../../common/api/phrases.ts';

export type ErrorCode = ApiErrorShape['code'];

export class StudioError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;
  /** The message as a code + parameters, when it was said with `say` (a UI in another language renders it). */
  readonly phrase: Phrase | undefined;

  /** `message`: plain English, or `say(code, params)` (common/api/phrases.ts) for the sentences the UI translates. */
  constructor(code: ErrorCode, message: string | Said, details?: unknown) {
    super(typeof message === 'string' ? message : message.message);
    this.name = 'StudioError';
    this.code = code;
    this.details = details;
    this.phrase = typeof message === 'string' ? undefined : message.phrase;
  }

  toShape(): ApiErrorShape {
    return {
      code: this.code,
      message: this.message,
      ...(this.details === undefined ? {} : { details: this.details }),
      ...(this.phrase ? { phrase: this.phrase } : {}),
    };
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
