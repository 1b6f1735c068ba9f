// What a resident generate worker keeps between jobs: the one base model it has open (decode graph and weights
// loaded) and the adapters it has read, so the next chat turn starts decoding at once. A job for another model
// (or quantization, or thread count) disposes the old one first; files changed on disk since they were read are
// read again (the key holds their size and modification time).
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { ChatModel, type LoadedAdapter } from './chat-model.ts';

interface OpenOptions {
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

export class LoadedModels {
  private model: {
    key: string;
    model: ChatModel;
    adapters: Map<string, { key: string; adapter: LoadedAdapter }>;
  } | null = null;

  /** The open model for this folder and options: the kept one when nothing changed, else a fresh one. */
  async open(dir: string, o: OpenOptions, log: (line: string) => void): Promise<ChatModel> {
    const key = JSON.stringify([dir, o.threads ?? null, o.quant, stamp(dir, MODEL_FILES)]);
    if (this.model?.key === key) {
      log(`model ${dir} kept loaded from the previous turn (worker pid ${process.pid})`);
      return this.model.model;
    }
    await this.dispose();
    const t0 = performance.now();
    const model = await ChatModel.open(dir, o);
    log(
      `loaded ${dir} (${model.spec.architecture}${o.quant ? ', NF4 base' : ''}) in ${((performance.now() - t0) / 1000).toFixed(1)} s (worker pid ${process.pid})`,
    );
    this.model = { key, model, adapters: new Map() };
    return model;
  }

  /** An adapter read for the open model, kept while its files are unchanged. */
  async adapter(path: string, name: string): Promise<LoadedAdapter> {
    if (!this.model) throw new Error('LoadedModels.adapter: no model is open');
    const key = stamp(path, ADAPTER_FILES);
    const kept = this.model.adapters.get(path);
    if (kept?.key === key) return kept.adapter;
    const adapter = await this.model.model.loadAdapter(path, name);
    this.model.adapters.set(path, { key, adapter });
    return adapter;
  }

  async dispose(): Promise<void> {
    const m = this.model;
    this.model = null;
    if (m) await m.model.dispose();
  }
}
