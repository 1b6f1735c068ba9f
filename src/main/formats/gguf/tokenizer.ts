// tokenizer.json (+ tokenizer_config.json) → llama.cpp's tokenizer.ggml.* metadata: byte-level BPE
// (GPT-2, Llama 3, Qwen, SmolLM…) as llama.cpp's "gpt2" model with merges; SentencePiece-style BPE
// (byte_fallback, "▁" for spaces: Llama 2, Mistral, Gemma) as its "llama" model with scores.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gv, type GgufValue } from './writer.ts';
import type { ModelSpec } from '../model/spec.ts';

/** llama.cpp token types. */
export const TOKEN_TYPE = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

export class GgufTokenizerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GgufTokenizerError';
  }
}

export interface GgufTokenizerInfo {
  metadata: Map<string, GgufValue>;
  tokens: string[];
  tokenTypes: number[];
  merges: string[];
  chatTemplate: string | null;
}

type Json = Record<string, unknown>;

async function readJsonIfPresent(path: string): Promise<Json | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Json;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new GgufTokenizerError(`${path}: cannot read (${(e as Error).message})`);
  }
}

function hasByteLevel(node: unknown): boolean {
  if (!node || typeof node !== 'object') return false;
  const n = node as Json;
  if (n.type === 'ByteLevel') return true;
  if (Array.isArray(n.pretokenizers)) return n.pretokenizers.some(hasByteLevel);
  return false;
}

function tokenContent(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as Json).content === 'string') return (v as Json).content as string;
  return null;
}

/** The chat template a model folder declares: chat_template.jinja, else tokenizer_config.json's. */
export async function folderChatTemplate(dir: string): Promise<string | null> {
  try {
    return await readFile(join(dir, 'chat_template.jinja'), 'utf8');
  } catch {
    /* fall through */
  }
  const tc = await readJsonIfPresent(join(dir, 'tokenizer_config.json'));
  const t = tc?.chat_template;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) {
    const def = t.find((x) => x && (x as Json).name === 'default');
    if (def && typeof (def as Json).template === 'string') return (def as Json).template as string;
  }
  return null;
}

/**
 * Build tokenizer metadata. `pre` is llama.cpp's pre-tokenizer name (its regex set); for a plain
 * ByteLevel pre-tokenizer that is "gpt-2" (GPT-2's regex). Families with their own regex default to llama.cpp's
 * name for them; pass `pre` to override.
 */
export async function ggufTokenizerMetadata(dir: string, spec: ModelSpec, options: { pre?: string; chatTemplate?: string | null } = {}): Promise<GgufTokenizerInfo> {
  const tokPath = join(dir, 'tokenizer.json');
  const tok = await readJsonIfPresent(tokPath);
  if (!tok) throw new GgufTokenizerError(`${tokPath}: missing (a GGUF carries the tokenizer; only tokenizer.json tokenizers are supported)`);
  const model = tok.model as Json | undefined;
  if (!model || model.type !== 'BPE') throw new GgufTokenizerError(`${tokPath}: model type ${JSON.stringify(model?.type)} is not supported for GGUF (only byte-level BPE)`);
  const sentencePiece = model.byte_fallback === true && !hasByteLevel(tok.pre_tokenizer);
  if (!sentencePiece && !hasByteLevel(tok.pre_tokenizer)) {
    throw new GgufTokenizerError(`${tokPath}: BPE without a ByteLevel pre-tokenizer or byte_fallback is not supported for GGUF export`);
  }
  const vocab = model.vocab as Record<string, number>;
  const added = (Array.isArray(tok.added_tokens) ? tok.added_tokens : []) as { id: number; content: string; special?: boolean }[];
  const size = Math.max(spec.vocabSize, ...Object.values(vocab).map((i) => i + 1), ...added.map((a) => a.id + 1));
  if (size > spec.vocabSize) {
    throw new GgufTokenizerError(`${tokPath}: the tokenizer has ids up to ${size - 1} but the model's vocab_size is ${spec.vocabSize}`);
  }
  const tokens: (string | undefined)[] = new Array(size);
  const tokenTypes: number[] = new Array(size).fill(TOKEN_TYPE.NORMAL);
  for (const [t, id] of Object.entries(vocab)) tokens[id] = t;
  const unk = typeof model.unk_token === 'string' ? vocab[model.unk_token] : undefined;
  if (sentencePiece) {
    // SentencePiece pieces: <0xNN> byte-fallback tokens are BYTE, the unknown piece UNKNOWN.
    for (const [t, id] of Object.entries(vocab)) if (/^<0x[0-9A-F]{2}>$/.test(t)) tokenTypes[id] = TOKEN_TYPE.BYTE;
    if (unk !== undefined) tokenTypes[unk] = TOKEN_TYPE.UNKNOWN;
  }
  for (const a of added) {
    tokens[a.id] = a.content;
    if (a.id !== unk) tokenTypes[a.id] = a.special ? TOKEN_TYPE.CONTROL : TOKEN_TYPE.USER_DEFINED;
  }
  for (let i = 0; i < size; i++) {
    if (tokens[i] === undefined) {
      // Embedding rows beyond the tokenizer (padded vocab), as convert_hf_to_gguf names them.
      tokens[i] = `[PAD${i}]`;
      tokenTypes[i] = TOKEN_TYPE.UNUSED;
    }
  }
  const rawMerges = (model.merges ?? []) as (string | [string, string])[];
  const merges = rawMerges.map((m) => (typeof m === 'string' ? m : `${m[0]} ${m[1]}`));

  const config = (await readJsonIfPresent(join(dir, 'tokenizer_config.json'))) ?? {};
  const idOf = (field: string): number | null => {
    const content = tokenContent(config[field]);
    if (content === null) return null;
    const id = vocab[content] ?? added.find((a) => a.content === content)?.id;
    return id ?? null;
  };
  const bos = idOf('bos_token') ?? spec.bosTokenId;
  const eos = idOf('eos_token') ?? spec.eosTokenIds[0] ?? null;
  const pad = idOf('pad_token') ?? spec.padTokenId;
  let addBos = typeof config.add_bos_token === 'boolean' ? config.add_bos_token : null;
  if (addBos === null) {
    const bosContent = bos !== null ? tokens[bos] : null;
    addBos = bosContent ? JSON.stringify(tok.post_processor ?? null).includes(JSON.stringify(bosContent)) : false;
  }
  const addEos = config.add_eos_token === true;
  const chatTemplate = options.chatTemplate !== undefined ? options.chatTemplate : await folderChatTemplate(dir);
  const metadata = new Map<string, GgufValue>();
  if (sentencePiece) {
    // llama.cpp's SentencePiece tokenizer merges the adjacent pair with the highest score; giving the
    // token made by merge k the score −k reproduces the BPE merge order.
    const scores = new Array<number>(size).fill(0);
    merges.forEach((m, rank) => {
      const id = vocab[m.replace(' ', '')];
      if (id !== undefined && scores[id] === 0) scores[id] = -(rank + 1);
    });
    metadata.set('tokenizer.ggml.model', gv.str('llama'));
    metadata.set('tokenizer.ggml.pre', gv.str(options.pre ?? 'default'));
    metadata.set('tokenizer.ggml.tokens', gv.strs(tokens as string[]));
    metadata.set('tokenizer.ggml.scores', gv.f32s(scores));
    metadata.set('tokenizer.ggml.token_type', gv.i32s(tokenTypes));
    // The "▁" prefix: tokenizer.json says it with a Prepend normalizer (Llama 2) or not at all (Gemma).
    metadata.set('tokenizer.ggml.add_space_prefix', gv.bool(JSON.stringify(tok.normalizer ?? null).includes('"Prepend"')));
    if (unk !== undefined) metadata.set('tokenizer.ggml.unknown_token_id', gv.u32(unk));
  } else {
    metadata.set('tokenizer.ggml.model', gv.str('gpt2'));
    metadata.set('tokenizer.ggml.pre', gv.str(options.pre ?? detectPreTokenizer(tok.pre_tokenizer, spec)));
    metadata.set('tokenizer.ggml.tokens', gv.strs(tokens as string[]));
    metadata.set('tokenizer.ggml.token_type', gv.i32s(tokenTypes));
    metadata.set('tokenizer.ggml.merges', gv.strs(merges));
  }
  if (bos !== null) metadata.set('tokenizer.ggml.bos_token_id', gv.u32(bos));
  if (eos !== null) metadata.set('tokenizer.ggml.eos_token_id', gv.u32(eos));
  if (pad !== null) metadata.set('tokenizer.ggml.padding_token_id', gv.u32(pad));
  metadata.set('tokenizer.ggml.add_bos_token', gv.bool(addBos));
  metadata.set('tokenizer.ggml.add_eos_token', gv.bool(addEos));
  if (chatTemplate !== null) metadata.set('tokenizer.chat_template', gv.str(chatTemplate));
  return { metadata, tokens: tokens as string[], tokenTypes, merges, chatTemplate };
}

function splitPatterns(node: unknown): string[] {
  if (!node || typeof node !== 'object') return [];
  const n = node as Json;
  if (n.type === 'Split') {
    const p = n.pattern as Json | undefined;
    return typeof p?.Regex === 'string' ? [p.Regex] : typeof p?.String === 'string' ? [p.String] : [];
  }
  if (Array.isArray(n.pretokenizers)) return n.pretokenizers.flatMap(splitPatterns);
  return [];
}

/**
 * llama.cpp's name for the pre-tokenizer regex set (convert_hf_to_gguf identifies it by hashing the
 * tokenizer's output; we recognise the structure): plain ByteLevel → "gpt-2"; a Split whose digit
 * rule is \p{N}{1,3} → "llama-bpe" (Llama 3); single \p{N} → "qwen2"; Digits + ByteLevel → "smollm".
 * Unknown structures fall back by family, and `pre` in the options overrides all of this.
 */
export function detectPreTokenizer(preTokenizer: unknown, spec: Pick<ModelSpec, 'family'>): string {
  const node = preTokenizer as Json | null | undefined;
  if (node?.type === 'ByteLevel' && node.use_regex !== false) return 'gpt-2';
  const kinds = Array.isArray(node?.pretokenizers) ? (node!.pretokenizers as Json[]).map((p) => p?.type) : [];
  if (kinds.includes('Digits') && kinds.includes('ByteLevel') && splitPatterns(node).length === 0) return 'smollm';
  const patterns = splitPatterns(node);
  if (patterns.some((p) => p.includes('\\p{N}{1,3}'))) return 'llama-bpe';
  if (patterns.some((p) => /\\p\{N\}(?!\{)/.test(p) && p.includes('[^\\r\\n\\p{L}\\p{N}]?\\p{L}+'))) return 'qwen2';
  return spec.family === 'qwen2' || spec.family === 'qwen3' ? 'qwen2' : spec.family === 'llama' ? 'llama-bpe' : 'gpt-2';
}
