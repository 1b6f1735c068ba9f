// A model folder opened for chat: its program (the same definition training lowers), the decode graph with the
// base weights loaded once, its tokenizer and chat template, and PEFT adapters read from disk as inputs.
// A conversation is rendered through the chat template with add_generation_prompt, tokenized as transformers'
// apply_chat_template does (no extra special tokens: the template writes them), and answered by the decode loop.

import { openModelFolder, type ModelSpec } from '../../formats/model/index.ts';
import { HfTokenizer, renderChat } from '../../formats/tokenizer/index.ts';
import { readAdapter, layerScale } from '../../formats/peft/index.ts';
import type { ChatMessage } from '../../formats/dataset/types.ts';
import { buildProgramFromSpec } from '../../model/families/index.ts';
import { programWeightReader } from '../models/load.ts';
import type { BaseDtype } from '../executors/index.ts';
import { quantizeProgram } from '../quant/program.ts';
import { Decoder, type AdapterFactors, type AttachedAdapter } from './decoder.ts';
import { generate, type FinishReason, type GenerationResult } from './generate.ts';
import type { SamplingOptions } from './sampling.ts';

export interface LoadedAdapter {
  factors: AdapterFactors;
  dir: string;
  /** The chat template the adapter was trained with, when it saved one. */
  chatTemplate: string | null;
}

/** Reads a PEFT adapter folder for this model: each LoRA module with its effective scale (alpha/rank patterns). */
export async function loadAdapter(dir: string, spec: ModelSpec, name = dir): Promise<LoadedAdapter> {
  const adapter = await readAdapter(dir, spec);
  const extra = [...adapter.extra.keys()];
  if (extra.length)
    throw new Error(`${dir}: the adapter also changes base tensors (${extra.slice(0, 3).join(', ')}${extra.length > 3 ? ', …' : ''}: trained biases or modules_to_save); chat attaches LoRA factors only — merge this adapter into the model instead`);
  const layers: AdapterFactors['layers'] = new Map();
  for (const [module, l] of adapter.layers) layers.set(module, { r: l.r, A: l.A, B: l.B, scale: layerScale(adapter.config, l) });
  return { factors: { name, layers }, dir, chatTemplate: adapter.trainingTemplate?.chatTemplate ?? null };
}

/** A conversation's prompt ids: through the chat template with the generation prompt, no extra special tokens. */
export function chatPromptIds(tokenizer: HfTokenizer, messages: ChatMessage[], chatTemplate?: string | null): number[] {
  if (messages.length === 0) throw new Error('chat: the conversation has no messages');
  const text = renderChat(tokenizer, messages, { addGenerationPrompt: true, ...(chatTemplate ? { template: chatTemplate } : {}) });
  return tokenizer.encode(text, { addSpecialTokens: false });
}

/** What a backend that is not the engine needs of a model folder to chat: its spec, tokenizer and end tokens. */
export class ChatPrompter {
  private constructor(
    readonly spec: ModelSpec,
    readonly tokenizer: HfTokenizer,
    readonly eosTokenIds: number[],
  ) {}

  static async open(dir: string): Promise<ChatPrompter> {
    const folder = await openModelFolder(dir);
    try {
      const tokenizer = HfTokenizer.load(dir);
      return new ChatPrompter(folder.spec, tokenizer, eosIds(folder.spec, tokenizer));
    } finally {
      await folder.close();
    }
  }

  promptIds(messages: ChatMessage[], chatTemplate?: string | null): number[] {
    return chatPromptIds(this.tokenizer, messages, chatTemplate);
  }
}

function eosIds(spec: ModelSpec, tokenizer: HfTokenizer): number[] {
  const eos = new Set(spec.eosTokenIds);
  if (tokenizer.special.eos) eos.add(tokenizer.special.eos.id);
  return [...eos];
}

export interface ChatOptions extends SamplingOptions {
  maxNewTokens: number;
  stop: string[];
  /** A chat template to use instead of the tokenizer's (e.g. an adapter's training template). */
  chatTemplate?: string | null;
  signal?: AbortSignal;
  onDelta?(delta: string): void;
}

export interface ChatAnswer extends GenerationResult {
  finishReason: FinishReason;
  adapters: string[];
}

export class ChatModel {
  private constructor(
    readonly dir: string,
    readonly spec: ModelSpec,
    readonly tokenizer: HfTokenizer,
    readonly decoder: Decoder,
    readonly eosTokenIds: number[],
  ) {}

  /** quant: hold the base's linear weights as NF4 (QLoRA's 4-bit base, as bitsandbytes loads it). baseDtype: hold
   *  the float base as f16/bf16 (half the memory, widened to float32 per use; default f32, exact). */
  static async open(
    dir: string,
    o: { threads?: number; quant?: { doubleQuant: boolean } | null; baseDtype?: BaseDtype } = {},
  ): Promise<ChatModel> {
    const folder = await openModelFolder(dir);
    try {
      const base = buildProgramFromSpec(folder.spec); // the same definition the trainer uses
      const program = o.quant ? quantizeProgram(base) : base;
      // read one tensor at a time into the session's weight file: the base never sits whole in JavaScript
      const weights = programWeightReader(folder, program, o.quant ?? undefined);
      const tokenizer = HfTokenizer.load(dir);
      const decoder = await Decoder.create({ program, weights, threads: o.threads, baseDtype: o.baseDtype });
      return new ChatModel(dir, folder.spec, tokenizer, decoder, eosIds(folder.spec, tokenizer));
    } finally {
      await folder.close();
    }
  }

  loadAdapter(dir: string, name?: string): Promise<LoadedAdapter> {
    return loadAdapter(dir, this.spec, name);
  }

  /** The prompt's token ids: the conversation through the chat template, ending with the assistant's header. */
  promptIds(messages: ChatMessage[], chatTemplate?: string | null): number[] {
    return chatPromptIds(this.tokenizer, messages, chatTemplate);
  }

  /** One answer with these adapters attached (none = the base model). */
  async answer(messages: ChatMessage[], adapters: readonly AttachedAdapter[], o: ChatOptions): Promise<ChatAnswer> {
    const ids = this.promptIds(messages, o.chatTemplate);
    const view = this.decoder.withAdapters(adapters);
    const r = await generate(view, this.tokenizer, ids, { ...o, eosTokenIds: this.eosTokenIds }, { onDelta: o.onDelta, signal: o.signal });
    return { ...r, adapters: view.adapters };
  }

  dispose(): Promise<void> {
    return this.decoder.dispose();
  }
}
