// Chat with an AdapterFusion folder (issue 15): the generate job's panes (answerPanes, what the resident worker runs)
// answer with the fused program's decode graph. The greedy answer must be the token-by-token argmax of the fused
// program's logits from the float64 reference executor (full recomputation, no KV cache): an independent forward of
// the same fusion. Also: the base pane beside it is unchanged, llama.cpp is refused with the sentence that says why
// and offers the learned-weights variant, a fusion is not stacked with other adapters, a changed adapter is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeChatFixture, type ChatFixture } from './fixtures.ts';
import { answerPanes } from '../../../src/main/engine/generate/answer-panes.ts';
import { fusedDecodeProgram } from '../../../src/main/engine/generate/fusion-chat.ts';
import { ChatModel } from '../../../src/main/engine/generate/chat-model.ts';
import { fuseProgram } from '../../../src/main/engine/fusion/program.ts';
import { frozen, readFusionInputs } from '../../../src/main/engine/fusion/session.ts';
import { fusionParts, writeFusionFolder } from '../../../src/main/formats/fusion/index.ts';
import { ReferenceExecutor } from '../../../src/main/engine/executors/reference/executor.ts';
import { prepareBatch } from '../../../src/main/engine/batch-inputs.ts';
import { peftKey } from '../../../src/main/model/ir.ts';
import { seededRandom } from '../../fixtures/tiny-models.ts';
import type { GenerateJobParams } from '../../../src/common/api/chat.ts';

let root: string;
let fx: ChatFixture;
let fusionDir: string;

const GREEDY = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, maxNewTokens: 10, seed: 0, stop: [] };
const MESSAGES = [{ role: 'user', content: 'tell me about the sea' }];

function params(panes: GenerateJobParams['panes'], backend: GenerateJobParams['backend'] = 'studio'): GenerateJobParams {
  return { model: fx.model.dir, quant: 'none', backend, baseGguf: 'f16', panes, sampling: GREEDY, threads: 1 };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fusion-chat-'));
  fx = await makeChatFixture(root, { adapters: 2 });
  // a trained-looking fusion: random query/key and a value that is not the identity, written as `fuse` writes it
  const inputs = await readFusionInputs(fx.model.dir, fx.adapters);
  const fused = fuseProgram(inputs.base, frozen(inputs), { mode: 'attention', perLayer: false, softmax: true, attentionDim: 4, valueRank: 2, seed: 1 });
  const random = seededRandom(77);
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const d of fused.program.params)
    if (d.trainable) tensors.set(peftKey(d.name), { shape: d.shape, data: Float32Array.from(fused.weights.get(d.name)!, () => (random() - 0.5) * 1.5) });
  fusionDir = join(root, 'fusion');
  await writeFusionFolder(fusionDir, { mode: 'attention', base_model: fx.model.dir, attention_dim: 4, value_rank: 2, adapters: await fusionParts(fx.adapters), training_template: null }, tensors);
}, 120_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('chat with an AdapterFusion folder', () => {
  it('answers greedily with the argmax of the fused program (float64 reference), beside an unchanged base pane', async () => {
    const r = await answerPanes(
      params([
        { id: 'base', adapters: [], messages: MESSAGES },
        { id: 'fused', adapters: [{ path: fusionDir, weight: 1, name: 'fusion' }], messages: MESSAGES },
      ]),
      { output: () => {}, log: () => {} },
    );
    const [base, fusedAnswer] = r.answers;
    expect(fusedAnswer.backend).toBe('studio');
    expect(fusedAnswer.adapters).toEqual(['fusion']);

    // the independent side: the fused program in float64, the whole sequence recomputed for every token
    const model = await ChatModel.open(fx.model.dir, { threads: 1 });
    try {
      const { program, weights } = await fusedDecodeProgram(fusionDir);
      const ref = new ReferenceExecutor(program, new Map([...weights].map(([k, v]) => [k, Float64Array.from(v)])));
      const ids = model.promptIds(MESSAGES as never);
      const out: number[] = [];
      for (let step = 0; step < GREEDY.maxNewTokens; step++) {
        const T = ids.length;
        const fwd = ref.forward(prepareBatch(program, { B: 1, T, inputIds: Int32Array.from(ids), attentionMask: new Uint8Array(T).fill(1), labels: new Int32Array(T).fill(-100) }));
        const row = fwd.logits.subarray((T - 1) * program.vocab, T * program.vocab);
        let best = 0;
        for (let v = 1; v < program.vocab; v++) if (row[v] > row[best]) best = v;
        if (model.eosTokenIds.includes(best)) break;
        out.push(best);
        ids.push(best);
      }
      expect(out.length).toBeGreaterThan(0);
      expect(fusedAnswer.tokens).toBe(out.length);
      expect(fusedAnswer.text).toBe(model.tokenizer.decode(out, { skipSpecialTokens: true }));

      // the base pane is the plain model, and the fusion changed the answer
      const plain = await model.answer(MESSAGES as never, [], { ...GREEDY });
      expect(base.text).toBe(plain.text);
      expect(fusedAnswer.text).not.toBe(base.text);
    } finally {
      await model.dispose();
    }
  }, 240_000);

  it('refuses llama.cpp with the reason and the learned-weights variant; auto answers on the studio engine', async () => {
    const pane = { id: 'fused', adapters: [{ path: fusionDir, weight: 1 }], messages: MESSAGES };
    await expect(answerPanes(params([pane], 'llama.cpp'), { output: () => {}, log: () => {} })).rejects.toThrow(
      /llama\.cpp cannot answer with the AdapterFusion combination .*weighs the adapters anew for every token.*fuse --mode weights/,
    );
    const r = await answerPanes(params([{ ...pane, messages: [{ role: 'user', content: 'hi' }] }], 'auto'), { output: () => {}, log: () => {} });
    expect(r.answers[0].backend).toBe('studio');
  }, 240_000);

  it('answers alone and as trained: stacked with another adapter or scaled, it is refused', async () => {
    const hooks = { output: () => {}, log: () => {} };
    await expect(
      answerPanes(params([{ id: 'x', adapters: [{ path: fusionDir, weight: 1 }, { path: fx.adapters[0], weight: 1 }], messages: MESSAGES }]), hooks),
    ).rejects.toThrow(/AdapterFusion combination: it answers alone and as trained/);
    await expect(answerPanes(params([{ id: 'x', adapters: [{ path: fusionDir, weight: 0.5 }], messages: MESSAGES }]), hooks)).rejects.toThrow(/answers alone and as trained/);
  });

  it('refuses a fusion whose adapter changed since it was trained', async () => {
    // one of the adapters the fusion was trained on changes after the fact (its config gains a byte)
    await appendFile(join(fx.adapters[1], 'adapter_config.json'), '\n');
    await expect(
      answerPanes(params([{ id: 'f', adapters: [{ path: fusionDir, weight: 1 }], messages: MESSAGES }]), { output: () => {}, log: () => {} }),
    ).rejects.toThrow(/changed since the fusion was trained/);
  }, 120_000);
});
