/**
 * What a dataset's rows mean: format detection from the columns, the user's column mapping, and the
 * normalisation of each raw row into an Example with a problem for every field that is not as expected.
 */
import type { ChatMessage, Example } from './types.ts';
import type { DatasetProblem } from './problems.ts';
import { say, type DatasetPart, type Phrase, type Said } from '../../../common/api/phrases.ts';
import { valueKind, type RawRow } from './read.ts';

export type DatasetFormat = 'text' | 'completion' | 'alpaca' | 'chat';

/** Which columns hold what. Detected, or given by the user when names differ. */
export interface ColumnMapping {
  format: DatasetFormat;
  /** text: the column with the whole text. */
  text?: string;
  /** completion: prompt and completion columns (strings, or message lists for conversational pairs). */
  prompt?: string;
  completion?: string;
  /** alpaca: instruction, optional input, output. */
  instruction?: string;
  input?: string;
  output?: string;
  /** chat: the column with the message list, and the keys inside each message. */
  messages?: string;
  roleKey?: string;
  contentKey?: string;
  /** Source role names → system | user | assistant | tool (added to the built-in ShareGPT names). */
  roleMap?: Record<string, string>;
}

export interface Detection {
  mapping: ColumnMapping;
  /** Why this mapping, in words for the UI. */
  reason: string;
  reasonPhrase: Phrase;
}

/** A detection's reason as its English text and its phrase. */
const because = (said: Said) => ({ reason: said.message, reasonPhrase: said.phrase });

/** Rows whose format cannot be told or used. `phrase`: its sentence for a UI in another language (the worker sends it). */
export class DatasetFormatError extends Error {
  readonly phrase: Phrase | undefined;
  constructor(message: string | Said) {
    super(typeof message === 'string' ? message : message.message);
    this.name = 'DatasetFormatError';
    this.phrase = typeof message === 'string' ? undefined : message.phrase;
  }
}

export const CANONICAL_ROLES = ['system', 'user', 'assistant', 'tool'] as const;
const BUILTIN_ROLES: Record<string, string> = {
  system: 'system',
  user: 'user',
  assistant: 'assistant',
  tool: 'tool',
  // ShareGPT and friends.
  human: 'user',
  gpt: 'assistant',
  bot: 'assistant',
  model: 'assistant',
  function: 'tool',
  observation: 'tool',
  ipython: 'tool',
};

/** Pairs of column names that mean prompt → completion, in order of preference. */
const PAIR_ALIASES: Array<[string, string]> = [
  ['prompt', 'completion'],
  ['prompt', 'response'],
  ['question', 'answer'],
  ['query', 'response'],
  ['input', 'output'],
  ['input', 'target'],
  ['source', 'target'],
];

/** Guesses the format from the rows' columns (and, for message lists, their keys). */
const CHAT_COLUMNS = ['messages', 'conversations', 'conversation', 'chat', 'dialog'];

/** A cell's value in a few characters, for messages. */
function shortValue(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** `file`: named at the start of a refusal, as the import says it (several files may be in play: train and eval). */
export function detectFormat(rows: RawRow[], file = ''): Detection {
  const columns = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r.fields)) columns.add(k);
  const has = (c: string) => columns.has(c);
  const firstValue = (c: string) => rows.find((r) => r.fields[c] !== undefined && r.fields[c] !== null)?.fields[c];

  for (const c of CHAT_COLUMNS) {
    if (!has(c)) continue;
    let list = firstValue(c);
    if (typeof list === 'string') list = tryParse(list); // CSV cells can hold JSON
    if (!Array.isArray(list)) continue;
    const first = list.find((m) => m && typeof m === 'object') as Record<string, unknown> | undefined;
    const keys = first ? Object.keys(first) : [];
    const roleKey = ['role', 'from', 'speaker', 'author'].find((k) => keys.includes(k)) ?? 'role';
    const contentKey = ['content', 'value', 'text', 'message'].find((k) => keys.includes(k)) ?? 'content';
    return { mapping: { format: 'chat', messages: c, roleKey, contentKey }, ...because(say('mapping.chat', { column: c, roleKey, contentKey })) };
  }
  if (has('instruction') && (has('output') || has('response'))) {
    const output = has('output') ? 'output' : 'response';
    const input = has('input') ? 'input' : has('context') ? 'context' : undefined;
    return {
      mapping: { format: 'alpaca', instruction: 'instruction', input, output },
      ...because(say('mapping.alpaca', { input: input ?? '', output })),
    };
  }
  for (const [p, c] of PAIR_ALIASES) {
    if (has(p) && has(c)) return { mapping: { format: 'completion', prompt: p, completion: c }, ...because(say('mapping.pair', { prompt: p, completion: c })) };
  }
  for (const c of ['text', 'content', 'document']) {
    if (has(c)) return { mapping: { format: 'text', text: c }, ...because(say('mapping.text', { column: c })) };
  }
  // A chat column whose cells are never a list: the format is plain, it is the rows that are unusable.
  const chatColumn = CHAT_COLUMNS.find(has);
  if (chatColumn) {
    const bad = rows
      .filter((r) => r.fields[chatColumn] !== undefined)
      .slice(0, 5)
      .map((r) => `${r.line !== undefined ? `line ${r.line}` : `row ${r.row}`}: ${shortValue(r.fields[chatColumn])}`);
    throw new DatasetFormatError(
      say('dataset.chatNotList', { file, column: chatColumn, found: `${bad.join('; ')}${rows.length > 5 ? ' …' : ''}` }),
    );
  }
  throw new DatasetFormatError(say('dataset.formatUnknown', { file, columns: [...columns].join(', ') }));
}

/** Checks a mapping names columns the rows have; returns a list of missing ones. */
export function missingColumns(mapping: ColumnMapping, columns: Iterable<string>): string[] {
  const present = new Set(columns);
  const required: Array<string | undefined> =
    mapping.format === 'text'
      ? [mapping.text]
      : mapping.format === 'completion'
        ? [mapping.prompt, mapping.completion]
        : mapping.format === 'alpaca'
          ? [mapping.instruction, mapping.output]
          : [mapping.messages];
  return required.map((c) => c ?? '(not set)').filter((c) => !present.has(c));
}

export type NormalizeResult = { ok: true; example: Example } | { ok: false; problems: DatasetProblem[] };

/** Turns a raw row into an Example, or says every way it is wrong. */
export function normalizeRow(raw: RawRow, mapping: ColumnMapping, file: string): NormalizeResult {
  const problems: DatasetProblem[] = [];
  const problem = (field: string, message: Said, expected?: Said) =>
    problems.push({
      file,
      line: raw.line,
      row: raw.row,
      field,
      message: message.message,
      phrase: message.phrase,
      ...(expected ? { expected: expected.message, expectedPhrase: expected.phrase } : {}),
    });
  const fields = stringFields(raw.fields);

  const requireText = (column: string | undefined, what: DatasetPart, optional = false): string | null => {
    if (column === undefined) {
      problem('(mapping)', say('problem.noColumn', { part: what }));
      return null;
    }
    const value = raw.fields[column];
    if (value === undefined || value === null) {
      if (optional) return '';
      problem(column, value === null ? say('problem.isNull') : say('problem.isMissing'), say('expected.partAsString', { part: what }));
      return null;
    }
    if (typeof value !== 'string') {
      problem(column, isKind(value), say('expected.partAsString', { part: what }));
      return null;
    }
    if (!optional && value.trim() === '') {
      problem(column, say('problem.isEmpty'), say('expected.nonEmptyPart', { part: what }));
      return null;
    }
    return value;
  };

  switch (mapping.format) {
    case 'text': {
      const text = requireText(mapping.text, 'text');
      return text === null ? { ok: false, problems } : { ok: true, example: { kind: 'text', text, fields } };
    }
    case 'alpaca': {
      const instruction = requireText(mapping.instruction, 'instruction');
      const input = mapping.input === undefined ? '' : requireText(mapping.input, 'input', true);
      const output = requireText(mapping.output, 'output');
      if (instruction === null || input === null || output === null) return { ok: false, problems };
      const prompt = input.trim() === '' ? instruction : `${instruction}\n\n${input}`;
      return { ok: true, example: { kind: 'completion', prompt, completion: output, fields } };
    }
    case 'completion': {
      // Conversational pairs (TRL): prompt and completion are message lists.
      const promptValue = mapping.prompt === undefined ? undefined : raw.fields[mapping.prompt];
      if (Array.isArray(promptValue)) {
        const prompt = parseMessages(promptValue, mapping.prompt!, mapping, problem);
        const completionValue = mapping.completion === undefined ? undefined : raw.fields[mapping.completion];
        const completion = Array.isArray(completionValue)
          ? parseMessages(completionValue, mapping.completion!, mapping, problem)
          : null;
        if (!Array.isArray(completionValue)) problem(mapping.completion ?? '(mapping)', isKind(completionValue), say('expected.messageListLikePrompt'));
        if (prompt === null || completion === null || problems.length) return { ok: false, problems };
        return { ok: true, example: { kind: 'chat', messages: [...prompt, ...completion], fields } };
      }
      const prompt = requireText(mapping.prompt, 'prompt');
      const completion = requireText(mapping.completion, 'completion');
      if (prompt === null || completion === null) return { ok: false, problems };
      return { ok: true, example: { kind: 'completion', prompt, completion, fields } };
    }
    case 'chat': {
      const column = mapping.messages;
      if (column === undefined) {
        problem('(mapping)', say('problem.noColumn', { part: 'messages' }));
        return { ok: false, problems };
      }
      let value = raw.fields[column];
      if (typeof value === 'string') {
        const parsed = tryParse(value);
        if (Array.isArray(parsed)) value = parsed;
      }
      if (!Array.isArray(value)) {
        problem(column, value === undefined ? say('problem.isMissing') : isKind(value), say('expected.messageList'));
        return { ok: false, problems };
      }
      const messages = parseMessages(value, column, mapping, problem);
      if (messages === null || problems.length) return { ok: false, problems };
      if (messages.length === 0) {
        problem(column, say('problem.emptyList'), say('expected.userAndAssistant'));
        return { ok: false, problems };
      }
      if (!messages.some((m) => m.role === 'assistant')) {
        problem(column, say('problem.noAssistant'), say('expected.assistant'));
        return { ok: false, problems };
      }
      return { ok: true, example: { kind: 'chat', messages, fields } };
    }
  }
}

function parseMessages(
  list: unknown[],
  column: string,
  mapping: ColumnMapping,
  problem: (field: string, message: Said, expected?: Said) => void,
): ChatMessage[] | null {
  const roleKey = mapping.roleKey ?? 'role';
  const contentKey = mapping.contentKey ?? 'content';
  const roles = { ...BUILTIN_ROLES, ...mapping.roleMap };
  const messages: ChatMessage[] = [];
  let bad = false;
  list.forEach((m, i) => {
    const at = `${column}[${i}]`;
    if (m === null || typeof m !== 'object' || Array.isArray(m)) {
      problem(at, isKind(m), say('expected.messageObject', { roleKey, contentKey }));
      bad = true;
      return;
    }
    const msg = m as Record<string, unknown>;
    const sourceRole = msg[roleKey];
    let role: string | undefined;
    if (typeof sourceRole !== 'string') {
      problem(`${at}.${roleKey}`, sourceRole === undefined ? say('problem.isMissing') : isKind(sourceRole), say('expected.roleName'));
      bad = true;
    } else {
      role = roles[sourceRole] ?? roles[sourceRole.toLowerCase()];
      if (role === undefined || !(CANONICAL_ROLES as readonly string[]).includes(role)) {
        problem(`${at}.${roleKey}`, say('problem.unknownRole', { role: sourceRole }), say('expected.oneOf', { choices: Object.keys(roles).join(', ') }));
        bad = true;
      }
    }
    const content = messageContent(msg[contentKey]);
    if (content === null) {
      problem(`${at}.${contentKey}`, msg[contentKey] === undefined ? say('problem.isMissing') : isKind(msg[contentKey]), say('expected.messageText'));
      bad = true;
    } else if (content.trim() === '') {
      problem(`${at}.${contentKey}`, say('problem.isEmpty'), say('expected.nonEmptyMessage'));
      bad = true;
    }
    if (role !== undefined && content !== null) messages.push({ role, content });
  });
  return bad ? null : messages;
}

/** "is a number": the value a field holds instead of the expected one. */
const isKind = (value: unknown): Said => say('problem.isKind', { kind: valueKind(value) });

/** Content is a string, or OpenAI-style parts [{type: "text", text}] which are joined. */
function messageContent(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((p) => p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string')) {
    return value.map((p) => (p as { text: string }).text).join('');
  }
  return null;
}

/** Scalar columns as strings, for prompt templates. */
function stringFields(fields: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === null || v === undefined) out[k] = '';
    else if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') out[k] = String(v);
    else out[k] = JSON.stringify(v);
  }
  return out;
}

function tryParse(text: string): unknown {
  const t = text.trim();
  if (!t.startsWith('[') && !t.startsWith('{')) return undefined;
  try {
    return JSON.parse(t);
  } catch {
    return undefined;
  }
}
