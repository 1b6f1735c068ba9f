/**
 * Renders one example to training text, token ids and a per-token `trained` mask.
 *
 * - Plain text: every token is trained (the whole text is the target), EOS appended.
 * - Prompt/completion: only the completion (and the EOS after it) is trained.
 * - Chat: only assistant turns are trained. Their spans are found the way TRL finds a completion: render
 *   the conversation up to the turn with add_generation_prompt=True (the prompt) and through the turn (the
 *   prompt + completion), and check both are prefixes of the full rendering.
 *
 * Character spans become token spans by tokenizing the text up to each span boundary and checking those
 * ids are a prefix of the full ids: when a merge crosses the boundary, the boundary moves to the longest
 * common prefix and a warning says so (TRL's "Mismatch between tokenized prompt and …").
 */
import { say, type Phrase, type Said } from '../../../common/api/phrases.ts';
import type { ChatMessage, Example } from '../dataset/types.ts';
import { ChatTemplateError, renderChat, selectChatTemplate } from './chat-template.ts';
import { parsePromptTemplate, PromptTemplateError, renderPromptTemplate, type ParsedPromptTemplate } from './prompt-template.ts';
import type { HfTokenizer } from './tokenizer.ts';

/** How examples become text: stored with a run, so training and inference use the same one. */
export type TemplateSpec =
  | {
      type: 'chat';
      /** Jinja source overriding the tokenizer's chat template. */
      template?: string;
      /** One of the tokenizer's named templates. */
      templateName?: string;
      /** Prepended as a system message when a conversation has none. */
      systemPrompt?: string;
      /** Extra template variables, as apply_chat_template's keyword arguments (e.g. enable_thinking). */
      variables?: Record<string, unknown>;
    }
  | {
      type: 'prompt';
      /**
       * Text with {placeholders} naming columns, e.g. "### Question: {prompt}\n### Answer: " (the row's
       * completion is appended and trained), or "### context: {input}\n### answer: {target}" (inline target).
       * {prompt} and {completion} also reach a pair's prompt and completion when no column has that name.
       */
      template: string;
      /**
       * The placeholder where the trained completion starts. Default: {completion} or {target} when the
       * template has one; otherwise the completion is appended after the rendered template.
       */
      target?: string;
      /** placeholder → column name, for columns named differently from the placeholders. */
      columns?: Record<string, string>;
    }
  | { type: 'plain' };

export interface RenderOptions {
  /** Keep at most this many tokens (the head); longer examples are cut and reported truncated. */
  maxLength?: number;
  /** 'completion' (default): train completion/assistant tokens only; 'all': every token but the BOS. */
  trainOn?: 'completion' | 'all';
  /** Append EOS after plain text and completions (default true; chat templates emit their own end tokens). */
  appendEos?: boolean;
}

export interface RenderedExample {
  /** The text the ids encode, special tokens included (BOS/EOS added by us written out too). */
  text: string;
  ids: Int32Array;
  /** 1 = this token is a training target; the trainer shifts it into labels. */
  trained: Uint8Array;
  truncated: boolean;
  /** Token count before truncation. */
  fullLength: number;
  trainedTokens: number;
  /** Things worth showing the user (a token boundary that moved, a turn left untrained), in English. */
  warnings: string[];
  /** The same, each as a phrase (common/api/phrases.ts `render.*`) for a UI in another language. */
  warningPhrases: Phrase[];
}

export class RenderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RenderError';
  }
}

interface TextWithSpans {
  text: string;
  /** Character ranges [start, end) that are trained. */
  spans: Array<[number, number]>;
  /** Put the tokenizer's own BOS/EOS around the text (plain and prompt modes; chat templates write theirs). */
  addSpecialTokens: boolean;
  /** Append EOS, trained when the last span reaches the end of the text. */
  appendEos: boolean;
  warnings: Said[];
}

/** A renderer bound to a tokenizer and a template; parse work is done once. */
export class ExampleRenderer {
  private readonly parsedPrompt: ParsedPromptTemplate | null;

  constructor(
    readonly tokenizer: HfTokenizer,
    readonly spec: TemplateSpec,
    readonly options: RenderOptions = {},
  ) {
    this.parsedPrompt = spec.type === 'prompt' ? parsePromptTemplate(spec.template) : null;
    if (options.maxLength !== undefined && !(Number.isInteger(options.maxLength) && options.maxLength > 0)) {
      throw new RenderError(`maxLength must be a positive integer, got ${options.maxLength}`);
    }
  }

  render(example: Example): RenderedExample {
    const laid = this.layOut(example);
    return this.tokenize(laid);
  }

  /** Text only (no tokenization): what the previewer shows before tokenizing. */
  renderText(example: Example): string {
    return this.layOut(example).text;
  }

  private layOut(example: Example): TextWithSpans {
    const appendEos = this.options.appendEos ?? true;
    const spec = this.spec;
    if (spec.type === 'prompt') {
      if (example.kind === 'chat') {
        throw new RenderError('a prompt template fills columns; this row is a chat conversation: use the chat template');
      }
      const fields = { ...exampleFields(example), ...example.fields };
      const placeholders = this.parsedPrompt!.placeholders;
      const target = spec.target ?? ['completion', 'target'].find((p) => placeholders.includes(p));
      const { text, completionStart } = renderPromptTemplate(this.parsedPrompt!, fields, { columns: spec.columns, target });
      if (target !== undefined) return { text, spans: [[completionStart, text.length]], addSpecialTokens: true, appendEos, warnings: [] };
      // No target in the template: it renders the prompt; plain text trains whole, a pair's completion follows.
      if (example.kind === 'text') return { text, spans: [[0, text.length]], addSpecialTokens: true, appendEos, warnings: [] };
      const full = text + example.completion;
      return { text: full, spans: [[text.length, full.length]], addSpecialTokens: true, appendEos, warnings: [] };
    }
    if (example.kind === 'text') {
      return { text: example.text, spans: [[0, example.text.length]], addSpecialTokens: true, appendEos, warnings: [] };
    }
    if (spec.type === 'plain') {
      if (example.kind === 'chat') {
        throw new RenderError('chat conversations need a chat template; the "plain" template only joins prompt and completion');
      }
      const text = example.prompt + example.completion;
      return { text, spans: [[example.prompt.length, text.length]], addSpecialTokens: true, appendEos, warnings: [] };
    }
    const messages: ChatMessage[] =
      example.kind === 'chat'
        ? example.messages
        : [
            { role: 'user', content: example.prompt },
            { role: 'assistant', content: example.completion },
          ];
    const withSystem =
      spec.systemPrompt !== undefined && messages[0]?.role !== 'system'
        ? [{ role: 'system', content: spec.systemPrompt }, ...messages]
        : messages;
    return this.layOutChat(withSystem);
  }

  private layOutChat(messages: ChatMessage[]): TextWithSpans {
    const spec = this.spec as Extract<TemplateSpec, { type: 'chat' }>;
    const chatOptions = { template: spec.template, templateName: spec.templateName, variables: spec.variables };
    const full = renderChat(this.tokenizer, messages, chatOptions);
    const spans: Array<[number, number]> = [];
    const warnings: Said[] = [];
    const assistantTurns = messages.flatMap((m, i) => (m.role === 'assistant' ? [i] : []));
    if (assistantTurns.length === 0) warnings.push(say('render.noAssistant'));
    for (const i of assistantTurns) {
      const prompt = renderChat(this.tokenizer, messages.slice(0, i), { ...chatOptions, addGenerationPrompt: true });
      const through = renderChat(this.tokenizer, messages.slice(0, i + 1), chatOptions);
      const isLast = i === assistantTurns[assistantTurns.length - 1];
      if (!full.startsWith(prompt) || !through.startsWith(prompt) || !full.startsWith(through)) {
        const reason = `the chat template renders the conversation up to message ${i + 1} differently from the whole conversation (it rewrites earlier turns)`;
        if (isLast) throw new ChatTemplateError(`${reason}: cannot find the assistant tokens to train`);
        warnings.push(say('render.turnRewritten', { message: i + 1 }));
        continue;
      }
      spans.push([prompt.length, this.trimAfterEnd(through, prompt.length)]);
    }
    return { text: full, spans, addSpecialTokens: false, appendEos: false, warnings };
  }

  /**
   * The span through an assistant turn ends with the template's end-of-turn token, often followed by a
   * newline before the next turn: train up to the end token, not the separator after it.
   */
  private trimAfterEnd(through: string, start: number): number {
    let end = through.length;
    while (end > start && /\s/.test(through[end - 1])) end--;
    const endsWithSpecial = this.tokenizer.special.all.some((t) => through.slice(start, end).endsWith(t.content));
    return endsWithSpecial ? end : through.length;
  }

  private tokenize(laid: TextWithSpans): RenderedExample {
    const tokenizer = this.tokenizer;
    const warnings = [...laid.warnings];
    const body = tokenizer.encode(laid.text);
    const trainAll = this.options.trainOn === 'all';

    // Character boundary → token boundary, verified by tokenizing the prefix.
    const boundaries = new BoundaryFinder(tokenizer, laid.text, body);
    const tokenAt = new Map<number, number>([
      [0, 0],
      [laid.text.length, body.length],
    ]);
    for (const [start, end] of laid.spans) {
      for (const boundary of [start, end]) {
        if (tokenAt.has(boundary)) continue;
        const { token, clean } = boundaries.tokenIndex(boundary);
        if (!clean) {
          warnings.push(say('render.boundaryMoved', { at: boundary, excerpt: excerpt(laid.text, boundary), token }));
        }
        tokenAt.set(boundary, token);
      }
    }
    const bodyTrained = new Uint8Array(body.length);
    if (trainAll) bodyTrained.fill(1);
    else for (const [start, end] of laid.spans) bodyTrained.fill(1, tokenAt.get(start)!, tokenAt.get(end)!);

    const prefix = laid.addSpecialTokens ? tokenizer.prefixIds : [];
    let suffix = laid.addSpecialTokens ? tokenizer.suffixIds : [];
    const eos = tokenizer.special.eos;
    if (laid.appendEos) {
      if (!eos) throw new RenderError(`the tokenizer in ${tokenizer.dir} has no eos_token to end examples with (set appendEos: false)`);
      if (!suffix.includes(eos.id)) suffix = [...suffix, eos.id];
    }
    // Tokens after the text (EOS) are targets when the trained part runs to the end of the text.
    const lastSpan = laid.spans[laid.spans.length - 1];
    const suffixTrained = trainAll || (lastSpan !== undefined && lastSpan[1] === laid.text.length && lastSpan[0] < lastSpan[1]) ? 1 : 0;

    const fullLength = prefix.length + body.length + suffix.length;
    const length = this.options.maxLength === undefined ? fullLength : Math.min(fullLength, this.options.maxLength);
    const ids = new Int32Array(length);
    const trained = new Uint8Array(length);
    let k = 0;
    const put = (id: number, t: number) => {
      if (k < length) {
        ids[k] = id;
        trained[k] = t;
      }
      k++;
    };
    for (const id of prefix) put(id, 0);
    body.forEach((id, i) => put(id, bodyTrained[i]));
    for (const id of suffix) put(id, suffixTrained);

    let trainedTokens = 0;
    for (let i = 0; i < length; i++) trainedTokens += trained[i];
    const truncated = fullLength > length;
    if (truncated && trainedTokens === 0) warnings.push(say('render.nothingLeft', { length }));

    const prefixText = prefix.length ? tokenizer.decode(prefix) : '';
    const suffixText = suffix.length ? tokenizer.decode(suffix) : '';
    return {
      text: prefixText + laid.text + suffixText,
      ids,
      trained,
      truncated,
      fullLength,
      trainedTokens,
      warnings: warnings.map((w) => w.message),
      warningPhrases: warnings.map((w) => w.phrase),
    };
  }
}

/**
 * Maps a character offset of a text to the number of its tokens before that offset, checking that the
 * tokens of text[0, offset) are a prefix of the text's tokens (else the boundary falls inside a merge).
 *
 * Fast path: the tokenizer cuts text at added tokens (<|im_end|>, …) before anything else, so the tokens of
 * text[0, offset) are the full text's tokens through the last added token before the offset, followed by
 * the tokens of the short stretch after it. That stretch alone is tokenized and compared; any doubt (an
 * added token that strips whitespace, a pre-tokenizer that treats the start of a text specially) shows as
 * a mismatch, and the whole prefix is tokenized instead.
 */
class BoundaryFinder {
  /** Added-token occurrences in the text, in order: [start, end, id]. */
  private readonly occurrences: Array<[number, number, number]> = [];
  /** Index in the full ids of the k-th added-token id, or -1 when they do not line up with the text. */
  private readonly occurrenceIndex: number[] = [];

  constructor(
    private readonly tokenizer: HfTokenizer,
    private readonly text: string,
    private readonly ids: number[],
  ) {
    const added = [...tokenizer.addedTokens].filter((t) => t.content.length > 0).sort((a, b) => b.content.length - a.content.length);
    if (added.length === 0) return;
    const firstChars = new Set(added.map((t) => t.content[0]));
    for (let i = 0; i < text.length; i++) {
      if (!firstChars.has(text[i])) continue;
      const hit = added.find((t) => text.startsWith(t.content, i));
      if (hit) {
        this.occurrences.push([i, i + hit.content.length, hit.id]);
        i += hit.content.length - 1;
      }
    }
    const addedIds = new Set(added.map((t) => t.id));
    let k = 0;
    for (let j = 0; j < ids.length && k < this.occurrences.length; j++) {
      if (!addedIds.has(ids[j])) continue;
      this.occurrenceIndex.push(ids[j] === this.occurrences[k][2] ? j : -1);
      k++;
    }
  }

  tokenIndex(offset: number): { token: number; clean: boolean } {
    let k = -1;
    for (let i = 0; i < this.occurrences.length && this.occurrences[i][1] <= offset; i++) k = i;
    if (k >= 0 && k < this.occurrenceIndex.length && this.occurrenceIndex[k] >= 0) {
      const before = this.occurrenceIndex[k] + 1;
      const tail = this.tokenizer.encode(this.text.slice(this.occurrences[k][1], offset));
      if (tail.every((id, i) => this.ids[before + i] === id)) return { token: before + tail.length, clean: true };
    }
    const prefix = this.tokenizer.encode(this.text.slice(0, offset));
    let common = 0;
    while (common < prefix.length && common < this.ids.length && prefix[common] === this.ids[common]) common++;
    return { token: common, clean: common === prefix.length };
  }
}

/**
 * The spec with the chat template's Jinja source written in (instead of "the tokenizer's"), so a run can
 * store exactly what it trained with and inference cannot silently use another template.
 */
export function pinTemplate(tokenizer: HfTokenizer, spec: TemplateSpec): TemplateSpec {
  if (spec.type !== 'chat') return spec;
  const { templateName: _name, ...rest } = spec;
  return { ...rest, template: selectChatTemplate(tokenizer, spec) };
}

/** Convenience: render one example. Prefer an ExampleRenderer for many. */
export function renderExample(tokenizer: HfTokenizer, example: Example, spec: TemplateSpec, options: RenderOptions = {}): RenderedExample {
  return new ExampleRenderer(tokenizer, spec, options).render(example);
}

function exampleFields(example: Exclude<Example, { kind: 'chat' }>): Record<string, string> {
  return example.kind === 'text' ? { text: example.text } : { prompt: example.prompt, completion: example.completion };
}

function excerpt(text: string, at: number): string {
  return JSON.stringify(text.slice(Math.max(0, at - 12), at) + '|' + text.slice(at, at + 12)).slice(1, -1);
}

export { ChatTemplateError, PromptTemplateError };
