// What a resident generate worker keeps between jobs: for the one base model it serves, the engine's open model
// (decode graph and weights), the prompter (tokenizer, template, end tokens), the llama.cpp models it has loaded
// (the base GGUF, shipped GGUFs) and the adapters it has read, so the next chat turn starts decoding at once. A job
// for another model (or quantization, or thread count) disposes all of it first; files changed on disk since they
// were read are read again (the keys hold their size and modification time).
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { readAdapter } from '../../formats/peft/index.ts';
import { ChatModel, ChatPrompter, type LoadedAdapter } from './chat-model.ts';
import { LlamaCppModel } from './llama-cpp.ts';
import { openFusionChat, type FusionChat } from './fusion-chat.ts';
import { FUSION_CONFIG, FUSION_WEIGHTS, readFusionFolder } from '../../formats/fusion/index.ts';

export interface ModelOptions {
  threads?: number;
  quant: { doubleQuant: boolean } | null;
}

/** Size and modification time of the files that define a folder's content, as a cache key. */
function stamp(dir: string, files: readonly string[]): string {
  return files
    .map((f) => {
      try {
        const s = statSync(join(dir, f));
        return `${f}:${s.size}:${s.mtimeMs}`;
      } catch {
        return `${f}:-`;
      }
    })
    .join('|');
}

const MODEL_FILES = ['config.json', 'model.safetensors', 'model.safetensors.index.json', 'tokenizer.json'];
const ADAPTER_FILES = ['adapter_config.json', 'adapter_model.safetensors'];

interface Held {
  key: string;
  dir: string;
  options: ModelOptions;
  studio: Kept<ChatModel> | null;
  prompter: Promise<ChatPrompter> | null;
  llama: Map<string, Kept<LlamaCppModel>>;
  adapters: Map<string, { key: string; adapter: Promise<LoadedAdapter> }>;
  templates: Map<string, { key: string; template: Promise<string | null> }>;
  fusions: Map<string, { key: string; fusion: Promise<FusionChat> }>;
}

/** A model being loaded or loaded, and the job (counted by select) that loaded it. */
interface Kept<T> {
  value: Promise<T>;
  job: number;
}

export class LoadedModels {
  private held: Held | null = null;
  private job = 0;

  /** Serves `dir` with these options from now on: what was held for another model or options is disposed. */
  async select(dir: string, options: ModelOptions): Promise<void> {
    this.job++;
    const key = JSON.stringify([dir, options.threads ?? null, options.quant, stamp(dir, MODEL_FILES)]);
    if (this.held?.key === key) return;
    await this.dispose();
    this.held = {
      key,
      dir,
      options,
      studio: null,
      prompter: null,
      llama: new Map(),
      adapters: new Map(),
      templates: new Map(),
      fusions: new Map(),
    };
  }

  private current(): Held {
    if (!this.held) throw new Error('LoadedModels: no model selected');
    return this.held;
  }

  /** The engine's open model (loaded on first use, then kept). */
  studio(log: (line: string) => void): Promise<ChatModel> {
    const h = this.current();
    if (h.studio) return this.reuse(h.studio, h.dir, log);
    const value = timed(log, `${h.dir} (studio engine${h.options.quant ? ', NF4 base' : ''})`, () =>
      ChatModel.open(h.dir, h.options),
    );
    h.studio = { value, job: this.job };
    value.catch(() => (h.studio = null));
    return value;
  }

  /** Tokenizer, chat template and end tokens without loading the weights (for llama.cpp panes). */
  prompter(): Promise<ChatPrompter> {
    const h = this.current();
    h.prompter ??= ChatPrompter.open(h.dir);
    h.prompter.catch(() => (this.current().prompter = null));
    return h.prompter;
  }

  /** A GGUF loaded in llama.cpp (kept by path: cached GGUF names change when their inputs do). */
  llama(file: string, exact: boolean, log: (line: string) => void): Promise<LlamaCppModel> {
    const h = this.current();
    const kept = h.llama.get(file);
    if (kept) return this.reuse(kept, file, log);
    const value = timed(log, `${file} (llama.cpp)`, () =>
      LlamaCppModel.open(file, { threads: h.options.threads, exact }),
    );
    h.llama.set(file, { value, job: this.job });
    value.catch(() => h.llama.delete(file));
    return value;
  }

  private reuse<T>(kept: Kept<T>, what: string, log: (line: string) => void): Promise<T> {
    if (kept.job !== this.job) {
      log(`model ${what} kept loaded from the previous turn (worker pid ${process.pid})`);
      kept.job = this.job; // said once per turn
    }
    return kept.value;
  }

  /** An adapter read for the engine's model, kept while its files are unchanged. */
  async adapter(path: string, name: string, log: (line: string) => void): Promise<LoadedAdapter> {
    const h = this.current();
    const key = stamp(path, ADAPTER_FILES);
    const kept = h.adapters.get(path);
    if (kept?.key === key) return kept.adapter;
    const adapter = this.studio(log).then((m) => m.loadAdapter(path, name));
    h.adapters.set(path, { key, adapter });
    adapter.catch(() => h.adapters.delete(path));
    return adapter;
  }

  /** The chat template an adapter was trained with, if it saved one. */
  async adapterTemplate(path: string): Promise<string | null> {
    const h = this.current();
    const key = stamp(path, ADAPTER_FILES);
    const kept = h.templates.get(path);
    if (kept?.key === key) return kept.template;
    const template = this.prompter().then(
      async (p) => (await readAdapter(path, p.spec)).trainingTemplate?.chatTemplate ?? null,
    );
    h.templates.set(path, { key, template });
    template.catch(() => h.templates.delete(path));
    return template;
  }

  /**
   * An AdapterFusion folder opened for chat over this model (its own decode graph), kept while its files are
   * unchanged; its adapters are re-hashed at every turn (a changed adapter is refused, never silently used).
   */
  async fusion(path: string, log: (line: string) => void): Promise<FusionChat> {
    const h = this.current();
    const key = stamp(path, [FUSION_CONFIG, FUSION_WEIGHTS]);
    const kept = h.fusions.get(path);
    if (kept?.key === key) {
      await readFusionFolder(path); // the hashes of the adapters it combines
      log(`fusion ${path} kept loaded from the previous turn (worker pid ${process.pid})`);
      return kept.fusion;
    }
    if (kept) await (await kept.fusion.catch(() => null))?.decoder.dispose();
    // over the plain model's decoder: the fused graph reads the base where that one holds it instead of a second copy
    const fusion = this.studio(log).then((base) =>
      timed(log, `${path} (AdapterFusion, studio engine)`, () => openFusionChat(path, h.dir, { ...h.options, base: base.decoder })),
    );
    h.fusions.set(path, { key, fusion });
    fusion.catch(() => h.fusions.delete(path));
    return fusion;
  }

  async dispose(): Promise<void> {
    const h = this.held;
    this.held = null;
    if (!h) return;
    // fusions first: their graphs read the plain model's weight file, which its dispose deletes
    for (const f of h.fusions.values()) await (await f.fusion.catch(() => null))?.decoder.dispose();
    await (await h.studio?.value.catch(() => null))?.dispose();
    for (const m of h.llama.values()) await (await m.value.catch(() => null))?.dispose();
  }
}

async function timed<T>(log: (line: string) => void, what: string, open: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const value = await open();
  log(`loaded ${what} in ${((performance.now() - t0) / 1000).toFixed(1)} s (worker pid ${process.pid})`);
  return value;
}
