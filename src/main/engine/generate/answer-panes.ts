// What the `generate` job runs: answer every pane's conversation at the same time over one base model, each pane
// with its own adapters, streaming each pane's text as it is produced. A pane is answered by the studio's engine
// (the reference: one decode graph, adapters as inputs) or by llama.cpp (the base as our GGUF, adapters as LoRA
// GGUFs with their scales); a "ship" pane by llama.cpp on the exported GGUF at its quantization with the adapters
// merged in — what the user will ship. In a resident worker (`kept`) everything loaded stays for the next turn.
import type { GenerateAnswer, GenerateJobOutput, GenerateJobParams } from '../../../common/api/chat.ts';
import type { ChatMessage } from '../../formats/dataset/types.ts';
import { LoadedModels } from './loaded-models.ts';
import { cachedLoraGguf, cachedModelGguf, loadLlama, type LlamaLora } from './llama-cpp.ts';
import { generate, type GenerationResult } from './generate.ts';
import { isFusionFolder } from '../../formats/fusion/index.ts';
import { llamaCppCannotFuse } from './fusion-chat.ts';
import { say } from '../../../common/api/phrases.ts';

export interface AnswerPanesHooks {
  output(o: GenerateJobOutput): void;
  log(line: string): void;
  signal?: AbortSignal;
  /** Where converted GGUF files are cached (llama.cpp panes); required when one may answer. */
  ggufCacheDir?: string;
}

type Pane = GenerateJobParams['panes'][number];

/**
 * The AdapterFusion folder a pane answers with, or null. A fusion answers alone and as trained: it is not one more
 * adapter to stack (its attention already decides, per token, how much of each of its adapters to use).
 */
export function paneFusion(pane: Pane): string | null {
  const fusions = pane.adapters.filter((a) => isFusionFolder(a.path));
  if (fusions.length === 0) return null;
  if (pane.adapters.length > 1 || fusions[0]!.weight !== 1 || pane.ship) throw new Error(say('chat.fusionAlone', { path: fusions[0]!.path }).message);
  return fusions[0]!.path;
}

/** Whether llama.cpp answers the panes that do not ship a GGUF: `auto` takes it when it loads and the base is not NF4. */
async function useLlamaCpp(params: GenerateJobParams, hooks: AnswerPanesHooks): Promise<boolean> {
  if (params.backend === 'studio') return false;
  if (params.quant !== 'none') {
    if (params.backend === 'llama.cpp') throw new Error('llama.cpp cannot hold an NF4 (QLoRA) base: choose the studio backend, or no quantization');
    return false;
  }
  if (!hooks.ggufCacheDir) {
    if (params.backend === 'llama.cpp') throw new Error('llama.cpp needs a folder for its GGUF files (ggufCacheDir)');
    return false;
  }
  try {
    await loadLlama();
    return true;
  } catch (err) {
    if (params.backend === 'llama.cpp') throw new Error(`llama.cpp could not be loaded: ${(err as Error).message}`, { cause: err });
    hooks.log(`llama.cpp could not be loaded (${(err as Error).message}); answering with the studio engine`);
    return false;
  }
}

/**
 * `kept`: the models a resident worker keeps between jobs (they stay open after the answer); without it the models
 * are opened for this call and disposed after it.
 */
export async function answerPanes(params: GenerateJobParams, hooks: AnswerPanesHooks, kept?: LoadedModels): Promise<{ answers: GenerateAnswer[] }> {
  const quant = params.quant === 'none' ? null : { doubleQuant: params.quant === 'nf4-double' };
  const models = kept ?? new LoadedModels();
  await models.select(params.model, { threads: params.threads, quant });
  try {
    await models.prompter(); // a model folder that cannot be read fails here, before any backend loads
    const fusions = params.panes.map(paneFusion); // bad combinations refused before anything loads
    if (params.backend === 'llama.cpp') {
      const dir = fusions.find((f) => f !== null);
      if (dir) throw new Error(llamaCppCannotFuse(dir));
    }
    const llamaCpp = await useLlamaCpp(params, hooks);
    const s = params.sampling;
    const sampling = { temperature: s.temperature, topK: s.topK, topP: s.topP, repetitionPenalty: s.repetitionPenalty, seed: s.seed, maxNewTokens: s.maxNewTokens, stop: s.stop, signal: hooks.signal };
    const fusionPane = async (pane: Pane, dir: string, onDelta: (delta: string) => void): Promise<GenerationResult & { adapters: string[] }> => {
      const model = await models.studio(hooks.log); // its tokenizer, template and end tokens
      const fusion = await models.fusion(dir, hooks.log);
      const ids = model.promptIds(pane.messages as ChatMessage[], fusion.chatTemplate);
      const r = await generate(fusion.decoder, model.tokenizer, ids, { ...sampling, eosTokenIds: model.eosTokenIds }, { onDelta, signal: hooks.signal });
      return { ...r, adapters: [pane.adapters[0]!.name ?? dir] };
    };
    const studioPane = async (pane: Pane, onDelta: (delta: string) => void): Promise<GenerationResult & { adapters: string[] }> => {
      const fusion = paneFusion(pane);
      if (fusion) return fusionPane(pane, fusion, onDelta);
      const model = await models.studio(hooks.log);
      const loaded = await Promise.all(pane.adapters.map((a) => models.adapter(a.path, a.name ?? a.path, hooks.log)));
      const attached = pane.adapters.map((a, i) => ({ adapter: loaded[i]!.factors, weight: a.weight }));
      // a pane with one adapter that saved its training chat template answers through that template
      const own = loaded.length === 1 ? loaded[0]!.chatTemplate : null;
      return model.answer(pane.messages as ChatMessage[], attached, { ...sampling, chatTemplate: own, onDelta });
    };
    const llamaPane = async (pane: Pane, onDelta: (delta: string) => void): Promise<GenerationResult & { adapters: string[] }> => {
      const cacheDir = hooks.ggufCacheDir;
      if (!cacheDir) throw new Error('llama.cpp needs a folder for its GGUF files (ggufCacheDir)');
      const converting = (what: string) => hooks.log(`writing ${what} as GGUF for llama.cpp (once; kept in ${cacheDir})`);
      const prompter = await models.prompter();
      const template = pane.adapters.length === 1 ? await models.adapterTemplate(pane.adapters[0]!.path) : null;
      const ids = prompter.promptIds(pane.messages as ChatMessage[], template);
      let file: string;
      let loras: LlamaLora[] = [];
      if (pane.ship) {
        file = (await cachedModelGguf(cacheDir, params.model, pane.ship, pane.adapters, () => converting(`the model${pane.adapters.length ? ' with its adapters merged' : ''} at ${pane.ship}`))).file;
      } else {
        file = (await cachedModelGguf(cacheDir, params.model, params.baseGguf, [], () => converting(`the base model (${params.baseGguf})`))).file;
        loras = await Promise.all(pane.adapters.map(async (a) => ({ file: (await cachedLoraGguf(cacheDir, params.model, a.path, () => converting(`adapter ${a.path}`))).file, scale: a.weight })));
      }
      const model = await models.llama(file, !pane.ship && params.baseGguf === 'f32', hooks.log);
      const r = await model.answer(ids, loras, prompter.tokenizer, { ...sampling, eosTokenIds: prompter.eosTokenIds, onDelta });
      return { ...r, adapters: pane.adapters.map((a) => a.name ?? a.path) };
    };
    const answers = await Promise.all(
      params.panes.map(async (pane, i) => {
        // auto: a fusion pane is the studio engine's (llama.cpp cannot run the per-token attention)
        let backend: 'studio' | 'llama.cpp' = pane.ship || (llamaCpp && !fusions[i]) ? 'llama.cpp' : 'studio';
        let r: GenerationResult & { adapters: string[] };
        let streamed = false;
        const onDelta = (delta: string) => {
          streamed = true;
          hooks.output({ type: 'delta', pane: pane.id, delta });
        };
        try {
          r = backend === 'llama.cpp' ? await llamaPane(pane, onDelta) : await studioPane(pane, onDelta);
        } catch (err) {
          // auto falls back to the reference engine for what llama.cpp cannot hold (say a LoRA GGUF with per-module ranks)
          if (backend !== 'llama.cpp' || streamed || pane.ship || params.backend === 'llama.cpp' || hooks.signal?.aborted) throw err;
          hooks.log(`pane ${pane.id}: llama.cpp could not answer (${(err as Error).message}); answering with the studio engine`);
          backend = 'studio';
          r = await studioPane(pane, onDelta);
        }
        const answer: GenerateAnswer = {
          pane: pane.id, text: r.text, finishReason: r.finishReason, tokens: r.tokenIds.length, promptTokens: r.promptTokens,
          decodeTokensPerSecond: r.decodeTokensPerSecond, adapters: r.adapters, backend,
        };
        hooks.output({ type: 'answer', answer });
        return answer;
      }),
    );
    return { answers };
  } finally {
    if (!kept) await models.dispose();
  }
}
