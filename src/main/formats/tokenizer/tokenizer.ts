/**
 * A Hugging Face "fast" tokenizer loaded from a model folder: tokenizer.json + tokenizer_config.json
 * (+ special_tokens_map.json, + a standalone chat_template.jinja), on top of @huggingface/tokenizers.
 *
 * What transformers does and we mirror:
 * - special_tokens_map.json values override tokenizer_config.json's special tokens;
 * - a standalone chat_template.jinja (or chat_template.json) wins over the config's chat_template;
 * - Llama/Gemma tokenizer classes rebuild their post-processor from add_bos_token / add_eos_token;
 * - the pad token falls back to EOS when the model defines none (what most fine-tuning recipes do).
 *
 * Text is tokenized with tokenizer.json's own pipeline, as the `tokenizers` library, transformers 4.x and
 * llama.cpp's converter read it. Note: transformers 5 rebuilds the normalizer/pre-tokenizer for some classes
 * (LlamaTokenizer with legacy=false uses Metaspace prepend_scheme "first", so no "▁" after special tokens);
 * for such models its ids can differ from the file's pipeline around special tokens.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';

export class TokenizerLoadError extends Error {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
    this.name = 'TokenizerLoadError';
  }
}

export interface SpecialToken {
  content: string;
  id: number;
}

export interface SpecialTokens {
  bos: SpecialToken | null;
  eos: SpecialToken | null;
  unk: SpecialToken | null;
  /** Pad token; EOS when the tokenizer defines none (see padIsEos). */
  pad: SpecialToken | null;
  padIsEos: boolean;
  /** Every token marked special (added tokens with special: true, plus the named ones). */
  all: SpecialToken[];
}

export type ChatTemplateSource = 'chat_template.jinja' | 'chat_template.json' | 'tokenizer_config.json';

/** The attribute names transformers passes to chat templates (SPECIAL_TOKENS_ATTRIBUTES). */
const SPECIAL_TOKEN_KEYS = ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token'] as const;

/**
 * A token id at or past the model's embedding rows (config.json's vocab_size) would fail deep inside a Gather at the
 * first forward pass: refuse it when the tokenizer is opened beside its model, naming the token, its id and the size.
 */
function checkIdsFitModel(dir: string, tokenizerPath: string, maxId: number, token: string | null): void {
  const configPath = join(dir, 'config.json');
  if (!existsSync(configPath)) return;
  let config: Record<string, unknown>;
  try {
    config = readJsonObject(configPath);
  } catch {
    return; // the model reader reports a broken config.json with its own message
  }
  const text = config.text_config as Record<string, unknown> | undefined;
  const size = typeof config.vocab_size === 'number' ? config.vocab_size : typeof text?.vocab_size === 'number' ? text.vocab_size : null;
  if (size === null || maxId < size) return;
  throw new TokenizerLoadError(
    `${tokenizerPath}: token ${token === null ? '' : `${JSON.stringify(token)} `}has id ${maxId}, but the model has ${size.toLocaleString('en-US')} token embeddings (vocab_size in ${configPath}), so ids from ${size} up cannot be looked up; use the tokenizer saved with this model, or resize the model's embeddings for the added tokens`,
    tokenizerPath,
  );
}

export class HfTokenizer {
  /** Special token contents as the chat template sees them (bos_token, eos_token, …); unset ones absent. */
  readonly templateTokens: Record<string, string | string[]>;
  /** Ids the tokenizer's post-processor puts around a single sequence (e.g. BOS) with add_special_tokens. */
  readonly prefixIds: number[];
  readonly suffixIds: number[];
  readonly vocabSize: number;
  readonly specialIds: ReadonlySet<number>;
  /** Every added token (special or not): the tokenizer cuts text at these before anything else. */
  readonly addedTokens: ReadonlyArray<SpecialToken>;

  private constructor(
    readonly dir: string,
    private readonly inner: Tokenizer,
    readonly config: Record<string, unknown>,
    readonly special: SpecialTokens,
    /** Named chat templates ("default" first when present); empty when the model has none. */
    readonly chatTemplates: Record<string, string>,
    readonly chatTemplateSource: ChatTemplateSource | null,
    templateTokens: Record<string, string | string[]>,
    vocabSize: number,
    /** tokenizer.json as read (the encoder tokenizer reads its normalizer, pre-tokenizer and post-processor). */
    readonly tokenizerJson: Record<string, unknown>,
  ) {
    this.templateTokens = templateTokens;
    this.vocabSize = vocabSize;
    this.specialIds = new Set(special.all.map((t) => t.id));
    this.addedTokens = [...inner.get_added_tokens_decoder()].map(([id, t]) => ({ id, content: t.content }));
    const affixes = this.probeAffixes();
    this.prefixIds = affixes.prefix;
    this.suffixIds = affixes.suffix;
  }

  /** Loads the tokenizer files of a model folder. */
  static load(dir: string): HfTokenizer {
    const tokenizerPath = join(dir, 'tokenizer.json');
    if (!existsSync(tokenizerPath)) {
      const hint = existsSync(join(dir, 'tokenizer.model'))
        ? ' (only tokenizer.model is there: SentencePiece-only "slow" tokenizers are not supported; convert it to tokenizer.json with transformers)'
        : '';
      throw new TokenizerLoadError(`no tokenizer.json in ${dir}${hint}`, tokenizerPath);
    }
    const tokenizerJson = readJsonObject(tokenizerPath);
    const configPath = join(dir, 'tokenizer_config.json');
    const config = existsSync(configPath) ? readJsonObject(configPath) : {};
    const mapPath = join(dir, 'special_tokens_map.json');
    const specialMap = existsSync(mapPath) ? readJsonObject(mapPath) : {};

    // transformers: special_tokens_map.json overrides the config's values for the same keys.
    const merged: Record<string, unknown> = { ...config };
    for (const [key, value] of Object.entries(specialMap)) {
      if (value !== null && value !== undefined) merged[key] = value;
    }

    const tokenStrings: Record<string, string | null> = {};
    for (const key of SPECIAL_TOKEN_KEYS) tokenStrings[key] = tokenContent(merged[key], key, configPath);
    const additional = Array.isArray(merged.additional_special_tokens)
      ? merged.additional_special_tokens
          .map((t, i) => tokenContent(t, `additional_special_tokens[${i}]`, configPath))
          .filter((t): t is string => t !== null)
      : [];

    // @huggingface/tokenizers reads only plain-string fields from the config; hand it the resolved ones.
    const libConfig: Record<string, unknown> = { ...merged, additional_special_tokens: additional };
    for (const key of SPECIAL_TOKEN_KEYS) libConfig[key] = tokenStrings[key] ?? undefined;
    delete libConfig.chat_template;
    let inner: Tokenizer;
    try {
      inner = new Tokenizer(tokenizerJson, libConfig);
    } catch (err) {
      throw new TokenizerLoadError(`cannot build the tokenizer from ${tokenizerPath}: ${(err as Error).message}`, tokenizerPath);
    }

    const vocab = inner.get_vocab(true);
    let maxId = -1;
    for (const id of vocab.values()) if (id > maxId) maxId = id;
    const vocabSize = maxId + 1;
    checkIdsFitModel(dir, tokenizerPath, maxId, inner.id_to_token(maxId) ?? null);

    const resolve = (content: string | null, key: string): SpecialToken | null => {
      if (content === null) return null;
      const id = inner.token_to_id(content);
      if (id === undefined) {
        throw new TokenizerLoadError(`${key} "${content}" is not in the vocabulary of ${tokenizerPath}`, configPath);
      }
      return { content, id };
    };
    const bos = resolve(tokenStrings.bos_token, 'bos_token');
    const eos = resolve(tokenStrings.eos_token, 'eos_token');
    const unk = resolve(tokenStrings.unk_token, 'unk_token');
    const ownPad = resolve(tokenStrings.pad_token, 'pad_token');
    const all = new Map<number, SpecialToken>();
    for (const [id, added] of inner.get_added_tokens_decoder()) if (added.special) all.set(id, { content: added.content, id });
    for (const t of [bos, eos, unk, ownPad]) if (t) all.set(t.id, t);
    for (const [i, content] of additional.entries()) {
      const t = resolve(content, `additional_special_tokens[${i}]`);
      if (t) all.set(t.id, t);
    }
    const special: SpecialTokens = {
      bos,
      eos,
      unk,
      pad: ownPad ?? eos,
      padIsEos: ownPad === null ? eos !== null : ownPad.id === eos?.id,
      all: [...all.values()].sort((a, b) => a.id - b.id),
    };

    const templateTokens: Record<string, string | string[]> = {};
    for (const key of SPECIAL_TOKEN_KEYS) {
      const value = tokenStrings[key];
      if (value !== null) templateTokens[key] = value;
    }
    if (additional.length > 0) templateTokens.additional_special_tokens = additional;

    const { templates, source } = readChatTemplates(dir, config, configPath);
    return new HfTokenizer(dir, inner, merged, special, templates, source, templateTokens, vocabSize, tokenizerJson);
  }

  /** The @huggingface/tokenizers instance itself, for readers that need its parts (model, normalizer). */
  get library(): Tokenizer {
    return this.inner;
  }

  /** The default chat template (named "default" or the only one), or null when the model has none. */
  get chatTemplate(): string | null {
    return this.chatTemplates.default ?? Object.values(this.chatTemplates)[0] ?? null;
  }

  /** model_max_length from the config when it is a real limit (transformers uses ~1e30 for "none"). */
  get modelMaxLength(): number | null {
    const value = this.config.model_max_length;
    return typeof value === 'number' && value > 0 && value < 1e9 ? value : null;
  }

  /** Token ids of text; with addSpecialTokens the post-processor's BOS/EOS are added as transformers does. */
  encode(text: string, { addSpecialTokens = false }: { addSpecialTokens?: boolean } = {}): number[] {
    const ids = this.inner.encode(text, { add_special_tokens: false }).ids;
    if (!addSpecialTokens) return ids;
    return [...this.prefixIds, ...ids, ...this.suffixIds];
  }

  decode(ids: ArrayLike<number>, { skipSpecialTokens = false }: { skipSpecialTokens?: boolean } = {}): string {
    if (ids.length === 0) return '';
    return this.inner.decode(Array.from(ids), { skip_special_tokens: skipSpecialTokens });
  }

  /** Token strings of ids, as stored in the vocabulary (byte-level symbols for BPE models). */
  idsToTokens(ids: ArrayLike<number>): string[] {
    return Array.from(ids, (id) => this.inner.id_to_token(id) ?? `<unknown:${id}>`);
  }

  tokenToId(token: string): number | undefined {
    return this.inner.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.inner.id_to_token(id);
  }

  /**
   * The ids add_special_tokens puts before/after a sequence. Llama/Gemma tokenizer classes rebuild
   * their post-processor from add_bos_token/add_eos_token in transformers; other classes use tokenizer.json's.
   */
  private probeAffixes(): { prefix: number[]; suffix: number[] } {
    const cls = typeof this.config.tokenizer_class === 'string' ? this.config.tokenizer_class : '';
    if (/^(Llama|CodeLlama|Gemma)Tokenizer(Fast)?$/.test(cls)) {
      const addBos = this.config.add_bos_token ?? true;
      const addEos = this.config.add_eos_token ?? false;
      return {
        prefix: addBos === true && this.special.bos ? [this.special.bos.id] : [],
        suffix: addEos === true && this.special.eos ? [this.special.eos.id] : [],
      };
    }
    const probe = 'a b';
    const bare = this.inner.encode(probe, { add_special_tokens: false }).ids;
    const full = this.inner.encode(probe, { add_special_tokens: true }).ids;
    for (let start = 0; start + bare.length <= full.length; start++) {
      if (bare.every((id, i) => full[start + i] === id)) {
        return { prefix: full.slice(0, start), suffix: full.slice(start + bare.length) };
      }
    }
    // A post-processor that rewrites the sequence itself: fall back to no affixes.
    return { prefix: [], suffix: [] };
  }
}

function readJsonObject(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new TokenizerLoadError(`cannot read ${path}: ${(err as Error).message}`, path);
  }
  let value: unknown;
  try {
    value = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    throw new TokenizerLoadError(`${path} is not valid JSON: ${(err as Error).message}`, path);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TokenizerLoadError(`${path} must hold a JSON object`, path);
  }
  return value as Record<string, unknown>;
}

/** A special token in a config is a string, an AddedToken object ({content, …}) or null. */
function tokenContent(value: unknown, key: string, file: string): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  throw new TokenizerLoadError(`${file}: ${key} must be a string or an object with "content", got ${JSON.stringify(value)}`, file);
}

function readChatTemplates(
  dir: string,
  config: Record<string, unknown>,
  configPath: string,
): { templates: Record<string, string>; source: ChatTemplateSource | null } {
  const jinjaPath = join(dir, 'chat_template.jinja');
  if (existsSync(jinjaPath)) return { templates: { default: readFileSync(jinjaPath, 'utf8') }, source: 'chat_template.jinja' };
  const jsonPath = join(dir, 'chat_template.json');
  if (existsSync(jsonPath)) {
    const value = readJsonObject(jsonPath).chat_template;
    if (typeof value !== 'string') throw new TokenizerLoadError(`${jsonPath}: "chat_template" must be a string`, jsonPath);
    return { templates: { default: value }, source: 'chat_template.json' };
  }
  const value = config.chat_template;
  if (value === undefined || value === null) return { templates: {}, source: null };
  if (typeof value === 'string') return { templates: { default: value }, source: 'tokenizer_config.json' };
  // A list of named templates, e.g. [{name: "default", template: …}, {name: "tool_use", template: …}].
  if (Array.isArray(value)) {
    const templates: Record<string, string> = {};
    value.forEach((entry, i) => {
      const { name, template } = (entry ?? {}) as { name?: unknown; template?: unknown };
      if (typeof name !== 'string' || typeof template !== 'string') {
        throw new TokenizerLoadError(`${configPath}: chat_template[${i}] must be {"name": string, "template": string}`, configPath);
      }
      templates[name] = template;
    });
    return { templates, source: 'tokenizer_config.json' };
  }
  throw new TokenizerLoadError(`${configPath}: chat_template must be a string or a list of {name, template}`, configPath);
}
