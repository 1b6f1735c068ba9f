// Form validation from the contract's own zod schemas, so the form and the core agree on every rule;
// the core still validates again at the boundary.
import type { z } from 'zod';
import { methods } from '../../common/api/contract.ts';
import { t } from './i18n/t.ts';
import { sayIssueMessage } from './i18n/phrase.ts';

/** The first message per top-level field, as a sentence: { name: 'A project needs a name.' }. */
export function fieldErrors(schema: z.ZodType, value: unknown): Record<string, string> {
  const result = schema.safeParse(value);
  if (result.success) return {};
  const errors: Record<string, string> = {};
  for (const issue of result.error.issues) {
    const field = issue.path.length > 0 ? String(issue.path[0]) : '_';
    if (!(field in errors)) errors[field] = sentence(issue.message);
  }
  return errors;
}

/** A check's message as a sentence, in the UI's language when it is one of the contract's phrases. */
export function sentence(message: string): string {
  const trimmed = sayIssueMessage(message).trim();
  if (trimmed === '') return trimmed;
  const capitalised = trimmed[0].toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capitalised) ? capitalised : `${capitalised}.`;
}

/**
 * Checks a project name before it is sent: the contract's rules, then that no other project has it
 * (the core enforces uniqueness too; this only answers sooner). `exceptId` is the project being renamed.
 */
export function projectNameError(name: string, existing: readonly { id: string; name: string }[], exceptId?: string): string | null {
  const errors = fieldErrors(methods['projects.create'].input, { name });
  if (errors.name) return errors.name;
  const wanted = name.trim();
  const clash = existing.find((project) => project.id !== exceptId && project.name === wanted);
  return clash ? t('projects.nameTaken', { name: wanted }) : null;
}

export function projectDescriptionError(description: string): string | null {
  return fieldErrors(methods['projects.create'].input, { name: 'x', description }).description ?? null;
}
