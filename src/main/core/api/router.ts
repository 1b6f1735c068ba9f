// The API router: the one place inputs are validated. Every face calls `invoke(method, input)` with
// whatever arrived over its wire; this checks the method exists, parses the input with the contract's
// schema (unknown fields are refused, so a typo is an error rather than silently ignored), runs the
// handler, and checks the output against the contract too.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { methods, type ApiErrorShape, type MethodName } from '../../../common/api/contract.ts';
import { describeSchemaIssues } from '../../../common/api/schema-walk.ts';
import { say } from '../../../common/api/phrases.ts';
import { StudioError, toApiError } from '../errors.ts';
import { handlers } from './handlers/index.ts';
import type { CoreContext, Handler } from './handlers/types.ts';

export type InvokeResult = { ok: true; result: unknown } | { ok: false; error: ApiErrorShape };

const strictInputs = new Map<string, z.ZodType>();

function inputSchema(method: MethodName): z.ZodType {
  let schema = strictInputs.get(method);
  if (!schema) {
    const declared: z.ZodType = methods[method].input;
    schema = declared instanceof z.ZodObject ? declared.strict() : declared;
    strictInputs.set(method, schema);
  }
  return schema;
}

export function isMethodName(name: unknown): name is MethodName {
  return typeof name === 'string' && Object.hasOwn(methods, name);
}

/** Formats zod issues as "field: problem" so the message names what to fix (an unknown field with the name it likely meant). */
export function describeIssues(issues: readonly z.core.$ZodIssue[], schema?: z.ZodType): { message: string; fields: { path: string; message: string }[] } {
  const fields = schema
    ? describeSchemaIssues(schema, issues)
    : issues.map((issue) => ({ path: issue.path.map(String).join('.') || '(input)', message: issue.message }));
  return { message: fields.map((f) => `${f.path}: ${f.message}`).join('; '), fields };
}

export async function route(method: unknown, input: unknown, ctx: CoreContext): Promise<unknown> {
  if (!isMethodName(method)) {
    throw new StudioError('unknown_method', `unknown method ${JSON.stringify(method)}; known methods: ${Object.keys(methods).join(', ')}`);
  }
  const parsed = inputSchema(method).safeParse(input ?? {});
  if (!parsed.success) {
    const { message, fields } = describeIssues(parsed.error.issues, inputSchema(method));
    throw new StudioError('invalid_input', say('error.invalidInput', { method, fields: message }), { fields });
  }
  const handler = handlers[method] as Handler<MethodName>;
  const result = await handler(parsed.data as never, ctx);
  const checked = (methods[method].output as z.ZodType).safeParse(result);
  if (!checked.success) {
    throw new StudioError('internal', `${method} produced output outside the contract: ${describeIssues(checked.error.issues).message}`);
  }
  return checked.data;
}

/** `route`, with every failure turned into the wire's error shape. */
export async function routeSafe(method: unknown, input: unknown, ctx: CoreContext): Promise<InvokeResult> {
  try {
    return { ok: true, result: await route(method, input, ctx) };
  } catch (err) {
    if (!(err instanceof StudioError)) {
      // An unexpected error: its stack goes to a log file, the terminal gets one line saying where.
      const log = join(ctx.dataDir, 'logs', 'core.log');
      try {
        mkdirSync(dirname(log), { recursive: true });
        appendFileSync(log, `${new Date().toISOString()} ${String(method)} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      } catch {
        // a log we cannot write must not hide the answer
      }
      console.error(`${String(method)} failed: ${err instanceof Error ? err.message : String(err)} (details in ${log})`);
    }
    return { ok: false, error: toApiError(err) };
  }
}
