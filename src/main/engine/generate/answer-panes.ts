// What the `generate` job runs: open the base model once (or find it still open in a resident worker), read each
// pane's adapters, and answer every pane's conversation at the same time over the one loaded base (each pane its own
// adapter set and KV cache), streaming each pane's text as it is produced.
import type { GenerateAnswer, GenerateJobOutput, GenerateJobParams } from '../../../common/api/chat.ts';
import type { LoadedAdapter } from './chat-model.ts';
import { LoadedModels } from './loaded-models.ts';

export interface AnswerPanesHooks {
  output(o: GenerateJobOutput): void;
  log(line: string): void;
  signal?: AbortSignal;
}

/**
 * `kept`: the models a resident worker keeps between jobs (the model stays open after the answer); without it the
 * model is opened for this call and disposed after it.
 */
export async function answerPanes(params: GenerateJobParams, hooks: AnswerPanesHooks, kept?: LoadedModels): Promise<{ answers: GenerateAnswer[] }> {
  const quant = params.quant === 'none' ? null : { doubleQuant: params.quant === 'nf4-double' };
  const models = kept ?? new LoadedModels();
  const model = await models.open(params.model, { threads: params.threads, quant }, hooks.log);
  try {
    const loaded = new Map<string, LoadedAdapter>();
    for (const pane of params.panes)
      for (const a of pane.adapters) if (!loaded.has(a.path)) loaded.set(a.path, await models.adapter(a.path, a.name ?? a.path));
    const s = params.sampling;
    const answers = await Promise.all(
      params.panes.map(async (pane) => {
        const attached = pane.adapters.map((a) => ({ adapter: loaded.get(a.path)!.factors, weight: a.weight }));
        // a pane with one adapter that saved its training chat template answers through that template
        const own = pane.adapters.length === 1 ? loaded.get(pane.adapters[0].path)!.chatTemplate : null;
        const r = await model.answer(pane.messages, attached, {
          temperature: s.temperature, topK: s.topK, topP: s.topP, repetitionPenalty: s.repetitionPenalty, seed: s.seed,
          maxNewTokens: s.maxNewTokens, stop: s.stop, chatTemplate: own,
          signal: hooks.signal,
          onDelta: (delta) => hooks.output({ type: 'delta', pane: pane.id, delta }),
        });
        const answer: GenerateAnswer = {
          pane: pane.id, text: r.text, finishReason: r.finishReason, tokens: r.tokenIds.length, promptTokens: r.promptTokens,
          decodeTokensPerSecond: r.decodeTokensPerSecond, adapters: r.adapters,
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
