/**
 * Plain prompt templates with placeholders, e.g. "### context: {input}\n### question: {target}".
 *
 * `{name}` is replaced by a column of the row (through the user's column mapping, name → column);
 * `{{` and `}}` are literal braces. Two ways to say what is trained:
 * - inline: one placeholder is the target: its value and everything after it is the completion;
 * - appended (no target): the template renders the prompt, and the row's completion follows it.
 */

import { say, type Phrase, type Said } from '../../../common/api/phrases.ts';

/** A template that cannot render: its English message, and the same as a phrase for a UI in another language. */
export class PromptTemplateError extends Error {
  readonly phrase: Phrase;
  constructor(said: Said) {
    super(said.message);
    this.phrase = said.phrase;
    this.name = 'PromptTemplateError';
  }
}

export type PromptTemplatePart = { literal: string } | { placeholder: string };

export interface ParsedPromptTemplate {
  parts: PromptTemplatePart[];
  placeholders: string[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

export function parsePromptTemplate(template: string): ParsedPromptTemplate {
  const parts: PromptTemplatePart[] = [];
  const placeholders: string[] = [];
  let literal = '';
  for (let i = 0; i < template.length; i++) {
    const ch = template[i];
    if (ch === '{' && template[i + 1] === '{') {
      literal += '{';
      i++;
    } else if (ch === '}' && template[i + 1] === '}') {
      literal += '}';
      i++;
    } else if (ch === '{') {
      const close = template.indexOf('}', i + 1);
      if (close < 0) throw new PromptTemplateError(say('template.unclosedBrace', { at: i + 1 }));
      const name = template.slice(i + 1, close).trim();
      if (!NAME.test(name)) {
        throw new PromptTemplateError(say('template.badName', { name, at: i + 1 }));
      }
      if (literal) parts.push({ literal });
      literal = '';
      parts.push({ placeholder: name });
      if (!placeholders.includes(name)) placeholders.push(name);
      i = close;
    } else if (ch === '}') {
      throw new PromptTemplateError(say('template.strayBrace', { at: i + 1 }));
    } else literal += ch;
  }
  if (literal) parts.push({ literal });
  if (placeholders.length === 0) throw new PromptTemplateError(say('template.noPlaceholder'));
  return { parts, placeholders };
}

export interface PromptTemplateRender {
  text: string;
  /** Character offset where the target placeholder's value starts (text.length without a target). */
  completionStart: number;
}

/**
 * Fills a template from a row's fields. `columns` maps placeholder → column name (unmapped placeholders read
 * the column of the same name); `target` names the placeholder where the completion starts.
 */
export function renderPromptTemplate(
  parsed: ParsedPromptTemplate,
  fields: Record<string, string>,
  { columns = {}, target }: { columns?: Record<string, string>; target?: string } = {},
): PromptTemplateRender {
  const targetName = target;
  if (targetName !== undefined && !parsed.placeholders.includes(targetName)) {
    throw new PromptTemplateError(say('template.noTarget', { target: targetName, have: parsed.placeholders.map((p) => `{${p}}`).join(', ') }));
  }
  let text = '';
  let completionStart = -1;
  for (const part of parsed.parts) {
    if ('literal' in part) {
      text += part.literal;
      continue;
    }
    const column = columns[part.placeholder] ?? part.placeholder;
    const value = fields[column];
    if (value === undefined) {
      const known = Object.keys(fields);
      throw new PromptTemplateError(say('template.noColumn', { placeholder: part.placeholder, column, columns: known.join(', ') }));
    }
    if (part.placeholder === targetName && completionStart < 0) completionStart = text.length;
    text += value;
  }
  return { text, completionStart: completionStart < 0 ? text.length : completionStart };
}
