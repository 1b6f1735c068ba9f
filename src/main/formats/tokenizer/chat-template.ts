/**
 * Chat templates rendered the way transformers' apply_chat_template does: Jinja with trim_blocks and
 * lstrip_blocks (@huggingface/jinja applies both), variables `messages`, `add_generation_prompt`, `tools`
 * and `documents` (None unless given), the special tokens by attribute name (bos_token, eos_token, …, only
 * those that are set), plus raise_exception and strftime_now from the Jinja runtime.
 *
 * Checked against transformers 5.17 (tests/formats/tokenizer): whitespace control, loops, namespace,
 * slicing, tojson (with indent), trim/upper/split/join, items(), raise_exception. Known differences of
 * @huggingface/jinja 0.5: a boolean, None or list printed directly renders JS-style ("true", "null",
 * "[true, null]" where Python prints "True", "None", "[True, None]"), and Python's "%" string formatting
 * and string repetition ("x" * 3) raise an error instead of rendering. Real chat templates rarely do either.
 */
import { Template } from '@huggingface/jinja';
import type { ChatMessage } from '../dataset/types.ts';
import type { HfTokenizer } from './tokenizer.ts';

export class ChatTemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChatTemplateError';
  }
}

export interface ChatRenderOptions {
  addGenerationPrompt?: boolean;
  /** A template to use instead of the tokenizer's own. */
  template?: string;
  /** Name of one of the tokenizer's named templates (e.g. "tool_use"); default "default". */
  templateName?: string;
  tools?: unknown[];
  documents?: unknown[];
  /** Extra template variables (transformers' **kwargs), e.g. enable_thinking. */
  variables?: Record<string, unknown>;
}

const compiled = new Map<string, Template>();

/** Parses a template once; the parse is cached by source text. */
export function compileChatTemplate(source: string): Template {
  let template = compiled.get(source);
  if (!template) {
    try {
      template = new Template(source);
    } catch (err) {
      throw new ChatTemplateError(`the chat template does not parse: ${(err as Error).message}`);
    }
    if (compiled.size > 64) compiled.clear();
    compiled.set(source, template);
  }
  return template;
}

/** Picks the template text: an explicit one, a named one of the tokenizer's, or its default. */
export function selectChatTemplate(tokenizer: HfTokenizer, options: ChatRenderOptions = {}): string {
  if (options.template !== undefined) return options.template;
  if (options.templateName !== undefined) {
    const named = tokenizer.chatTemplates[options.templateName];
    if (named === undefined) {
      const names = Object.keys(tokenizer.chatTemplates);
      throw new ChatTemplateError(
        `the tokenizer in ${tokenizer.dir} has no chat template named "${options.templateName}" (it has: ${names.join(', ') || 'none'})`,
      );
    }
    return named;
  }
  const template = tokenizer.chatTemplate;
  if (template === null) {
    throw new ChatTemplateError(
      `the tokenizer in ${tokenizer.dir} has no chat template (tokenizer_config.json "chat_template" or chat_template.jinja): choose a prompt template instead`,
    );
  }
  return template;
}

/** Renders a conversation to text (not tokenized), as tokenizer.apply_chat_template(..., tokenize=False). */
export function renderChat(tokenizer: HfTokenizer, messages: ChatMessage[], options: ChatRenderOptions = {}): string {
  const template = compileChatTemplate(selectChatTemplate(tokenizer, options));
  const variables: Record<string, unknown> = {
    ...tokenizer.templateTokens,
    ...options.variables,
    messages: messages.map((m) => ({ ...m })),
    add_generation_prompt: options.addGenerationPrompt ?? false,
    tools: options.tools ?? null,
    documents: options.documents ?? null,
  };
  try {
    return template.render(variables);
  } catch (err) {
    // raise_exception(...) in a template lands here with the template's own message.
    throw new ChatTemplateError(`the chat template failed: ${(err as Error).message}`);
  }
}
