// Facts about a base model that its own files hold: the Hub id of a folder in the Hugging Face cache, the
// license its model card declares, and the stop strings of its chat template (its end-of-text and
// end-of-turn special tokens). Nothing is guessed: what the files do not say comes back null or empty.
import { readFile } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { folderChatTemplate } from '../gguf/tokenizer.ts';

/** "org/name" for a folder inside a Hub cache (…/models--org--name/snapshots/<commit>), else null. */
export function hubIdFromCachePath(path: string, type: 'model' | 'dataset' = 'model'): string | null {
  const parts = path.split(sep === '\\' ? /[\\/]/ : '/');
  const i = parts.findIndex((p, k) => p.startsWith(`${type}s--`) && parts[k + 1] === 'snapshots');
  if (i < 0) return null;
  const [, ...name] = parts[i].split('--');
  return name.length === 2 && name.every(Boolean) ? name.join('/') : null;
}

/** The YAML front matter of a model card (README.md), or null when it has none or it does not parse. */
export function cardFrontMatter(text: string): Record<string, unknown> | null {
  const m = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?/.exec(text);
  if (!m) return null;
  try {
    const data: unknown = parseYaml(m[1]);
    return data && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The license a model folder's README.md declares (`license:`, or `license_name:` for license: other). */
export async function baseModelLicense(modelDir: string): Promise<string | null> {
  let text: string;
  try {
    text = await readFile(join(modelDir, 'README.md'), 'utf8');
  } catch {
    return null;
  }
  const meta = cardFrontMatter(text);
  const license = meta?.license;
  if (typeof license !== 'string' || !license.trim()) return null;
  return license.trim();
}

type Json = Record<string, unknown>;

async function readJson(path: string): Promise<Json | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Json;
  } catch {
    return null;
  }
}

const tokenText = (v: unknown): string | null =>
  typeof v === 'string'
    ? v
    : v && typeof v === 'object' && typeof (v as Json).content === 'string'
      ? ((v as Json).content as string)
      : null;

const END_MARKER = /end|eot|eos|<\/s>|im_end/i;

/**
 * The strings generation should stop at, as Chat stops: the end-of-text tokens (config.json /
 * generation_config.json eos_token_id, tokenizer_config.json eos_token), then the template's other special
 * tokens that close a turn (<|im_end|>, <end_of_turn>, <|eot_id|>…) — only tokens the template uses.
 */
export async function chatStopTokens(modelDir: string): Promise<string[]> {
  const [config, generation, tokenizerConfig, tokenizer] = await Promise.all(
    ['config.json', 'generation_config.json', 'tokenizer_config.json', 'tokenizer.json'].map((f) =>
      readJson(join(modelDir, f)),
    ),
  );
  const byId = new Map<number, { text: string; special: boolean }>();
  for (const t of (tokenizer?.added_tokens as Json[] | undefined) ?? []) {
    if (typeof t.id === 'number' && typeof t.content === 'string')
      byId.set(t.id, { text: t.content, special: t.special === true });
  }
  for (const [id, t] of Object.entries(
    (tokenizerConfig?.added_tokens_decoder as Record<string, Json> | undefined) ?? {},
  )) {
    if (typeof t.content === 'string') byId.set(Number(id), { text: t.content, special: t.special === true });
  }
  const out: string[] = [];
  const add = (s: string | null | undefined) => {
    if (s && !out.includes(s)) out.push(s);
  };
  for (const source of [generation, config]) {
    const eos = source?.eos_token_id;
    for (const id of Array.isArray(eos) ? eos : [eos]) if (typeof id === 'number') add(byId.get(id)?.text);
  }
  add(tokenText(tokenizerConfig?.eos_token));
  const template = await folderChatTemplate(modelDir).catch(() => null);
  if (template) {
    for (const t of byId.values()) if (t.special && END_MARKER.test(t.text) && template.includes(t.text)) add(t.text);
  }
  return out;
}
